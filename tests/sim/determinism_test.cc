// Same seed, same build: byte-identical trace. Different seeds: different runs. And the trace
// holds every event kind sim/TRACE.md promises.
#include <gtest/gtest.h>

#include "sim/report.h"

namespace paxcron::sim {
namespace {

SimOptions AllFaults(uint64_t seed, int64_t duration_us) {
  SimOptions o;
  o.seed = seed;
  o.nodes = 5;
  o.duration_us = duration_us;
  o.faults = ParseFaults("all").value();
  o.faults_text = "all";
  return o;
}

std::string TraceOf(const SimOptions& o) {
  Trace trace;
  trace.CaptureInMemory();
  const RunResult r = RunSeed(o, &trace);
  EXPECT_TRUE(r.ok) << FormatResultLine(r);
  return trace.captured();
}

TEST(Determinism, SameSeedGivesAByteIdenticalTrace) {
  const SimOptions o = AllFaults(7, 30'000'000);
  const std::string first = TraceOf(o);
  const std::string second = TraceOf(o);
  ASSERT_GT(first.size(), 100'000u);
  EXPECT_TRUE(first == second) << "traces differ in size " << first.size() << " vs "
                               << second.size();
  EXPECT_NE(first, TraceOf(AllFaults(8, 30'000'000)));
}

TEST(Determinism, FastPaxosRunsAreByteIdenticalTooAndTraceTheirEvents) {
  SimOptions o = AllFaults(5, 30'000'000);
  o.mode = paxos::Mode::kFast;
  const std::string first = TraceOf(o);
  EXPECT_TRUE(first == TraceOf(o));
  for (const char* ev : {"fast_round", "collision", "recovery"}) {
    EXPECT_NE(first.find(std::string("\"ev\":\"") + ev + "\""), std::string::npos) << ev;
  }
  EXPECT_NE(first.find("\"type\":\"fast_propose\""), std::string::npos);
}

TEST(Determinism, TraceHasEveryDocumentedEventKind) {
  const std::string trace = TraceOf(AllFaults(3, 60'000'000));
  for (const char* ev : {"send", "deliver", "drop", "crash", "restart", "partition", "heal",
                         "chosen", "lease_start", "lease_end", "role", "propose", "net"}) {
    EXPECT_NE(trace.find(std::string("\"ev\":\"") + ev + "\""), std::string::npos) << ev;
  }
  // Every line has t, node and ev, in that order.
  size_t lines = 0;
  for (size_t at = 0; at < trace.size(); at = trace.find('\n', at) + 1) {
    ASSERT_EQ(trace.compare(at, 5, "{\"t\":"), 0) << trace.substr(at, 80);
    const size_t node = trace.find(",\"node\":", at);
    const size_t ev = trace.find(",\"ev\":\"", at);
    ASSERT_LT(node, ev);
    ASSERT_LT(ev, trace.find('\n', at));
    ++lines;
  }
  EXPECT_GT(lines, 1000u);
}

}  // namespace
}  // namespace paxcron::sim
