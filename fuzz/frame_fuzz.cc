// libFuzzer target: arbitrary bytes from the network, into the frame decoder and both halves of
// the handshake, exactly as a connection would take them before it is authenticated. Nothing may
// crash, trip an assertion, leak or read out of bounds; oversized lengths and garbage must come
// back as errors. Run it with scripts/fuzz.sh.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/assert.h"
#include "transport/frame.h"
#include "transport/handshake.h"
#include "transport/transport.h"

namespace {

using paxcron::transport::AcceptorHandshake;
using paxcron::transport::DialerHandshake;
using paxcron::transport::FrameDecoder;
using paxcron::transport::HandshakeStep;
using paxcron::transport::kHandshakeFrameMax;
using paxcron::transport::kNonceBytes;

const std::string kSecret = "fuzzing-secret-0123456789";

// Feeds `bytes` in pieces whose sizes come from the input itself, so the fuzzer explores splits;
// hands every handshake-sized frame to both handshakes, as an accepted and a dialed connection
// would before they are authenticated.
void Decode(std::string_view split_sizes, std::string_view bytes) {
  FrameDecoder decoder(64 * 1024);
  AcceptorHandshake acceptor(kSecret, 1, std::string(kNonceBytes, 'a'));
  DialerHandshake dialer(kSecret, paxcron::transport::pb::PEER, 2, 1,
                         std::string(kNonceBytes, 'd'));
  bool acceptor_open = true, dialer_open = true;
  size_t i = 0, pos = 0;
  while (pos < bytes.size()) {
    const size_t take = 1 + (i < split_sizes.size() ? static_cast<uint8_t>(split_sizes[i]) : 255);
    ++i;
    if (!decoder.Feed(bytes.substr(pos, take)).ok()) return;
    pos += std::min(take, bytes.size() - pos);
    while (auto frame = decoder.Next()) {
      PAXCRON_ASSERT(frame->size() <= 64 * 1024);
      if (frame->size() > kHandshakeFrameMax) continue;
      if (acceptor_open) {
        const HandshakeStep step = acceptor.OnFrame(*frame);
        acceptor_open = step.outcome == HandshakeStep::Outcome::kContinue;
      }
      if (dialer_open) {
        const HandshakeStep step = dialer.OnFrame(*frame);
        // Nobody without the secret can make the dialer accept the other side.
        PAXCRON_ASSERT(step.outcome != HandshakeStep::Outcome::kAuthenticated);
        dialer_open = false;
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // The first byte says how many of the next bytes are piece sizes; the rest is the stream.
  if (!input.empty()) {
    const size_t sizes = std::min<size_t>(static_cast<uint8_t>(input[0]) % 16, input.size() - 1);
    Decode(input.substr(1, sizes), input.substr(1 + sizes));
  }
  // And the whole input as one handshake frame, the way the parser meets most garbage.
  (void)paxcron::transport::ParseHandshake(input);
  return 0;
}
