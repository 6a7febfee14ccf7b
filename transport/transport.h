// The network between nodes, and between clients and nodes: libuv TCP, each frame a 4-byte
// little-endian length and a payload (a serialized Protobuf message, opaque here), a maximum frame
// size, bounded send queues, reconnects with exponential back-off and jitter, and authentication
// before anything else (issue "A real cluster", section 1).
//
// Connections. Every node listens on one address for peers and clients alike. A node dials each
// peer and keeps that connection for its own messages to that peer (one connection per direction
// and pair, as etcd's streams do): SendToPeer() writes on the dialed connection; frames arriving on
// an accepted connection from a peer are handed to OnPeerFrame(). Clients (the CLI) dial a node;
// the node answers on the same connection (SendToClient()).
//
// Authentication (transport/auth.h): the dialer sends Hello (its role, its node id or 0 for a
// client, a fresh 32-byte nonce); the acceptor answers Challenge (its id, its nonce, an
// HMAC-SHA256 over both nonces with the cluster secret); the dialer checks it and sends Proof (its
// HMAC over both nonces and its identity). Until the Proof checks out, the acceptor reads nothing
// but the handshake, in frames of at most kHandshakeFrameMax bytes, and a deadline closes a
// connection that does not finish in time. Unauthenticated, malformed or oversized input closes
// the connection and is counted in TransportStats; it is logged once per kind and address, never
// crashes or stalls the loop.
//
// The dialer checks the Challenge before it sends its Proof, so it never proves anything to a side
// that has not proved the secret first; when the Challenge's proof is wrong it sends an empty Proof
// (a refusal) and closes, so that a secret mismatch is counted and logged on both sides. The
// handshake itself is transport/handshake.h, pure, and shared with the blocking Client.
//
// A Transport with self_id 0 is a client: it dials with role CLIENT and cannot Listen(). Frames
// that arrive on a dialed connection (a node's answers to a client) go to OnPeerFrame().
//
// Memory: the destructor (and Shutdown()) closes every libuv handle; the loop must then run once
// more so that their close callbacks free them. The constructor ignores SIGPIPE process-wide:
// libuv writes with writev(), and a write to a reset connection must be an error, not a kill.
//
// Single-threaded: every call, and every callback, on the loop's thread. A callback may call any
// method, Shutdown() included, but must not destroy the Transport.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace paxcron::transport {

using ConnectionId = uint64_t;  // of an accepted client connection; never reused

constexpr uint32_t kHandshakeFrameMax = 1024;

struct TransportOptions {
  uint32_t self_id = 0;                              // this node's id (1..); a client uses 0
  std::string secret;                                // the cluster secret (raw bytes, >= 16)
  uint32_t max_frame_bytes = 16 * 1024 * 1024;       // a longer frame closes the connection
  uint64_t send_queue_max_bytes = 64 * 1024 * 1024;  // per connection; overflow closes it
  int64_t reconnect_min_ms = 50;  // back-off: doubles up to the max, +-50% jitter
  // At most 750 ms between attempts once jittered: a restarted peer is back within that (a new
  // leader may be waiting to ask it about a launch it began), and an attempt costs one connect.
  int64_t reconnect_max_ms = 500;
  int64_t handshake_timeout_ms = 2000;
};

// Counters for the metrics page; monotonic.
struct TransportStats {
  // The caller's frames only, not the handshake's; bytes include each frame's 4-byte length.
  // Sent: when queued; received: when handed to the handler.
  uint64_t frames_sent = 0, frames_received = 0;
  uint64_t bytes_sent = 0, bytes_received = 0;
  uint64_t connects = 0;       // outgoing connections established and authenticated
  uint64_t accepts = 0;        // incoming connections authenticated
  uint64_t auth_failures = 0;  // a wrong proof, or a handshake out of order
  uint64_t handshake_timeouts = 0;
  uint64_t malformed_frames = 0;  // a handshake message that does not parse
  uint64_t oversized_frames = 0;  // a length above the limit
  uint64_t send_queue_overflows = 0;
  uint64_t sends_dropped = 0;    // SendToPeer while not connected
  uint64_t accepts_refused = 0;  // accepted and closed at once: too many handshakes under way
};

class TransportHandler {
 public:
  virtual ~TransportHandler() = default;
  // A frame from authenticated peer `peer_id` (the id its proof covered).
  virtual void OnPeerFrame(uint32_t peer_id, std::string_view payload) = 0;
  // A frame from an authenticated client connection.
  virtual void OnClientFrame(ConnectionId connection, std::string_view payload) = 0;
  // An authenticated client connection ended: the client hung up, or an error or a bad frame
  // closed it. Not called for CloseClient() or Shutdown(): the caller knows about those.
  virtual void OnClientClosed(ConnectionId /*connection*/) {}
  // The dialed connection to `peer_id` is authenticated (again): frames queued before it are
  // gone, the caller may want to resend state (a heartbeat is enough for paxos).
  virtual void OnPeerConnected(uint32_t /*peer_id*/) {}
};

class Transport {
 public:
  // `log` receives one line per notable event (a connection lost, a rejection), for the node's
  // structured log; may be empty.
  Transport(uv_loop_t* loop, TransportOptions options, TransportHandler* handler,
            std::function<void(std::string_view line)> log = {});
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // "host:port" (IPv4 or IPv6 literal, or "localhost"); port 0 picks a free one (see
  // listen_port()). Errors: unparsable address, bind or listen failure.
  Status Listen(const std::string& address);
  uint16_t listen_port() const;

  // Starts dialing `address` for peer `peer_id`, and keeps it connected (reconnects with back-off).
  Status AddPeer(uint32_t peer_id, const std::string& address);

  // Queues a frame to the peer; false (and counted) if its connection is not authenticated yet,
  // or the frame is over the limit. A queue overflow closes the connection (counted) and
  // returns false.
  bool SendToPeer(uint32_t peer_id, std::string_view payload);
  bool SendToClient(ConnectionId connection, std::string_view payload);
  void CloseClient(ConnectionId connection);

  // Whether the dialed connection to `peer_id` is authenticated now.
  bool PeerConnected(uint32_t peer_id) const;

  // Closes every connection and the listener; the loop can then run to its end.
  void Shutdown();

  const TransportStats& stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace paxcron::transport
