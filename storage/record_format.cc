#include "storage/record_format.h"

#include <fmt/format.h>

#include "common/assert.h"
#include "common/little_endian.h"
#include "storage/crc32c.h"

namespace paxcron::storage {
namespace {

uint32_t HeaderCrc(std::string_view first8) { return Crc32c(first8) ^ 0xa282ead8u; }

// Where the file's trailing run of zero bytes starts (bytes.size(): no such run).
uint64_t ZeroTailStart(std::string_view bytes) {
  uint64_t at = bytes.size();
  while (at > 0 && bytes[at - 1] == 0) --at;
  return at;
}

}  // namespace

void AppendRecord(std::string_view payload, std::string& out) { AppendRecord({}, payload, out); }

void AppendRecord(std::string_view prefix, std::string_view payload, std::string& out) {
  const size_t length = prefix.size() + payload.size();
  PAXCRON_ASSERT(length <= kRecordMaxBytes);
  out.reserve(out.size() + kRecordHeaderBytes + length);
  const size_t at = out.size();
  PutLittleEndian(static_cast<uint32_t>(length), out);
  PutLittleEndian(Crc32c(payload, Crc32c(prefix)), out);
  PutLittleEndian(HeaderCrc(std::string_view(out).substr(at, 8)), out);
  out.append(prefix);
  out.append(payload);
}

SegmentScan ScanSegment(std::string_view bytes, std::string_view file) {
  SegmentScan scan;
  uint64_t at = 0;
  // A crash can leave the file longer than the data that reached the disk, the rest reading as
  // zeros (the size was updated, the data blocks were not). A record that fails its checks and
  // whose end lies in that zero tail is torn, not damaged.
  const uint64_t zero_tail = ZeroTailStart(bytes);
  auto torn = [&](std::string what) {
    scan.end = SegmentScan::End::kTorn;
    scan.error = fmt::format("{}: offset {}: {} (a torn append); the last {} bytes are dropped",
                             file, at, what, bytes.size() - at);
  };
  while (at < bytes.size()) {
    const uint64_t left = bytes.size() - at;
    if (left < kRecordHeaderBytes) {
      torn("a record header cut short by the end of the file");
      break;
    }
    const std::string_view header = bytes.substr(at, kRecordHeaderBytes);
    const uint32_t length = GetLittleEndian<uint32_t>(header.substr(0, 4));
    const uint32_t crc = GetLittleEndian<uint32_t>(header.substr(4, 4));
    if (GetLittleEndian<uint32_t>(header.substr(8, 4)) != HeaderCrc(header.substr(0, 8))) {
      if (zero_tail < at + kRecordHeaderBytes) {
        torn("a record header in a zero-filled tail");
      } else {
        scan.end = SegmentScan::End::kCorrupt;
        scan.error = fmt::format(
            "{}: offset {}: record header CRC mismatch (length field {}): the file is damaged",
            file, at, length);
      }
      break;
    }
    if (length > kRecordMaxBytes) {
      scan.end = SegmentScan::End::kCorrupt;
      scan.error = fmt::format("{}: offset {}: record length {} exceeds the limit {}", file, at,
                               length, kRecordMaxBytes);
      break;
    }
    if (left - kRecordHeaderBytes < length) {
      torn(fmt::format("a record of {} bytes cut short by the end of the file", length));
      break;
    }
    const std::string_view payload = bytes.substr(at + kRecordHeaderBytes, length);
    if (Crc32c(payload) != crc) {
      if (at + kRecordHeaderBytes + length == bytes.size()) {
        torn("the last record fails its CRC");
      } else if (zero_tail < at + kRecordHeaderBytes + length) {
        torn("a record ending in a zero-filled tail fails its CRC");
      } else {
        scan.end = SegmentScan::End::kCorrupt;
        scan.error = fmt::format(
            "{}: offset {}: record CRC mismatch (stored {:08x}, computed {:08x}) with {} more "
            "bytes after it: the file is damaged",
            file, at, crc, Crc32c(payload), left - kRecordHeaderBytes - length);
      }
      break;
    }
    scan.records.emplace_back(payload);
    at += kRecordHeaderBytes + length;
    scan.valid_bytes = at;
  }
  return scan;
}

}  // namespace paxcron::storage
