// A blocking client of one node, for the CLI and the tests: plain sockets with timeouts, the same
// framing and authentication as transport.h (role client, id 0). One request, one reply.
// Thread-compatible.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "common/status.h"

namespace paxcron::transport {

class Client {
 public:
  // Connects to "host:port" and authenticates with `secret`. Errors name the address and what
  // failed (refused, timed out, the node rejected the secret, ...).
  static Result<std::unique_ptr<Client>> Connect(const std::string& address,
                                                 const std::string& secret, int64_t timeout_ms,
                                                 uint32_t max_frame_bytes = 16 * 1024 * 1024);
  ~Client();

  // Sends one frame and waits for one frame back.
  Result<std::string> Call(std::string_view request, int64_t timeout_ms);
  // Or the two halves (a node may push several frames).
  Status Send(std::string_view frame);
  Result<std::string> Receive(int64_t timeout_ms);

 private:
  Client(int fd, std::string address, uint32_t max_frame_bytes)
      : fd_(fd), address_(std::move(address)), max_frame_bytes_(max_frame_bytes) {}
  class Deadline;
  Status SendBy(std::string_view frame, const Deadline& deadline);
  Result<std::string> ReceiveBy(const Deadline& deadline, uint32_t max_frame_bytes);
  Status WaitFor(short events, const Deadline& deadline, std::string_view what);

  int fd_;
  std::string address_;
  uint32_t max_frame_bytes_;
  std::string buffer_;           // bytes read past the last frame
  int64_t send_timeout_ms_ = 0;  // for Send(): the timeout given to Connect()
};

}  // namespace paxcron::transport
