#include "node/status_page.h"

#include <fmt/format.h>

#include "cron/civil_time.h"
#include "cron/history.h"

namespace paxcron::node {
namespace {

// A label value: quotes, backslashes and newlines escaped (Prometheus text format).
std::string Label(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c == '\n' ? 'n' : c;
  }
  return out;
}

void Counter(std::string& out, const char* name, const char* help, uint64_t value) {
  out += fmt::format("# HELP {0} {1}\n# TYPE {0} counter\n{0} {2}\n", name, help, value);
}

void Gauge(std::string& out, const char* name, const char* help, uint64_t value) {
  out += fmt::format("# HELP {0} {1}\n# TYPE {0} gauge\n{0} {2}\n", name, help, value);
}

std::string Time(int64_t unix_s) {
  if (unix_s <= 0 || unix_s == INT64_MAX) return "-";
  return cron::FormatRfc3339(unix_s, 0, true);
}

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string RenderMetrics(const MetricsInput& in) {
  const NodeCounters& m = in.counters;
  std::string out;
  Gauge(out, "paxcron_is_leader", "1 if this node leads the cluster now", in.leader ? 1 : 0);
  Gauge(out, "paxcron_applied_slot", "the last log slot applied here", in.applied_slot);
  Gauge(out, "paxcron_snapshot_slot", "the slot of the newest snapshot on disk", in.snapshot_slot);
  Gauge(out, "paxcron_lease_epoch", "the lease epoch this node last saw", in.lease_epoch);
  Gauge(out, "paxcron_jobs", "jobs in the replicated table", in.jobs);
  Counter(out, "paxcron_commits_total", "log slots applied", m.commits);
  Counter(out, "paxcron_elections_won_total", "times this node became leader", m.elections_won);
  Counter(out, "paxcron_lease_changes_total", "master leases this node started holding",
          m.lease_starts);
  Counter(out, "paxcron_launches_total", "launcher calls made by this node", m.launches);
  Counter(out, "paxcron_launches_skipped_no_lease_total",
          "launches not made because the lease had lapsed at the last check", m.launches_refused);
  Counter(out, "paxcron_clock_guard_trips_total",
          "times this leader found its wall clock off the majority's and stood aside",
          m.clock_guard_trips);
  Gauge(out, "paxcron_clock_guard_holding",
        "1 while the clock guard keeps this leader from launching (off, or too few readings)",
        in.clock_guard_holding ? 1 : 0);
  out += fmt::format(
      "# HELP paxcron_mode the consensus protocol this node runs (config `mode`)\n"
      "# TYPE paxcron_mode gauge\npaxcron_mode{{mode=\"{}\"}} 1\n",
      Label(in.mode));
  Counter(out, "paxcron_fast_rounds_total",
          "fast mode, leader: slots learned chosen in a fast round (its own vote in that round)",
          m.fast_rounds);
  Counter(out, "paxcron_fast_collisions_total",
          "fast mode, leader: fast slots where no value could reach a fast quorum",
          m.fast_collisions);
  Counter(out, "paxcron_fast_recoveries_total",
          "fast mode, leader: fast slots decided by a recovery round (collided or timed out)",
          m.fast_recoveries);
  Counter(out, "paxcron_fast_fallbacks_total",
          "fast mode, leader: switches to classic rounds after frequent collisions",
          m.fast_fallbacks);
  Counter(out, "paxcron_fast_client_writes_total",
          "fast mode: client writes taken as a follower (proposed fast, or forwarded by the core)",
          m.fast_client_writes);
  Counter(out, "paxcron_mode_mismatch_frames_total",
          "consensus frames dropped because their sender runs another mode",
          m.mode_mismatch_frames);
  Counter(out, "paxcron_lookups_total", "launches looked up by run name", m.lookups);
  Counter(out, "paxcron_slurm_duplicate_runs_total",
          "run names Slurm listed more than once (never expected)", m.slurm_duplicates);
  Counter(out, "paxcron_runs_finished_total", "process exits recorded in the history",
          m.runs_finished);
  Counter(out, "paxcron_snapshots_total", "snapshots written", m.snapshots);
  Counter(out, "paxcron_snapshot_installs_total", "snapshots received from a peer",
          m.snapshot_installs);
  Counter(out, "paxcron_chosen_writes_lazy_total",
          "batches of chosen marks written without their own fsync (the next one carries them)",
          m.chosen_writes_lazy);
  Counter(out, "paxcron_client_requests_total", "requests from clients", m.client_requests);
  out +=
      "# HELP paxcron_skips_total scheduled runs skipped, by reason\n"
      "# TYPE paxcron_skips_total counter\n";
  for (const auto& [reason, n] : m.skips_by_reason) {
    out += fmt::format("paxcron_skips_total{{reason=\"{}\"}} {}\n", Label(reason), n);
  }
  out +=
      "# HELP paxcron_messages_sent_total consensus messages sent to peers, by type\n"
      "# TYPE paxcron_messages_sent_total counter\n";
  for (const auto& [type, n] : m.messages_sent_by_type) {
    out += fmt::format("paxcron_messages_sent_total{{type=\"{}\"}} {}\n", Label(type), n);
  }
  out +=
      "# HELP paxcron_fsync_seconds latency of each durable write (fdatasync) of the log\n"
      "# TYPE paxcron_fsync_seconds histogram\n";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kFsyncBuckets; ++i) {
    cumulative += m.fsync_buckets[i];
    out += fmt::format("paxcron_fsync_seconds_bucket{{le=\"{}\"}} {}\n",
                       static_cast<double>(kFsyncBucketsUs[i]) / 1e6, cumulative);
  }
  cumulative += m.fsync_buckets[kFsyncBuckets];
  out += fmt::format("paxcron_fsync_seconds_bucket{{le=\"+Inf\"}} {}\n", cumulative);
  out += fmt::format("paxcron_fsync_seconds_sum {}\npaxcron_fsync_seconds_count {}\n",
                     static_cast<double>(m.fsync_us_total) / 1e6, m.fsyncs);
  const transport::TransportStats& t = in.transport;
  out +=
      "# HELP paxcron_connections_rejected_total connections closed for bad input, by reason\n"
      "# TYPE paxcron_connections_rejected_total counter\n";
  for (const auto& [reason, n] : {std::pair<const char*, uint64_t>{"auth", t.auth_failures},
                                  {"handshake_timeout", t.handshake_timeouts},
                                  {"malformed", t.malformed_frames + m.bad_peer_frames},
                                  {"oversized", t.oversized_frames},
                                  {"send_queue_overflow", t.send_queue_overflows}}) {
    out += fmt::format("paxcron_connections_rejected_total{{reason=\"{}\"}} {}\n", reason, n);
  }
  Counter(out, "paxcron_frames_sent_total", "frames written to peers and clients", t.frames_sent);
  Counter(out, "paxcron_frames_received_total", "frames read from peers and clients",
          t.frames_received);
  return out;
}

std::string RenderStatusPage(const pb::ClusterStatus& s,
                             const std::vector<cron::pb::JobState>& jobs,
                             const std::vector<pb::RunRow>& runs) {
  std::string out = fmt::format(
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta http-equiv=\"refresh\" content=\"2\">"
      "<title>paxcron node {0}</title>\n<style>"
      "body{{font-family:sans-serif;margin:1.5em;color:#222}}"
      "table{{border-collapse:collapse;margin-bottom:1.5em}}"
      "td,th{{border-bottom:1px solid #ddd;padding:.25em .8em;text-align:left}}"
      "th{{background:#f4f4f4}} .bad{{color:#b00}} .good{{color:#070}} code{{font-size:90%}}"
      "</style></head><body>\n<h1>paxcron node {0}</h1>\n",
      s.node());
  out += fmt::format(
      "<p id=\"summary\">This node is <b id=\"role\">{}</b>. Leader: <b id=\"leader\">{}</b>, "
      "lease epoch {}{}. Applied slot {}, snapshot slot {}. Consensus: <b id=\"mode\">{}</b>."
      "</p>\n",
      HtmlEscape(s.role()), s.leader() == 0 ? "unknown" : fmt::format("node {}", s.leader()),
      s.lease_epoch(),
      s.lease_remaining_ms() > 0 ? fmt::format(" ({} ms left)", s.lease_remaining_ms()) : "",
      s.applied_slot(), s.snapshot_slot(), HtmlEscape(s.mode()));
  out +=
      "<h2>Members</h2>\n<table id=\"members\"><tr><th>node</th><th>address</th><th>seen from "
      "here</th></tr>\n";
  for (const pb::MemberStatus& m : s.members()) {
    out += fmt::format("<tr><td>{}{}</td><td>{}</td><td class=\"{}\">{}</td></tr>\n", m.id(),
                       m.id() == s.leader() ? " (leader)" : "", HtmlEscape(m.address()),
                       m.connected() ? "good" : "bad", m.connected() ? "connected" : "unreachable");
  }
  out += "</table>\n<h2>Jobs</h2>\n";
  if (jobs.empty() && s.role() != "leader") {
    out += "<p>Jobs and runs are shown by the leader's page.</p>\n";
  }
  out +=
      "<table id=\"jobs\"><tr><th>job</th><th>schedule</th><th>next run</th><th>last "
      "success</th><th>started</th><th>command</th></tr>\n";
  for (const cron::pb::JobState& j : jobs) {
    out += fmt::format(
        "<tr><td>{}</td><td><code>{}</code>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}"
        "</code></td></tr>\n",
        HtmlEscape(j.spec().name()), HtmlEscape(j.spec().schedule()),
        j.spec().time_zone().empty() ? "" : " " + HtmlEscape(j.spec().time_zone()),
        j.paused() ? "paused" : Time(j.next_fire_s()), Time(j.last_success_s()), j.runs_started(),
        HtmlEscape(j.spec().command()));
  }
  out += "</table>\n";
  if (s.jobs() > jobs.size() && !jobs.empty()) {
    out += fmt::format(
        "<p>The first {} of {} jobs; <code>paxcron jobs ls</code> lists them all.</p>\n",
        jobs.size(), s.jobs());
  }
  out +=
      "<h2>Recent runs</h2>\n<table id=\"runs\"><tr><th>scheduled</th><th>run</th>"
      "<th>outcome</th><th>node</th><th>exit</th><th>duration</th></tr>\n";
  for (const pb::RunRow& row : runs) {
    const cron::pb::RunRecord& r = row.record();
    const cron::pb::RunExit& e = r.exit();
    const bool bad = r.state() == cron::pb::RUN_FAILED || r.state() == cron::pb::RUN_SKIPPED ||
                     (e.reported() && (e.exit_code() != 0 || e.signal() != 0));
    out += fmt::format(
        "<tr><td>{}</td><td>{}</td><td class=\"{}\">{}{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "</tr>\n",
        Time(r.scheduled_s()), HtmlEscape(r.run_name()), bad ? "bad" : "good",
        cron::RunStateName(r.state()),
        r.reason().empty() ? "" : " (" + HtmlEscape(r.reason()) + ")",
        r.epoch() == 0 ? "-" : fmt::format("{}", r.epoch() % 256),
        !e.reported()     ? "-"
        : e.timed_out()   ? "timeout"
        : e.signal() != 0 ? fmt::format("signal {}", e.signal())
                          : fmt::format("{}", e.exit_code()),
        e.reported() ? fmt::format("{:.1f} s", e.duration_ms() / 1000.0) : "-");
  }
  out += "</table>\n<p><a href=\"/metrics\">metrics</a></p>\n</body></html>\n";
  return out;
}

}  // namespace paxcron::node
