#include "transport/frame.h"

#include <limits>

#include "common/little_endian.h"

namespace paxcron::transport {

void AppendFrame(std::string_view payload, std::string& out) {
  PAXCRON_ASSERT(payload.size() <= std::numeric_limits<uint32_t>::max());
  PutLittleEndian(static_cast<uint32_t>(payload.size()), out);
  out.append(payload);
}

std::optional<uint32_t> PeekFrameLength(std::string_view bytes) {
  if (bytes.size() < kFrameHeaderBytes) return std::nullopt;
  return GetLittleEndian<uint32_t>(bytes);
}

Status OversizedFrame(uint64_t length, uint32_t max_frame_bytes) {
  return Status::Error("frame of " + std::to_string(length) + " bytes is over the limit of " +
                       std::to_string(max_frame_bytes));
}

Status FrameDecoder::Feed(std::string_view bytes) {
  if (failed_) return Status::Error("the stream already failed");
  buffer_.append(bytes);
  // Checks every header now in the buffer, not only the next one, so that an oversized frame is
  // refused before any of its payload piles up behind frames the caller has yet to take.
  while (auto length = PeekFrameLength(std::string_view(buffer_).substr(scan_pos_))) {
    if (*length > max_frame_bytes_) {
      failed_ = true;
      return OversizedFrame(*length, max_frame_bytes_);
    }
    if (buffer_.size() - scan_pos_ < kFrameHeaderBytes + *length) break;
    scan_pos_ += kFrameHeaderBytes + *length;
  }
  return Status::Ok();
}

std::optional<std::string> FrameDecoder::Next() {
  if (failed_) return std::nullopt;
  const std::optional<uint32_t> length = PeekLength();
  if (!length || buffered_bytes() < kFrameHeaderBytes + *length) return std::nullopt;
  PAXCRON_ASSERT(*length <= max_frame_bytes_);  // Feed checked it
  std::string payload = buffer_.substr(read_pos_ + kFrameHeaderBytes, *length);
  read_pos_ += kFrameHeaderBytes + *length;
  PAXCRON_ASSERT(read_pos_ <= scan_pos_);
  // Drops the consumed prefix once it is at least half the buffer: amortized linear copying.
  if (read_pos_ * 2 >= buffer_.size()) {
    buffer_.erase(0, read_pos_);
    scan_pos_ -= read_pos_;
    read_pos_ = 0;
  }
  return payload;
}

std::optional<uint32_t> FrameDecoder::PeekLength() const {
  return PeekFrameLength(std::string_view(buffer_).substr(read_pos_));
}

}  // namespace paxcron::transport
