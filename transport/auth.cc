#include "transport/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "common/assert.h"
#include "common/little_endian.h"

namespace paxcron::transport {
namespace {

// The bytes under the HMAC: the context and a NUL, then fixed-length fields only.
std::string ProofMessage(const ProofInput& input) {
  PAXCRON_ASSERT(input.dialer_nonce.size() == kNonceBytes);
  PAXCRON_ASSERT(input.acceptor_nonce.size() == kNonceBytes);
  std::string message(kAuthContext);
  message.push_back('\0');
  message.push_back(static_cast<char>(input.side));
  PutLittleEndian(static_cast<uint32_t>(input.role), message);
  PutLittleEndian(input.prover_id, message);
  message.append(input.dialer_nonce);
  message.append(input.acceptor_nonce);
  return message;
}

}  // namespace

std::string ComputeProof(std::string_view secret, const ProofInput& input) {
  const std::string message = ProofMessage(input);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  const unsigned char* result = HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), digest, &digest_len);
  // HMAC-SHA256 over memory cannot fail short of a broken libcrypto.
  PAXCRON_ASSERT(result != nullptr);
  PAXCRON_ASSERT(digest_len == kProofBytes);
  return std::string(reinterpret_cast<const char*>(digest), digest_len);
}

bool CheckProof(std::string_view secret, const ProofInput& input, std::string_view proof) {
  if (proof.size() != kProofBytes) return false;
  if (input.dialer_nonce.size() != kNonceBytes || input.acceptor_nonce.size() != kNonceBytes) {
    return false;
  }
  const std::string expected = ComputeProof(secret, input);
  // Constant time: how long a comparison takes must not tell an attacker how many bytes matched.
  return CRYPTO_memcmp(expected.data(), proof.data(), kProofBytes) == 0;
}

std::string NewNonce() {
  std::string nonce(kNonceBytes, '\0');
  // OpenSSL's generator seeds itself from getrandom(); a failure means the machine has no
  // entropy source at all, and no connection could be authenticated safely.
  const int ok = RAND_bytes(reinterpret_cast<unsigned char*>(nonce.data()), kNonceBytes);
  PAXCRON_ASSERT(ok == 1);
  return nonce;
}

}  // namespace paxcron::transport
