// Loading and checking a node's configuration (node/config.proto, Protobuf text format). Bad
// input gets an error naming the file, the line and the field; nothing here crashes on any text.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "common/status.h"
#include "node/config.pb.h"
#include "paxos/config.h"

namespace paxcron::node {

// A configuration with its defaults filled in, checked, and turned into what the parts need.
struct NodeSettings {
  pb::NodeConfig config;                    // as written, defaults filled in
  paxos::Config paxos;                      // self, members and timing for the core
  std::map<uint32_t, std::string> members;  // id -> address, this node included
  std::string secret;                       // read from config.secret_file
  std::string listen;                       // this node's own address
};

// Parses `text` (`file` names it in errors) and checks it; reads no file. Errors look like
// "node1.conf:7:3: ..." for syntax, "node1.conf: members: id 4 appears twice" for meaning.
Result<pb::NodeConfig> ParseNodeConfig(std::string_view text, std::string_view file);

// Fills defaults and checks the meaning (ids, addresses, timing); `secret` is the secret file's
// contents.
Result<NodeSettings> MakeSettings(pb::NodeConfig config, std::string_view file,
                                  std::string_view secret);

// Reads the file and its secret file (relative paths in the config are relative to the config
// file's directory).
Result<NodeSettings> LoadNodeConfig(const std::string& path);

// The consensus protocol of the cluster (config field `mode`): "multi" or "fast". Errors name the
// text.
Result<paxos::Mode> ParseMode(std::string_view text);
const char* ModeName(paxos::Mode mode);  // "multi", "fast"

// A whole file's bytes; errors say "WHAT PATH: cannot be read".
Result<std::string> ReadWholeFile(const std::string& path, std::string_view what);

// Splits "host:port"; errors name the text. Port 0 is allowed only when `allow_zero`.
struct HostPort {
  std::string host;
  uint16_t port = 0;
};
Result<HostPort> ParseHostPort(std::string_view text, bool allow_zero = false);

}  // namespace paxcron::node
