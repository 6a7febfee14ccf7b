#include "sim/explain.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <string_view>

#include "common/assert.h"

namespace paxcron::sim {
namespace {

constexpr int64_t kMessageWindowUs = 2'000'000;  // messages listed: the last 2 s before
constexpr int64_t kViewBackMaxUs = 30'000'000;   // the page's view reaches back at most this far
constexpr size_t kListedMessagesMax = 8;
constexpr size_t kHighlightedMessagesMax = 400;
constexpr size_t kHighlightedPhase2Max = 60;
constexpr size_t kRunStoryMax = 12;

// Every number that follows `word` in `text`, in order ("node 3 ... node 4" -> 3, 4).
std::vector<int64_t> NumbersAfter(std::string_view text, std::string_view word) {
  std::vector<int64_t> out;
  for (size_t at = text.find(word); at != std::string_view::npos; at = text.find(word, at + 1)) {
    const char* begin = text.data() + at + word.size();
    int64_t v = 0;
    if (std::from_chars(begin, text.data() + text.size(), v).ec == std::errc()) out.push_back(v);
  }
  return out;
}

std::string Invariant(std::string_view checker) {
  static const std::map<std::string_view, const char*> rules = {
      {"agreement", "Agreement: every node that learns a slot learns the same value."},
      {"validity", "Validity: only commands a client proposed (or no-ops) are chosen."},
      {"lease",
       "Lease safety: at no instant of true time do two nodes both believe they hold the master "
       "lease, and each new lease carries a higher epoch (the fencing token)."},
      {"durability",
       "Durability: what a node applied before a crash is still there after it "
       "restarts."},
      {"replica-state", "Replica state: replicas that applied the same slots hold the same state."},
      {"liveness",
       "Liveness: once faults heal, a new proposal is applied by every node within "
       "the bound."},
      {"at-most-once", "At most once: no run name starts twice on the datacenter scheduler."},
      {"fencing", "Fencing: the scheduler only starts runs requested by the lease holder."},
      {"history", "History: the replicated run history matches what the scheduler started."},
      {"exactly-once", "Exactly once: every scheduled time of a must-run job starts once."},
      {"lateness", "Bounded lateness: runs start on time while the cluster is healthy."},
  };
  auto it = rules.find(checker);
  return it != rules.end() ? it->second : fmt::format("The {} checker's invariant.", checker);
}

// How it broke, for the checkers whose verdict names the instants; marks the instants.
void DescribeKnown(const Violation& v, Explanation& e) {
  const std::vector<int64_t> nodes = NumbersAfter(v.detail, "node ");
  const std::vector<int64_t> times = NumbersAfter(v.detail, "t=");
  const std::vector<int64_t> epochs = NumbersAfter(v.detail, "epoch ");
  const std::vector<int64_t> slots = NumbersAfter(v.detail, "slot ");
  auto node = [](int64_t n) { return static_cast<uint32_t>(n); };
  if (v.checker == "agreement" && nodes.size() == 2 && times.size() == 1 && slots.size() == 1) {
    e.lines.push_back(fmt::format(
        "Slot {} was learned with two different values: node {} learned one at {}, then node {} "
        "learned another at {}.",
        slots[0], nodes[1], Seconds(times[0]), nodes[0], Seconds(v.t_us)));
    e.lines.push_back(
        "A second value can be chosen only if a leader proposed for the slot without first "
        "learning what a majority had accepted (phase 1), or if two majorities did not overlap.");
    e.marks.push_back({times[0], node(nodes[1]), fmt::format("learns slot {}", slots[0])});
    e.marks.push_back(
        {v.t_us, node(nodes[0]), fmt::format("learns slot {}, another value", slots[0])});
  } else if (v.checker == "lease" && nodes.size() == 2 && times.size() == 3 && epochs.size() == 2) {
    e.lines.push_back(fmt::format(
        "Node {} started a lease (epoch {}) at {} while node {}'s lease (epoch {}, since {}) ran "
        "until {}: for {} both could act as the only leader.",
        nodes[0], epochs[0], Seconds(times[0]), nodes[1], epochs[1], Seconds(times[1]),
        Seconds(times[2]), Seconds(times[2] - times[0])));
    e.lines.push_back(
        "A new leader may start its lease only after every lease its promisers granted before "
        "has run out (the lease wait), with a margin for clock drift.");
    e.marks.push_back({times[1], node(nodes[1]), fmt::format("lease starts, epoch {}", epochs[1])});
    e.marks.push_back({times[0], node(nodes[0]), fmt::format("lease starts, epoch {}", epochs[0])});
    e.marks.push_back({times[2], node(nodes[1]), "its lease would end"});
  } else {
    e.lines.push_back(fmt::format("At {}: {}.", Seconds(v.t_us), v.detail));
    for (size_t i = 0; i < nodes.size(); ++i) {
      const int64_t t = i < times.size() ? times[i] : v.t_us;
      e.marks.push_back({t, node(nodes[i]), fmt::format("node {}", nodes[i])});
    }
  }
  if (e.marks.empty()) e.marks.push_back({v.t_us, 0, v.checker});
  for (int64_t n : nodes) e.nodes.push_back(node(n));
  std::sort(e.nodes.begin(), e.nodes.end());
  e.nodes.erase(std::unique(e.nodes.begin(), e.nodes.end()), e.nodes.end());
}

// Each involved node's role, lease and crashes up to the violation.
void DescribeNodes(const Violation& v, const Timeline& t, Explanation& e) {
  for (uint32_t n : e.nodes) {
    std::string role = "follower since the start", lease = "no lease", crash;
    for (const TimelineEvent& ev : t.events()) {
      const TraceLine& l = ev.line;
      if (l.node != n || l.t_us > v.t_us) continue;
      if (l.ev == "role") {
        role =
            fmt::format("{} since {} (ballot {})", l.Str("role"), Seconds(l.t_us), l.Int("ballot"));
      } else if (l.ev == "lease_start") {
        lease = fmt::format("lease epoch {} since {}", l.Int("epoch"), Seconds(l.t_us));
      } else if (l.ev == "lease_end") {
        lease = fmt::format("lease epoch {} ended at {} ({})", l.Int("epoch"), Seconds(l.t_us),
                            l.Str("reason"));
      } else if (l.ev == "crash") {
        crash = fmt::format("; crashed at {}", Seconds(l.t_us));
      } else if (l.ev == "restart") {
        crash += fmt::format(", restarted at {}", Seconds(l.t_us));
      }
    }
    e.lines.push_back(fmt::format("Node {}: {}; {}{}.", n, role, lease, crash));
  }
}

// The run's story, for cron verdicts that name a run: its begin, requests, starts and end.
void DescribeRun(const Violation& v, const Timeline& t, Explanation& e) {
  const size_t at = v.detail.find("run ");
  if (at == std::string::npos) return;
  const size_t end = v.detail.find(' ', at + 4);
  const std::string run = v.detail.substr(at + 4, end == std::string::npos ? end : end - at - 4);
  std::vector<std::string> story;
  for (const TimelineEvent& ev : t.events()) {
    const TraceLine& l = ev.line;
    if (l.t_us > v.t_us || l.Raw("run").empty() || l.Str("run") != run) continue;
    const uint32_t node = l.node != 0 ? l.node : static_cast<uint32_t>(l.Int("by"));
    std::string what = l.ev;
    for (const char* key : {"op", "epoch", "outcome", "reason"}) {
      if (!l.Raw(key).empty()) what += fmt::format(" {}={}", key, l.Str(key));
    }
    story.push_back(fmt::format("  {} {} by node {}", Seconds(l.t_us), what, node));
    e.marks.push_back({l.t_us, node, l.ev});
  }
  if (story.empty()) return;
  e.lines.push_back(fmt::format("What happened to run {}:", run));
  const size_t from = story.size() > kRunStoryMax ? story.size() - kRunStoryMax : 0;
  e.lines.insert(e.lines.end(), story.begin() + static_cast<std::ptrdiff_t>(from), story.end());
}

bool Involved(const Explanation& e, uint32_t node) {
  return std::binary_search(e.nodes.begin(), e.nodes.end(), node);
}

// The messages to or from the involved nodes in the last moments (heartbeats left out).
void DescribeMessages(const Violation& v, const Timeline& t, Explanation& e) {
  std::map<std::string, uint64_t> by_type;
  std::vector<const TimelineMessage*> election;
  std::vector<uint64_t> phase2;
  uint64_t total = 0, dropped = 0;
  for (const TimelineMessage& m : t.messages()) {
    const std::string& type = MessageTypes()[m.type];
    if (m.send_us < v.t_us - kMessageWindowUs || m.send_us > v.t_us) continue;
    if (type == "heartbeat" || type == "heartbeat_reply") continue;
    if (!Involved(e, m.from) && !Involved(e, m.to)) continue;
    ++total;
    ++by_type[type];
    if (m.drop != 0) ++dropped;
    // A fast slot's recovery has its own phase 1: the leader's fast_query and the acceptors'
    // fast_accepted reports (which serve as its phase-1b messages, Lamport 2006 section 3.2).
    if (type == "prepare" || type == "promise" || type == "nack" || type == "fast_query" ||
        type == "fast_accepted") {
      election.push_back(&m);
      if (e.message_ids.size() < kHighlightedMessagesMax) e.message_ids.push_back(m.id);
    } else if (type == "accept" || type == "accepted" || type == "any" || type == "fast_propose") {
      phase2.push_back(m.id);
    }
  }
  // Phase 2 traffic is highlighted only when it is sparse enough to tell anything apart.
  if (phase2.size() <= kHighlightedPhase2Max) {
    e.message_ids.insert(e.message_ids.end(), phase2.begin(), phase2.end());
    std::sort(e.message_ids.begin(), e.message_ids.end());
  }
  if (total == 0) return;
  std::string types;
  for (const auto& [type, n] : by_type)
    types += fmt::format("{}{} {}", types.empty() ? "" : ", ", n, type);
  e.lines.push_back(fmt::format(
      "Messages to or from these nodes in the {} s before (kept in the timeline, heartbeats left "
      "out): {} ({}), {} dropped.{}",
      kMessageWindowUs / 1'000'000, total, types, dropped,
      election.empty() ? "" : " The last phase-1 messages:"));
  const size_t from =
      election.size() > kListedMessagesMax ? election.size() - kListedMessagesMax : 0;
  for (size_t i = from; i < election.size(); ++i) {
    const TimelineMessage& m = *election[i];
    e.lines.push_back(fmt::format("  {} #{} node {} -> node {}: sent {}, {}",
                                  MessageTypes()[m.type], m.id, m.from, m.to, Seconds(m.send_us),
                                  m.deliver_us >= 0 ? "delivered " + Seconds(m.deliver_us)
                                  : m.drop != 0     ? "dropped (" + DropReasons()[m.drop] + ")"
                                                    : std::string("never delivered")));
  }
}

}  // namespace

std::string Seconds(int64_t us) {
  return fmt::format("{}{}.{:06d} s", us < 0 ? "-" : "", std::abs(us) / 1'000'000,
                     std::abs(us) % 1'000'000);
}

Explanation Explain(const Violation& v, const Timeline* timeline) {
  PAXCRON_ASSERT(!v.checker.empty());
  Explanation e;
  e.checker = v.checker;
  e.invariant = Invariant(v.checker);
  DescribeKnown(v, e);
  if (timeline != nullptr) {
    DescribeNodes(v, *timeline, e);
    DescribeRun(v, *timeline, e);
    DescribeMessages(v, *timeline, e);
  }
  int64_t earliest = v.t_us;
  for (const ExplainMark& m : e.marks) earliest = std::min(earliest, m.t_us);
  e.window_start_us = std::max<int64_t>(
      0,
      std::max(v.t_us - kViewBackMaxUs, std::min(earliest, v.t_us - kMessageWindowUs) - 500'000));
  e.window_end_us = v.t_us + 300'000;
  PAXCRON_ASSERT(e.window_start_us < e.window_end_us);
  return e;
}

std::string FormatExplanation(const Explanation& e) {
  std::string out = fmt::format("violated: {}\n", e.invariant);
  for (const std::string& line : e.lines) out += line + "\n";
  return out;
}

}  // namespace paxcron::sim
