// Test fixture for the real-disk crash test (tests/storage_crash_test.sh): recovers the store in
// DIR, checks that slots 1..K are all there and chosen with the value that slot always gets, prints
// "recovered K", then appends chosen values from K+1 on, in batches of 8, printing "acked S"
// after each Write() returns (the moment a reply could leave), until it is killed or has written
// 20,000. Every 1,024 slots it compacts the log up to 512 slots back (as after a snapshot), so
// that recovery stays quick and compaction is killed midway too.
// usage: crash_writer DIR [no-compact]
#include <cstdio>
#include <string>

#include "storage/paxos_store.h"
#include "storage/posix_file_system.h"

namespace {

std::string ValueOf(uint64_t slot) { return "value of slot " + std::to_string(slot); }

}  // namespace

int main(int argc, char** argv) {
  using namespace paxcron;
  const bool compact = argc == 2;
  if (argc != 2 && !(argc == 3 && std::string(argv[2]) == "no-compact")) {
    std::fprintf(stderr, "usage: crash_writer DIR [no-compact]\n");
    return 2;
  }
  storage::PosixFileSystem fs;
  paxos::DurableState durable;
  std::vector<std::string> warnings;
  auto store = storage::PaxosStore::Open(fs, argv[1], storage::SegmentLogOptions{64 * 1024},
                                         &durable, &warnings);
  if (!store.ok()) {
    std::printf("error %s\n", store.status().message().c_str());
    return 1;
  }
  for (const std::string& w : warnings) std::printf("warning %s\n", w.c_str());
  uint64_t k = durable.slots.Compacted().value;
  for (const paxos::DurableSlot* s = durable.slots.Find(paxos::Slot(k + 1));
       s != nullptr && s->chosen; s = durable.slots.Find(paxos::Slot(k + 1))) {
    if (s->entry->commands_size() != 1 || s->entry->commands(0).data() != ValueOf(k + 1)) {
      std::printf("error slot %llu holds the wrong value\n",
                  static_cast<unsigned long long>(k + 1));
      return 1;
    }
    ++k;
  }
  if (k < durable.slots.Last().value) {
    std::printf("error a hole after slot %llu, but values up to %llu\n",
                static_cast<unsigned long long>(k),
                static_cast<unsigned long long>(durable.slots.Last().value));
    return 1;
  }
  std::printf("recovered %llu\n", static_cast<unsigned long long>(k));
  std::fflush(stdout);
  for (uint64_t slot = k + 1; slot <= k + 20000; slot += 8) {
    std::vector<paxos::PersistOp> ops;
    if (compact && slot % 1024 == 1 && slot > 1024) {
      ops.push_back(paxos::PersistOp{paxos::PersistOp::Kind::kCompact, paxos::Ballot{},
                                     paxos::Slot(slot - 512), nullptr});
    }
    for (uint64_t s = slot; s < slot + 8; ++s) {
      auto entry = std::make_shared<paxos::pb::Entry>();
      entry->add_commands()->set_data(ValueOf(s));
      ops.push_back(paxos::PersistOp{paxos::PersistOp::Kind::kChosen,
                                     paxos::Ballot{1, paxos::NodeId(1)}, paxos::Slot(s),
                                     std::move(entry)});
    }
    if (const Status st = store.value()->Write(ops); !st.ok()) {
      std::printf("error %s\n", st.message().c_str());
      return 1;
    }
    std::printf("acked %llu\n", static_cast<unsigned long long>(slot + 7));
    std::fflush(stdout);
  }
  return 0;
}
