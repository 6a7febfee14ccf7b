#include "node/config.h"

#include <fmt/format.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

namespace paxcron::node {
namespace {

class ErrorCollector final : public google::protobuf::io::ErrorCollector {
 public:
  explicit ErrorCollector(std::string_view file) : file_(file) {}
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (first_.empty()) first_ = fmt::format("{}:{}:{}: {}", file_, line + 1, column + 1, message);
  }
  void AddWarning(int, google::protobuf::io::ColumnNumber, const std::string&) override {}
  const std::string& first() const { return first_; }

 private:
  std::string file_;
  std::string first_;
};

std::string Resolve(const std::string& base_dir, const std::string& path) {
  if (path.empty() || path.front() == '/' || base_dir.empty()) return path;
  return base_dir + "/" + path;
}

}  // namespace

Result<std::string> ReadWholeFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error(fmt::format("{} {}: cannot be read", what, path));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Result<HostPort> ParseHostPort(std::string_view text, bool allow_zero) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    return Status::Error(fmt::format("'{}' is not host:port", text));
  }
  HostPort out;
  out.host = std::string(text.substr(0, colon));
  if (out.host.size() > 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);  // [::1]:7000
  }
  const std::string_view port = text.substr(colon + 1);
  uint32_t value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value > 65535 ||
      (value == 0 && !allow_zero)) {
    return Status::Error(fmt::format("'{}': port '{}' is not a number in 1-65535", text, port));
  }
  out.port = static_cast<uint16_t>(value);
  return out;
}

Result<paxos::Mode> ParseMode(std::string_view text) {
  if (text == "multi") return paxos::Mode::kMulti;
  if (text == "fast") return paxos::Mode::kFast;
  return Status::Error(fmt::format("'{}' is not multi or fast", text));
}

const char* ModeName(paxos::Mode mode) { return mode == paxos::Mode::kFast ? "fast" : "multi"; }

Result<pb::NodeConfig> ParseNodeConfig(std::string_view text, std::string_view file) {
  pb::NodeConfig config;
  google::protobuf::TextFormat::Parser parser;
  ErrorCollector errors(file);
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(std::string(text), &config)) {
    return Status::Error(errors.first().empty() ? fmt::format("{}: cannot be parsed", file)
                                                : errors.first());
  }
  return config;
}

Result<NodeSettings> MakeSettings(pb::NodeConfig c, std::string_view file,
                                  std::string_view secret) {
  auto bad = [&](std::string_view what) {
    return Status::Error(fmt::format("{}: {}", file, what));
  };
  NodeSettings s;
  if (c.heartbeat_ms() == 0) c.set_heartbeat_ms(50);
  if (c.election_timeout_min_ms() == 0) c.set_election_timeout_min_ms(300);
  if (c.election_timeout_max_ms() == 0) c.set_election_timeout_max_ms(600);
  if (c.lease_ms() == 0) c.set_lease_ms(1000);
  if (c.drift_bound_ppm() == 0) c.set_drift_bound_ppm(10'000);
  if (c.clock_tolerance_ms() == 0) c.set_clock_tolerance_ms(1000);
  if (c.mode().empty()) c.set_mode("multi");
  if (c.snapshot_every_slots() == 0) c.set_snapshot_every_slots(1000);
  if (c.snapshot_keep_slots() == 0) c.set_snapshot_keep_slots(250);
  if (!c.has_snapshot_min_log_percent()) c.set_snapshot_min_log_percent(100);
  if (c.segment_bytes() == 0) c.set_segment_bytes(8 * 1024 * 1024);
  if (c.output_tail_bytes() == 0) c.set_output_tail_bytes(4096);
  if (c.lookup_timeout_ms() == 0) c.set_lookup_timeout_ms(2000);
  if (c.slurm_timeout_ms() == 0) c.set_slurm_timeout_ms(5000);
  if (c.slurm_settle_ms() == 0) c.set_slurm_settle_ms(2000);
  if (c.slurm_poll_ms() == 0) c.set_slurm_poll_ms(2000);
  if (c.slurm_timeout_ms() > 600'000) {
    return bad(fmt::format("slurm_timeout_ms: {} is over 600000", c.slurm_timeout_ms()));
  }
  if (c.fault_launch_delay_ms() > 10'000) {
    return bad(fmt::format("fault_launch_delay_ms: {} is over 10000", c.fault_launch_delay_ms()));
  }
  if (c.fault_wall_offset_ms() > 86'400'000 || c.fault_wall_offset_ms() < -86'400'000) {
    return bad(
        fmt::format("fault_wall_offset_ms: {} is more than a day", c.fault_wall_offset_ms()));
  }
  if (c.fault_report_delay_ms() > 10'000) {
    return bad(fmt::format("fault_report_delay_ms: {} is over 10000", c.fault_report_delay_ms()));
  }
  if (c.id() == 0 || c.id() > 255) return bad(fmt::format("id: {} is not in 1-255", c.id()));
  if (c.members().empty()) return bad("members: none listed");
  std::set<std::string> addresses;
  for (const pb::Member& m : c.members()) {
    if (m.id() == 0 || m.id() > 255)
      return bad(fmt::format("members: id {} is not in 1-255", m.id()));
    if (s.members.count(m.id()) != 0)
      return bad(fmt::format("members: id {} appears twice", m.id()));
    Result<HostPort> hp = ParseHostPort(m.address());
    if (!hp.ok()) return bad(fmt::format("members: id {}: {}", m.id(), hp.status().message()));
    if (!addresses.insert(m.address()).second) {
      return bad(fmt::format("members: address {} appears twice", m.address()));
    }
    s.members[m.id()] = m.address();
  }
  if (s.members.count(c.id()) == 0) {
    return bad(fmt::format("id: {} is not one of the members", c.id()));
  }
  if (c.data_dir().empty()) return bad("data_dir: not set");
  if (!c.http_listen().empty()) {
    Result<HostPort> hp = ParseHostPort(c.http_listen(), /*allow_zero=*/true);
    if (!hp.ok()) return bad("http_listen: " + hp.status().message());
  }
  if (c.election_timeout_min_ms() <= c.heartbeat_ms() ||
      c.election_timeout_max_ms() < c.election_timeout_min_ms()) {
    return bad(
        fmt::format("timing: need heartbeat_ms ({}) < election_timeout_min_ms ({}) <= "
                    "election_timeout_max_ms ({})",
                    c.heartbeat_ms(), c.election_timeout_min_ms(), c.election_timeout_max_ms()));
  }
  if (c.lease_ms() < 2 * c.heartbeat_ms()) {
    return bad(fmt::format("lease_ms: {} is under two heartbeats ({} ms)", c.lease_ms(),
                           2 * c.heartbeat_ms()));
  }
  if (c.drift_bound_ppm() >= 100'000) {
    return bad(fmt::format("drift_bound_ppm: {} is 10% or more", c.drift_bound_ppm()));
  }
  if (c.clock_tolerance_ms() > 3'600'000) {
    return bad(fmt::format("clock_tolerance_ms: {} is over an hour", c.clock_tolerance_ms()));
  }
  Result<paxos::Mode> mode = ParseMode(c.mode());
  if (!mode.ok()) return bad("mode: " + mode.status().message());
  if (c.snapshot_keep_slots() > c.snapshot_every_slots()) {
    return bad("snapshot_keep_slots: more than snapshot_every_slots");
  }
  std::string key(secret);
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
  if (key.size() < 16) {
    return bad(fmt::format("secret_file {}: {} bytes, at least 16 are needed", c.secret_file(),
                           key.size()));
  }
  s.secret = std::move(key);
  s.listen = s.members.at(c.id());
  s.paxos.self = paxos::NodeId(c.id());
  for (const auto& [id, address] : s.members) s.paxos.members.push_back(paxos::NodeId(id));
  s.paxos.heartbeat_interval_us = int64_t{c.heartbeat_ms()} * 1000;
  s.paxos.election_timeout_min_us = int64_t{c.election_timeout_min_ms()} * 1000;
  s.paxos.election_timeout_max_us = int64_t{c.election_timeout_max_ms()} * 1000;
  s.paxos.lease_duration_us = int64_t{c.lease_ms()} * 1000;
  s.paxos.drift_bound_ppm = c.drift_bound_ppm();
  s.paxos.clock_tolerance_us = int64_t{c.clock_tolerance_ms()} * 1000;
  s.paxos.mode = mode.value();
  s.config = std::move(c);
  return s;
}

Result<NodeSettings> LoadNodeConfig(const std::string& path) {
  Result<std::string> text = ReadWholeFile(path, "config");
  if (!text.ok()) return text.status();
  Result<pb::NodeConfig> config = ParseNodeConfig(text.value(), path);
  if (!config.ok()) return config.status();
  const size_t slash = path.rfind('/');
  const std::string base = slash == std::string::npos ? "" : path.substr(0, slash);
  pb::NodeConfig& c = config.value();
  c.set_data_dir(Resolve(base, c.data_dir()));
  c.set_backup_dir(Resolve(base, c.backup_dir()));
  c.set_secret_file(Resolve(base, c.secret_file()));
  c.set_log_file(Resolve(base, c.log_file()));
  c.set_slurm_jobcomp_file(Resolve(base, c.slurm_jobcomp_file()));
  if (c.secret_file().empty()) return Status::Error(path + ": secret_file: not set");
  Result<std::string> secret = ReadWholeFile(c.secret_file(), "secret_file");
  if (!secret.ok()) return Status::Error(path + ": " + secret.status().message());
  return MakeSettings(std::move(c), path, secret.value());
}

}  // namespace paxcron::node
