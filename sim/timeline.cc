#include "sim/timeline.h"

#include <algorithm>

#include "common/assert.h"

namespace paxcron::sim {
namespace {

constexpr size_t kClassMessage = 0;
constexpr size_t kClassHeartbeat = 1;
constexpr size_t kClassFrequent = 2;
constexpr size_t kClasses = 3;

size_t IndexOf(const std::vector<std::string>& names, std::string_view name, size_t otherwise) {
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return i;
  }
  return otherwise;
}

bool IsHeartbeat(uint8_t type) {
  return MessageTypes()[type] == "heartbeat" || MessageTypes()[type] == "heartbeat_reply";
}

}  // namespace

const std::vector<std::string>& MessageTypes() {
  static const std::vector<std::string> types = {
      "prepare",        "promise",   "accept",          "accepted",
      "nack",           "heartbeat", "heartbeat_reply", "catchup_request",
      "catchup_reply",  "forward",   "timeout_now",     "snapshot_request",
      "snapshot_chunk", "any",       "fast_propose",    "fast_accepted",
      "fast_query",     "other"};
  return types;
}

const std::vector<std::string>& DropReasons() {
  static const std::vector<std::string> reasons = {"", "partition", "loss", "down"};
  return reasons;
}

const std::vector<std::string>& DensityKinds() {
  static const std::vector<std::string> kinds = [] {
    std::vector<std::string> k = MessageTypes();
    k.insert(k.end(), {"chosen", "propose", "drop"});
    return k;
  }();
  return kinds;
}

Timeline::Timeline(uint32_t nodes, int64_t span_us, TimelineLimits limits)
    : nodes_(nodes), limits_(limits) {
  PAXCRON_ASSERT(nodes > 0 && span_us > 0);
  PAXCRON_ASSERT(limits.sample_buckets > 0 && limits.density_buckets > 0);
  PAXCRON_ASSERT(2 * uint64_t{limits.recent_max} <= limits.events_max);
  sample_bucket_us_ = std::max<int64_t>(1, span_us / limits.sample_buckets);
  density_bucket_us_ = std::max<int64_t>(1, span_us / limits.density_buckets);
  sampled_.assign(size_t{limits.sample_buckets} * kClasses, 0);
  density_.assign(size_t{limits.density_buckets} * (nodes + 1) * DensityKinds().size(), 0);
}

void Timeline::OnLine(std::string_view text) {
  std::optional<TraceLine> parsed = ParseTraceLine(text);
  PAXCRON_ASSERT(parsed.has_value());  // the trace writes only lines it can read back
  TraceLine& l = *parsed;
  const uint64_t seq = lines_++;
  end_us_ = std::max(end_us_, l.t_us);
  if (l.ev == "send") return OnSend(l);
  if (l.ev == "deliver" || l.ev == "drop") return OnMessageEnd(l);
  // Frequent events are sampled like messages. A fast round opens, and a slot is recovered, about
  // as often as slots are chosen in fast mode; collisions and fallbacks are rare and always kept.
  if (l.ev == "chosen" || l.ev == "propose" || l.ev == "fast_round" || l.ev == "recovery") {
    if (l.ev == "chosen" || l.ev == "propose")
      Count(l.t_us, l.node, IndexOf(DensityKinds(), l.ev, 0));
    recent_events_.push_back(TimelineEvent{seq, std::move(l), std::string(text)});
    if (recent_events_.size() <= limits_.recent_max) return;
    TimelineEvent old = std::move(recent_events_.front());
    recent_events_.pop_front();
    if (Sample(old.line.t_us, kClassFrequent)) KeepEvent(std::move(old));
    return;
  }
  if (l.ev == "crash") ++crashes_;
  if (l.ev == "violation") {
    events_.push_back(TimelineEvent{seq, std::move(l), std::string(text)});  // always kept
    return;
  }
  KeepEvent(TimelineEvent{seq, std::move(l), std::string(text)});
}

void Timeline::OnSend(const TraceLine& l) {
  ++messages_total_;
  TimelineMessage m;
  m.id = static_cast<uint64_t>(l.Int("id"));
  m.send_us = l.t_us;
  m.from = l.node;
  m.to = static_cast<uint32_t>(l.Int("to"));
  m.type = static_cast<uint8_t>(IndexOf(MessageTypes(), l.Str("type"), MessageTypes().size() - 1));
  PAXCRON_ASSERT(recent_messages_.empty() || recent_messages_.back().id < m.id);
  Count(l.t_us, l.node, m.type);
  recent_messages_.push_back(m);
  if (recent_messages_.size() <= limits_.recent_max) return;
  const TimelineMessage old = recent_messages_.front();
  recent_messages_.pop_front();
  if (!Sample(old.send_us, IsHeartbeat(old.type) ? kClassHeartbeat : kClassMessage)) return;
  if (!HasRoom()) {
    ++cut_by_cap_;
    return;
  }
  messages_.push_back(old);
}

void Timeline::OnMessageEnd(const TraceLine& l) {
  if (l.ev == "drop") Count(l.t_us, l.node, DensityKinds().size() - 1);
  TimelineMessage* m = FindMessage(static_cast<uint64_t>(l.Int("id")));
  if (m == nullptr) return;  // down-sampled, or a node's message to itself
  if (l.ev == "deliver") {
    if (m->deliver_us < 0) m->deliver_us = l.t_us;
    if (m->deliveries < 255) ++m->deliveries;
  } else if (m->deliver_us < 0) {
    m->drop = static_cast<uint8_t>(IndexOf(DropReasons(), l.Str("reason"), 0));
  }
}

TimelineMessage* Timeline::FindMessage(uint64_t id) {
  auto by_id = [](const TimelineMessage& m, uint64_t v) { return m.id < v; };
  auto r = std::lower_bound(recent_messages_.begin(), recent_messages_.end(), id, by_id);
  if (r != recent_messages_.end() && r->id == id) return &*r;
  auto k = std::lower_bound(messages_.begin(), messages_.end(), id, by_id);
  if (k != messages_.end() && k->id == id) return &*k;
  return nullptr;
}

void Timeline::Count(int64_t t_us, uint32_t node, size_t kind) {
  const size_t bucket = static_cast<size_t>(
      std::clamp<int64_t>(t_us / density_bucket_us_, 0, limits_.density_buckets - 1));
  if (node > nodes_) node = 0;
  ++density_[(bucket * (nodes_ + 1) + node) * DensityKinds().size() + kind];
}

bool Timeline::Sample(int64_t t_us, size_t cls) {
  const size_t bucket = static_cast<size_t>(
      std::clamp<int64_t>(t_us / sample_bucket_us_, 0, limits_.sample_buckets - 1));
  const uint32_t cap = cls == kClassMessage     ? limits_.messages_per_bucket
                       : cls == kClassHeartbeat ? limits_.heartbeats_per_bucket
                                                : limits_.frequent_per_bucket;
  uint32_t& taken = sampled_[bucket * kClasses + cls];
  if (taken >= cap) return false;
  ++taken;
  return true;
}

// Room is always held back for the recent messages and events (they are the moments before a
// violation), so that Finish() can keep them all.
bool Timeline::HasRoom() {
  return events_.size() + messages_.size() + 2 * size_t{limits_.recent_max} < limits_.events_max;
}

void Timeline::KeepEvent(TimelineEvent e) {
  if (!HasRoom()) {
    ++cut_by_cap_;
    return;
  }
  events_.push_back(std::move(e));
}

void Timeline::Finish() {
  // HasRoom() held room back for these.
  for (TimelineMessage& m : recent_messages_) messages_.push_back(m);
  for (TimelineEvent& e : recent_events_) events_.push_back(std::move(e));
  recent_messages_.clear();
  recent_events_.clear();
  std::stable_sort(events_.begin(), events_.end(),
                   [](const TimelineEvent& a, const TimelineEvent& b) { return a.seq < b.seq; });
  PAXCRON_ASSERT(std::is_sorted(
      messages_.begin(), messages_.end(),
      [](const TimelineMessage& a, const TimelineMessage& b) { return a.id < b.id; }));
  PAXCRON_ASSERT(events_.size() + messages_.size() <= limits_.events_max + 1);
}

}  // namespace paxcron::sim
