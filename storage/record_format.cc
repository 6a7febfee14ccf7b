#include "storage/record_format.h"

#include <fmt/format.h>

#include "common/assert.h"
#include "common/little_endian.h"
#include "storage/crc32c.h"

namespace paxcron::storage {
void AppendRecord(std::string_view payload, std::string& out) {
  PAXCRON_ASSERT(payload.size() <= kRecordMaxBytes);
  PutLittleEndian(static_cast<uint32_t>(payload.size()), out);
  PutLittleEndian(Crc32c(payload), out);
  out.append(payload);
}

SegmentScan ScanSegment(std::string_view bytes, std::string_view file) {
  SegmentScan scan;
  uint64_t at = 0;
  while (at < bytes.size()) {
    const uint64_t left = bytes.size() - at;
    if (left < kRecordHeaderBytes) {
      scan.end = SegmentScan::End::kTorn;
      scan.error = fmt::format(
          "{}: offset {}: a record header cut short by the end of the file "
          "(a torn append); the last {} bytes are dropped",
          file, at, left);
      break;
    }
    const uint32_t length = GetLittleEndian<uint32_t>(bytes.substr(at, 4));
    const uint32_t crc = GetLittleEndian<uint32_t>(bytes.substr(at + 4, 4));
    if (length > kRecordMaxBytes) {
      scan.end = SegmentScan::End::kCorrupt;
      scan.error = fmt::format("{}: offset {}: record length {} exceeds the limit {}", file, at,
                               length, kRecordMaxBytes);
      break;
    }
    if (left - kRecordHeaderBytes < length) {
      scan.end = SegmentScan::End::kTorn;
      scan.error = fmt::format(
          "{}: offset {}: a record of {} bytes cut short by the end of the "
          "file (a torn append); the last {} bytes are dropped",
          file, at, length, left);
      break;
    }
    const std::string_view payload = bytes.substr(at + kRecordHeaderBytes, length);
    if (Crc32c(payload) != crc) {
      const bool last = at + kRecordHeaderBytes + length == bytes.size();
      scan.end = last ? SegmentScan::End::kTorn : SegmentScan::End::kCorrupt;
      scan.error = last ? fmt::format(
                              "{}: offset {}: the last record fails its CRC (a torn append); its "
                              "{} bytes are dropped",
                              file, at, left)
                        : fmt::format(
                              "{}: offset {}: record CRC mismatch (stored {:08x}, computed "
                              "{:08x}) with {} more bytes after it: the file is damaged",
                              file, at, crc, Crc32c(payload), left - kRecordHeaderBytes - length);
      break;
    }
    scan.records.emplace_back(payload);
    at += kRecordHeaderBytes + length;
    scan.valid_bytes = at;
  }
  return scan;
}

}  // namespace paxcron::storage
