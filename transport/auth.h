// The proofs of the transport's handshake (transport.h, handshake.h): HMAC-SHA256 with the cluster
// secret over a context string, which side proves, the dialer's role, the prover's node id and both
// nonces. Pure apart from NewNonce(). Thread-safe.
//
// What each input is for: the fresh nonces of both sides make every proof good for one connection
// only (no replay); the side byte makes an acceptor's proof useless as a dialer's (no reflection of
// a Challenge back as a Proof); the role keeps a client's proof from passing for a peer's, and the
// prover's id keeps one node from posing as another. The fields after the context are of fixed
// length, so no two different inputs give the same bytes to the HMAC.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "transport/transport.pb.h"

namespace paxcron::transport {

constexpr size_t kNonceBytes = 32;
constexpr size_t kProofBytes = 32;  // SHA-256
constexpr size_t kSecretMinBytes = 16;
constexpr std::string_view kAuthContext = "paxcron-auth-v1";

// Who is proving: the side that accepted the connection (in its Challenge) or the side that dialed
// it (in its Proof).
enum class Side : uint8_t { kAcceptor = 1, kDialer = 2 };

struct ProofInput {
  Side side = Side::kAcceptor;
  pb::Role role = pb::ROLE_UNSPECIFIED;  // the dialer's role, whichever side proves
  uint32_t prover_id = 0;                // the node id of the side proving (0: a client)
  std::string_view dialer_nonce;         // kNonceBytes each
  std::string_view acceptor_nonce;
};

// REQUIRES: both nonces are kNonceBytes long.
std::string ComputeProof(std::string_view secret, const ProofInput& input);

// Whether `proof` is ComputeProof(secret, input), compared in constant time. False for a proof of
// the wrong length or nonces of the wrong length.
bool CheckProof(std::string_view secret, const ProofInput& input, std::string_view proof);

// kNonceBytes from OpenSSL's CSPRNG.
std::string NewNonce();

}  // namespace paxcron::transport
