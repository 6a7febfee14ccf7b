// A node's whole durable state: the log and the snapshots recovered together, snapshot transfer
// through files with every damage caught by the receiver, and the simulated disk's fsync-less
// mode (the `skip-fsync` bug) losing what it only pretended to sync.
#include "storage/node_store.h"

#include <gtest/gtest.h>

#include "common/prng.h"
#include "storage/mem_file_system.h"

namespace paxcron::storage {
namespace {

using paxos::PersistOp;

PersistOp Accept(uint64_t slot, uint64_t round = 1) {
  PersistOp op;
  op.kind = PersistOp::Kind::kAccept;
  op.ballot = paxos::Ballot{round, paxos::NodeId(1)};
  op.slot = paxos::Slot(slot);
  auto entry = std::make_shared<paxos::pb::Entry>();
  entry->set_stamp_us(slot * 10);
  entry->add_commands()->set_data("value-" + std::to_string(slot));
  op.entry = std::move(entry);
  return op;
}

PersistOp Compact(uint64_t slot) {
  PersistOp op;
  op.kind = PersistOp::Kind::kCompact;
  op.slot = paxos::Slot(slot);
  return op;
}

std::unique_ptr<NodeStore> OpenOk(FileSystem& fs, RecoveredState* out,
                                  NodeStoreOptions options = {}) {
  Result<std::unique_ptr<NodeStore>> store = NodeStore::Open(fs, "/d", options, out);
  EXPECT_TRUE(store.ok()) << store.status().message();
  return store.ok() ? std::move(store.value()) : nullptr;
}

Snapshot MakeSnapshot(uint64_t slot, size_t bytes) {
  Snapshot s;
  s.slot = slot;
  s.stamp_us = slot * 10;
  for (size_t i = 0; i < bytes; ++i) s.data.push_back(static_cast<char>('a' + (i * 7 + slot) % 26));
  return s;
}

// Accepts for slots 1..20, then `last` (if any), durably.
void WriteTwentyAccepts(NodeStore& store, std::optional<PersistOp> last = std::nullopt) {
  std::vector<PersistOp> ops;
  for (uint64_t s = 1; s <= 20; ++s) ops.push_back(Accept(s));
  if (last) ops.push_back(*last);
  ASSERT_TRUE(store.Write(ops).ok());
}

TEST(NodeStore, RecoversTheSnapshotAndTheLogAboveTheCompactionPoint) {
  MemFileSystem fs;
  RecoveredState r;
  auto store = OpenOk(fs, &r);
  WriteTwentyAccepts(*store);
  ASSERT_TRUE(store->SaveSnapshot(MakeSnapshot(15, 3000)).ok());
  ASSERT_TRUE(store->Write({Compact(10)}).ok());
  store.reset();
  Prng rng(1);
  fs.Crash(rng);
  store = OpenOk(fs, &r);
  ASSERT_TRUE(r.snapshot.has_value());
  EXPECT_EQ(r.snapshot->slot, 15u);
  EXPECT_EQ(r.snapshot->data, MakeSnapshot(15, 3000).data);
  EXPECT_EQ(r.durable.snapshot_slot.value, 15u);
  EXPECT_EQ(r.durable.snapshot_stamp_us, 150u);
  EXPECT_EQ(r.durable.slots.Compacted().value, 10u);
  EXPECT_EQ(r.durable.slots.Last().value, 20u);
  EXPECT_EQ(store->snapshot_slot(), 15u);
}

TEST(NodeStore, ALogCompactedBeyondTheNewestSnapshotIsAnError) {
  MemFileSystem fs;
  RecoveredState r;
  auto store = OpenOk(fs, &r);
  WriteTwentyAccepts(*store, Compact(12));  // no snapshot saved: as a lost snapshot file looks
  store.reset();
  Result<std::unique_ptr<NodeStore>> reopened = NodeStore::Open(fs, "/d", {}, &r);
  ASSERT_FALSE(reopened.ok());
  EXPECT_NE(reopened.status().message().find("compacted through slot 12"), std::string::npos)
      << reopened.status().message();
}

// Chunks of `from`'s newest snapshot, `chunk` bytes at a time, into `to`.
Result<Snapshot> Transfer(NodeStore& from, NodeStore& to, uint64_t chunk) {
  uint64_t offset = 0;
  uint64_t slot = 0;
  for (;;) {
    Result<SnapshotFileChunk> c = from.ReadSnapshotChunk(offset, chunk);
    if (!c.ok()) return c.status();
    slot = c.value().slot;
    if (Status s = to.ReceiveSnapshotChunk(offset, c.value().data); !s.ok()) return s;
    offset += c.value().data.size();
    if (offset == c.value().total_bytes) break;
  }
  return to.FinishReceivedSnapshot(slot);
}

TEST(NodeStore, ASnapshotTravelsInBoundedChunksAndIsAdoptedDurably) {
  MemFileSystem a_fs, b_fs;
  RecoveredState r;
  auto a = OpenOk(a_fs, &r);
  auto b = OpenOk(b_fs, &r, NodeStoreOptions{{}, "/backup"});
  ASSERT_TRUE(a->SaveSnapshot(MakeSnapshot(40, 200'000)).ok());
  Result<Snapshot> got = Transfer(*a, *b, 4096);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got.value().data, MakeSnapshot(40, 200'000).data);
  ASSERT_TRUE(b->AdoptReceivedSnapshot(got.value()).ok());
  EXPECT_EQ(b->snapshot_slot(), 40u);
  b.reset();
  Prng rng(2);
  b_fs.Crash(rng);
  b = OpenOk(b_fs, &r);
  ASSERT_TRUE(r.snapshot.has_value());
  EXPECT_EQ(r.snapshot->slot, 40u);
  EXPECT_FALSE(b_fs.Exists("/d/snapshot-incoming"));
  EXPECT_TRUE(b_fs.Exists("/backup/" + SnapshotFileName(40)));  // copied off the node
}

TEST(NodeStore, DamageOnTheSendersDiskIsCaughtByTheReceiver) {
  MemFileSystem a_fs, b_fs;
  RecoveredState r;
  auto a = OpenOk(a_fs, &r);
  auto b = OpenOk(b_fs, &r);
  ASSERT_TRUE(a->SaveSnapshot(MakeSnapshot(40, 50'000)).ok());
  ASSERT_TRUE(a_fs.CorruptByte("/d/" + SnapshotFileName(40), 30'000).ok());
  Result<Snapshot> got = Transfer(*a, *b, 4096);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("snapshot-incoming"), std::string::npos)
      << got.status().message();
  EXPECT_FALSE(b_fs.Exists("/d/snapshot-incoming"));  // nothing half-received stays
  EXPECT_EQ(b->snapshot_slot(), 0u);
}

TEST(NodeStore, ACrashMidTransferLeavesTheOldSnapshot) {
  MemFileSystem a_fs, b_fs;
  RecoveredState r;
  auto a = OpenOk(a_fs, &r);
  auto b = OpenOk(b_fs, &r);
  ASSERT_TRUE(b->SaveSnapshot(MakeSnapshot(5, 1000)).ok());
  ASSERT_TRUE(a->SaveSnapshot(MakeSnapshot(40, 50'000)).ok());
  Result<SnapshotFileChunk> c = a->ReadSnapshotChunk(0, 4096);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(b->ReceiveSnapshotChunk(0, c.value().data).ok());
  EXPECT_FALSE(b->ReceiveSnapshotChunk(8192, "gap").ok());  // chunks come in order
  b.reset();
  Prng rng(3);
  b_fs.Crash(rng);
  b = OpenOk(b_fs, &r);
  ASSERT_TRUE(r.snapshot.has_value());
  EXPECT_EQ(r.snapshot->slot, 5u);
}

TEST(NodeStore, IgnoredSyncsLoseAcknowledgedWritesUntilWriteback) {
  MemFileSystem fs;
  fs.set_ignore_syncs(true);
  RecoveredState r;
  auto store = OpenOk(fs, &r);
  ASSERT_TRUE(store->Write({Accept(1)}).ok());
  fs.Writeback();                               // the kernel's flush
  ASSERT_TRUE(store->Write({Accept(2)}).ok());  // "durable", says the disk
  store.reset();
  Prng rng(4);  // a crash that keeps no torn prefix of the unsynced appends
  fs.Crash(rng);
  store = OpenOk(fs, &r);
  EXPECT_EQ(r.durable.slots.Last().value, 1u);  // slot 2 was acknowledged and is gone
}

}  // namespace
}  // namespace paxcron::storage
