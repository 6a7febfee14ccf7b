// The timeline page's C++ side: reading trace lines back, the down-sampling of messages, the
// plain-words explanation of a violation, the sweep's progress line, and byte-identical pages.
#include "sim/timeline.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "sim/explain.h"
#include "sim/html_report.h"
#include "sim/progress.h"
#include "sim/report.h"
#include "sim/trace_line.h"

namespace paxcron::sim {
namespace {

TEST(TraceLine, ReadsBackWhatTheTraceWrites) {
  std::optional<TraceLine> l = ParseTraceLine(
      R"({"t":12,"node":null,"ev":"partition","kind":"halves","pivot":3,"blocked":[[1,2],[2,1]],)"
      R"("note":"a \"quoted\" \\ word"})");
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->t_us, 12);
  EXPECT_EQ(l->node, 0u);
  EXPECT_EQ(l->ev, "partition");
  EXPECT_EQ(l->Str("kind"), "halves");
  EXPECT_EQ(l->Int("pivot"), 3);
  EXPECT_EQ(l->Raw("blocked"), "[[1,2],[2,1]]");
  EXPECT_EQ(l->Str("note"), "a \"quoted\" \\ word");
  EXPECT_EQ(l->Raw("absent"), "");
  EXPECT_FALSE(ParseTraceLine("not json").has_value());
  EXPECT_FALSE(ParseTraceLine(R"({"t":1,"ev":"crash"})").has_value());  // no "node"
}

std::string Send(int64_t t, uint64_t id, uint32_t from, uint32_t to, const char* type) {
  return fmt::format(R"({{"t":{},"node":{},"ev":"send","id":{},"to":{},"type":"{}"}})", t, from, id,
                     to, type);
}

TEST(Timeline, DownSamplesMessagesPerWindowAndKeepsTheLastOnes) {
  TimelineLimits lim;
  lim.sample_buckets = 10;  // windows of 100 us over a span of 1000 us
  lim.messages_per_bucket = 2;
  lim.heartbeats_per_bucket = 1;
  lim.recent_max = 5;
  lim.density_buckets = 10;
  Timeline t(3, 1000, lim);
  // 10 messages and 10 heartbeats in each window of 100 us: 200 in all.
  uint64_t id = 0;
  for (int64_t at = 0; at < 1000; at += 5) {
    ++id;
    t.OnLine(Send(at, id, 1, 2, id % 2 == 0 ? "heartbeat" : "accept"));
    t.OnLine(fmt::format(R"({{"t":{},"node":2,"ev":"deliver","id":{},"from":1}})", at + 1, id));
  }
  t.OnLine(R"({"t":1000,"node":1,"ev":"crash"})");
  t.Finish();
  EXPECT_EQ(t.messages_total(), 200u);
  EXPECT_EQ(t.crashes(), 1u);
  // The last 5 are all kept; before them, at most 2 messages and 1 heartbeat per window.
  const auto& kept = t.messages();
  ASSERT_GE(kept.size(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(kept[kept.size() - 5 + i].id, 196 + i);
  EXPECT_LE(kept.size(), 10 * 3 + 5u);
  EXPECT_GE(kept.size(), 9 * 3 + 5u);
  for (const TimelineMessage& m : kept) {
    EXPECT_EQ(m.deliver_us, m.send_us + 1) << m.id;
    EXPECT_EQ(m.deliveries, 1);
  }
  // The density bands count every message, kept or not.
  uint64_t counted = 0;
  for (uint32_t c : t.density()) counted += c;
  EXPECT_EQ(counted, 200u);
  EXPECT_EQ(t.events().size(), 1u);
  EXPECT_EQ(t.cut_by_cap(), 0u);
}

TEST(Timeline, PairsDropsAndSaysWhatTheCapCut) {
  TimelineLimits lim;
  lim.events_max = 7;  // 4 held back for the recent ones, 3 for the rest
  lim.recent_max = 2;
  Timeline t(2, 1'000'000, lim);
  t.OnLine(Send(10, 1, 1, 2, "prepare"));
  t.OnLine(R"({"t":10,"node":1,"ev":"drop","id":1,"reason":"partition"})");
  for (int i = 0; i < 5; ++i) t.OnLine(fmt::format(R"({{"t":{},"node":2,"ev":"crash"}})", 20 + i));
  t.OnLine(R"({"t":30,"node":null,"ev":"violation","checker":"lease","detail":"x"})");
  t.Finish();
  ASSERT_EQ(t.messages().size(), 1u);
  EXPECT_EQ(t.messages()[0].deliver_us, -1);
  EXPECT_EQ(DropReasons()[t.messages()[0].drop], "partition");
  EXPECT_EQ(t.crashes(), 5u);
  EXPECT_EQ(t.events().size(), 4u);  // 3 crashes fit beside the message; the violation always
  EXPECT_EQ(t.cut_by_cap(), 2u);
  EXPECT_EQ(t.events().back().line.ev, "violation");
}

SimOptions AllFaults(uint64_t seed, int64_t duration_us) {
  SimOptions o;
  o.seed = seed;
  o.duration_us = duration_us;
  o.faults = ParseFaults("all").value();
  o.faults_text = "all";
  return o;
}

// Runs `o` with `timeline` reading its trace, as `paxcron sim --html` does.
RunResult RunWithTimeline(const SimOptions& o, Timeline& timeline) {
  Trace trace;
  trace.SetListener([&](std::string_view l) { timeline.OnLine(l); });
  RunResult r = RunSeed(o, &trace);
  timeline.Finish();
  return r;
}

TEST(Explain, LeaseOverlapInPlainWords) {
  const Violation v{"lease", 43868819,
                    "node 3 started a lease (epoch 8707) at t=43868819us while node 2 still held "
                    "its lease (epoch 8450, since t=38865245us, until t=45213578us in true time)"};
  const Explanation e = Explain(v, nullptr);
  EXPECT_NE(e.invariant.find("two nodes both believe they hold the master lease"),
            std::string::npos);
  ASSERT_FALSE(e.lines.empty());
  EXPECT_EQ(e.lines[0],
            "Node 3 started a lease (epoch 8707) at 43.868819 s while node 2's lease (epoch 8450, "
            "since 38.865245 s) ran until 45.213578 s: for 1.344759 s both could act as the only "
            "leader.");
  EXPECT_EQ(e.nodes, (std::vector<uint32_t>{2, 3}));
  ASSERT_EQ(e.marks.size(), 3u);
  EXPECT_EQ(e.marks[0].t_us, 38865245);
  EXPECT_EQ(e.marks[0].node, 2u);
  EXPECT_EQ(e.marks[1].t_us, 43868819);
  EXPECT_EQ(e.marks[1].node, 3u);
  EXPECT_LE(e.window_start_us, 38865245);
  EXPECT_GT(e.window_end_us, v.t_us);
  EXPECT_EQ(FormatExplanation(e).rfind("violated: Lease safety", 0), 0u);
}

TEST(Explain, AgreementAndOtherCheckers) {
  const Explanation a =
      Explain(Violation{"agreement", 4634025,
                        "slot 209: node 4 learned value a3f79e0c746fce0d, but node 2 learned "
                        "9f36834e8b9e2657 at t=2554399us"},
              nullptr);
  EXPECT_EQ(a.lines[0],
            "Slot 209 was learned with two different values: node 2 learned one at 2.554399 s, "
            "then node 4 learned another at 4.634025 s.");
  EXPECT_EQ(a.nodes, (std::vector<uint32_t>{2, 4}));
  ASSERT_EQ(a.marks.size(), 2u);
  EXPECT_EQ(a.marks[0].t_us, 2554399);
  const Explanation d = Explain(
      Violation{"durability", 5'000'000,
                "node 1 had applied slots up to 9 before its crash, but recovered only up to 7: "
                "chosen values were lost"},
      nullptr);
  EXPECT_NE(d.invariant.find("Durability"), std::string::npos);
  EXPECT_NE(d.lines[0].find("At 5.000000 s: node 1 had applied"), std::string::npos);
  EXPECT_EQ(d.nodes, (std::vector<uint32_t>{1}));
  const Explanation l = Explain(Violation{"liveness", 1, "nothing applied"}, nullptr);
  ASSERT_EQ(l.marks.size(), 1u);
  EXPECT_EQ(l.marks[0].node, 0u);  // the world lane
  EXPECT_EQ(Seconds(-1'500'000), "-1.500000 s");
}

TEST(Explain, NamesTheRolesAndMessagesOfARealRun) {
  SimOptions o = AllFaults(4, 30'000'000);
  o.bugs = ParseBug("no-phase1-recovery").value();
  o.bug_name = "no-phase1-recovery";
  Timeline timeline(o.nodes, ExpectedSpanUs(o));
  const RunResult r = RunWithTimeline(o, timeline);
  ASSERT_FALSE(r.ok);
  const Explanation e = Explain(r.violation, &timeline);
  const std::string text = FormatExplanation(e);
  for (uint32_t n : e.nodes) {
    EXPECT_NE(text.find(fmt::format("Node {}: ", n)), std::string::npos) << text;
  }
  EXPECT_NE(text.find("prepare #"), std::string::npos) << text;
  EXPECT_FALSE(e.message_ids.empty());
}

// Fast Paxos runs (--mode fast): their message types are named, not lumped into "other"; fast
// rounds and recoveries are sampled like chosen slots, collisions and fallbacks always kept.
TEST(Timeline, KnowsFastPaxosMessagesAndEvents) {
  TimelineLimits lim;
  lim.sample_buckets = 1;
  lim.frequent_per_bucket = 2;
  lim.recent_max = 1;
  Timeline t(3, 1000, lim);
  uint64_t id = 0;
  for (const char* type : {"any", "fast_propose", "fast_accepted", "fast_query"}) {
    ++id;
    t.OnLine(Send(static_cast<int64_t>(id), id, 1, 2, type));
  }
  for (int i = 0; i < 10; ++i) {
    t.OnLine(fmt::format(R"({{"t":{},"node":1,"ev":"fast_round","from":{},"to":{}}})", 10 + i,
                         i * 8, i * 8 + 7));
    t.OnLine(fmt::format(R"({{"t":{},"node":1,"ev":"recovery","slot":{},"reports":3,"values":2,)"
                         R"("forced":false}})",
                         10 + i, i));
  }
  t.OnLine(R"({"t":30,"node":1,"ev":"collision","slot":4,"reports":4,"values":2})");
  t.OnLine(R"({"t":31,"node":1,"ev":"fast_fallback","slot":5})");
  t.Finish();
  ASSERT_EQ(t.messages().size(), 4u);
  std::vector<std::string> types;
  for (const TimelineMessage& m : t.messages()) types.push_back(MessageTypes()[m.type]);
  EXPECT_EQ(types,
            (std::vector<std::string>{"any", "fast_propose", "fast_accepted", "fast_query"}));
  std::map<std::string, int> kept;
  for (const TimelineEvent& e : t.events()) ++kept[e.line.ev];
  EXPECT_EQ(kept["collision"], 1);
  EXPECT_EQ(kept["fast_fallback"], 1);
  EXPECT_LE(kept["fast_round"] + kept["recovery"], 3);  // 2 sampled, the last one kept
  EXPECT_GE(kept["fast_round"] + kept["recovery"], 1);
}

// A recovery-picks-any run (the classic Fast Paxos bug) renders with its fast traffic named and
// its phase-1 (recovery) messages highlighted by the explanation.
TEST(HtmlReport, FastModePagesNameFastMessages) {
  SimOptions o = AllFaults(2, 60'000'000);
  o.mode = paxos::Mode::kFast;
  o.bugs = ParseBug("recovery-picks-any").value();
  o.bug_name = "recovery-picks-any";
  Timeline timeline(o.nodes, ExpectedSpanUs(o));
  const RunResult r = RunWithTimeline(o, timeline);
  ASSERT_FALSE(r.ok) << "seed 2 with recovery-picks-any no longer fails: pick another";
  std::map<std::string, uint64_t> by_type;
  for (const TimelineMessage& m : timeline.messages()) ++by_type[MessageTypes()[m.type]];
  EXPECT_GT(by_type["fast_propose"], 0u);
  EXPECT_GT(by_type["fast_accepted"], 0u);
  EXPECT_EQ(by_type["other"], 0u);
  const Explanation e = Explain(r.violation, &timeline);
  EXPECT_FALSE(e.message_ids.empty());
}

TEST(Explain, TellsTheStoryOfARunStartedTwice) {
  Timeline t(3, 10'000'000);
  t.OnLine(R"({"t":100,"node":2,"ev":"launch_begin","run":"j@T","epoch":258})");
  t.OnLine(R"({"t":100,"node":2,"ev":"launch_rpc","rpc":1,"op":"launch","run":"j@T","epoch":258})");
  t.OnLine(R"({"t":150,"node":null,"ev":"started","run":"j@T","by":2,"epoch":258})");
  t.OnLine(R"({"t":900,"node":null,"ev":"started","run":"other@T","by":2,"epoch":258})");
  t.OnLine(
      R"({"t":1100,"node":2,"ev":"launch_rpc","rpc":2,"op":"launch","run":"j@T","epoch":258})");
  t.OnLine(R"({"t":1150,"node":null,"ev":"started","run":"j@T","by":2,"epoch":258})");
  t.Finish();
  const Explanation e =
      Explain(Violation{"at-most-once", 1150,
                        "run j@T started 2 times; the latest by node 2 (epoch 258, request sent at "
                        "t=1100us)"},
              &t);
  const std::string text = FormatExplanation(e);
  EXPECT_NE(text.find("What happened to run j@T:\n"
                      "  0.000100 s launch_begin epoch=258 by node 2\n"
                      "  0.000100 s launch_rpc op=launch epoch=258 by node 2\n"
                      "  0.000150 s started epoch=258 by node 2\n"
                      "  0.001100 s launch_rpc op=launch epoch=258 by node 2\n"
                      "  0.001150 s started epoch=258 by node 2\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("other@T"), std::string::npos);
}

TEST(Progress, SaysSeedsFailuresRateAndTimeLeft) {
  EXPECT_EQ(FormatProgress(40, 200, 1, 16.0, 10),
            "[##........] 40/200 seeds, 1 failed, 2.5 seeds/s, 1m04s left");
  EXPECT_EQ(FormatProgress(0, 5, 0, 0.0, 5),
            "[.....] 0/5 seeds, 0 failed, 0.0 seeds/s, time left unknown");
  EXPECT_EQ(FormatProgress(5, 5, 2, 1.0, 5), "[#####] 5/5 seeds, 2 failed, 5.0 seeds/s, 0s left");
}

std::string Page(const SimOptions& o) {
  Timeline timeline(o.nodes, ExpectedSpanUs(o));
  const RunResult r = RunWithTimeline(o, timeline);
  std::optional<Explanation> e;
  if (!r.ok) e = Explain(r.violation, &timeline);
  return RenderTimelineHtml(timeline, o, r, e ? &*e : nullptr);
}

TEST(HtmlReport, SameSeedGivesByteIdenticalPages) {
  SimOptions o = AllFaults(7, 20'000'000);
  const std::string first = Page(o);
  EXPECT_TRUE(first == Page(o)) << "pages differ in size";
  EXPECT_NE(first.find("\"violation\":null"), std::string::npos);
  EXPECT_EQ(first.find("__PAXCRON_TIMELINE_DATA__"), std::string::npos);
  // Self-contained: nothing fetched from elsewhere, and one script element.
  EXPECT_EQ(first.find("src="), std::string::npos);
  EXPECT_EQ(first.find("http://"), first.find("http://www.w3.org/2000/svg"));
  EXPECT_EQ(first.find("https://"), std::string::npos);
  size_t scripts = 0;
  for (size_t at = first.find("</script"); at != std::string::npos;
       at = first.find("</script", at + 1)) {
    ++scripts;
  }
  EXPECT_EQ(scripts, 1u);
  o.seed = 8;
  EXPECT_NE(first, Page(o));
}

TEST(HtmlReport, SummaryLineSaysWhatWasDrawnAndCut) {
  TimelineLimits lim;
  lim.events_max = 2;  // all held back for the recent ones
  lim.recent_max = 1;
  Timeline t(2, 1000, lim);
  t.OnLine(R"({"t":1,"node":1,"ev":"crash"})");
  t.OnLine(R"({"t":2,"node":1,"ev":"restart"})");
  t.OnLine(Send(3, 1, 1, 2, "accept"));
  t.Finish();
  EXPECT_EQ(HtmlSummaryLine("t.html", 123, t),
            "html: t.html (123 bytes, 0 events, 1 messages drawn of 1); the cap of 2 embedded "
            "events cut 2 more");
}

}  // namespace
}  // namespace paxcron::sim
