// Conversions between the core's Ballot and its Protobuf form.
#pragma once

#include "paxos/paxos.pb.h"
#include "paxos/types.h"

namespace paxcron::paxos {

Ballot FromProto(const pb::Ballot& b);
pb::Ballot ToProto(const Ballot& b);

}  // namespace paxcron::paxos
