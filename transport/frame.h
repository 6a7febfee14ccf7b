// The framing of every message on a transport connection: a 4-byte little-endian payload length,
// then the payload (a serialized Protobuf message, opaque here). Pure: no I/O, no clocks.
// Thread-compatible.
//
// A receiver decodes incrementally, in whatever pieces the network hands it; a length above the
// receiver's limit is an error found as soon as its 4 header bytes are in, before the payload is
// buffered, so a peer cannot make us hold more than one frame of the limit's size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace paxcron::transport {

constexpr size_t kFrameHeaderBytes = 4;

// Appends one framed payload to `out`. REQUIRES: payload.size() <= UINT32_MAX.
void AppendFrame(std::string_view payload, std::string& out);

// The payload length announced by the header at the front of `bytes`, once all 4 header bytes
// are there.
std::optional<uint32_t> PeekFrameLength(std::string_view bytes);

// The error for a frame announced `length` bytes long, over `max_frame_bytes`.
Status OversizedFrame(uint64_t length, uint32_t max_frame_bytes);

// Splits a byte stream into frames. Feed() every piece read, then take frames with Next() until it
// returns nothing. After an error the decoder stays failed: the connection is to be closed.
class FrameDecoder {
 public:
  explicit FrameDecoder(uint32_t max_frame_bytes) : max_frame_bytes_(max_frame_bytes) {}

  // Buffers `bytes`. Errors: a header announcing more than max_frame_bytes (naming the length and
  // the limit), now or earlier.
  Status Feed(std::string_view bytes);

  // The next whole frame's payload, if one is buffered.
  std::optional<std::string> Next();

  // The length announced by the next frame's header, if its 4 bytes are buffered: lets a caller
  // hold a stricter limit for some frames (the handshake's) than the decoder's own.
  std::optional<uint32_t> PeekLength() const;

  size_t buffered_bytes() const { return buffer_.size() - read_pos_; }

 private:
  const uint32_t max_frame_bytes_;
  std::string buffer_;
  size_t read_pos_ = 0;  // where the next frame's header starts
  size_t scan_pos_ = 0;  // the next header not yet checked against the limit
  bool failed_ = false;
};

}  // namespace paxcron::transport
