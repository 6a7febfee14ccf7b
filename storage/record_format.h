// The framing of every record in a log segment: a 4-byte little-endian payload length, a 4-byte
// little-endian CRC-32C of the payload, then the payload (a serialized Protobuf message).
//
// Scanning a segment tells a crash apart from damage (issue "Durable state", section 1): a record
// cut short by the end of the file, or a last record whose CRC fails and that ends exactly at the
// end of the file, is a torn append (a crash mid-write): the caller truncates it, with a warning.
// A CRC mismatch or an impossible length anywhere else is corruption: an error naming the file
// and the byte offset, never a guess.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace paxcron::storage {

constexpr size_t kRecordHeaderBytes = 8;
constexpr uint32_t kRecordMaxBytes = 64 * 1024 * 1024;  // a longer length is damage

// Appends one framed record to `out`. REQUIRES: payload.size() <= kRecordMaxBytes.
void AppendRecord(std::string_view payload, std::string& out);

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
