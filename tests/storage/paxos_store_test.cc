// The consensus core's durable state through the storage engine: whatever Write() returned for
// survives any crash, exactly as the in-memory model of a disk (paxos::DurableState) has it.
#include "storage/paxos_store.h"

#include <gtest/gtest.h>

#include "common/prng.h"
#include "paxos/entry_hash.h"
#include "storage/mem_file_system.h"

namespace paxcron::storage {
namespace {

using paxos::PersistOp;

std::string Describe(const paxos::DurableState& d) {
  std::string out = "promised " + std::to_string(d.promised.round) + "." +
                    std::to_string(d.promised.node.value) + " compacted " +
                    std::to_string(d.slots.Compacted().value) + ":";
  d.slots.ForEach(paxos::Slot(1), d.slots.Last(), [&](paxos::Slot s, const paxos::DurableSlot& v) {
    out += " " + std::to_string(s.value) + (v.chosen ? "c" : "a") +
           std::to_string(v.accepted_ballot.round) + "=" +
           std::to_string(paxos::EntryHash(*v.entry) % 1000);
  });
  return out;
}

PersistOp RandomOp(Prng& rng, uint64_t& round, uint64_t& top_slot, uint64_t& compacted) {
  PersistOp op;
  const uint64_t kind = rng.Range(0, 9);
  if (kind == 0) {
    op.kind = PersistOp::Kind::kPromise;
    round += rng.Range(0, 2);
    op.ballot = paxos::Ballot{round, paxos::NodeId(1)};
  } else if (kind == 1 && top_slot > compacted + 5) {
    op.kind = PersistOp::Kind::kCompact;
    compacted += rng.Range(1, 5);
    op.slot = paxos::Slot(compacted);
  } else {
    op.kind = rng.Chance(500'000) ? PersistOp::Kind::kChosen : PersistOp::Kind::kAccept;
    op.ballot = paxos::Ballot{round, paxos::NodeId(1)};
    op.slot = paxos::Slot(compacted + 1 + rng.Range(0, top_slot + 3 - compacted));
    top_slot = std::max(top_slot, op.slot.value);
    auto entry = std::make_shared<paxos::pb::Entry>();
    entry->set_stamp_us(rng.Next() % 1'000'000);
    entry->add_commands()->set_data(std::string(rng.Range(0, 40), 'x'));
    op.entry = std::move(entry);
  }
  return op;
}

TEST(PaxosStore, EverythingWrittenSurvivesAnyCrashExactly) {
  for (uint64_t seed = 1; seed <= 100; ++seed) {
    MemFileSystem fs;
    Prng rng(seed);
    paxos::DurableState model;  // what the disk must hold
    uint64_t round = 1, top_slot = 0, compacted = 0;
    for (int life = 0; life < 5; ++life) {
      paxos::DurableState recovered;
      std::vector<std::string> warnings;
      auto store = PaxosStore::Open(fs, "node", SegmentLogOptions{300}, &recovered, &warnings);
      ASSERT_TRUE(store.ok()) << "seed " << seed << ": " << store.status().message();
      ASSERT_EQ(Describe(recovered), Describe(model)) << "seed " << seed << " life " << life;
      for (int batch = 0; batch < 20; ++batch) {
        std::vector<PersistOp> ops;
        for (uint64_t i = rng.Range(1, 6); i > 0; --i) {
          ops.push_back(RandomOp(rng, round, top_slot, compacted));
        }
        ASSERT_TRUE(store.value()->Write(ops).ok());
        for (const PersistOp& op : ops) {
          if (op.kind == PersistOp::Kind::kCompact) model.snapshot_slot = op.slot;  // the driver's
          if (op.kind != PersistOp::Kind::kPromise || op.ballot >= model.promised) model.Apply(op);
        }
      }
      fs.Crash(rng);
    }
  }
}

TEST(PaxosStore, DamagedMetadataIsAnErrorNamingTheFile) {
  MemFileSystem fs;
  paxos::DurableState d;
  {
    auto store = PaxosStore::Open(fs, "node", SegmentLogOptions{}, &d, nullptr);
    ASSERT_TRUE(store.ok());
    PersistOp promise;
    promise.kind = PersistOp::Kind::kPromise;
    promise.ballot = paxos::Ballot{7, paxos::NodeId(2)};
    ASSERT_TRUE(store.value()->Write({promise}).ok());
  }
  ASSERT_TRUE(fs.CorruptByte("node/meta", 9).ok());
  auto store = PaxosStore::Open(fs, "node", SegmentLogOptions{}, &d, nullptr);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("node/meta: damaged metadata"), std::string::npos)
      << store.status().message();
}

}  // namespace
}  // namespace paxcron::storage
