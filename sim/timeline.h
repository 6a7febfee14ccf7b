// The run as the timeline page draws it (sim/html_report.h), read from the trace's own lines
// (Trace::SetListener): messages paired with their delivery or loss, every rare event (roles,
// leases, crashes, partitions, cron launches, the violation) kept, and the frequent ones
// down-sampled so that a 10-minute run of 5 nodes stays small enough for a browser:
//   - the run is cut into `sample_buckets` equal windows of time; in each, the first
//     `messages_per_bucket` messages (`heartbeats_per_bucket` heartbeats and their replies) and
//     `frequent_per_bucket` chosen/propose (and fast_round/recovery) events are kept, the rest
//     only counted;
//   - every message and event of the run's last `recent_max` is kept, so that the moments before
//     a violation are complete;
//   - counts per node, kind and `density_buckets` window cover everything (the density bands);
//   - at most `events_max` events and messages are kept in all (room for the recent ones is held
//     back, and the violation is always kept); what the cap cut is counted.
// Deterministic: the same lines give the same timeline. Thread-compatible.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "sim/trace_line.h"

namespace paxcron::sim {

struct TimelineLimits {
  uint64_t events_max = 200'000;
  uint32_t sample_buckets = 6000;
  uint32_t messages_per_bucket = 8;
  uint32_t heartbeats_per_bucket = 2;
  uint32_t frequent_per_bucket = 3;
  uint32_t recent_max = 3000;
  uint32_t density_buckets = 600;
};

// A message from its send to its first delivery (or its loss).
struct TimelineMessage {
  uint64_t id = 0;
  int64_t send_us = 0;
  int64_t deliver_us = -1;  // -1: never delivered
  uint32_t from = 0;
  uint32_t to = 0;
  uint8_t type = 0;        // index into MessageTypes()
  uint8_t drop = 0;        // index into DropReasons(); 0: not dropped
  uint8_t deliveries = 0;  // 2 and more: duplicated
};

struct TimelineEvent {
  uint64_t seq = 0;  // the line's position in the trace
  TraceLine line;
  std::string json;  // the line itself
};

// The message types of sim/TRACE.md, in a fixed order; unknown types map to the last ("other").
const std::vector<std::string>& MessageTypes();
// "", then the drop reasons of sim/TRACE.md.
const std::vector<std::string>& DropReasons();
// The density kinds: the message types, then "chosen", "propose", "drop".
const std::vector<std::string>& DensityKinds();

class Timeline {
 public:
  // `span_us`: how long the run is expected to last (its sampling windows divide it).
  Timeline(uint32_t nodes, int64_t span_us, TimelineLimits limits = {});

  void OnLine(std::string_view line);
  // Moves the recent messages and events into the kept ones. REQUIRES: called once, at the end.
  void Finish();

  uint32_t nodes() const { return nodes_; }
  int64_t end_us() const { return end_us_; }
  const TimelineLimits& limits() const { return limits_; }
  // Kept, in trace order, and by id.
  const std::vector<TimelineEvent>& events() const { return events_; }
  const std::vector<TimelineMessage>& messages() const { return messages_; }
  uint64_t lines_total() const { return lines_; }
  uint64_t messages_total() const { return messages_total_; }
  uint64_t crashes() const { return crashes_; }
  uint64_t cut_by_cap() const { return cut_by_cap_; }
  int64_t density_bucket_us() const { return density_bucket_us_; }
  // count[(bucket * (nodes + 1) + node) * kinds + kind]; node 0 is the world.
  const std::vector<uint32_t>& density() const { return density_; }

 private:
  void OnSend(const TraceLine& l);
  void OnMessageEnd(const TraceLine& l);
  void Count(int64_t t_us, uint32_t node, size_t kind);
  TimelineMessage* FindMessage(uint64_t id);
  bool Sample(int64_t t_us, size_t cls);  // class 0 messages, 1 heartbeats, 2 frequent events
  bool HasRoom();
  void KeepEvent(TimelineEvent e);

  uint32_t nodes_;
  TimelineLimits limits_;
  int64_t sample_bucket_us_;
  int64_t density_bucket_us_;
  int64_t end_us_ = 0;
  uint64_t lines_ = 0;
  uint64_t messages_total_ = 0;
  uint64_t crashes_ = 0;
  uint64_t cut_by_cap_ = 0;
  std::vector<uint32_t> sampled_;  // per sample bucket and class
  std::vector<uint32_t> density_;
  std::deque<TimelineMessage> recent_messages_;  // by id (ids grow with sends)
  std::deque<TimelineEvent> recent_events_;
  std::vector<TimelineMessage> messages_;
  std::vector<TimelineEvent> events_;
};

}  // namespace paxcron::sim
