// Transport's API, the listener, the peers it dials and their reconnects, and logging. One
// connection's life (reads, writes, handshake, close) is in connection.cc.
#include "transport/transport.h"

#include <algorithm>
#include <csignal>
#include <limits>

#include "common/little_endian.h"
#include "transport/auth.h"
#include "transport/transport_impl.h"

namespace paxcron::transport {
namespace {

// Closes a handle the Transport owns and frees it in the close callback, which may run after the
// Transport is gone.
template <typename Handle>
void CloseAndDelete(Handle* handle) {
  uv_close(reinterpret_cast<uv_handle_t*>(handle),
           [](uv_handle_t* closed) { delete reinterpret_cast<Handle*>(closed); });
}

// Seeds the back-off jitter from the CSPRNG: processes started together (and clients, which share
// id 0) must not reconnect in step.
uint64_t JitterSeed() { return GetLittleEndian<uint64_t>(NewNonce()); }

}  // namespace

TransportCore::TransportCore(uv_loop_t* loop, TransportOptions options, TransportHandler* handler,
                             std::function<void(std::string_view)> log)
    : loop_(loop),
      options_(std::move(options)),
      handler_(handler),
      log_(std::move(log)),
      jitter_(JitterSeed()) {
  PAXCRON_ASSERT(loop_ != nullptr && handler_ != nullptr);
  PAXCRON_ASSERT(options_.max_frame_bytes >= kHandshakeFrameMax);
  PAXCRON_ASSERT(options_.reconnect_min_ms > 0 &&
                 options_.reconnect_min_ms <= options_.reconnect_max_ms);
  PAXCRON_ASSERT(options_.handshake_timeout_ms > 0);
  // A write hands libuv the whole queue in one buffer, whose length is an unsigned int.
  PAXCRON_ASSERT(options_.send_queue_max_bytes <= std::numeric_limits<uint32_t>::max());
  // libuv writes with writev(), which raises SIGPIPE on a connection the other side reset; the
  // default action would kill the node. Ignored, the write fails with EPIPE and is handled.
  std::signal(SIGPIPE, SIG_IGN);
}

void TransportCore::OnNewConnection(uv_stream_t* server, int status) {
  auto* core = static_cast<TransportCore*>(server->data);
  if (status < 0) {
    // Typically EMFILE: out of file descriptors. The connection stays in the backlog.
    core->LogOnce("accept", "listener", UvError("transport: accept failed", status));
    return;
  }
  core->Accept(server);
}

void TransportCore::Dial(Peer& peer) {
  PAXCRON_ASSERT(peer.connection == nullptr && !shut_down_);
  Connection* connection = NewConnection(/*dialed=*/true);
  connection->peer_id = peer.id;
  connection->address = peer.address;
  connection->log_key = peer.address;
  const pb::Role role = options_.self_id == 0 ? pb::CLIENT : pb::PEER;
  connection->dialer.emplace(options_.secret, role, options_.self_id, peer.id, NewNonce());
  peer.connection = connection;
  const int rc = uv_tcp_connect(&connection->connect_req, &connection->tcp,
                                peer.socket_address.get(), OnConnect);
  if (rc != 0) Close(*connection, CloseReason::kIoError, UvError("connect", rc));
}

void TransportCore::ScheduleReconnect(Peer& peer) {
  if (shut_down_) return;
  PAXCRON_ASSERT(peer.connection == nullptr);
  // Exponential back-off with +-50% jitter, so that nodes restarted together do not dial in step.
  const int64_t delay_ms = peer.backoff_ms / 2 + jitter_.RangeSigned(0, peer.backoff_ms);
  peer.backoff_ms = std::min(peer.backoff_ms * 2, options_.reconnect_max_ms);
  PAXCRON_ASSERT(delay_ms >= 0);
  uv_timer_start(peer.reconnect_timer, OnReconnectTimer, static_cast<uint64_t>(delay_ms), 0);
}

void TransportCore::OnReconnectTimer(uv_timer_t* timer) {
  Peer& peer = *static_cast<Peer*>(timer->data);
  peer.core->Dial(peer);
}

// A configuration error, not an assertion: the secret comes from a file the operator wrote.
Status TransportCore::CheckSecret() const {
  if (options_.secret.size() >= kSecretMinBytes) return Status::Ok();
  return Status::Error("the cluster secret is " + std::to_string(options_.secret.size()) +
                       " bytes, under the minimum of " + std::to_string(kSecretMinBytes));
}

void TransportCore::LogOnce(std::string_view kind, const std::string& key_address,
                            const std::string& line) {
  if (!log_) return;
  auto key = std::make_pair(key_address, std::string(kind));
  if (logged_.count(key) != 0) return;
  if (logged_.size() >= kLoggedKeysMax) return;  // a flood of addresses: stay bounded, and quiet
  logged_.insert(std::move(key));
  log_(line);
}

bool TransportCore::ForgetLogged(const std::string& key_address) {
  auto it = logged_.lower_bound(std::make_pair(key_address, std::string()));
  const bool any = it != logged_.end() && it->first == key_address;
  while (it != logged_.end() && it->first == key_address) it = logged_.erase(it);
  return any;
}

// --- The public class: its Impl is the TransportCore, whose insides it works on directly.

class Transport::Impl : public TransportCore {
 public:
  using TransportCore::TransportCore;
};

Transport::Transport(uv_loop_t* loop, TransportOptions options, TransportHandler* handler,
                     std::function<void(std::string_view line)> log)
    : impl_(std::make_unique<Impl>(loop, std::move(options), handler, std::move(log))) {}

Transport::~Transport() { Shutdown(); }

Status Transport::Listen(const std::string& address) {
  Impl& core = *impl_;
  if (core.shut_down_)
    return Status::Error("listen on " + address + ": the transport is shut down");
  if (core.listener_ != nullptr)
    return Status::Error("listen on " + address + ": already listening");
  if (core.options_.self_id == 0)
    return Status::Error("listen on " + address + ": a client (id 0)");
  if (Status secret = core.CheckSecret(); !secret.ok()) return secret;
  Result<SocketAddress> parsed = ParseAddress(address);
  if (!parsed.ok()) return parsed.status();
  auto* listener = new uv_tcp_t{};
  PAXCRON_ASSERT(uv_tcp_init(core.loop_, listener) == 0);
  listener->data = &core;
  int rc = uv_tcp_bind(listener, parsed.value().get(), 0);
  if (rc == 0) {
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(listener), 128, TransportCore::OnNewConnection);
  }
  if (rc != 0) {
    CloseAndDelete(listener);
    return Status::Error(UvError("listen on " + address, rc));
  }
  core.listener_ = listener;
  return Status::Ok();
}

uint16_t Transport::listen_port() const {
  if (impl_->listener_ == nullptr) return 0;
  sockaddr_storage bound{};
  int length = sizeof(bound);
  if (uv_tcp_getsockname(impl_->listener_, reinterpret_cast<sockaddr*>(&bound), &length) != 0) {
    return 0;
  }
  if (bound.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
}

Status Transport::AddPeer(uint32_t peer_id, const std::string& address) {
  Impl& core = *impl_;
  const std::string what = "peer " + std::to_string(peer_id) + " at " + address;
  if (core.shut_down_) return Status::Error(what + ": the transport is shut down");
  if (peer_id == 0) return Status::Error(what + ": node ids start at 1");
  if (core.peers_.count(peer_id) != 0) return Status::Error(what + ": already added");
  if (Status secret = core.CheckSecret(); !secret.ok()) return secret;
  Result<SocketAddress> parsed = ParseAddress(address);
  if (!parsed.ok()) return parsed.status();
  TransportCore::Peer& peer = core.peers_[peer_id];
  peer.core = &core;
  peer.id = peer_id;
  peer.address = address;
  peer.socket_address = parsed.value();
  peer.backoff_ms = core.options_.reconnect_min_ms;
  peer.reconnect_timer = new uv_timer_t{};
  PAXCRON_ASSERT(uv_timer_init(core.loop_, peer.reconnect_timer) == 0);
  peer.reconnect_timer->data = &peer;  // std::map never moves its elements
  core.Dial(peer);
  return Status::Ok();
}

bool Transport::SendToPeer(uint32_t peer_id, std::string_view payload) {
  Impl& core = *impl_;
  auto it = core.peers_.find(peer_id);
  Connection* connection = it == core.peers_.end() ? nullptr : it->second.connection;
  if (connection == nullptr || !connection->authenticated ||
      payload.size() > core.options_.max_frame_bytes) {
    ++core.stats_.sends_dropped;
    return false;
  }
  return core.Enqueue(*connection, payload);
}

bool Transport::SendToClient(ConnectionId id, std::string_view payload) {
  Impl& core = *impl_;
  auto it = core.connections_.find(id);
  Connection* connection = it == core.connections_.end() ? nullptr : it->second;
  if (connection == nullptr || connection->dialed || !connection->authenticated ||
      connection->role != pb::CLIENT || payload.size() > core.options_.max_frame_bytes) {
    ++core.stats_.sends_dropped;
    return false;
  }
  return core.Enqueue(*connection, payload);
}

void Transport::CloseClient(ConnectionId id) {
  auto it = impl_->connections_.find(id);
  if (it == impl_->connections_.end() || it->second->dialed) return;
  impl_->Close(*it->second, CloseReason::kLocal);
}

bool Transport::PeerConnected(uint32_t peer_id) const {
  auto it = impl_->peers_.find(peer_id);
  return it != impl_->peers_.end() && it->second.connection != nullptr &&
         it->second.connection->authenticated;
}

void Transport::Shutdown() {
  Impl& core = *impl_;
  if (core.shut_down_) return;
  core.shut_down_ = true;
  if (core.listener_ != nullptr) CloseAndDelete(core.listener_);
  core.listener_ = nullptr;
  for (auto& [id, peer] : core.peers_) {
    CloseAndDelete(peer.reconnect_timer);  // also stops it
    peer.reconnect_timer = nullptr;
  }
  while (!core.connections_.empty()) {
    core.Close(*core.connections_.begin()->second, CloseReason::kShutdown);
  }
}

const TransportStats& Transport::stats() const { return impl_->stats_; }

}  // namespace paxcron::transport
