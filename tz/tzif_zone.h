// A time zone of the IANA tz database, answered from its parsed TZif data: the listed
// transitions, then the footer's POSIX rule for the years after them. Immutable once built, so
// thread-safe.
#pragma once

#include <string>

#include "cron/zone_rules.h"
#include "tz/tzif.h"

namespace paxcron::tz {

class TzifZone final : public cron::ZoneRules {
 public:
  TzifZone(std::string name, TzifData data) : name_(std::move(name)), data_(std::move(data)) {}

  const std::string& name() const override { return name_; }
  bool is_utc() const override { return false; }
  Result<cron::ZoneSpan> SpanAt(int64_t unix_seconds) const override;

 private:
  std::string name_;
  TzifData data_;
};

}  // namespace paxcron::tz
