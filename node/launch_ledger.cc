#include "node/launch_ledger.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/assert.h"
#include "node/node.pb.h"

namespace paxcron::node {
namespace {

// Scheduled times are seconds since 1970; tags are unsigned (a time before 1970 would be 0).
uint64_t TagOf(int64_t scheduled_s) { return scheduled_s < 0 ? 0 : uint64_t(scheduled_s); }

}  // namespace

Result<std::unique_ptr<LaunchLedger>> LaunchLedger::Open(storage::FileSystem& fs,
                                                         const std::string& dir,
                                                         std::vector<std::string>* warnings) {
  if (Status s = fs.CreateDir(dir); !s.ok()) return s;
  std::map<std::string, Known, std::less<>> runs;
  Status bad = Status::Ok();
  storage::SegmentLogOptions options;
  options.segment_bytes = 1024 * 1024;
  auto log = storage::SegmentLog::Open(
      fs, dir, options,
      [&](uint64_t tag, std::string_view payload) {
        pb::LedgerRecord r;
        if (!r.ParseFromArray(payload.data(), static_cast<int>(payload.size())) ||
            r.run_name().empty() || TagOf(r.scheduled_s()) != tag) {
          if (bad.ok()) {
            bad = Status::Error(
                fmt::format("{}: a record tagged {} is not a ledger entry", dir, tag));
          }
          return;
        }
        const Known known{r.scheduled_s(), r.refused(), r.refused_through_epoch()};
        auto [it, inserted] = runs.try_emplace(r.run_name(), known);
        if (!inserted) Merge(it->second, known);
      },
      warnings);
  if (!log.ok()) return log.status();
  if (!bad.ok()) return bad;
  std::unique_ptr<LaunchLedger> ledger(new LaunchLedger(std::move(log.value())));
  ledger->runs_ = std::move(runs);
  return ledger;
}

LaunchLedger::Entry LaunchLedger::Find(std::string_view run_name) const {
  auto it = runs_.find(run_name);
  if (it == runs_.end()) return Entry::kNone;
  return it->second.refused ? Entry::kRefused : Entry::kLaunched;
}

bool LaunchLedger::Refuses(std::string_view run_name, uint64_t epoch) const {
  auto it = runs_.find(run_name);
  if (it == runs_.end() || !it->second.refused) return false;
  return it->second.refused_through_epoch == 0 || epoch <= it->second.refused_through_epoch;
}

uint64_t LaunchLedger::RefusedThrough(std::string_view run_name) const {
  auto it = runs_.find(run_name);
  PAXCRON_ASSERT(it != runs_.end() && it->second.refused);
  return it->second.refused_through_epoch;
}

void LaunchLedger::Merge(Known& known, const Known& later) {
  if (!known.refused) return;
  if (!later.refused) {
    known = later;
    return;
  }
  if (known.refused_through_epoch == 0 || later.refused_through_epoch == 0) {
    known.refused_through_epoch = 0;
  } else {
    known.refused_through_epoch =
        std::max(known.refused_through_epoch, later.refused_through_epoch);
  }
}

Status LaunchLedger::Record(const std::string& run_name, int64_t scheduled_s, int64_t wall_us) {
  return Append(run_name, Known{scheduled_s, false, 0}, wall_us);
}

Status LaunchLedger::Refuse(const std::string& run_name, int64_t scheduled_s, int64_t wall_us,
                            uint64_t through_epoch) {
  const Known refusal{scheduled_s, true, through_epoch};
  if (auto it = runs_.find(run_name); it != runs_.end()) {
    Known widened = it->second;
    Merge(widened, refusal);
    if (widened.refused_through_epoch == it->second.refused_through_epoch) {
      return Status::Ok();  // covered already: nothing to write
    }
  }
  return Append(run_name, refusal, wall_us);
}

Status LaunchLedger::Append(const std::string& run_name, const Known& known, int64_t wall_us) {
  PAXCRON_ASSERT(Find(run_name) != Entry::kLaunched);
  pb::LedgerRecord r;
  r.set_run_name(run_name);
  r.set_scheduled_s(known.scheduled_s);
  r.set_wall_us(wall_us);
  r.set_refused(known.refused);
  r.set_refused_through_epoch(known.refused_through_epoch);
  if (Status s = log_->Append(TagOf(known.scheduled_s), r.SerializeAsString()); !s.ok()) return s;
  if (Status s = log_->Sync(); !s.ok()) return s;
  auto [it, inserted] = runs_.try_emplace(run_name, known);
  if (!inserted) Merge(it->second, known);
  return Status::Ok();
}

Status LaunchLedger::DropThrough(int64_t through_s) {
  if (Status s = log_->DropThrough(TagOf(through_s)); !s.ok()) return s;
  for (auto it = runs_.begin(); it != runs_.end();) {
    it = it->second.scheduled_s <= through_s ? runs_.erase(it) : std::next(it);
  }
  return Status::Ok();
}

}  // namespace paxcron::node
