// The two halves of the transport's handshake as pure state machines (transport.h describes the
// exchange: Hello, Challenge, Proof). They take frames' payloads and give back what to send, so the
// libuv transport and the blocking client run the same code, and tests and the fuzzer can drive it
// without sockets. Nonces come in from the caller. Thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "transport/auth.h"
#include "transport/transport.pb.h"

namespace paxcron::transport {

// A handshake frame parsed and checked for shape: exactly one message; nonces and proofs of the
// right length; a known role; a node id for a peer and none for a client. Errors say what is wrong.
Result<pb::Handshake> ParseHandshake(std::string_view frame);

struct HandshakeStep {
  enum class Outcome {
    kContinue,       // send `reply` (if any) and wait for the next frame
    kAuthenticated,  // send `reply` (if any); the other side is authenticated
    kMalformed,      // a frame that is not a well-formed handshake message: close
    kAuthFailure,    // a wrong proof, an unexpected id or a message out of order: send `reply`
                     // (if any), then close
  };
  Outcome outcome = Outcome::kContinue;
  std::string reply;  // a frame payload to send
  std::string error;  // what failed, for the log (not naming the address: the caller knows it)
};

// The side that accepted the connection: Hello in, Challenge out, Proof in.
class AcceptorHandshake {
 public:
  // REQUIRES: nonce.size() == kNonceBytes.
  AcceptorHandshake(std::string secret, uint32_t self_id, std::string nonce);

  HandshakeStep OnFrame(std::string_view frame);

  // Who dialed, once a Hello was read: PEER with its node id, or CLIENT with 0.
  pb::Role role() const { return role_; }
  uint32_t dialer_id() const { return dialer_id_; }

 private:
  HandshakeStep OnHello(const pb::Hello& hello);
  HandshakeStep OnProof(const pb::Proof& proof);

  enum class State { kAwaitHello, kAwaitProof, kDone };
  const std::string secret_;
  const uint32_t self_id_;
  const std::string nonce_;
  State state_ = State::kAwaitHello;
  pb::Role role_ = pb::ROLE_UNSPECIFIED;
  uint32_t dialer_id_ = 0;
  std::string dialer_nonce_;
};

// The side that dialed: Hello out, Challenge in, Proof out.
class DialerHandshake {
 public:
  // `expected_acceptor_id`: the node the caller means to reach, or 0 for any (a client).
  // REQUIRES: nonce.size() == kNonceBytes; self_id is 0 exactly for a client.
  DialerHandshake(std::string secret, pb::Role role, uint32_t self_id,
                  uint32_t expected_acceptor_id, std::string nonce);

  // The first frame to send.
  std::string Hello() const;
  // Takes the Challenge. Authenticated: `reply` is the Proof to send. A Challenge whose proof
  // fails gives kAuthFailure with an empty Proof as `reply`, which tells the acceptor the secrets
  // differ without proving anything.
  HandshakeStep OnFrame(std::string_view frame);

  uint32_t acceptor_id() const { return acceptor_id_; }

 private:
  const std::string secret_;
  const pb::Role role_;
  const uint32_t self_id_;
  const uint32_t expected_acceptor_id_;
  const std::string nonce_;
  bool done_ = false;
  uint32_t acceptor_id_ = 0;
};

}  // namespace paxcron::transport
