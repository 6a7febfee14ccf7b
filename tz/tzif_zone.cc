#include "tz/tzif_zone.h"

#include <algorithm>

namespace paxcron::tz {

Result<cron::ZoneSpan> TzifZone::SpanAt(int64_t unix_seconds) const {
  PAXCRON_ASSERT(unix_seconds > cron::kInstantMin && unix_seconds < cron::kInstantMax);
  const std::vector<TzifTransition>& list = data_.transitions;
  const size_t n = list.size();
  // The first listed transition after t; the one before it (if any) began t's span.
  const size_t next = static_cast<size_t>(
      std::upper_bound(list.begin(), list.end(), unix_seconds,
                       [](int64_t t, const TzifTransition& tr) { return t < tr.at_unix_seconds; }) -
      list.begin());
  const int32_t offset_before_last =
      n >= 2 ? list[n - 2].offset_after_seconds : data_.initial_offset_seconds;
  if (next == n && data_.rule.has_value()) {
    // Past the listed data the footer's rule decides, but its span cannot begin before the
    // last listed transition.
    cron::ZoneSpan span = PosixSpanAt(*data_.rule, unix_seconds);
    if (n > 0 && span.begin_unix_seconds <= list.back().at_unix_seconds) {
      span.begin_unix_seconds = list.back().at_unix_seconds;
      span.offset_before_seconds = offset_before_last;
    }
    return span;
  }
  cron::ZoneSpan span;
  if (next == 0) {
    span.offset_seconds = span.offset_before_seconds = data_.initial_offset_seconds;
  } else {
    span.begin_unix_seconds = list[next - 1].at_unix_seconds;
    span.offset_seconds = list[next - 1].offset_after_seconds;
    span.offset_before_seconds =
        next >= 2 ? list[next - 2].offset_after_seconds : data_.initial_offset_seconds;
  }
  if (next < n) span.end_unix_seconds = list[next].at_unix_seconds;
  return span;
}

}  // namespace paxcron::tz
