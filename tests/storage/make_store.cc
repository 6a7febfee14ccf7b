// Test fixture: writes a small data directory through the real storage engine, for the
// `paxcron storage` command-line tests. usage: make_store DIR SLOTS
#include <cstdio>
#include <cstdlib>

#include "storage/paxos_store.h"
#include "storage/posix_file_system.h"
#include "storage/snapshot_store.h"

int main(int argc, char** argv) {
  using namespace paxcron;
  if (argc != 3) {
    std::fprintf(stderr, "usage: make_store DIR SLOTS\n");
    return 2;
  }
  storage::PosixFileSystem fs;
  paxos::DurableState durable;
  auto store =
      storage::PaxosStore::Open(fs, argv[1], storage::SegmentLogOptions{512}, &durable, nullptr);
  if (!store.ok()) {
    std::fprintf(stderr, "make_store: %s\n", store.status().message().c_str());
    return 1;
  }
  std::vector<paxos::PersistOp> ops;
  paxos::PersistOp promise;
  promise.kind = paxos::PersistOp::Kind::kPromise;
  promise.ballot = paxos::Ballot{3, paxos::NodeId(2)};
  ops.push_back(promise);
  for (long s = 1; s <= std::atol(argv[2]); ++s) {
    auto entry = std::make_shared<paxos::pb::Entry>();
    entry->set_stamp_us(static_cast<uint64_t>(s) * 1000);
    entry->add_commands()->set_data("command " + std::to_string(s));
    for (auto kind : {paxos::PersistOp::Kind::kAccept, paxos::PersistOp::Kind::kChosen}) {
      paxos::PersistOp op;
      op.kind = kind;
      op.ballot = promise.ballot;
      op.slot = paxos::Slot(static_cast<uint64_t>(s));
      op.entry = entry;
      ops.push_back(op);
    }
  }
  storage::SnapshotStore snapshots(fs, argv[1]);
  if (const Status s = snapshots.Save(storage::Snapshot{1, 1000, "state after slot 1"}); !s.ok()) {
    std::fprintf(stderr, "make_store: %s\n", s.message().c_str());
    return 1;
  }
  const Status s = store.value()->Write(ops);
  if (!s.ok()) {
    std::fprintf(stderr, "make_store: %s\n", s.message().c_str());
    return 1;
  }
  return 0;
}
