// The node's HTTP side (issue "A real cluster", section 5): /metrics in Prometheus text format and
// / a plain status page, served by cpp-httplib (Debian's libcpp-httplib-dev) from a thread of its
// own. The node's loop renders both pages every half second and hands them over with Publish();
// the HTTP thread only copies strings under a mutex and never touches the node's state, so a slow
// or hostile HTTP client cannot stall consensus. Bind it to 127.0.0.1 unless a proxy guards it.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"

namespace httplib {
class Server;
}

namespace paxcron::node {

class HttpStatusServer {
 public:
  HttpStatusServer();
  ~HttpStatusServer();
  HttpStatusServer(const HttpStatusServer&) = delete;
  HttpStatusServer& operator=(const HttpStatusServer&) = delete;

  // Binds host:port (port 0: any free one, see port()) and starts serving.
  Status Start(const std::string& host, uint16_t port);
  uint16_t port() const { return port_; }
  void Publish(std::string metrics, std::string html);
  void Stop();

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::mutex mu_;
  std::string metrics_;  // guarded by mu_
  std::string html_;     // guarded by mu_
  uint16_t port_ = 0;
};

}  // namespace paxcron::node
