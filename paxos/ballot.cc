#include "paxos/ballot.h"

namespace paxcron::paxos {

Ballot FromProto(const pb::Ballot& b) { return Ballot{b.round(), NodeId(b.node()), b.sub()}; }

pb::Ballot ToProto(const Ballot& b) {
  pb::Ballot out;
  out.set_round(b.round);
  out.set_node(b.node.value);
  if (b.sub != 0) out.set_sub(b.sub);  // zero is not written: Multi-Paxos bytes unchanged
  return out;
}

}  // namespace paxcron::paxos
