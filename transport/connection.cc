// One connection's life inside Transport (transport_impl.h): accept or connect, the handshake,
// reads split into frames, the bounded send queue, and the close that counts and logs why.

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <iterator>

#include "transport/transport_impl.h"

namespace paxcron::transport {
namespace {

uv_stream_t* Stream(Connection& connection) {
  return reinterpret_cast<uv_stream_t*>(&connection.tcp);
}

// What each close reason counts, and the kind it is logged as (once per address).
struct CloseKind {
  CloseReason reason;
  std::string_view name;              // empty: not logged
  uint64_t TransportStats::*counter;  // nullptr: not counted
};

constexpr CloseKind kCloseKinds[] = {
    {CloseReason::kShutdown, "", nullptr},
    {CloseReason::kLocal, "", nullptr},
    {CloseReason::kEof, "closed", nullptr},
    {CloseReason::kIoError, "io-error", nullptr},
    {CloseReason::kConnectTimeout, "connect-timeout", nullptr},
    {CloseReason::kHandshakeTimeout, "handshake-timeout", &TransportStats::handshake_timeouts},
    {CloseReason::kMalformed, "malformed", &TransportStats::malformed_frames},
    {CloseReason::kOversized, "oversized", &TransportStats::oversized_frames},
    {CloseReason::kAuthFailure, "auth-failure", &TransportStats::auth_failures},
    {CloseReason::kOverflow, "send-queue-overflow", &TransportStats::send_queue_overflows},
    {CloseReason::kRefused, "refused", &TransportStats::accepts_refused},
};

const CloseKind& KindOf(CloseReason reason) {
  const auto index = static_cast<size_t>(reason);
  PAXCRON_ASSERT(index < std::size(kCloseKinds));
  PAXCRON_ASSERT(kCloseKinds[index].reason == reason);  // the table follows the enum's order
  return kCloseKinds[index];
}

// A peer that vanished without a reset (powered off, cut off) must not hold a connection for the
// kernel's default quarter of an hour: unacknowledged data gives up after kUnackedMaxMs, and an
// idle connection is probed after kIdleProbeS seconds, kProbes times, kIdleProbeS apart. Best
// effort: a failure leaves the kernel's defaults.
void SetDeadPeerTimeouts(uv_tcp_t& tcp) {
  constexpr int kUnackedMaxMs = 15'000, kIdleProbeS = 10, kProbes = 3;
  uv_os_fd_t fd;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(&tcp), &fd) != 0) return;
  const int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &kIdleProbeS, sizeof(kIdleProbeS));
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &kIdleProbeS, sizeof(kIdleProbeS));
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &kProbes, sizeof(kProbes));
  setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &kUnackedMaxMs, sizeof(kUnackedMaxMs));
}

std::string Who(const Connection& connection) {
  if (connection.dialed) {
    return "peer " + std::to_string(connection.peer_id) + " at " + connection.address;
  }
  if (!connection.authenticated) return "connection from " + connection.address;
  if (connection.role == pb::PEER) {
    return "peer " + std::to_string(connection.peer_id) + " from " + connection.address;
  }
  return "client " + connection.address;
}

}  // namespace

Connection* TransportCore::NewConnection(bool dialed) {
  auto* connection = new Connection(this, next_connection_id_++, dialed, options_.max_frame_bytes);
  PAXCRON_ASSERT(uv_tcp_init(loop_, &connection->tcp) == 0);
  PAXCRON_ASSERT(uv_timer_init(loop_, &connection->handshake_timer) == 0);
  connection->open_handles = 2;
  connection->tcp.data = connection;
  connection->handshake_timer.data = connection;
  connection->connect_req.data = connection;
  connection->write_req.data = connection;
  // Bounds the connect and the handshake together: neither a silent address nor a silent dialer
  // holds a connection open.
  uv_timer_start(&connection->handshake_timer, OnHandshakeTimer,
                 static_cast<uint64_t>(options_.handshake_timeout_ms), 0);
  connections_[connection->id] = connection;
  return connection;
}

void TransportCore::Accept(uv_stream_t* server) {
  Connection* connection = NewConnection(/*dialed=*/false);
  const int rc = uv_accept(server, Stream(*connection));
  if (rc != 0) {
    connection->address = connection->log_key = "(not accepted)";
    Close(*connection, CloseReason::kIoError, UvError("accept", rc));
    return;
  }
  sockaddr_storage remote{};
  int length = sizeof(remote);
  if (uv_tcp_getpeername(&connection->tcp, reinterpret_cast<sockaddr*>(&remote), &length) == 0) {
    connection->address = FormatAddress(reinterpret_cast<sockaddr*>(&remote));
    // Without the port: every connection has a new one, and logging once per connection would
    // let a flood of bad connections flood the log.
    connection->log_key = FormatAddress(reinterpret_cast<sockaddr*>(&remote), false);
  }
  if (handshakes_in_progress_ >= kHandshakesInProgressMax) {
    Close(*connection, CloseReason::kRefused,
          std::to_string(handshakes_in_progress_) + " handshakes already under way");
    return;
  }
  connection->acceptor.emplace(options_.secret, options_.self_id, NewNonce());
  ++handshakes_in_progress_;
  StartReading(*connection);
}

void TransportCore::OnConnect(uv_connect_t* req, int status) {
  Connection& connection = *static_cast<Connection*>(req->data);
  if (connection.closed) return;  // UV_ECANCELED: the connection is closing
  TransportCore& core = *connection.core;
  if (status < 0) {
    core.Close(connection, CloseReason::kIoError, UvError("connect", status));
    return;
  }
  connection.connected = true;
  core.StartReading(connection);
  if (!connection.closed) core.Enqueue(connection, connection.dialer->Hello());
}

void TransportCore::StartReading(Connection& connection) {
  // Small frames (paxos messages) must not wait for Nagle's algorithm.
  uv_tcp_nodelay(&connection.tcp, 1);
  SetDeadPeerTimeouts(connection.tcp);
  const int rc = uv_read_start(Stream(connection), OnAlloc, OnRead);
  if (rc != 0) Close(connection, CloseReason::kIoError, UvError("read", rc));
}

void TransportCore::OnAlloc(uv_handle_t* handle, size_t /*suggested*/, uv_buf_t* buf) {
  TransportCore& core = *static_cast<Connection*>(handle->data)->core;
  *buf = uv_buf_init(core.read_buffer_.data(), static_cast<unsigned>(core.read_buffer_.size()));
}

void TransportCore::OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  Connection& connection = *static_cast<Connection*>(stream->data);
  if (connection.closed || nread == 0) return;  // 0: nothing to read after all (EAGAIN)
  TransportCore& core = *connection.core;
  if (nread < 0) {
    if (nread == UV_EOF) {
      core.Close(connection, CloseReason::kEof);
    } else {
      core.Close(connection, CloseReason::kIoError, UvError("read", static_cast<int>(nread)));
    }
    return;
  }
  Status fed = connection.decoder.Feed(std::string_view(buf->base, static_cast<size_t>(nread)));
  if (!fed.ok()) {
    core.Close(connection, CloseReason::kOversized, fed.message());
    return;
  }
  core.ProcessFrames(connection);
}

void TransportCore::ProcessFrames(Connection& connection) {
  // The handler may close this connection (or shut everything down) from inside a callback.
  while (!connection.closed) {
    if (!connection.authenticated) {
      const std::optional<uint32_t> length = connection.decoder.PeekLength();
      if (length && *length > kHandshakeFrameMax) {
        Close(connection, CloseReason::kOversized,
              "handshake " + OversizedFrame(*length, kHandshakeFrameMax).message());
        return;
      }
    }
    std::optional<std::string> frame = connection.decoder.Next();
    if (!frame) return;
    if (connection.authenticated) {
      Deliver(connection, *frame);
    } else {
      OnHandshakeFrame(connection, *frame);
    }
  }
}

void TransportCore::OnHandshakeFrame(Connection& connection, std::string_view frame) {
  HandshakeStep step =
      connection.dialed ? connection.dialer->OnFrame(frame) : connection.acceptor->OnFrame(frame);
  switch (step.outcome) {
    case HandshakeStep::Outcome::kContinue:
    case HandshakeStep::Outcome::kAuthenticated:
      if (!step.reply.empty() && !Enqueue(connection, step.reply)) return;
      if (step.outcome == HandshakeStep::Outcome::kAuthenticated) Authenticated(connection);
      return;
    case HandshakeStep::Outcome::kMalformed:
      Close(connection, CloseReason::kMalformed, step.error);
      return;
    case HandshakeStep::Outcome::kAuthFailure:
      if (!step.reply.empty() && connection.pending.empty() && connection.in_flight.empty()) {
        // A parting word (our refusal of the other side's proof), written now or never: the
        // close below would cancel a queued write. Its loss costs only the other side's count.
        std::string framed;
        AppendFrame(step.reply, framed);
        uv_buf_t buf = uv_buf_init(framed.data(), static_cast<unsigned>(framed.size()));
        (void)uv_try_write(Stream(connection), &buf, 1);
      }
      Close(connection, CloseReason::kAuthFailure, step.error);
      return;
  }
}

void TransportCore::Authenticated(Connection& connection) {
  PAXCRON_ASSERT(!connection.authenticated && !connection.closed);
  uv_timer_stop(&connection.handshake_timer);
  connection.authenticated = true;
  if (!connection.dialed) {
    connection.role = connection.acceptor->role();
    connection.peer_id = connection.acceptor->dialer_id();
    connection.acceptor.reset();
    PAXCRON_ASSERT(handshakes_in_progress_ > 0);
    --handshakes_in_progress_;
    ++stats_.accepts;
    return;
  }
  connection.dialer.reset();
  ++stats_.connects;
  Peer& peer = peers_.at(connection.peer_id);
  PAXCRON_ASSERT(peer.connection == &connection);
  peer.backoff_ms = options_.reconnect_min_ms;
  // Trouble with this peer was logged (once per kind): say it is over, and log the next trouble.
  if (ForgetLogged(peer.address) && log_) log_("transport: " + Who(connection) + ": connected");
  handler_->OnPeerConnected(connection.peer_id);
}

void TransportCore::Deliver(Connection& connection, std::string_view payload) {
  ++stats_.frames_received;
  stats_.bytes_received += kFrameHeaderBytes + payload.size();
  if (connection.dialed || connection.role == pb::PEER) {
    handler_->OnPeerFrame(connection.peer_id, payload);
  } else {
    handler_->OnClientFrame(connection.id, payload);
  }
}

bool TransportCore::Enqueue(Connection& connection, std::string_view payload) {
  PAXCRON_ASSERT(!connection.closed);
  const uint64_t queued = connection.pending.size() + connection.in_flight.size();
  if (queued + kFrameHeaderBytes + payload.size() > options_.send_queue_max_bytes) {
    Close(connection, CloseReason::kOverflow,
          "send queue full (" + std::to_string(queued) + " bytes queued, the limit is " +
              std::to_string(options_.send_queue_max_bytes) + ")");
    return false;
  }
  AppendFrame(payload, connection.pending);
  if (connection.authenticated) {
    ++stats_.frames_sent;
    stats_.bytes_sent += kFrameHeaderBytes + payload.size();
  }
  Flush(connection);
  return !connection.closed;
}

void TransportCore::Flush(Connection& connection) {
  if (connection.closed || !connection.in_flight.empty() || connection.pending.empty()) return;
  // One write in flight at a time; frames queued meanwhile go out together in the next one.
  connection.in_flight.swap(connection.pending);
  uv_buf_t buf =
      uv_buf_init(connection.in_flight.data(), static_cast<unsigned>(connection.in_flight.size()));
  const int rc = uv_write(&connection.write_req, Stream(connection), &buf, 1, OnWrite);
  if (rc != 0) Close(connection, CloseReason::kIoError, UvError("write", rc));
}

void TransportCore::OnWrite(uv_write_t* req, int status) {
  Connection& connection = *static_cast<Connection*>(req->data);
  if (connection.closed) return;  // UV_ECANCELED: the connection is closing
  connection.in_flight.clear();
  // A burst once queued must not pin its memory for the connection's life.
  if (connection.in_flight.capacity() > 1024 * 1024) std::string().swap(connection.in_flight);
  TransportCore& core = *connection.core;
  if (status < 0) {
    core.Close(connection, CloseReason::kIoError, UvError("write", status));
    return;
  }
  core.Flush(connection);
}

void TransportCore::OnHandshakeTimer(uv_timer_t* timer) {
  Connection& connection = *static_cast<Connection*>(timer->data);
  TransportCore& core = *connection.core;
  const std::string within =
      " within " + std::to_string(core.options_.handshake_timeout_ms) + " ms";
  if (connection.dialed && !connection.connected) {
    core.Close(connection, CloseReason::kConnectTimeout, "no connection" + within);
  } else {
    core.Close(connection, CloseReason::kHandshakeTimeout, "no authentication" + within);
  }
}

void TransportCore::Close(Connection& connection, CloseReason reason, const std::string& detail) {
  if (connection.closed) return;
  connection.closed = true;
  const size_t erased = connections_.erase(connection.id);
  PAXCRON_ASSERT(erased == 1);
  if (connection.acceptor.has_value()) {  // an accepted connection still in its handshake
    PAXCRON_ASSERT(handshakes_in_progress_ > 0);
    --handshakes_in_progress_;
  }
  const CloseKind& kind = KindOf(reason);
  if (kind.counter != nullptr) ++(stats_.*kind.counter);
  // A client hanging up is no news, and a peer's loss is logged by the side that dialed it.
  const bool routine =
      reason == CloseReason::kEof && connection.authenticated && !connection.dialed;
  if (!kind.name.empty() && !routine) {
    std::string line = "transport: " + Who(connection) + ": " + std::string(kind.name);
    if (!detail.empty()) line += ": " + detail;
    LogOnce(kind.name, connection.log_key, line);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&connection.tcp), OnConnectionHandleClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&connection.handshake_timer), OnConnectionHandleClosed);
  // Last, as the handler may call back into the transport.
  if (connection.dialed) {
    Peer& peer = peers_.at(connection.peer_id);
    PAXCRON_ASSERT(peer.connection == &connection);
    peer.connection = nullptr;
    ScheduleReconnect(peer);
  } else if (connection.authenticated && connection.role == pb::CLIENT &&
             reason != CloseReason::kLocal && reason != CloseReason::kShutdown) {
    handler_->OnClientClosed(connection.id);
  }
}

void TransportCore::OnConnectionHandleClosed(uv_handle_t* handle) {
  auto* connection = static_cast<Connection*>(handle->data);
  PAXCRON_ASSERT(connection->closed && connection->open_handles > 0);
  if (--connection->open_handles == 0) delete connection;
}

}  // namespace paxcron::transport
