// Encoding of a simulated node's snapshot: a NodeSnapshot message behind an 8-byte digest of it,
// so that a receiver (or a restart) detects damaged bytes before loading anything.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "sim/sim.pb.h"

namespace paxcron::sim {

std::string EncodeNodeSnapshot(const pb::NodeSnapshot& snapshot);
// The digest an encoded snapshot starts with (REQUIRES: bytes from EncodeNodeSnapshot).
uint64_t NodeSnapshotDigest(std::string_view bytes);
// Errors: too short, digest mismatch, or not a NodeSnapshot.
Result<pb::NodeSnapshot> DecodeNodeSnapshot(std::string_view bytes);

}  // namespace paxcron::sim
