// How cron/ sees a time zone: as spans of time with one UTC offset each. Reading the IANA tz
// database is I/O, so it lives outside cron/ (tz/system_zones.h); cron/ only asks this pure
// interface. FixedOffsetZone, below, is the whole of UTC and serves tests.
//
// Implementations are immutable after construction, so their const methods are thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "common/status.h"

namespace paxcron::cron {

// Spans without a known end run to these bounds (about 35 million years away): far past any
// instant a schedule can reach, and far from overflowing when an offset is added.
constexpr int64_t kInstantMin = -(int64_t{1} << 50);
constexpr int64_t kInstantMax = int64_t{1} << 50;

// A maximal stretch of time with one UTC offset, as seen from an instant inside it. Local time
// in the span is UTC + offset_seconds.
struct ZoneSpan {
  int64_t begin_unix_seconds = kInstantMin;  // the first instant of the span
  int64_t end_unix_seconds = kInstantMax;    // the first instant after it
  int32_t offset_seconds = 0;
  // The offset in effect just before begin_unix_seconds: smaller for a spring-forward (the
  // local times in between never happen), larger for a fall-back (they happen twice). Equal to
  // offset_seconds when the span has no known beginning.
  int32_t offset_before_seconds = 0;

  friend bool operator==(const ZoneSpan&, const ZoneSpan&) = default;
};

class ZoneRules {
 public:
  virtual ~ZoneRules() = default;

  // The zone's name as the user wrote it, e.g. "Europe/Berlin" or "UTC".
  virtual const std::string& name() const = 0;

  // True for UTC itself: its times are printed with "Z".
  virtual bool is_utc() const = 0;

  // The span that contains `unix_seconds`.
  // REQUIRES: kInstantMin < unix_seconds < kInstantMax.
  // ENSURES (on success): begin_unix_seconds <= unix_seconds < end_unix_seconds.
  virtual Result<ZoneSpan> SpanAt(int64_t unix_seconds) const = 0;
};

// A zone whose offset never changes: UTC (offset 0), or a fixed offset for tests.
class FixedOffsetZone final : public ZoneRules {
 public:
  FixedOffsetZone(std::string name, int32_t offset_seconds)
      : name_(std::move(name)), offset_seconds_(offset_seconds) {
    PAXCRON_ASSERT(offset_seconds > -26 * 3600 && offset_seconds < 26 * 3600);
  }
  static const FixedOffsetZone& Utc() {
    static const FixedOffsetZone utc("UTC", 0);
    return utc;
  }

  const std::string& name() const override { return name_; }
  bool is_utc() const override { return offset_seconds_ == 0 && name_ == "UTC"; }
  Result<ZoneSpan> SpanAt(int64_t unix_seconds) const override {
    PAXCRON_ASSERT(unix_seconds > kInstantMin && unix_seconds < kInstantMax);
    return ZoneSpan{kInstantMin, kInstantMax, offset_seconds_, offset_seconds_};
  }

 private:
  std::string name_;
  int32_t offset_seconds_;
};

}  // namespace paxcron::cron
