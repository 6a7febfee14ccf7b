// The inside of Transport (transport.h): TransportCore, which Transport::Impl is, shared by
// transport.cc (the API, the listener, peers and their reconnects, logging) and connection.cc (one
// connection's reads, writes, handshake and close). Not for use outside transport/.
// Single-threaded, like Transport.
//
// Memory. Every libuv handle lives on the heap until its close callback has run, which may be after
// the Transport is gone (the destructor closes handles; the loop runs their callbacks later). So a
// close callback only frees memory, and no callback that can still run after uv_close() (a write
// or connect cancelled with UV_ECANCELED) touches anything but its own connection.
#pragma once

#include <uv.h>

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "common/prng.h"
#include "transport/address.h"
#include "transport/frame.h"
#include "transport/handshake.h"
#include "transport/transport.h"

namespace paxcron::transport {

class TransportCore;

// Why a connection is closed: picks the counter and whether and how it is logged (the table in
// connection.cc follows this order).
enum class CloseReason {
  kShutdown,          // Shutdown() or the destructor
  kLocal,             // CloseClient()
  kEof,               // the other side closed it
  kIoError,           // a read, write or connect failed
  kConnectTimeout,    // a dial that did not connect in time
  kHandshakeTimeout,  // connected, but no authentication in time
  kMalformed,
  kOversized,
  kAuthFailure,
  kOverflow,  // the send queue
  kRefused,   // too many handshakes in progress
};

struct Connection {
  Connection(TransportCore* owner, ConnectionId connection_id, bool is_dialed,
             uint32_t max_frame_bytes)
      : core(owner), id(connection_id), dialed(is_dialed), decoder(max_frame_bytes) {}

  uv_tcp_t tcp{};
  uv_timer_t handshake_timer{};
  uv_connect_t connect_req{};
  uv_write_t write_req{};
  TransportCore* const core;  // not to be used once `closed`
  const ConnectionId id;
  const bool dialed;
  std::string address;   // the other side's, for log lines
  std::string log_key;   // the address the log-once keys use (an accepted one without its port)
  uint32_t peer_id = 0;  // dialed: the node dialed; accepted: the dialer's id once authenticated
  pb::Role role = pb::ROLE_UNSPECIFIED;  // accepted: the dialer's role once authenticated
  bool connected = false;                // dialed: the TCP connect completed
  bool authenticated = false;
  bool closed = false;   // uv_close() called; only the callbacks freeing memory remain
  int open_handles = 0;  // handles not yet through their close callback
  std::optional<AcceptorHandshake> acceptor;
  std::optional<DialerHandshake> dialer;
  FrameDecoder decoder;
  std::string pending;    // framed bytes not yet handed to libuv
  std::string in_flight;  // handed to libuv, until the write callback
};

// Transport's state and its internal steps. Transport (whose Impl this is) implements the public
// API on it directly, as a friend, rather than through a second copy of every declaration.
class TransportCore {
 public:
  TransportCore(uv_loop_t* loop, TransportOptions options, TransportHandler* handler,
                std::function<void(std::string_view)> log);

  // The libuv callbacks (connection.cc and transport.cc), as static members for private access.
  static void OnNewConnection(uv_stream_t* server, int status);
  static void OnConnect(uv_connect_t* req, int status);
  static void OnAlloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void OnWrite(uv_write_t* req, int status);
  static void OnHandshakeTimer(uv_timer_t* timer);
  static void OnReconnectTimer(uv_timer_t* timer);
  static void OnConnectionHandleClosed(uv_handle_t* handle);

 private:
  friend class Transport;

  struct Peer {
    TransportCore* core = nullptr;  // the reconnect timer's way back
    uint32_t id = 0;
    std::string address;
    SocketAddress socket_address;
    uv_timer_t* reconnect_timer = nullptr;  // heap: freed by its close callback
    Connection* connection = nullptr;       // the dialed connection, if any
    int64_t backoff_ms = 0;                 // the next reconnect's delay, before jitter
  };

  // transport.cc
  Status CheckSecret() const;
  void Dial(Peer& peer);
  void ScheduleReconnect(Peer& peer);
  void LogOnce(std::string_view kind, const std::string& key_address, const std::string& line);
  bool ForgetLogged(const std::string& key_address);  // whether anything was logged for it

  // connection.cc
  Connection* NewConnection(bool dialed);
  void Accept(uv_stream_t* server);
  void StartReading(Connection& connection);
  void ProcessFrames(Connection& connection);
  void OnHandshakeFrame(Connection& connection, std::string_view frame);
  void Authenticated(Connection& connection);
  void Deliver(Connection& connection, std::string_view payload);
  bool Enqueue(Connection& connection, std::string_view payload);
  void Flush(Connection& connection);
  void Close(Connection& connection, CloseReason reason, const std::string& detail = {});

  uv_loop_t* const loop_;
  const TransportOptions options_;
  TransportHandler* const handler_;
  const std::function<void(std::string_view)> log_;
  TransportStats stats_;
  Prng jitter_;
  uv_tcp_t* listener_ = nullptr;  // heap: freed by its close callback
  std::map<uint32_t, Peer> peers_;
  std::map<ConnectionId, Connection*> connections_;  // every connection not yet closed
  ConnectionId next_connection_id_ = 1;
  size_t handshakes_in_progress_ = 0;  // accepted connections not yet authenticated
  bool shut_down_ = false;
  std::set<std::pair<std::string, std::string>> logged_;  // (address, kind) already logged
  std::array<char, 64 * 1024> read_buffer_;  // every read lands here, then in a FrameDecoder
};

inline std::string UvError(std::string_view what, int code) {
  return std::string(what) + ": " + uv_strerror(code);
}

// Limits on what the other side can make us hold.
constexpr size_t kHandshakesInProgressMax = 256;  // unauthenticated accepted connections
constexpr size_t kLoggedKeysMax = 4096;           // (address, kind) pairs remembered as logged

}  // namespace paxcron::transport
