// The node's local launch ledger (issue "A real cluster", section 3): every run the exec launcher
// starts is written here, durably, before its process is spawned. After a kill -9 the node can
// still tell a new leader whether it started a run: "absent" is final (nothing else on this node
// starts processes, and it writes the ledger first), "found" means it started or was about to
// (either way, a second launch could duplicate it). Records are kept in a segmented log
// (storage/segment_log.h) tagged by scheduled time, so that old segments can be dropped.
// Thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "storage/file_system.h"
#include "storage/segment_log.h"

namespace paxcron::node {

class LaunchLedger {
 public:
  // Recovers `dir` (created if absent). Errors: damage, named with file and offset.
  static Result<std::unique_ptr<LaunchLedger>> Open(storage::FileSystem& fs, const std::string& dir,
                                                    std::vector<std::string>* warnings);

  enum class Entry { kNone, kLaunched, kRefused };
  Entry Find(std::string_view run_name) const;
  // Durable on return (fdatasync). REQUIRES: Find(run_name) == kNone.
  Status Record(const std::string& run_name, int64_t scheduled_s, int64_t wall_us);
  Status Refuse(const std::string& run_name, int64_t scheduled_s, int64_t wall_us);
  size_t size() const { return runs_.size(); }

  // Forgets runs scheduled at or before `through_s`, whole segments at a time (lookups are only
  // asked about launches a leader has not concluded: days old at most).
  Status DropThrough(int64_t through_s);

 private:
  struct Known {
    int64_t scheduled_s = 0;
    bool refused = false;
  };
  explicit LaunchLedger(std::unique_ptr<storage::SegmentLog> log) : log_(std::move(log)) {}
  Status Append(const std::string& run_name, int64_t scheduled_s, int64_t wall_us, bool refused);
  std::unique_ptr<storage::SegmentLog> log_;
  std::map<std::string, Known, std::less<>> runs_;
};

}  // namespace paxcron::node
