#include <gtest/gtest.h>

#include "paxos/config.h"
#include "paxos/types.h"

namespace paxcron::paxos {
namespace {

TEST(Ballot, OrdersByRoundThenNode) {
  const Ballot a{1, NodeId(5)}, b{2, NodeId(1)}, c{2, NodeId(3)};
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_EQ(c, (Ballot{2, NodeId(3)}));
  EXPECT_LT(a.ToEpoch(), b.ToEpoch());
  EXPECT_LT(b.ToEpoch(), c.ToEpoch());
}

TEST(Quorum, MajorityAndTheSmallQuorumBug) {
  Bugs none, small;
  small.small_quorum = true;
  EXPECT_EQ(QuorumSize(3, none), 2u);
  EXPECT_EQ(QuorumSize(5, none), 3u);
  EXPECT_EQ(QuorumSize(7, none), 4u);
  EXPECT_EQ(QuorumSize(4, none), 3u);
  EXPECT_EQ(QuorumSize(5, small), 2u);
  // Any two majorities intersect: 2q > n.
  for (uint32_t n = 1; n <= 9; ++n) EXPECT_GT(2 * QuorumSize(n, none), n);
  EXPECT_LE(2 * QuorumSize(4, small), 4u);
}

}  // namespace
}  // namespace paxcron::paxos
