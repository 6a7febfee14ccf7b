// Snapshots in the consensus core: compaction behind a driver's snapshot, restarts from a
// snapshot plus the log tail, and chunked snapshot transfer to a replica that fell behind the
// compaction point (Paxos Made Live, 5.5).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "paxos/replica.h"
#include "tests/paxos/test_cluster.h"

namespace paxcron::paxos {
namespace {

using test::Cluster;

uint32_t OtherThan(uint32_t a, uint32_t b = 0) {
  for (uint32_t i = 1;; ++i) {
    if (i != a && i != b) return i;
  }
}

// Elects a leader and has it choose `values` values; returns the leader.
uint32_t ElectAndChoose(Cluster& c, int values) {
  c.Advance(1'000'000);
  const uint32_t leader = c.Leader();
  for (int i = 0; i < values; ++i) EXPECT_TRUE(c.Propose(leader, "v" + std::to_string(i)).ok());
  c.Advance(200'000);
  return leader;
}

struct Lagging {
  uint32_t leader, lagging, other;
};

// Elects a leader, cuts `lagging` off, chooses `values` values and snapshots every node but
// `lagging` with `keep_slots` of log kept: `lagging` is then behind the compaction point.
Lagging ChooseWhileOneLags(Cluster& c, int values, uint64_t keep_slots) {
  c.Advance(1'000'000);
  Lagging l;
  l.leader = c.Leader();
  l.lagging = OtherThan(l.leader);
  l.other = OtherThan(l.leader, l.lagging);
  c.Isolate(l.lagging);
  for (int i = 0; i < values; ++i) EXPECT_TRUE(c.Propose(l.leader, "v" + std::to_string(i)).ok());
  c.Advance(200'000);
  EXPECT_TRUE(c.Snapshot(l.leader, keep_slots).ok());
  EXPECT_TRUE(c.Snapshot(l.other, keep_slots).ok());
  return l;
}

TEST(SlotLog, TruncatePrefixForgetsSlotsAtOrBelowThePoint) {
  SlotLog log;
  for (uint64_t s = 1; s <= 10; ++s) {
    log.Mutable(Slot(s)).entry = std::make_shared<const pb::Entry>();
  }
  log.TruncatePrefix(Slot(4));
  EXPECT_EQ(log.Compacted(), Slot(4));
  EXPECT_EQ(log.Last(), Slot(10));
  EXPECT_EQ(log.Find(Slot(4)), nullptr);
  EXPECT_NE(log.Find(Slot(5)), nullptr);
  std::vector<uint64_t> seen;
  log.ForEach(Slot(1), Slot(6), [&](Slot s, const DurableSlot&) { seen.push_back(s.value); });
  EXPECT_EQ(seen, (std::vector<uint64_t>{5, 6}));
  log.TruncatePrefix(Slot(2));  // going back is a no-op
  EXPECT_EQ(log.Compacted(), Slot(4));
  log.TruncatePrefix(Slot(20));  // beyond everything: the log is empty above 20
  EXPECT_EQ(log.Last(), Slot(20));
  EXPECT_EQ(log.Find(Slot(10)), nullptr);
  log.Mutable(Slot(21)).entry = std::make_shared<const pb::Entry>();
  EXPECT_NE(log.Find(Slot(21)), nullptr);
}

TEST(Snapshot, CompactionTruncatesTheDurableLogAndARestartResumesAfterTheSnapshot) {
  Cluster c(3);
  const uint32_t leader = ElectAndChoose(c, 40);
  const uint32_t f = OtherThan(leader);
  const std::vector<std::string> before = c.applied(f);
  ASSERT_EQ(before.size(), 40u);
  ASSERT_TRUE(c.Snapshot(f, 10).ok());
  EXPECT_EQ(c.r(f).compacted(), Slot(30));
  EXPECT_EQ(c.disk(f).slots.Compacted(), Slot(30));
  EXPECT_EQ(c.disk(f).slots.Find(Slot(30)), nullptr);
  EXPECT_NE(c.disk(f).slots.Find(Slot(31)), nullptr);
  // A snapshot beyond what the driver was handed is refused.
  EXPECT_FALSE(c.r(f).Compact(Slot(1000), 0, 0).ok());

  for (int i = 40; i < 45; ++i) ASSERT_TRUE(c.Propose(leader, "v" + std::to_string(i)).ok());
  c.Advance(200'000);
  c.Crash(f);
  c.Start(f);  // state machine from the snapshot (40 values), the rest from the log
  EXPECT_EQ(c.applied(f).size(), 45u);
  EXPECT_EQ(c.applied(f), c.applied(leader));
}

TEST(Snapshot, AReplicaBehindTheCompactionPointFetchesTheSnapshotInChunksThenTheTail) {
  Cluster c(3);
  const auto [leader, lagging, other] = ChooseWhileOneLags(c, 200, 20);
  for (int i = 200; i < 210; ++i) ASSERT_TRUE(c.Propose(leader, "v" + std::to_string(i)).ok());
  c.Advance(200'000);
  ASSERT_TRUE(c.applied(lagging).empty());

  c.HealAll();
  c.Advance(3'000'000);
  EXPECT_EQ(c.installed_snapshots(), 1);
  EXPECT_EQ(c.applied(lagging), c.applied(leader));
  EXPECT_EQ(c.applied(lagging).size(), 210u);
  EXPECT_FALSE(c.r(lagging).fetching_snapshot());
  // The transfer took many chunks, none larger than the configured bound.
  EXPECT_GT(c.snapshot_bytes(leader).size(), 10 * c.max_chunk_seen());
  EXPECT_LE(c.max_chunk_seen(), c.ConfigOf(lagging).snapshot_chunk_bytes);
  // The installed snapshot is durable: a restart resumes from it.
  c.Crash(lagging);
  c.Start(lagging);
  EXPECT_EQ(c.applied(lagging), c.applied(leader));
}

TEST(Snapshot, ADamagedSnapshotIsRejectedAndFetchedAgain) {
  Cluster c(3);
  const auto [leader, lagging, other] = ChooseWhileOneLags(c, 100, 0);
  c.CorruptServedChunks(leader, 1'000'000);  // every chunk of the first transfer
  c.HealAll();
  c.Advance(500'000);
  EXPECT_GE(c.rejected_snapshots(), 1);
  EXPECT_TRUE(c.applied(lagging).empty());  // nothing damaged was loaded
  c.CorruptServedChunks(leader, 0);
  c.Advance(5'000'000);
  EXPECT_EQ(c.applied(lagging), c.applied(leader));
}

TEST(Snapshot, ACandidateBehindTheCompactionPointIsToldToCatchUp) {
  Cluster c(3);
  const uint32_t leader = ElectAndChoose(c, 30);
  const uint32_t f = OtherThan(leader);
  ASSERT_TRUE(c.Snapshot(f, 0).ok());
  // A prepare asking for values from slot 1: they are gone, so no promise can report them.
  Replica& r = c.r(f);
  c.Isolate(f);
  c.Advance(3'000'000);  // past any lease this follower granted
  pb::Envelope prepare;
  const uint32_t candidate = OtherThan(leader, f);
  prepare.set_from(candidate);
  prepare.set_to(f);
  prepare.mutable_prepare()->mutable_ballot()->set_round(r.ballot().round + 1000);
  prepare.mutable_prepare()->mutable_ballot()->set_node(candidate);
  prepare.mutable_prepare()->set_from_slot(1);
  (void)r.TakeReady();
  r.Step(prepare, c.NowOf());
  Ready ready = r.TakeReady();
  ASSERT_EQ(ready.messages.size(), 1u);
  ASSERT_TRUE(ready.messages[0].envelope->has_nack());
  EXPECT_TRUE(ready.messages[0].envelope->nack().candidate_behind());
}

TEST(Snapshot, MalformedChunksAreDroppedAndCounted) {
  Cluster c(3);
  c.Advance(1'000'000);
  const uint32_t leader = c.Leader();
  const uint32_t f = OtherThan(leader);
  pb::Envelope e;
  e.set_from(leader);
  e.set_to(f);
  e.mutable_snapshot_chunk()->set_slot(5);
  e.mutable_snapshot_chunk()->set_offset(10);
  e.mutable_snapshot_chunk()->set_total_bytes(4);  // offset beyond the end
  c.r(f).Step(e, c.NowOf());
  e.mutable_snapshot_chunk()->set_offset(0);
  e.mutable_snapshot_chunk()->set_total_bytes(1 << 30);
  e.mutable_snapshot_chunk()->set_data(std::string(c.ConfigOf(f).snapshot_chunk_bytes + 1, 'x'));
  c.r(f).Step(e, c.NowOf());  // larger than any chunk may be
  EXPECT_EQ(c.r(f).invalid_messages(), 2u);
  // A well-formed chunk nobody asked for is ignored.
  e.mutable_snapshot_chunk()->set_data("x");
  c.r(f).Step(e, c.NowOf());
  EXPECT_EQ(c.r(f).invalid_messages(), 2u);
  EXPECT_TRUE(c.r(f).TakeReady().snapshot_chunks.empty());
}

}  // namespace
}  // namespace paxcron::paxos
