#include "sim/node_snapshot.h"

#include <fmt/format.h>

#include "common/assert.h"
#include "common/hash.h"

namespace paxcron::sim {
namespace {

constexpr size_t kDigestBytes = 8;

}  // namespace

std::string EncodeNodeSnapshot(const pb::NodeSnapshot& snapshot) {
  const std::string body = snapshot.SerializeAsString();
  const uint64_t digest = HashBytes(body);
  std::string out(kDigestBytes, '\0');
  for (size_t i = 0; i < kDigestBytes; ++i) out[i] = static_cast<char>(digest >> (8 * i));
  out += body;
  return out;
}

uint64_t NodeSnapshotDigest(std::string_view bytes) {
  PAXCRON_ASSERT(bytes.size() >= kDigestBytes);
  uint64_t digest = 0;
  for (size_t i = 0; i < kDigestBytes; ++i) {
    digest |= uint64_t{static_cast<uint8_t>(bytes[i])} << (8 * i);
  }
  return digest;
}

Result<pb::NodeSnapshot> DecodeNodeSnapshot(std::string_view bytes) {
  if (bytes.size() < kDigestBytes) {
    return Status::Error(fmt::format("snapshot: {} bytes, shorter than its digest", bytes.size()));
  }
  const uint64_t digest = NodeSnapshotDigest(bytes);
  const std::string_view body = bytes.substr(kDigestBytes);
  if (HashBytes(body) != digest) return Status::Error("snapshot: digest mismatch");
  pb::NodeSnapshot snapshot;
  if (!snapshot.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return Status::Error("snapshot: not a NodeSnapshot message");
  }
  return snapshot;
}

}  // namespace paxcron::sim
