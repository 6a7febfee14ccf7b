// Authentication: proofs bind the secret, both nonces, the side, the role and the prover's id; the
// handshake's two halves agree with each other and refuse everything else.
#include "transport/auth.h"

#include <gtest/gtest.h>

#include "transport/handshake.h"

namespace paxcron::transport {
namespace {

using Outcome = HandshakeStep::Outcome;

const std::string kSecret = "the-cluster-secret-0123456789";
const std::string kDialerNonce(kNonceBytes, 'd');
const std::string kAcceptorNonce(kNonceBytes, 'a');

ProofInput DialerInput() { return {Side::kDialer, pb::PEER, 2, kDialerNonce, kAcceptorNonce}; }

TEST(Proof, AGoodProofPasses) {
  const std::string proof = ComputeProof(kSecret, DialerInput());
  EXPECT_EQ(proof.size(), kProofBytes);
  EXPECT_TRUE(CheckProof(kSecret, DialerInput(), proof));
}

TEST(Proof, AWrongSecretFails) {
  const std::string proof = ComputeProof("another-secret-0123456789", DialerInput());
  EXPECT_FALSE(CheckProof(kSecret, DialerInput(), proof));
}

TEST(Proof, SwappedNoncesFail) {
  const std::string proof = ComputeProof(kSecret, DialerInput());
  ProofInput swapped = DialerInput();
  std::swap(swapped.dialer_nonce, swapped.acceptor_nonce);
  EXPECT_FALSE(CheckProof(kSecret, swapped, proof));
}

TEST(Proof, AnotherConnectionsNonceFails) {  // a recorded proof cannot be replayed
  const std::string proof = ComputeProof(kSecret, DialerInput());
  const std::string fresh = NewNonce();
  ProofInput replayed = DialerInput();
  replayed.acceptor_nonce = fresh;
  EXPECT_FALSE(CheckProof(kSecret, replayed, proof));
}

TEST(Proof, AReflectedProofFails) {
  // The acceptor's proof in its Challenge, sent back as the dialer's Proof over the same nonces
  // and claiming the acceptor's id, must not pass.
  ProofInput acceptor = DialerInput();
  acceptor.side = Side::kAcceptor;
  acceptor.prover_id = 1;
  const std::string challenge_proof = ComputeProof(kSecret, acceptor);
  ProofInput reflected = DialerInput();
  reflected.prover_id = 1;
  EXPECT_FALSE(CheckProof(kSecret, reflected, challenge_proof));
}

TEST(Proof, AWrongIdOrRoleFails) {
  const std::string proof = ComputeProof(kSecret, DialerInput());
  ProofInput other_id = DialerInput();
  other_id.prover_id = 3;
  EXPECT_FALSE(CheckProof(kSecret, other_id, proof));
  ProofInput client = DialerInput();
  client.role = pb::CLIENT;
  EXPECT_FALSE(CheckProof(kSecret, client, proof));
}

TEST(Proof, WrongLengthsFailWithoutCrashing) {
  const std::string proof = ComputeProof(kSecret, DialerInput());
  EXPECT_FALSE(CheckProof(kSecret, DialerInput(), proof.substr(1)));
  EXPECT_FALSE(CheckProof(kSecret, DialerInput(), ""));
  ProofInput short_nonce = DialerInput();
  short_nonce.dialer_nonce = "short";
  EXPECT_FALSE(CheckProof(kSecret, short_nonce, proof));
}

TEST(Proof, NoncesAreFreshAndFullLength) {
  const std::string a = NewNonce(), b = NewNonce();
  EXPECT_EQ(a.size(), kNonceBytes);
  EXPECT_NE(a, b);
}

// --- The two halves of the handshake, driven against each other.

struct Exchange {
  HandshakeStep challenge, proof;
};

Exchange RunHandshake(AcceptorHandshake& acceptor, DialerHandshake& dialer) {
  Exchange exchange;
  exchange.challenge = acceptor.OnFrame(dialer.Hello());
  EXPECT_EQ(exchange.challenge.outcome, Outcome::kContinue);
  const HandshakeStep dialer_step = dialer.OnFrame(exchange.challenge.reply);
  exchange.proof = dialer_step;
  if (!dialer_step.reply.empty()) exchange.proof = acceptor.OnFrame(dialer_step.reply);
  return exchange;
}

TEST(Handshake, PeersWithTheSameSecretAuthenticateEachOther) {
  AcceptorHandshake acceptor(kSecret, 1, NewNonce());
  DialerHandshake dialer(kSecret, pb::PEER, 2, /*expected_acceptor_id=*/1, NewNonce());
  EXPECT_EQ(RunHandshake(acceptor, dialer).proof.outcome, Outcome::kAuthenticated);
  EXPECT_EQ(acceptor.role(), pb::PEER);
  EXPECT_EQ(acceptor.dialer_id(), 2u);
  EXPECT_EQ(dialer.acceptor_id(), 1u);
}

TEST(Handshake, AClientAuthenticatesAsAClient) {
  AcceptorHandshake acceptor(kSecret, 1, NewNonce());
  DialerHandshake dialer(kSecret, pb::CLIENT, 0, 0, NewNonce());
  EXPECT_EQ(RunHandshake(acceptor, dialer).proof.outcome, Outcome::kAuthenticated);
  EXPECT_EQ(acceptor.role(), pb::CLIENT);
  EXPECT_EQ(acceptor.dialer_id(), 0u);
}

TEST(Handshake, DifferentSecretsFailOnBothSides) {
  AcceptorHandshake acceptor(kSecret, 1, NewNonce());
  DialerHandshake dialer("not-the-cluster-secret-at-all", pb::PEER, 2, 1, NewNonce());
  const HandshakeStep challenge = acceptor.OnFrame(dialer.Hello());
  const HandshakeStep refused = dialer.OnFrame(challenge.reply);
  EXPECT_EQ(refused.outcome, Outcome::kAuthFailure);
  EXPECT_NE(refused.error.find("secrets differ"), std::string::npos);
  ASSERT_FALSE(refused.reply.empty());  // the empty Proof, so the acceptor counts it too
  const HandshakeStep counted = acceptor.OnFrame(refused.reply);
  EXPECT_EQ(counted.outcome, Outcome::kAuthFailure);
  EXPECT_NE(counted.error.find("peer 2 refused"), std::string::npos);
}

TEST(Handshake, ADialerWithoutTheSecretCannotForgeAProof) {
  AcceptorHandshake acceptor(kSecret, 1, NewNonce());
  DialerHandshake honest(kSecret, pb::PEER, 2, 1, NewNonce());
  (void)acceptor.OnFrame(honest.Hello());
  pb::Handshake forged;
  forged.mutable_proof()->set_proof(std::string(kProofBytes, 'x'));
  const HandshakeStep step = acceptor.OnFrame(forged.SerializeAsString());
  EXPECT_EQ(step.outcome, Outcome::kAuthFailure);
  EXPECT_EQ(step.error, "wrong proof from peer 2");
}

TEST(Handshake, AProofFromAnotherConnectionIsRefused) {
  AcceptorHandshake first(kSecret, 1, NewNonce());
  DialerHandshake dialer(kSecret, pb::PEER, 2, 1, NewNonce());
  const HandshakeStep proof = dialer.OnFrame(first.OnFrame(dialer.Hello()).reply);
  ASSERT_EQ(proof.outcome, Outcome::kAuthenticated);
  // An eavesdropper replays the Hello and the Proof to a second connection: its nonce differs.
  AcceptorHandshake second(kSecret, 1, NewNonce());
  ASSERT_EQ(second.OnFrame(dialer.Hello()).outcome, Outcome::kContinue);
  EXPECT_EQ(second.OnFrame(proof.reply).outcome, Outcome::kAuthFailure);
}

TEST(Handshake, AChallengeReflectedToTheAcceptorIsOutOfOrder) {
  AcceptorHandshake acceptor(kSecret, 1, NewNonce());
  DialerHandshake dialer(kSecret, pb::PEER, 2, 1, NewNonce());
  const HandshakeStep challenge = acceptor.OnFrame(dialer.Hello());
  EXPECT_EQ(acceptor.OnFrame(challenge.reply).outcome, Outcome::kAuthFailure);
}

TEST(Handshake, ReachingTheWrongNodeFails) {
  AcceptorHandshake acceptor(kSecret, 3, NewNonce());
  DialerHandshake dialer(kSecret, pb::PEER, 2, /*expected_acceptor_id=*/1, NewNonce());
  const HandshakeStep step = dialer.OnFrame(acceptor.OnFrame(dialer.Hello()).reply);
  EXPECT_EQ(step.outcome, Outcome::kAuthFailure);
  EXPECT_EQ(step.error, "reached node 3, not node 1");
}

TEST(Handshake, MessagesOutOfOrderAreAuthFailures) {
  AcceptorHandshake acceptor(kSecret, 1, NewNonce());
  pb::Handshake proof_first;
  proof_first.mutable_proof()->set_proof(std::string(kProofBytes, 'p'));
  EXPECT_EQ(acceptor.OnFrame(proof_first.SerializeAsString()).outcome, Outcome::kAuthFailure);
  DialerHandshake dialer(kSecret, pb::PEER, 2, 1, NewNonce());
  EXPECT_EQ(dialer.OnFrame(dialer.Hello()).outcome, Outcome::kAuthFailure);
}

TEST(Handshake, GarbageAndBadShapesAreMalformed) {
  AcceptorHandshake acceptor(kSecret, 1, NewNonce());
  EXPECT_EQ(acceptor.OnFrame("\xff\xff\xff garbage").outcome, Outcome::kMalformed);
  EXPECT_EQ(acceptor.OnFrame("").outcome, Outcome::kMalformed);  // no message in it
  pb::Handshake hello;
  hello.mutable_hello()->set_role(pb::PEER);
  hello.mutable_hello()->set_node_id(2);
  hello.mutable_hello()->set_nonce("short");
  const HandshakeStep short_nonce = acceptor.OnFrame(hello.SerializeAsString());
  EXPECT_EQ(short_nonce.outcome, Outcome::kMalformed);
  EXPECT_EQ(short_nonce.error, "Hello's nonce is 5 bytes, not 32");
  hello.mutable_hello()->set_nonce(kDialerNonce);
  hello.mutable_hello()->set_node_id(0);
  EXPECT_EQ(acceptor.OnFrame(hello.SerializeAsString()).outcome, Outcome::kMalformed);
  hello.mutable_hello()->set_role(pb::CLIENT);
  hello.mutable_hello()->set_node_id(5);
  EXPECT_EQ(acceptor.OnFrame(hello.SerializeAsString()).outcome, Outcome::kMalformed);
  hello.mutable_hello()->set_role(static_cast<pb::Role>(7));
  EXPECT_EQ(acceptor.OnFrame(hello.SerializeAsString()).outcome, Outcome::kMalformed);
}

}  // namespace
}  // namespace paxcron::transport
