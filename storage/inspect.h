// Offline inspection of a data directory, read-only (nothing is truncated or created): what the
// metadata says, each log segment's records and slot range, and the first damage found, named
// with the file and the offset. Used by `paxcron storage check` and `paxcron storage dump`.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "storage/file_system.h"
#include "storage/storage.pb.h"

namespace paxcron::storage {

struct SegmentReport {
  std::string name;
  uint64_t bytes = 0;
  uint64_t records = 0;
  uint64_t first_slot = 0, last_slot = 0;  // 0: no records
};

struct SnapshotReport {
  std::string name;
  uint64_t slot = 0;
  uint64_t data_bytes = 0;
};

struct StoreReport {
  bool has_meta = false;
  uint64_t promised_round = 0;
  uint32_t promised_node = 0;
  uint64_t compacted_through = 0;
  std::vector<SegmentReport> segments;
  std::vector<SnapshotReport> snapshots;  // valid ones, oldest first
  std::vector<std::string> warnings;      // a torn tail of the last segment (recovery truncates it)
  std::string damage;                     // empty: none found
};

// `on_record(segment, offset, record)` sees every valid log record, in order (may be empty).
using RecordVisitor =
    std::function<void(const std::string& segment, uint64_t offset, const pb::LogRecord& record)>;

// Errors only when the directory cannot be read at all; damage is reported in the result.
Result<StoreReport> InspectStore(FileSystem& fs, const std::string& dir,
                                 const RecordVisitor& on_record);

}  // namespace paxcron::storage
