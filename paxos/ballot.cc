#include "paxos/ballot.h"

namespace paxcron::paxos {

Ballot FromProto(const pb::Ballot& b) { return Ballot{b.round(), NodeId(b.node())}; }

pb::Ballot ToProto(const Ballot& b) {
  pb::Ballot out;
  out.set_round(b.round);
  out.set_node(b.node.value);
  return out;
}

}  // namespace paxcron::paxos
