#include "node/http_status.h"

#include <fmt/format.h>
#include <httplib.h>

namespace paxcron::node {

HttpStatusServer::HttpStatusServer() = default;

HttpStatusServer::~HttpStatusServer() { Stop(); }

Status HttpStatusServer::Start(const std::string& host, uint16_t port) {
  server_ = std::make_unique<httplib::Server>();
  server_->set_read_timeout(5, 0);
  server_->set_write_timeout(5, 0);
  server_->set_payload_max_length(64 * 1024);
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    res.set_content(metrics_, "text/plain; version=0.0.4; charset=utf-8");
  });
  server_->Get("/", [this](const httplib::Request&, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    res.set_content(html_, "text/html; charset=utf-8");
  });
  int bound = port;
  if (port == 0) {
    bound = server_->bind_to_any_port(host);
  } else if (!server_->bind_to_port(host, port)) {
    bound = -1;
  }
  if (bound <= 0) {
    server_.reset();
    return Status::Error(fmt::format("http_listen {}:{}: cannot bind", host, port));
  }
  port_ = static_cast<uint16_t>(bound);
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return Status::Ok();
}

void HttpStatusServer::Publish(std::string metrics, std::string html) {
  std::lock_guard<std::mutex> lock(mu_);
  metrics_ = std::move(metrics);
  html_ = std::move(html);
}

void HttpStatusServer::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
}

}  // namespace paxcron::node
