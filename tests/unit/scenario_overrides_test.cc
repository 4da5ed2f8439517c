// `--set key=value` and the grid of `liveorigin plan` (sim/scenario_overrides.h,
// sim/plan_grid.h): overrides are read by the scenario parser as if they were in the
// file, their errors name the override, and a grid is refused before anything runs.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "sim/plan_grid.h"
#include "sim/runner.h"
#include "sim/scenario.h"
#include "sim/scenario_overrides.h"

namespace liveorigin::sim {
namespace {

namespace fs = std::filesystem;

std::vector<Override> sets(std::initializer_list<const char*> texts) {
  std::vector<Override> out;
  for (const char* t : texts) {
    auto o = parse_override(t);
    EXPECT_TRUE(o) << t << ": " << (o ? "" : o.error().message);
    if (o) out.push_back(*o);
  }
  return out;
}

Scenario parse_ok(const std::string& yaml, const std::vector<Override>& overrides) {
  auto s = parse_scenario(yaml, "t.yaml", overrides);
  EXPECT_TRUE(s) << (s ? "" : s.error().message);
  return s ? *s : Scenario{};
}

std::string parse_error(const std::string& yaml, const std::vector<Override>& overrides) {
  auto s = parse_scenario(yaml, "t.yaml", overrides);
  EXPECT_FALSE(s) << "parsed";
  return s ? std::string() : s.error().message;
}

const char* kScenario = R"(
duration_s: 30
origin:
  store: redis
  model: {instance: {workers: 2}}
cdn:
  tiers:
    shield: {nodes: 2}
    edge: {nodes: 4, parent: shield}
viewers:
  live: {count: 100}
  replay: {behaviour: dvr, count: 10, dvr_offset_s: 20}
pipelines:
  a:
    faults:
      - {kind: outage, at_s: 20, duration_s: 5}
  b: {}
)";

TEST(ScenarioOverrides, AreReadAsIfTheyWereInTheFile) {
  const auto overrides = sets({"viewers.live.count=5000", "origin.instances=3", "cdn.features.hold=false",
                               "cdn.tiers.edge.nodes=10", "duration_s=40", "origin.model.instance.workers=8",
                               "origin.model.store.ops_per_s=2500"});
  const Scenario s = parse_ok(kScenario, overrides);
  EXPECT_EQ(s.viewers.at(0).count, 5000);
  EXPECT_EQ(s.viewers.at(1).count, 10);
  EXPECT_EQ(s.origin.instances, 3);
  EXPECT_FALSE(s.cdn.features.hold);
  EXPECT_EQ(s.cdn.tiers.at(1).nodes, 10);
  EXPECT_EQ(s.cdn.tiers.at(1).parent, "shield");
  EXPECT_EQ(s.duration_s, 40);
  EXPECT_EQ(s.origin.model.instance.workers, 8);
  EXPECT_EQ(s.origin.model.store.ops_per_s, 2500);
  EXPECT_EQ(s.overrides, overrides);
  // The file's text stays what it was: the overrides are recorded beside it.
  EXPECT_EQ(s.source_text, kScenario);
  // The last of two overrides of one key wins, as a later line would.
  EXPECT_EQ(parse_ok(kScenario, sets({"duration_s=40", "duration_s=50"})).duration_s, 50);
}

TEST(ScenarioOverrides, ReachTheDefaultEntriesWhenTheFileHasNone) {
  const Scenario s = parse_ok("", sets({"cdn.tiers.edge.multiplicity=2", "pipelines.b.publish_latency_ms=300",
                                        "viewers.live.count=7", "event.streams.video.bitrate_kbps=900"}));
  ASSERT_EQ(s.cdn.tiers.size(), 1u);
  EXPECT_EQ(s.cdn.tiers[0].nodes, 2);  // the default tier's two nodes, not an explicit tier's one
  EXPECT_EQ(s.cdn.tiers[0].multiplicity, 2);
  ASSERT_EQ(s.pipelines.size(), 2u);
  EXPECT_EQ(s.pipelines[0].id, "a");
  EXPECT_EQ(s.pipelines[1].publish_latency_ms.a, 300);
  ASSERT_EQ(s.viewers.size(), 1u);
  EXPECT_EQ(s.viewers[0].name, "live");
  EXPECT_EQ(s.viewers[0].count, 7);
  EXPECT_EQ(s.event.streams.at(0).bitrate_kbps, 900);
  // A list of ids is short for the map: the entry is reachable and the rank order stays.
  const Scenario l = parse_ok("pipelines: [b, a]\n", sets({"pipelines.a.publish_latency_ms=50"}));
  ASSERT_EQ(l.pipelines.size(), 2u);
  EXPECT_EQ(l.pipelines[0].id, "b");
  EXPECT_EQ(l.pipelines[1].publish_latency_ms.a, 50);
}

TEST(ScenarioOverrides, ErrorsNameTheOverrideAndTheReason) {
  const std::vector<std::pair<std::vector<Override>, std::string>> cases = {
      {sets({"viewers.live.count=abc"}),
       "--set viewers.live.count=abc: t.yaml: viewers.live.count: expected an integer in [1, 100000000], got 'abc'"},
      {sets({"viewers.live.count=0"}),
       "--set viewers.live.count=0: t.yaml: viewers.live.count: expected an integer in [1, 100000000], got '0'"},
      {sets({"origin.model.instance.workers=0"}),
       "--set origin.model.instance.workers=0: t.yaml: origin.model.instance.workers: expected an integer in [1, 4096], "
       "got '0'"},
      {sets({"cdn.features.hold=maybe"}),
       "--set cdn.features.hold=maybe: t.yaml: cdn.features.hold: expected true or false, got 'maybe'"},
      // Unknown keys: the parser's own check, at the end of the path or on the way.
      {sets({"viewers.live.cont=5"}),
       "--set viewers.live.cont=5: t.yaml: viewers.live.cont: unknown key (expected one of: background_ratio, "
       "behaviour, clock_skew_ms, count, dvr_offset_s, invalid_request_ratio, join_at_s, join_ramp_s, leave_at_s, "
       "streams)"},
      {sets({"origin.modle.instance.workers=5"}),
       "--set origin.modle.instance.workers=5: t.yaml: origin.modle: unknown key (expected one of: admin_token, config, "
       "create_event, faults, ingest_token, instances, mode, model, overload, storage_faults, store, threads, url)"},
      {sets({"durations=5"}),
       "--set durations=5: t.yaml: durations: unknown key (expected one of: cdn, description, duration_s, event, gates, "
       "interval_ms, invalidations, markers, name, origin, pipelines, seed, viewers)"},
      // A name the file does not have would add a cohort or a tier: refused.
      {sets({"viewers.fans.count=5"}),
       "--set viewers.fans.count=5: viewers.fans: unknown cohort 'fans' (the scenario's cohorts: live, replay)"},
      {sets({"cdn.tiers.egde.nodes=5"}),
       "--set cdn.tiers.egde.nodes=5: cdn.tiers.egde: unknown tier 'egde' (the scenario's tiers: shield, edge)"},
      // Through a value, or into a list.
      {sets({"duration_s.max=5"}), "--set duration_s.max=5: duration_s: is a value ('30'), not a map of keys"},
      {sets({"pipelines.a.faults.at_s=5"}),
       "--set pipelines.a.faults.at_s=5: pipelines.a.faults: is a list; --set reaches keys of maps only"},
      // A value that is fine in itself but not with the rest of the file.
      {sets({"duration_s=10"}),
       "with --set duration_s=10: t.yaml:16:30: pipelines.a.faults[0].at_s: expected an integer in [0, 9], got '20'"},
  };
  for (const auto& [overrides, want] : cases) EXPECT_EQ(parse_error(kScenario, overrides), want);
}

TEST(ScenarioOverrides, MalformedSetsAreRefused) {
  EXPECT_EQ(parse_override("viewers").error().message,
            "--set viewers: expected key=value (e.g. viewers.live.count=5000)");
  EXPECT_EQ(parse_override("=5").error().message, "--set =5: expected key=value (e.g. viewers.live.count=5000)");
  EXPECT_EQ(parse_override("viewers..count=5").error().message,
            "--set viewers..count=5: 'viewers..count' is not a dotted path of keys (letters, digits, _ and -, joined "
            "by dots) (e.g. viewers.live.count=5000)");
  EXPECT_EQ(parse_override("gates[0].value=1").error().message.substr(0, 40), "--set gates[0].value=1: 'gates[0].value'");
  EXPECT_EQ(parse_override("duration_s=").error().message,
            "--set duration_s=: no value after '=' (e.g. viewers.live.count=5000)");
  const auto o = parse_override("origin.model.instance.service_ms=2.5");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->key, "origin.model.instance.service_ms");
  EXPECT_EQ(o->value, "2.5");
  EXPECT_EQ(o->text(), "origin.model.instance.service_ms=2.5");
}

TEST(ScenarioOverrides, TheRunRecordsThemAndTheScenarioTheyMade) {
  const fs::path db = fs::temp_directory_path() / ("liveorigin-overrides-" + std::to_string(::getpid())) / "r.db";
  fs::remove_all(db.parent_path());  // run_scenario makes the directory
  const Scenario s = parse_ok("duration_s: 10\n", sets({"viewers.live.count=30", "cdn.features.hold=false"}));
  RunOptions o;
  o.db_path = db.string();
  o.virtual_time = true;
  auto r = run_scenario(s, o);
  ASSERT_TRUE(r) << r.error().message;
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(h, "SELECT parameters_json, scenario_text FROM runs", -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  const std::string params = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  const std::string text = reinterpret_cast<const char*>(sqlite3_column_text(st, 1));
  sqlite3_finalize(st);
  sqlite3_close(h);
  const boost::json::object p = boost::json::parse(params).as_object();
  EXPECT_EQ(boost::json::serialize(p.at("overrides")), R"(["viewers.live.count=30","cdn.features.hold=false"])");
  EXPECT_EQ(p.at("scenario").at("viewers").at("live").at("count").as_int64(), 30);
  EXPECT_EQ(p.at("scenario").at("cdn").at("features").at("hold").as_bool(), false);
  EXPECT_EQ(text, "duration_s: 10\n");
  fs::remove_all(db.parent_path());
}

// ---------------------------------------------------------------------------------------
// The grid

TEST(PlanGrid, IsEveryCombinationNumberedTheFirstSweepSlowest) {
  auto a = parse_sweep("origin.instances=1,2");
  auto b = parse_sweep("viewers.live.count=10,20,30");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(b->values, (std::vector<std::string>{"10", "20", "30"}));
  auto grid = make_grid({*a, *b});
  ASSERT_TRUE(grid);
  ASSERT_EQ(grid->size(), 6u);
  std::vector<std::string> seen;
  for (const auto& p : *grid) seen.push_back(std::to_string(p.number) + ":" + p.set[0].value + "," + p.set[1].value);
  EXPECT_EQ(seen, (std::vector<std::string>{"1:1,10", "2:1,20", "3:1,30", "4:2,10", "5:2,20", "6:2,30"}));
  EXPECT_EQ((*grid)[4].set[1].key, "viewers.live.count");
}

TEST(PlanGrid, AnEmptyGridAndMalformedSweepsAreRefused) {
  EXPECT_EQ(make_grid({}).error().message, "no --sweep: an empty grid (e.g. --sweep origin.instances=1,2,4)");
  EXPECT_EQ(parse_sweep("viewers.live.count=").error().message,
            "--sweep viewers.live.count=: viewers.live.count has no values: an empty grid");
  EXPECT_EQ(parse_sweep("viewers.live.count").error().message,
            "--sweep viewers.live.count: expected key=v1,v2,... (e.g. origin.instances=1,2,4)");
  EXPECT_EQ(parse_sweep("viewers.live.count=1,,3").error().message,
            "--sweep viewers.live.count=1,,3: an empty value (two commas, or one at an end)");
  EXPECT_EQ(make_grid({{"duration_s", {"10"}}, {"duration_s", {"20"}}}).error().message, "--sweep duration_s: swept twice");
  EXPECT_EQ(make_grid({{"duration_s", {}}}).error().message, "--sweep duration_s: no values: an empty grid");
}

TEST(PlanGrid, EveryPointIsReadBeforeAnythingRuns) {
  const fs::path dir = fs::temp_directory_path() / ("liveorigin-plan-grid-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path file = dir / "s.yaml";
  std::ofstream(file) << kScenario;
  auto check = [&](std::vector<Sweep> sweeps) {
    auto grid = make_grid(sweeps);
    EXPECT_TRUE(grid);
    return check_grid(file.string(), *grid);
  };
  EXPECT_TRUE(check({{"origin.instances", {"1", "2"}}, {"viewers.live.count", {"100", "1000"}}}));
  // A bad value fails every point that has it: the reason is told once, naming the key.
  auto bad = check({{"origin.instances", {"1", "2"}}, {"viewers.live.count", {"100", "lots"}}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "--set viewers.live.count=lots: " + file.string() +
                                     ": viewers.live.count: expected an integer in [1, 100000000], got 'lots'");
  auto unknown = check({{"viewers.live.cout", {"1"}}});
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("--set viewers.live.cout=1: " + file.string() +
                                         ": viewers.live.cout: unknown key"),
            std::string::npos)
      << unknown.error().message;
  // Instances swept over the ideal origin (no model): one instance takes no time.
  // Every reason is told, each once.
  std::ofstream(file, std::ios::trunc) << "duration_s: 30\n";
  auto ideal = check({{"origin.instances", {"1", "2"}}});
  ASSERT_FALSE(ideal);
  EXPECT_EQ(ideal.error().message,
            "--sweep origin.instances: " + file.string() +
                " has no origin.model, so its one-instance points run the ideal origin (answers take no time) and "
                "cannot be compared with the others: add origin.model (origin: {model: {}} for the defaults) and a "
                "shared store (origin.store: redis)\n--set origin.instances=2: " +
                file.string() +
                ": origin.instances: several instances share their state through the store: set origin.store: redis "
                "or redis-cluster");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace liveorigin::sim
