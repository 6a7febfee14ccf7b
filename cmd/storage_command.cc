// paxcron storage check|dump --data DIR: offline, read-only inspection of a node's data
// directory (storage/inspect.h).
#include <fmt/format.h>

#include <cstdio>
#include <string>
#include <vector>

#include "cmd/commands.h"
#include "paxos/entry_hash.h"
#include "storage/inspect.h"
#include "storage/posix_file_system.h"

namespace paxcron::cmd {

void PrintStorageHelp() {
  std::printf(
      "usage: paxcron storage check --data DIR\n"
      "       paxcron storage dump --data DIR\n"
      "\n"
      "Reads a node's data directory without changing it. check prints what it holds (the\n"
      "promised ballot, the compaction point, each log segment with its records and slot\n"
      "range) and any damage, naming the file and the byte offset; dump also prints every log\n"
      "record (segment, offset, slot, accepted or chosen, ballot, stamp, commands, value hash).\n"
      "\n"
      "exit status: 0 healthy (a torn tail of the last segment is a warning: a restart\n"
      "truncates it), 1 damage found, 2 bad usage or an unreadable directory.\n");
}

int RunStorage(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    PrintStorageHelp();
    return args.empty() ? 2 : 0;
  }
  const std::string& action = args[0];
  if (action != "check" && action != "dump") {
    std::fprintf(stderr, "paxcron storage: unknown action '%s' (check or dump)\n", action.c_str());
    return 2;
  }
  if (args.size() != 3 || args[1] != "--data") {
    std::fprintf(stderr, "paxcron storage %s: usage: paxcron storage %s --data DIR\n",
                 action.c_str(), action.c_str());
    return 2;
  }
  const std::string& dir = args[2];
  storage::PosixFileSystem fs;
  storage::RecordVisitor visit;
  if (action == "dump") {
    visit = [](const std::string& segment, uint64_t offset, const storage::pb::LogRecord& r) {
      std::printf("%s\n", fmt::format("{} @{} slot {} {} ballot {}.{} stamp_us {} commands {} "
                                      "value {:016x}{}",
                                      segment, offset, r.slot(), r.chosen() ? "chosen" : "accepted",
                                      r.ballot().round(), r.ballot().node(), r.entry().stamp_us(),
                                      r.entry().commands_size(), paxos::EntryHash(r.entry()),
                                      r.entry().noop() ? " noop" : "")
                              .c_str());
    };
  }
  Result<storage::StoreReport> report = storage::InspectStore(fs, dir, visit);
  if (!report.ok()) {
    std::fprintf(stderr, "paxcron storage %s: %s\n", action.c_str(),
                 report.status().message().c_str());
    return 2;
  }
  const storage::StoreReport& r = report.value();
  if (r.has_meta) {
    std::printf("meta: promised ballot %llu.%u, log compacted through slot %llu\n",
                static_cast<unsigned long long>(r.promised_round), r.promised_node,
                static_cast<unsigned long long>(r.compacted_through));
  } else {
    std::printf("meta: none (a node that never promised anything)\n");
  }
  uint64_t records = 0;
  for (const storage::SegmentReport& s : r.segments) {
    records += s.records;
    std::printf("%s: %llu bytes, %llu records, slots %llu-%llu\n", s.name.c_str(),
                static_cast<unsigned long long>(s.bytes),
                static_cast<unsigned long long>(s.records),
                static_cast<unsigned long long>(s.first_slot),
                static_cast<unsigned long long>(s.last_slot));
  }
  std::printf("log: %zu segments, %llu records\n", r.segments.size(),
              static_cast<unsigned long long>(records));
  for (const storage::SnapshotReport& s : r.snapshots) {
    std::printf("%s: covers slots up to %llu, %llu bytes of state, checked\n", s.name.c_str(),
                static_cast<unsigned long long>(s.slot),
                static_cast<unsigned long long>(s.data_bytes));
  }
  if (r.snapshots.empty()) std::printf("snapshot: none\n");
  for (const std::string& w : r.warnings) std::printf("warning: %s\n", w.c_str());
  if (!r.damage.empty()) {
    std::printf("DAMAGE: %s\n", r.damage.c_str());
    return 1;
  }
  std::printf("ok\n");
  return 0;
}

}  // namespace paxcron::cmd
