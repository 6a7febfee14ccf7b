// The child processes the Slurm launcher runs off the loop (node/child_process.h): output and
// status come back on the loop, deadlines kill, and the number in flight is bounded.
#include "node/child_process.h"

#include <gtest/gtest.h>
#include <uv.h>

#include <optional>
#include <vector>

namespace paxcron::node {
namespace {

// A loop per test, run until every handle is closed, and closed cleanly at the end.
class ChildRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override { uv_loop_init(&loop_); }
  void TearDown() override {
    uv_run(&loop_, UV_RUN_DEFAULT);
    EXPECT_EQ(uv_loop_close(&loop_), 0);
  }
  uv_loop_t loop_;
};

TEST_F(ChildRunnerTest, OutputAndStatus) {
  std::optional<ChildResult> got;
  {
    ChildRunner runner(&loop_, 2, 4);
    ASSERT_TRUE(runner.Run({"sh", "-c", "echo out; echo err >&2; echo $PAXCRON_X; exit 3"},
                           {"PAXCRON_X=x1"}, 5000, [&](ChildResult r) { got = std::move(r); }));
    uv_run(&loop_, UV_RUN_DEFAULT);
  }
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->exit_status, 3);
  EXPECT_FALSE(got->timed_out);
  EXPECT_FALSE(got->ok());
  EXPECT_EQ(got->out, "out\nx1\n");
  EXPECT_EQ(got->err, "err\n");
}

TEST_F(ChildRunnerTest, DeadlineKills) {
  std::optional<ChildResult> got;
  const uint64_t t0 = uv_hrtime();
  {
    ChildRunner runner(&loop_, 2, 4);
    ASSERT_TRUE(runner.Run({"sleep", "30"}, {}, 200, [&](ChildResult r) { got = std::move(r); }));
    uv_run(&loop_, UV_RUN_DEFAULT);
  }
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(got->timed_out);
  EXPECT_LT(uv_hrtime() - t0, 3'000'000'000u);
}

TEST_F(ChildRunnerTest, BoundedInFlightAndQueue) {
  std::vector<int64_t> done;
  {
    ChildRunner runner(&loop_, 2, 3);
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(runner.Run({"sh", "-c", "exit " + std::to_string(i)}, {}, 5000,
                             [&](ChildResult r) { done.push_back(r.exit_status); }));
    }
    EXPECT_EQ(runner.in_flight(), 2u);
    EXPECT_EQ(runner.queued(), 3u);
    EXPECT_FALSE(runner.Run({"true"}, {}, 5000, [](ChildResult) { FAIL(); }));
    uv_run(&loop_, UV_RUN_DEFAULT);
  }
  EXPECT_EQ(done.size(), 5u);
}

TEST_F(ChildRunnerTest, MissingProgramAndDestructionWithChildrenRunning) {
  std::optional<ChildResult> missing;
  bool called = false;
  {
    ChildRunner runner(&loop_, 2, 4);
    ASSERT_TRUE(runner.Run({"/nonexistent/paxcron-sbatch"}, {}, 5000,
                           [&](ChildResult r) { missing = std::move(r); }));
    uv_run(&loop_, UV_RUN_DEFAULT);
    ASSERT_TRUE(runner.Run({"sleep", "30"}, {}, 60000, [&](ChildResult) { called = true; }));
  }  // destroyed with `sleep` running: killed, never reported
  uv_run(&loop_, UV_RUN_DEFAULT);
  ASSERT_TRUE(missing.has_value());
  EXPECT_FALSE(missing->ok());  // timeout(1) exits 127 when it cannot run the program
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace paxcron::node
