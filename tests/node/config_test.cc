// A node's configuration: defaults, and a clear error for each kind of bad input.
#include "node/config.h"

#include <gtest/gtest.h>

namespace paxcron::node {
namespace {

constexpr const char* kSecret = "0123456789abcdef0123\n";

const char* kGood = R"(
id: 2
members { id: 1 address: "127.0.0.1:7001" }
members { id: 2 address: "127.0.0.1:7002" }
members { id: 3 address: "[::1]:7003" }
data_dir: "/var/lib/paxcron"
secret_file: "secret"
)";

Result<NodeSettings> Make(const std::string& text, std::string_view secret = kSecret) {
  Result<pb::NodeConfig> c = ParseNodeConfig(text, "n.conf");
  if (!c.ok()) return c.status();
  return MakeSettings(c.value(), "n.conf", secret);
}

TEST(NodeConfig, DefaultsAreFilledInAndTheCoreConfigured) {
  Result<NodeSettings> s = Make(kGood);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s.value().listen, "127.0.0.1:7002");
  EXPECT_EQ(s.value().secret, "0123456789abcdef0123");  // the newline is not part of it
  EXPECT_EQ(s.value().paxos.self.value, 2u);
  ASSERT_EQ(s.value().paxos.members.size(), 3u);
  EXPECT_EQ(s.value().paxos.lease_duration_us, 1'000'000);
  EXPECT_EQ(s.value().paxos.heartbeat_interval_us, 50'000);
  EXPECT_EQ(s.value().config.snapshot_every_slots(), 1000u);
  EXPECT_EQ(s.value().config.snapshot_min_log_percent(), 100u);
  EXPECT_EQ(s.value().config.mode(), "multi");
  EXPECT_EQ(s.value().paxos.mode, paxos::Mode::kMulti);
}

TEST(NodeConfig, ModeFastReachesTheCore) {
  Result<NodeSettings> s = Make(std::string(kGood) + "mode: \"fast\"\n");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s.value().paxos.mode, paxos::Mode::kFast);
  EXPECT_STREQ(ModeName(s.value().paxos.mode), "fast");
}

TEST(NodeConfig, SyntaxErrorsNameTheFileLineAndColumn) {
  Result<NodeSettings> s = Make("id: 1\nlease: 5\n");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message().rfind("n.conf:2:", 0), 0u) << s.status().message();
  EXPECT_NE(s.status().message().find("lease"), std::string::npos);
}

TEST(NodeConfig, MeaningErrorsNameTheField) {
  struct Case {
    std::string text;
    const char* expect;
  };
  const std::string members =
      "members { id: 1 address: \"127.0.0.1:7001\" }\n"
      "members { id: 2 address: \"127.0.0.1:7002\" }\n";
  const Case cases[] = {
      {"id: 3\n" + members + "data_dir: \"d\"", "id: 3 is not one of the members"},
      {"id: 1\n" + members + "members { id: 1 address: \"h:1\" }\ndata_dir: \"d\"",
       "id 1 appears twice"},
      {"id: 1\nmembers { id: 1 address: \"nohostport\" }\ndata_dir: \"d\"", "not host:port"},
      {"id: 1\nmembers { id: 1 address: \"h:99999\" }\ndata_dir: \"d\"", "not a number in 1-65535"},
      {"id: 1\n" + members, "data_dir: not set"},
      {"id: 1\n" + members + "data_dir: \"d\"\nheartbeat_ms: 400", "heartbeat_ms (400)"},
      {"id: 1\n" + members + "data_dir: \"d\"\nlease_ms: 60", "lease_ms: 60"},
      {"id: 1\n" + members + "data_dir: \"d\"\nsnapshot_every_slots: 10\nsnapshot_keep_slots: 20",
       "snapshot_keep_slots"},
      {"id: 1\n" + members + "data_dir: \"d\"\nfault_launch_delay_ms: 10001",
       "fault_launch_delay_ms: 10001 is over 10000"},
      {"id: 1\n" + members + "data_dir: \"d\"\nfault_report_delay_ms: 20000",
       "fault_report_delay_ms: 20000 is over 10000"},
      {"id: 1\n" + members + "data_dir: \"d\"\nmode: \"Fast\"",
       "mode: 'Fast' is not multi or fast"},
  };
  for (const Case& c : cases) {
    Result<NodeSettings> s = Make(c.text);
    ASSERT_FALSE(s.ok()) << c.text;
    EXPECT_NE(s.status().message().find(c.expect), std::string::npos)
        << s.status().message() << " (expected: " << c.expect << ")";
  }
  Result<NodeSettings> short_secret = Make(kGood, "short\n");
  ASSERT_FALSE(short_secret.ok());
  EXPECT_NE(short_secret.status().message().find("at least 16"), std::string::npos);
}

TEST(NodeConfig, HostPortParsing) {
  EXPECT_EQ(ParseHostPort("localhost:80").value().host, "localhost");
  EXPECT_EQ(ParseHostPort("[::1]:7000").value().host, "::1");
  EXPECT_EQ(ParseHostPort("[::1]:7000").value().port, 7000);
  EXPECT_FALSE(ParseHostPort(":80").ok());
  EXPECT_FALSE(ParseHostPort("h:").ok());
  EXPECT_FALSE(ParseHostPort("h:0").ok());
  EXPECT_TRUE(ParseHostPort("h:0", /*allow_zero=*/true).ok());
  EXPECT_FALSE(ParseHostPort("h:12a").ok());
}

}  // namespace
}  // namespace paxcron::node
