// A tiny in-test driver for the consensus core that follows the contract of replica.h (persist,
// then send, then apply; snapshots served and installed as the contract says) over a perfect,
// instant network whose links the test can cut. The state machine is the list of applied values.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "paxos/ballot.h"
#include "paxos/replica.h"

namespace paxcron::paxos::test {

class Cluster {
 public:
  explicit Cluster(uint32_t n, Bugs bugs = {}, Mode mode = Mode::kMulti)
      : disks_(n + 1), applied_(n + 1) {
    for (uint32_t i = 1; i <= n; ++i) members_.push_back(NodeId(i));
    replicas_.resize(n + 1);
    bugs_ = bugs;
    mode_ = mode;
    for (uint32_t i = 1; i <= n; ++i) Start(i);
  }

  Config ConfigOf(uint32_t i) const {
    Config c;
    c.self = NodeId(i);
    c.members = members_;
    c.bugs = bugs_;
    c.mode = mode_;
    c.snapshot_chunk_bytes = kChunk;
    return c;
  }
  void Start(uint32_t i) {
    applied_[i].clear();
    staging_[i].clear();
    // The snapshot, if any, is the state machine up to its slot; the replica delivers the rest.
    if (disks_[i].snapshot_slot.value > 0) applied_[i] = DecodeState(snapshots_[i]);
    replicas_[i] = std::make_unique<Replica>(ConfigOf(i), i, disks_[i], NowOf());
    Pump(i);
  }
  void Crash(uint32_t i) { replicas_[i].reset(); }
  // The driver's side of compaction: save the state machine, then tell the replica.
  Status Snapshot(uint32_t i, uint64_t keep_slots) {
    const uint64_t slot = applied_[i].size();
    snapshots_[i] = EncodeState(applied_[i]);
    disks_[i].snapshot_slot = Slot(slot);
    disks_[i].snapshot_stamp_us = 0;
    Status s = replicas_[i]->Compact(Slot(slot), 0, keep_slots);
    Pump(i);
    return s;
  }
  const std::string& snapshot_bytes(uint32_t i) const { return snapshots_[i]; }
  // Corrupts the next snapshot chunks node `i` serves (the receiver must reject the snapshot).
  void CorruptServedChunks(uint32_t i, int count) { corrupt_[i] = count; }
  int rejected_snapshots() const { return rejected_; }
  int installed_snapshots() const { return installed_; }
  uint64_t max_chunk_seen() const { return max_chunk_; }
  Now NowOf() const { return Now{now_us_, 1'800'000'000'000'000 + wall_skew_us_ + now_us_}; }
  // Node `i`'s clocks: the shared ones, its wall clock moved by set_wall_offset(i, ...).
  Now NowOf(uint32_t i) const {
    Now n = NowOf();
    auto it = wall_offsets_.find(i);
    if (it != wall_offsets_.end()) n.wall_us += it->second;
    return n;
  }
  void set_wall_offset(uint32_t i, int64_t us) { wall_offsets_[i] = us; }
  Replica& r(uint32_t i) { return *replicas_[i]; }
  DurableState& disk(uint32_t i) { return disks_[i]; }
  const std::vector<std::string>& applied(uint32_t i) const { return applied_[i]; }
  void Cut(uint32_t a, uint32_t b) { cut_.insert({a, b}), cut_.insert({b, a}); }
  void Isolate(uint32_t a) {
    for (NodeId m : members_) Cut(a, m.value);
  }
  void HealAll() { cut_.clear(); }
  void set_wall_skew(int64_t us) { wall_skew_us_ = us; }

  void Pump(uint32_t i) {
    Ready ready = replicas_[i]->TakeReady();
    for (const FastEvent& f : ready.fast_events) ++fast_events_[static_cast<int>(f.kind)];
    for (const PersistOp& op : ready.persist) disks_[i].Apply(op);  // 1. persist
    for (Outgoing& m : ready.messages) {                            // 2. send
      if (!cut_.contains({i, m.to.value})) wire_.push_back(std::move(m));
    }
    for (const Committed& c : ready.committed) {  // 3. apply
      ASSERT_EQ(c.slot.value, applied_[i].size() + 1);
      std::string value = c.entry->noop() ? "noop" : "";
      for (const auto& cmd : c.entry->commands()) value += (value.empty() ? "" : "+") + cmd.data();
      applied_[i].push_back(value);
    }
    if (SnapshotIo(i, ready)) Pump(i);
  }
  // Delivers messages until the network is quiet.
  void Settle() {
    for (int steps = 0; !wire_.empty(); ++steps) {
      ASSERT_LT(steps, 1'000'000) << "the cluster never went quiet";
      Outgoing m = std::move(wire_.front());
      wire_.pop_front();
      if (!replicas_[m.to.value]) continue;  // crashed
      replicas_[m.to.value]->Step(*m.envelope, NowOf(m.to.value));
      Pump(m.to.value);
    }
  }
  // Moves time forward and ticks every live replica once, leaving what they send on the wire.
  void TickWithoutDelivery(int64_t us) {
    now_us_ += us;
    for (size_t i = 1; i < replicas_.size(); ++i) {
      if (!replicas_[i]) continue;
      replicas_[i]->Tick(NowOf(static_cast<uint32_t>(i)));
      Pump(static_cast<uint32_t>(i));
    }
  }
  // Moves time forward in steps, ticking every live replica and delivering everything.
  void Advance(int64_t us, int64_t step_us = 10'000) {
    for (int64_t done = 0; done < us; done += step_us) {
      now_us_ += step_us;
      for (size_t i = 1; i < replicas_.size(); ++i) {
        if (!replicas_[i]) continue;
        replicas_[i]->Tick(NowOf(static_cast<uint32_t>(i)));
        Pump(static_cast<uint32_t>(i));
      }
      Settle();
    }
  }
  uint32_t Leader() const {
    uint32_t leader = 0;
    for (size_t i = 1; i < replicas_.size(); ++i) {
      if (replicas_[i] && replicas_[i]->role() == Role::kLeader) {
        EXPECT_EQ(leader, 0u) << "two leaders";
        leader = static_cast<uint32_t>(i);
      }
    }
    return leader;
  }
  // Fast Paxos events seen so far, of one kind.
  int fast_events(FastEvent::Kind kind) const { return fast_events_.at(static_cast<int>(kind)); }
  // Proposes without delivering anything: several proposals can then race.
  Status ProposeQuiet(uint32_t i, const std::string& data) {
    pb::Command c;
    c.set_id(++command_id_);
    c.set_data(data);
    Status s = replicas_[i]->Propose(c, NowOf());
    Pump(i);
    return s;
  }
  // Moves the messages from `from` to the nodes in `to` to the head of the wire (stable).
  void Prioritize(uint32_t from, const std::set<uint32_t>& to) {
    std::stable_partition(wire_.begin(), wire_.end(), [&](const Outgoing& m) {
      return m.envelope->from() == from && to.contains(m.to.value);
    });
  }
  // Delivers only the messages on the wire now (one message delay); returns how many.
  size_t DeliverOneDelay() {
    std::deque<Outgoing> now = std::move(wire_);
    wire_.clear();
    for (Outgoing& m : now) {
      if (!replicas_[m.to.value]) continue;
      replicas_[m.to.value]->Step(*m.envelope, NowOf(m.to.value));
      Pump(m.to.value);
    }
    return now.size();
  }
  Status Propose(uint32_t i, const std::string& data) {
    Status s = ProposeQuiet(i, data);
    Settle();
    return s;
  }

  // "SNAP" then the applied values, each ended by '\n'.
  static std::string EncodeState(const std::vector<std::string>& values) {
    std::string out = "SNAP";
    for (const auto& v : values) out += v + "\n";
    return out;
  }
  static std::vector<std::string> DecodeState(const std::string& bytes) {
    std::vector<std::string> out;
    size_t at = 4;
    for (size_t nl; (nl = bytes.find('\n', at)) != std::string::npos; at = nl + 1) {
      out.push_back(bytes.substr(at, nl - at));
    }
    return out;
  }

 private:
  // Serves snapshot reads and stages received chunks; true when the replica was called.
  bool SnapshotIo(uint32_t i, Ready& ready) {
    bool called = false;
    for (const SnapshotRead& read : ready.snapshot_reads) {
      pb::SnapshotChunk chunk;
      const std::string& bytes = snapshots_[i];
      if (disks_[i].snapshot_slot.value > 0) {
        uint64_t offset = read.offset;
        if (read.slot.value != 0 && read.slot != disks_[i].snapshot_slot) offset = 0;
        const uint64_t len = std::min<uint64_t>(kChunk, bytes.size() - offset);
        chunk.set_slot(disks_[i].snapshot_slot.value);
        chunk.set_offset(offset);
        chunk.set_data(bytes.substr(offset, len));
        chunk.set_total_bytes(bytes.size());
        chunk.set_last(offset + len == bytes.size());
        if (corrupt_[i] > 0) {
          --corrupt_[i];
          chunk.mutable_data()->assign(len, 'X');
        }
      }
      replicas_[i]->ServeSnapshotChunk(read.to, std::move(chunk));
      called = true;
    }
    for (const pb::SnapshotChunk& chunk : ready.snapshot_chunks) {
      max_chunk_ = std::max<uint64_t>(max_chunk_, chunk.data().size());
      if (chunk.offset() == 0) staging_[i].clear();
      EXPECT_EQ(chunk.offset(), staging_[i].size());
      staging_[i] += chunk.data();
      if (!chunk.last()) continue;
      called = true;
      const std::string bytes = std::move(staging_[i]);
      staging_[i].clear();
      std::vector<std::string> state = DecodeState(bytes);
      if (bytes.rfind("SNAP", 0) != 0 || state.size() != chunk.slot()) {
        ++rejected_;
        replicas_[i]->AbortSnapshotFetch();
        continue;
      }
      if (!replicas_[i]->InstallSnapshot(Slot(chunk.slot()), 0, NowOf()).ok()) continue;
      snapshots_[i] = bytes;
      disks_[i].snapshot_slot = Slot(chunk.slot());
      applied_[i] = std::move(state);
      ++installed_;
    }
    return called;
  }

  static constexpr uint64_t kChunk = 64;  // tiny chunks: every transfer takes many

  std::vector<NodeId> members_;
  Bugs bugs_;
  Mode mode_ = Mode::kMulti;
  std::map<int, int> fast_events_ = {{0, 0}, {1, 0}, {2, 0}, {3, 0}};
  std::vector<std::unique_ptr<Replica>> replicas_;
  std::vector<DurableState> disks_;
  std::vector<std::string> snapshots_ = std::vector<std::string>(kNodesMax + 1);
  std::vector<std::string> staging_ = std::vector<std::string>(kNodesMax + 1);
  std::vector<int> corrupt_ = std::vector<int>(kNodesMax + 1, 0);
  int rejected_ = 0;
  int installed_ = 0;
  uint64_t max_chunk_ = 0;
  std::vector<std::vector<std::string>> applied_;
  std::deque<Outgoing> wire_;
  std::set<std::pair<uint32_t, uint32_t>> cut_;
  int64_t now_us_ = 1'000'000;
  int64_t wall_skew_us_ = 0;
  std::map<uint32_t, int64_t> wall_offsets_;
  uint64_t command_id_ = 0;
};

}  // namespace paxcron::paxos::test
