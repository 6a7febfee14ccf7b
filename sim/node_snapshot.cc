#include "sim/node_snapshot.h"

#include <fmt/format.h>

#include "common/assert.h"
#include "common/hash.h"
#include "common/little_endian.h"

namespace paxcron::sim {
namespace {

constexpr size_t kDigestBytes = 8;

}  // namespace

std::string EncodeNodeSnapshot(const pb::NodeSnapshot& snapshot) {
  const std::string body = snapshot.SerializeAsString();
  const uint64_t digest = HashBytes(body);
  std::string out;
  out.reserve(kDigestBytes + body.size());
  PutLittleEndian(digest, out);
  out += body;
  return out;
}

uint64_t NodeSnapshotDigest(std::string_view bytes) { return GetLittleEndian<uint64_t>(bytes); }

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
