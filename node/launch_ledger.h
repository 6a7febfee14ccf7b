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
  // Whether a launch of `run_name` by this node under lease epoch `epoch` is refused: the run was
  // refused for an asker of that epoch or a later one (or of an unknown epoch).
  bool Refuses(std::string_view run_name, uint64_t epoch) const;
  // Durable on return (fdatasync). Record REQUIRES: Find(run_name) != kLaunched (a launch may
  // follow a refusal that does not cover its epoch).
  Status Record(const std::string& run_name, int64_t scheduled_s, int64_t wall_us);
  // Refuses launches under epochs up to `through_epoch` (0: every epoch), or raises an earlier
  // refusal to it (no write when the earlier one covers it). REQUIRES: Find(run_name) !=
  // kLaunched.
  Status Refuse(const std::string& run_name, int64_t scheduled_s, int64_t wall_us,
                uint64_t through_epoch);
  // The epoch an existing refusal covers (0: every epoch). REQUIRES: Find(run_name) == kRefused.
  uint64_t RefusedThrough(std::string_view run_name) const;
  size_t size() const { return runs_.size(); }

  // Forgets runs scheduled at or before `through_s`, whole segments at a time (lookups are only
  // asked about launches a leader has not concluded: days old at most).
  Status DropThrough(int64_t through_s);

 private:
  struct Known {
    int64_t scheduled_s = 0;
    bool refused = false;
    uint64_t refused_through_epoch = 0;  // a refusal: 0 covers every epoch
  };
  // Of two records of one run: a launch outranks a refusal (the cautious reading: it may have
  // started), and the wider of two refusals stands.
  static void Merge(Known& known, const Known& later);
  explicit LaunchLedger(std::unique_ptr<storage::SegmentLog> log) : log_(std::move(log)) {}
  Status Append(const std::string& run_name, const Known& known, int64_t wall_us);
  std::unique_ptr<storage::SegmentLog> log_;
  std::map<std::string, Known, std::less<>> runs_;
};

}  // namespace paxcron::node
