#include "sim/html_report.h"

#include <fmt/format.h>

#include "common/assert.h"
#include "sim/report.h"
#include "sim/timeline_html.h"

namespace paxcron::sim {
namespace {

constexpr std::string_view kDataMarker = "__PAXCRON_TIMELINE_DATA__";

std::string JsonList(const std::vector<std::string>& names) {
  std::string out = "[";
  for (const std::string& n : names) out += (out.size() > 1 ? "," : "") + JsonString(n);
  return out + "]";
}

std::string MessagesJson(const Timeline& t) {
  std::string out = "[";
  for (const TimelineMessage& m : t.messages()) {
    fmt::format_to(std::back_inserter(out), "{}[{},{},{},{},{},{},{},{}]",
                   out.size() > 1 ? "," : "", m.id, m.from, m.to, m.type, m.send_us, m.deliver_us,
                   m.drop, m.deliveries);
  }
  return out + "]";
}

std::string EventsJson(const Timeline& t) {
  std::string out = "[";
  for (const TimelineEvent& e : t.events()) {
    if (out.size() > 1) out += ",\n";
    out += e.json;
  }
  return out + "]";
}

// Only the non-zero cells: [bucket, node, kind, count].
std::string DensityJson(const Timeline& t) {
  const size_t kinds = DensityKinds().size();
  const std::vector<uint32_t>& d = t.density();
  std::string out = "[";
  for (size_t i = 0; i < d.size(); ++i) {
    if (d[i] == 0) continue;
    const size_t bucket = i / kinds / (t.nodes() + 1);
    const size_t node = i / kinds % (t.nodes() + 1);
    fmt::format_to(std::back_inserter(out), "{}[{},{},{},{}]", out.size() > 1 ? "," : "", bucket,
                   node, i % kinds, d[i]);
  }
  return out + "]";
}

std::string ViolationJson(const RunResult& r, const Explanation* e) {
  if (r.ok || e == nullptr) return "null";
  std::string lines = "[", nodes = "[", marks = "[", msgs = "[";
  for (const std::string& l : e->lines) lines += (lines.size() > 1 ? "," : "") + JsonString(l);
  for (uint32_t n : e->nodes) nodes += fmt::format("{}{}", nodes.size() > 1 ? "," : "", n);
  for (const ExplainMark& m : e->marks) {
    marks += fmt::format("{}[{},{},{}]", marks.size() > 1 ? "," : "", m.t_us, m.node,
                         JsonString(m.label));
  }
  for (uint64_t id : e->message_ids) msgs += fmt::format("{}{}", msgs.size() > 1 ? "," : "", id);
  return fmt::format(
      "{{\"checker\":{},\"t\":{},\"detail\":{},\"invariant\":{},\"lines\":{}],\"nodes\":{}],"
      "\"marks\":{}],\"msgs\":{}],\"window\":[{},{}]}}",
      JsonString(r.violation.checker), r.violation.t_us, JsonString(r.violation.detail),
      JsonString(e->invariant), lines, nodes, marks, msgs, e->window_start_us, e->window_end_us);
}

}  // namespace

int64_t ExpectedSpanUs(const SimOptions& o) {
  return o.duration_us + (o.cron_jobs > 0 ? o.cron_settle_us : o.liveness_bound_us) + 1'000'000;
}

std::string TimelineJson(const Timeline& t, const SimOptions& o, const RunResult& r,
                         const Explanation* e) {
  const TimelineLimits& lim = t.limits();
  std::string json = fmt::format(
      "{{\"seed\":{},\"nodes\":{},\"end\":{},\"duration\":{},\"jobs\":{},\"command\":{},"
      "\"result\":{},\"ok\":{},\n\"types\":{},\"drops\":{},\"kinds\":{},\n"
      "\"counts\":{{\"lines\":{},\"messages\":{},\"messages_drawn\":{},\"events\":{},"
      "\"crashes\":{},\"cut\":{}}},\n"
      "\"limits\":{{\"events_max\":{},\"sample_bucket_us\":{},\"messages_per_bucket\":{},"
      "\"heartbeats_per_bucket\":{},\"frequent_per_bucket\":{},\"recent_max\":{}}},\n"
      "\"violation\":{},\n\"density\":{{\"bucket\":{},\"cells\":{}}},\n\"msgs\":{},\n"
      "\"events\":{}}}",
      r.seed, t.nodes(), t.end_us(), o.duration_us, o.cron_jobs,
      JsonString(ReplayCommand(o, r.seed)), JsonString(FormatResultLine(r)),
      r.ok ? "true" : "false", JsonList(MessageTypes()), JsonList(DropReasons()),
      JsonList(DensityKinds()), t.lines_total(), t.messages_total(), t.messages().size(),
      t.events().size(), t.crashes(), t.cut_by_cap(), lim.events_max,
      ExpectedSpanUs(o) / lim.sample_buckets, lim.messages_per_bucket, lim.heartbeats_per_bucket,
      lim.frequent_per_bucket, lim.recent_max, ViolationJson(r, e), t.density_bucket_us(),
      DensityJson(t), MessagesJson(t), EventsJson(t));
  // Inside <script>, "</script>" or "<!--" in a string would end or confuse the element: '<'
  // only ever stands inside JSON strings, where \u003c means the same.
  std::string safe;
  safe.reserve(json.size());
  for (char c : json) {
    if (c == '<') {
      safe += "\\u003c";
    } else {
      safe += c;
    }
  }
  return safe;
}

std::string RenderTimelineHtml(const Timeline& t, const SimOptions& o, const RunResult& r,
                               const Explanation* e) {
  const std::string_view tpl = kTimelineHtmlTemplate;
  const size_t at = tpl.find(kDataMarker);
  PAXCRON_ASSERT(at != std::string_view::npos);
  std::string html(tpl.substr(0, at));
  html += TimelineJson(t, o, r, e);
  html += tpl.substr(at + kDataMarker.size());
  return html;
}

std::string HtmlSummaryLine(const std::string& path, size_t bytes, const Timeline& t) {
  std::string line = fmt::format("html: {} ({} bytes, {} events, {} messages drawn of {})", path,
                                 bytes, t.events().size(), t.messages().size(), t.messages_total());
  if (t.cut_by_cap() > 0) {
    line += fmt::format("; the cap of {} embedded events cut {} more", t.limits().events_max,
                        t.cut_by_cap());
  }
  return line;
}

}  // namespace paxcron::sim
