// The storage engine on this machine's real disk (issue 4, section 5):
//   1. log appends per second when every record gets its own fdatasync (a mutex serializing
//      append + sync, as a naive engine would), at 1, 16 and 64 writer threads;
//   2. the same through group commit (storage/group_commit.h) at 16 and 64 writers, and the
//      ratio to (1) measured in the same run;
//   3. snapshot write (take, serialize, SnapshotStore::Save with its fsyncs and rename) and load
//      (SnapshotStore::LoadNewest from a cold page cache, parse, CronStateMachine::LoadSnapshot)
//      for 100,000 and 1,000,000 cron jobs, split so that a missed goal shows its cause.
// Goals: a 1,000,000-job snapshot written and loaded in under 2 s each; group commit at least 10x
// the single-sync rate at 64 writers. Each append phase runs for a fixed time; every phase checks
// its result by reopening what it wrote.
// usage: storage_bench [--quick] [--dir DIR]  (default DIR /var/tmp: /tmp may be RAM, where
// fdatasync costs nothing; a fresh directory is made in DIR and removed at the end)
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cron/job_spec.h"
#include "cron/state_machine.h"
#include "storage/counting_file_system.h"
#include "storage/crc32c.h"
#include "storage/group_commit.h"
#include "storage/posix_file_system.h"
#include "storage/segment_log.h"
#include "storage/snapshot_store.h"

namespace {

using namespace paxcron;
using Clock = std::chrono::steady_clock;

constexpr size_t kPayloadBytes = 128;  // about one accepted cron command with its Paxos framing
constexpr int64_t kStampUs = 1'795'737'600'000'000;  // 2026-11-27T00:00:00Z
constexpr double kSnapshotGoalS = 2.0;
constexpr double kGroupCommitGoal = 10.0;

struct Options {
  bool quick = false;
  std::string base_dir = "/var/tmp";
  double phase_s = 2.0;
  std::vector<uint64_t> job_counts = {100'000, 1'000'000};
};

double Since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}
double NsToS(uint64_t ns) { return static_cast<double>(ns) / 1e9; }

void Check(const Status& s, std::string_view what) {
  if (s.ok()) return;
  fmt::print(stderr, "storage_bench: {}: {}\n", what, s.message());
  std::exit(1);
}
template <typename T>
T Need(Result<T> r, std::string_view what) {
  Check(r.status(), what);
  return std::move(r.value());
}

std::string FileSystemType(const std::string& dir) {
  struct statfs st;
  if (::statfs(dir.c_str(), &st) != 0) return "unknown";
  switch (st.f_type) {
    case TMPFS_MAGIC:
      return "tmpfs (RAM: fdatasync is free, figures are not a disk's)";
    case EXT4_SUPER_MAGIC:
      return "ext4";
    case XFS_SUPER_MAGIC:
      return "xfs";
    case BTRFS_SUPER_MAGIC:
      return "btrfs";
    case OVERLAYFS_SUPER_MAGIC:
      return "overlayfs";
    default:
      return fmt::format("type {:#x}", static_cast<unsigned long>(st.f_type));
  }
}

// --- 1 and 2: appends.

struct AppendRun {
  uint64_t records = 0;
  double seconds = 0;
  storage::FileSystemCounts counts;
  std::vector<int64_t> latencies_ns;  // sorted
  double rate() const { return static_cast<double>(records) / seconds; }
  double latency_ms(double p) const {
    if (latencies_ns.empty()) return 0;
    const auto i = static_cast<size_t>(p * static_cast<double>(latencies_ns.size() - 1));
    return static_cast<double>(latencies_ns[i]) / 1e6;
  }
};

// Runs `writers` threads, each committing one record after another through `commit` until
// `seconds` have passed.
AppendRun RunWriters(int writers, double seconds, const std::function<Status(uint64_t)>& commit) {
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> next_tag{1};
  std::vector<std::vector<int64_t>> latencies(static_cast<size_t>(writers));
  std::vector<std::thread> threads;
  const Clock::time_point start = Clock::now();
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      while (!stop.load(std::memory_order_relaxed)) {
        const Clock::time_point t0 = Clock::now();
        Check(commit(next_tag.fetch_add(1)), "commit");
        latencies[static_cast<size_t>(w)].push_back((Clock::now() - t0).count());
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (std::thread& t : threads) t.join();
  AppendRun run;
  run.seconds = Since(start);
  for (const std::vector<int64_t>& of_writer : latencies) {
    run.latencies_ns.insert(run.latencies_ns.end(), of_writer.begin(), of_writer.end());
  }
  std::sort(run.latencies_ns.begin(), run.latencies_ns.end());
  run.records = run.latencies_ns.size();
  return run;
}

// One phase in a fresh log directory; then checks that exactly the acknowledged records are in
// the log, by reopening it.
AppendRun MeasureAppends(const std::string& dir, int writers, bool group_commit, double seconds) {
  storage::PosixFileSystem posix;
  storage::CountingFileSystem fs(posix);
  Check(fs.CreateDir(dir), "create the log directory");
  const auto ignore = [](uint64_t, std::string_view) {};
  std::unique_ptr<storage::SegmentLog> log =
      Need(storage::SegmentLog::Open(fs, dir, {}, ignore, nullptr), "open the log");
  const std::string payload(kPayloadBytes, 'p');
  AppendRun run;
  if (group_commit) {
    storage::GroupCommitter committer(*log, storage::GroupCommitOptions{});
    run =
        RunWriters(writers, seconds, [&](uint64_t tag) { return committer.Commit(tag, payload); });
    committer.Shutdown();
  } else {
    std::mutex mu;
    run = RunWriters(writers, seconds, [&](uint64_t tag) {
      std::lock_guard lock(mu);
      if (Status s = log->Append(tag, payload); !s.ok()) return s;
      return log->Sync();
    });
  }
  run.counts = fs.counts();
  log.reset();
  uint64_t recovered = 0;
  const auto count = [&](uint64_t, std::string_view) { ++recovered; };
  Need(storage::SegmentLog::Open(posix, dir, {}, count, nullptr), "reopen the log");
  if (recovered != run.records) {
    fmt::print(stderr, "storage_bench: {}: {} records acknowledged, {} in the log\n", dir,
               run.records, recovered);
    std::exit(1);
  }
  return run;
}

void PrintAppendRow(std::string_view label, int writers, const AppendRun& r) {
  const uint64_t syncs = std::max<uint64_t>(r.counts.syncs, 1);
  fmt::print("{:<13} {:>7} {:>9} {:>7.2f} {:>10.0f} {:>7} {:>8.1f} {:>11.3f} {:>9.3f} {:>9.3f}\n",
             label, writers, r.records, r.seconds, r.rate(), r.counts.syncs,
             static_cast<double>(r.records) / static_cast<double>(syncs),
             static_cast<double>(r.counts.sync_ns) / static_cast<double>(syncs) / 1e6,
             r.latency_ms(0.5), r.latency_ms(0.99));
}

void RunAppendPhases(const Options& o, const std::string& work) {
  fmt::print("\nlog appends, {}-byte records, {:.1f} s a phase, one fdatasync per Sync\n",
             kPayloadBytes, o.phase_s);
  fmt::print("{:<13} {:>7} {:>9} {:>7} {:>10} {:>7} {:>8} {:>11} {:>9} {:>9}\n", "mode", "writers",
             "records", "secs", "records/s", "syncs", "rec/sync", "fdatasync", "p50", "p99");
  fmt::print("{:<13} {:>7} {:>9} {:>7} {:>10} {:>7} {:>8} {:>11} {:>9} {:>9}\n", "", "", "", "", "",
             "", "", "avg ms", "ms", "ms");
  std::vector<std::pair<int, double>> single_rates;
  for (const int writers : {1, 16, 64}) {
    const AppendRun r =
        MeasureAppends(fmt::format("{}/single-{}", work, writers), writers, false, o.phase_s);
    PrintAppendRow("single sync", writers, r);
    single_rates.emplace_back(writers, r.rate());
  }
  std::vector<std::string> ratios;
  bool goal_met = true;
  for (const int writers : {16, 64}) {
    const AppendRun r =
        MeasureAppends(fmt::format("{}/group-{}", work, writers), writers, true, o.phase_s);
    PrintAppendRow("group commit", writers, r);
    const double single = std::find_if(single_rates.begin(), single_rates.end(), [&](auto& p) {
                            return p.first == writers;
                          })->second;
    const double ratio = r.rate() / single;
    ratios.push_back(
        fmt::format("{} writers {:.0f} / {:.0f} = {:.1f}x", writers, r.rate(), single, ratio));
    if (writers == 64) goal_met = ratio >= kGroupCommitGoal;
  }
  fmt::print("group commit / single sync, same run: {}; {}\n", ratios[0], ratios[1]);
  fmt::print("goal: group commit >= {:.0f}x single sync at 64 writers: {}\n", kGroupCommitGoal,
             goal_met ? "met" : "MISSED");
}

// --- 3: snapshots.

std::unique_ptr<cron::CronStateMachine> BuildJobs(const cron::ZoneSource& zones, uint64_t jobs) {
  auto sm = std::make_unique<cron::CronStateMachine>(zones);
  cron::pb::Command put;
  cron::pb::JobSpec* spec = put.mutable_put_job()->mutable_spec();
  spec->set_schedule("*/5 * * * *");
  for (uint64_t i = 0; i < jobs; ++i) {
    spec->set_name(fmt::format("job-{:07}", i));
    spec->set_command(fmt::format("/opt/jobs/bin/run-report --id {:07} --quiet", i));
    Check(sm->Apply(put, kStampUs), "put job");
  }
  PAXCRON_ASSERT(sm->job_count() == jobs);
  return sm;
}

// Drops a file's (clean) pages from the page cache, so that the load that follows reads the disk.
void EvictFromPageCache(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

struct SnapshotRun {
  uint64_t jobs = 0, state_bytes = 0, file_bytes = 0;
  double build_s = 0;
  double take_s = 0, serialize_s = 0, save_s = 0, write_s = 0, fdatasync_s = 0, dir_fsync_s = 0;
  double load_newest_s = 0, read_s = 0, decode_s = 0, parse_s = 0, load_sm_s = 0;
  double crc_pass_s = 0;  // one storage::Crc32c pass over the state's bytes
  double write_total() const { return take_s + serialize_s + save_s; }
  double load_total() const { return load_newest_s + parse_s + load_sm_s; }
};

// Times the save of `sm`'s snapshot into `dir`, filling the write side of `run`.
void MeasureSave(const cron::CronStateMachine& sm, const std::string& dir, SnapshotRun& run) {
  Clock::time_point t = Clock::now();
  const cron::pb::Snapshot pb = sm.TakeSnapshot();
  run.take_s = Since(t);
  t = Clock::now();
  storage::Snapshot snapshot;
  snapshot.slot = run.jobs;
  snapshot.stamp_us = static_cast<uint64_t>(kStampUs);
  snapshot.data = pb.SerializeAsString();
  run.serialize_s = Since(t);
  run.state_bytes = snapshot.data.size();
  storage::PosixFileSystem posix;
  storage::CountingFileSystem fs(posix);
  storage::SnapshotStore store(fs, dir);
  t = Clock::now();
  Check(store.Save(snapshot), "save the snapshot");
  run.save_s = Since(t);
  const storage::FileSystemCounts c = fs.counts();
  run.write_s = NsToS(c.append_ns);
  run.fdatasync_s = NsToS(c.sync_ns);
  run.dir_fsync_s = NsToS(c.dir_sync_ns);
  const std::string path = dir + "/" + storage::SnapshotFileName(run.jobs);
  run.file_bytes = std::filesystem::file_size(path);
  EvictFromPageCache(path);
}

// LoadNewest's two parts timed apart: reading the file at `path` from a cold cache, then checking
// and decoding its records; and one CRC pass over `data`, of which save and load each make two.
void MeasureLoadParts(const std::string& path, std::string_view data, SnapshotRun& run) {
  storage::PosixFileSystem posix;
  EvictFromPageCache(path);
  Clock::time_point t = Clock::now();
  const std::string bytes = Need(posix.ReadFile(path), "read the snapshot");
  run.read_s = Since(t);
  t = Clock::now();
  Need(storage::DecodeSnapshotFile(bytes, path), "decode the snapshot");
  run.decode_s = Since(t);
  run.crc_pass_s = 1e9;
  for (int i = 0; i < 3; ++i) {  // the fastest of three: the CRC's own cost, not the machine's
    t = Clock::now();
    (void)storage::Crc32c(data);
    run.crc_pass_s = std::min(run.crc_pass_s, Since(t));
  }
}

// Times the load back from `dir`, filling the read side of `run`; checks the state is the same.
void MeasureLoad(const cron::CronStateMachine& sm, const cron::ZoneSource& zones,
                 const std::string& dir, SnapshotRun& run) {
  storage::PosixFileSystem posix;
  storage::SnapshotStore store(posix, dir);
  Clock::time_point t = Clock::now();
  const std::optional<storage::Snapshot> loaded = Need(store.LoadNewest(), "load the snapshot");
  run.load_newest_s = Since(t);
  PAXCRON_ASSERT(loaded.has_value() && loaded->slot == run.jobs);
  t = Clock::now();
  cron::pb::Snapshot pb;
  if (!pb.ParseFromString(loaded->data)) Check(Status::Error("not a cron snapshot"), dir);
  run.parse_s = Since(t);
  t = Clock::now();
  cron::CronStateMachine restored(zones);
  Check(restored.LoadSnapshot(std::move(pb)), "load the state machine");
  run.load_sm_s = Since(t);
  PAXCRON_ASSERT(restored.job_count() == run.jobs && restored.Checksum() == sm.Checksum());
  MeasureLoadParts(dir + "/" + storage::SnapshotFileName(run.jobs), loaded->data, run);
}

SnapshotRun MeasureSnapshot(const std::string& dir, uint64_t jobs) {
  cron::UtcOnlyZones zones;
  SnapshotRun run;
  run.jobs = jobs;
  const Clock::time_point t = Clock::now();
  const std::unique_ptr<cron::CronStateMachine> sm = BuildJobs(zones, jobs);
  run.build_s = Since(t);
  MeasureSave(*sm, dir, run);
  MeasureLoad(*sm, zones, dir, run);
  return run;
}

void PrintSnapshotWrites(const std::vector<SnapshotRun>& runs) {
  fmt::print(
      "\nsnapshot write (s): take = TakeSnapshot; save = SnapshotStore::Save, of which write(2), "
      "fdatasync, directory fsyncs, 2 CRCs (two Crc32c passes over the data: the data's and the "
      "records'), and the rest (framing, copies)\n");
  fmt::print("{:>9} {:>11} {:>11} {:>6} {:>9} {:>6} {:>6} {:>9} {:>7} {:>6} {:>6} {:>6} {:>7}\n",
             "jobs", "state B", "file B", "take", "serialize", "save", "write", "fdatasync",
             "dirsync", "2 CRCs", "rest", "total", "goal<2s");
  for (const SnapshotRun& r : runs) {
    const double crcs = 2 * r.crc_pass_s;
    fmt::print(
        "{:>9} {:>11} {:>11} {:>6.3f} {:>9.3f} {:>6.3f} {:>6.3f} {:>9.3f} {:>7.3f} {:>6.3f} "
        "{:>6.3f} {:>6.3f} {:>7}\n",
        r.jobs, r.state_bytes, r.file_bytes, r.take_s, r.serialize_s, r.save_s, r.write_s,
        r.fdatasync_s, r.dir_fsync_s, crcs,
        r.save_s - r.write_s - r.fdatasync_s - r.dir_fsync_s - crcs, r.write_total(),
        r.write_total() < kSnapshotGoalS ? "met" : "MISSED");
  }
}

void PrintSnapshotLoads(const std::vector<SnapshotRun>& runs) {
  fmt::print(
      "\nsnapshot load (s): load = SnapshotStore::LoadNewest from a cold page cache; timed apart "
      "after it: read (the file, cold) and decode (records checked and joined, with 2 CRCs); "
      "parse = Protobuf; apply = CronStateMachine::LoadSnapshot\n");
  fmt::print("{:>9} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>7}\n", "jobs", "load", "read",
             "decode", "2 CRCs", "parse", "apply", "total", "goal<2s");
  for (const SnapshotRun& r : runs) {
    fmt::print("{:>9} {:>6.3f} {:>6.3f} {:>6.3f} {:>6.3f} {:>6.3f} {:>6.3f} {:>6.3f} {:>7}\n",
               r.jobs, r.load_newest_s, r.read_s, r.decode_s, 2 * r.crc_pass_s, r.parse_s,
               r.load_sm_s, r.load_total(), r.load_total() < kSnapshotGoalS ? "met" : "MISSED");
  }
  for (const SnapshotRun& r : runs) {
    fmt::print(
        "{} jobs: built by {} put-job commands in {:.2f} s; {:.0f} snapshot bytes/job; Crc32c "
        "{:.0f} MB/s\n",
        r.jobs, r.jobs, r.build_s, static_cast<double>(r.state_bytes) / static_cast<double>(r.jobs),
        static_cast<double>(r.state_bytes) / r.crc_pass_s / 1e6);
  }
}

void RunSnapshotPhases(const Options& o, const std::string& work) {
  std::vector<SnapshotRun> runs;
  for (const uint64_t jobs : o.job_counts) {
    runs.push_back(MeasureSnapshot(fmt::format("{}/snapshot-{}", work, jobs), jobs));
  }
  PrintSnapshotWrites(runs);
  PrintSnapshotLoads(runs);
}

bool ParseFlags(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--quick") {
      o.quick = true;
      o.phase_s = 0.2;
      o.job_counts = {10'000};
    } else if (arg == "--dir" && i + 1 < argc) {
      o.base_dir = argv[++i];
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseFlags(argc, argv, o)) {
    fmt::print(stderr, "usage: storage_bench [--quick] [--dir DIR]\n");
    return 2;
  }
  std::string tmpl = o.base_dir + "/storage_bench.XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    fmt::print(stderr, "storage_bench: mkdtemp in {}: {}\n", o.base_dir, std::strerror(errno));
    return 1;
  }
  const std::string work = tmpl;
  fmt::print("storage_bench{}: in {} ({}), {} hardware threads\n", o.quick ? " --quick" : "", work,
             FileSystemType(work), std::thread::hardware_concurrency());
  RunAppendPhases(o, work);
  RunSnapshotPhases(o, work);
  std::filesystem::remove_all(work);
  return 0;
}
