#include "transport/handshake.h"

#include <utility>

namespace paxcron::transport {
namespace {

using Outcome = HandshakeStep::Outcome;

HandshakeStep Fail(Outcome outcome, std::string error, std::string reply = {}) {
  HandshakeStep step;
  step.outcome = outcome;
  step.error = std::move(error);
  step.reply = std::move(reply);
  return step;
}

std::string Serialize(const pb::Handshake& message) {
  std::string bytes;
  const bool serialized = message.SerializeToString(&bytes);
  PAXCRON_ASSERT(serialized);  // only fails for messages over 2 GiB
  return bytes;
}

Status CheckLength(std::string_view what, const std::string& bytes, size_t want) {
  if (bytes.size() == want) return Status::Ok();
  return Status::Error(std::string(what) + " is " + std::to_string(bytes.size()) + " bytes, not " +
                       std::to_string(want));
}

Status CheckHello(const pb::Hello& hello) {
  if (hello.role() == pb::PEER && hello.node_id() == 0) {
    return Status::Error("Hello from a peer without a node id");
  }
  if (hello.role() == pb::CLIENT && hello.node_id() != 0) {
    return Status::Error("Hello from a client with node id " + std::to_string(hello.node_id()));
  }
  if (hello.role() != pb::PEER && hello.role() != pb::CLIENT) {
    return Status::Error("Hello with unknown role " + std::to_string(hello.role()));
  }
  return CheckLength("Hello's nonce", hello.nonce(), kNonceBytes);
}

Status CheckChallenge(const pb::Challenge& challenge) {
  if (challenge.node_id() == 0) return Status::Error("Challenge without a node id");
  Status nonce = CheckLength("Challenge's nonce", challenge.nonce(), kNonceBytes);
  if (!nonce.ok()) return nonce;
  return CheckLength("Challenge's proof", challenge.proof(), kProofBytes);
}

Status CheckShape(const pb::Handshake& message) {
  switch (message.kind_case()) {
    case pb::Handshake::kHello:
      return CheckHello(message.hello());
    case pb::Handshake::kChallenge:
      return CheckChallenge(message.challenge());
    case pb::Handshake::kProof:
      // Empty: the dialer's refusal of our Challenge.
      if (message.proof().proof().empty()) return Status::Ok();
      return CheckLength("Proof", message.proof().proof(), kProofBytes);
    case pb::Handshake::KIND_NOT_SET:
      break;
  }
  return Status::Error("a handshake frame holding no known message");
}

}  // namespace

Result<pb::Handshake> ParseHandshake(std::string_view frame) {
  pb::Handshake message;
  if (!message.ParseFromArray(frame.data(), static_cast<int>(frame.size()))) {
    return Status::Error("a handshake frame that does not parse (" + std::to_string(frame.size()) +
                         " bytes)");
  }
  Status shape = CheckShape(message);
  if (!shape.ok()) return shape;
  return message;
}

AcceptorHandshake::AcceptorHandshake(std::string secret, uint32_t self_id, std::string nonce)
    : secret_(std::move(secret)), self_id_(self_id), nonce_(std::move(nonce)) {
  PAXCRON_ASSERT(nonce_.size() == kNonceBytes);
  PAXCRON_ASSERT(self_id_ != 0);
}

HandshakeStep AcceptorHandshake::OnFrame(std::string_view frame) {
  PAXCRON_ASSERT(state_ != State::kDone);
  Result<pb::Handshake> message = ParseHandshake(frame);
  if (!message.ok()) return Fail(Outcome::kMalformed, message.status().message());
  const pb::Handshake& m = message.value();
  if (state_ == State::kAwaitHello && m.has_hello()) return OnHello(m.hello());
  if (state_ == State::kAwaitProof && m.has_proof()) return OnProof(m.proof());
  return Fail(Outcome::kAuthFailure,
              "handshake message out of order (expected " +
                  std::string(state_ == State::kAwaitHello ? "Hello" : "Proof") + ")");
}

HandshakeStep AcceptorHandshake::OnHello(const pb::Hello& hello) {
  role_ = hello.role();
  dialer_id_ = hello.node_id();
  dialer_nonce_ = hello.nonce();
  pb::Handshake reply;
  pb::Challenge& challenge = *reply.mutable_challenge();
  challenge.set_node_id(self_id_);
  challenge.set_nonce(nonce_);
  challenge.set_proof(
      ComputeProof(secret_, {Side::kAcceptor, role_, self_id_, dialer_nonce_, nonce_}));
  state_ = State::kAwaitProof;
  HandshakeStep step;
  step.reply = Serialize(reply);
  return step;
}

HandshakeStep AcceptorHandshake::OnProof(const pb::Proof& proof) {
  const std::string who = role_ == pb::PEER ? "peer " + std::to_string(dialer_id_) : "client";
  if (proof.proof().empty()) {
    return Fail(Outcome::kAuthFailure, who + " refused our proof: the secrets differ");
  }
  if (!CheckProof(secret_, {Side::kDialer, role_, dialer_id_, dialer_nonce_, nonce_},
                  proof.proof())) {
    return Fail(Outcome::kAuthFailure, "wrong proof from " + who);
  }
  state_ = State::kDone;
  HandshakeStep step;
  step.outcome = Outcome::kAuthenticated;
  return step;
}

DialerHandshake::DialerHandshake(std::string secret, pb::Role role, uint32_t self_id,
                                 uint32_t expected_acceptor_id, std::string nonce)
    : secret_(std::move(secret)),
      role_(role),
      self_id_(self_id),
      expected_acceptor_id_(expected_acceptor_id),
      nonce_(std::move(nonce)) {
  PAXCRON_ASSERT(nonce_.size() == kNonceBytes);
  PAXCRON_ASSERT(role_ == pb::PEER || role_ == pb::CLIENT);
  PAXCRON_ASSERT((role_ == pb::CLIENT) == (self_id_ == 0));
}

std::string DialerHandshake::Hello() const {
  pb::Handshake message;
  pb::Hello& hello = *message.mutable_hello();
  hello.set_role(role_);
  hello.set_node_id(self_id_);
  hello.set_nonce(nonce_);
  return Serialize(message);
}

HandshakeStep DialerHandshake::OnFrame(std::string_view frame) {
  PAXCRON_ASSERT(!done_);
  Result<pb::Handshake> message = ParseHandshake(frame);
  if (!message.ok()) return Fail(Outcome::kMalformed, message.status().message());
  if (!message.value().has_challenge()) {
    return Fail(Outcome::kAuthFailure, "handshake message out of order (expected Challenge)");
  }
  const pb::Challenge& challenge = message.value().challenge();
  acceptor_id_ = challenge.node_id();
  if (expected_acceptor_id_ != 0 && acceptor_id_ != expected_acceptor_id_) {
    return Fail(Outcome::kAuthFailure, "reached node " + std::to_string(acceptor_id_) +
                                           ", not node " + std::to_string(expected_acceptor_id_));
  }
  pb::Handshake reply;
  if (!CheckProof(secret_, {Side::kAcceptor, role_, acceptor_id_, nonce_, challenge.nonce()},
                  challenge.proof())) {
    reply.mutable_proof();  // empty: we refuse
    return Fail(Outcome::kAuthFailure,
                "node " + std::to_string(acceptor_id_) + "'s proof is wrong: the secrets differ",
                Serialize(reply));
  }
  reply.mutable_proof()->set_proof(
      ComputeProof(secret_, {Side::kDialer, role_, self_id_, nonce_, challenge.nonce()}));
  done_ = true;
  HandshakeStep step;
  step.outcome = Outcome::kAuthenticated;
  step.reply = Serialize(reply);
  return step;
}

}  // namespace paxcron::transport
