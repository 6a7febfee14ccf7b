// The framing of every record in a log segment: a 12-byte header (the payload's length, the
// payload's CRC-32C, and a CRC-32C of those 8 bytes, each 4 bytes little-endian), then the payload
// (a serialized Protobuf message).
//
// Scanning a segment tells a crash apart from damage (issue "Durable state", section 1). A torn
// append (a crash mid-write) is: a header cut short by the end of the file; a valid header whose
// payload is cut short by it; a last record whose payload CRC fails and that ends exactly at the
// end of the file; or a record failing its checks whose end lies in the file's trailing run of
// zero bytes (a file system that extended the file without writing its data). The caller truncates
// it, with a warning. Anything else is corruption: an error naming the file and the byte offset,
// never a guess. The header's own CRC is what makes this safe: a flipped bit in a length could
// otherwise point past the end of the file and pass for a torn append, silently dropping every
// record after it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace paxcron::storage {

constexpr size_t kRecordHeaderBytes = 12;
constexpr uint32_t kRecordMaxBytes = 64 * 1024 * 1024;  // a longer length is damage

// Appends one framed record to `out`. REQUIRES: payload.size() <= kRecordMaxBytes.
void AppendRecord(std::string_view payload, std::string& out);
// The same for the payload `prefix` + `payload`, without joining them first (a log record's tag
// and body).
void AppendRecord(std::string_view prefix, std::string_view payload, std::string& out);

struct SegmentScan {
  enum class End { kClean, kTorn, kCorrupt };
  std::vector<std::string> records;  // every whole, valid record before the end
  uint64_t valid_bytes = 0;          // the length of the valid prefix
  End end = End::kClean;
  std::string error;  // kTorn: the warning; kCorrupt: the error (file and offset named)
};

// Scans a whole segment's bytes. `file` names it in messages.
SegmentScan ScanSegment(std::string_view bytes, std::string_view file);

}  // namespace paxcron::storage
