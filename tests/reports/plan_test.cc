// `liveorigin plan` as users run it (docs/planning.md): the built binary over a small
// virtual scenario whose origin one instance cannot keep up with. Bad input is refused
// before anything runs; the points run as processes, --jobs at a time, and the table
// says what their own results files say; more instances lower the live p99; the
// emitted commands run by hand and --merge give the same table as the direct run.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <cmath>
#include <map>
#include <sstream>

#include "reports/gates.h"
#include "reports/results_db.h"
#include "tests/reports/support.h"

namespace liveorigin::reports::testing {
namespace {

namespace json = boost::json;

// No CDN caching or collapsing: every viewer group's request reaches the origin within
// 300 ms of its segment's due time, and one worker serves one every 20 ms. 16 viewers
// are 16 groups, 64 are 64 (4 edges, 16 groups each at most).
const char* kScenario = R"(# Planning trial: an origin that one instance cannot keep up with.
name: plan-trial
seed: 3
duration_s: 30
event:
  streams:
    video: {segment_duration_ms: 2000, bitrate_kbps: 400}
pipelines:
  a: {publish_latency_ms: 100}
  b: {publish_latency_ms: 150}
cdn:
  features: {cache: false, collapsing: false}
  tiers:
    edge: {nodes: 4}
viewers:
  live: {count: 100, clock_skew_ms: {uniform: [0, 300]}}
origin:
  store: redis
  model:
    instance: {workers: 1, service_ms: 20, ingest_workers: 1}
    store: {read_ms: 1, write_ms: 2, hot_cache_hit_ratio: 0.5}
)";

const std::vector<std::string> kSweeps = {"--sweep", "origin.instances=1,2", "--sweep", "viewers.live.count=16,64"};

Ran cli(std::vector<std::string> args, const Scratch& dir, const std::string& tag) {
  args.insert(args.begin(), LIVEORIGIN_BINARY);
  return run_program(std::move(args), dir.path(), tag);
}

std::vector<std::string> plan_args(const fs::path& scenario, const fs::path& out, std::vector<std::string> more) {
  std::vector<std::string> a = {"plan", scenario.string()};
  a.insert(a.end(), kSweeps.begin(), kSweeps.end());
  a.insert(a.end(), {"--out", out.string()});
  a.insert(a.end(), more.begin(), more.end());
  return a;
}

json::object read_json(const fs::path& p) { return json::parse(read_text(p)).as_object(); }

std::optional<double> value_of(const json::object& point, const char* column) {
  const json::value& v = point.at("values").at(column);
  if (v.is_null()) return std::nullopt;
  return v.to_number<double>();
}

// The figure straight from the point's database, with the views' own columns.
double from_db(const ResultsDb& db, const std::string& sql) {
  auto v = db.number(sql, {});
  EXPECT_TRUE(v) << sql;
  return v.value_or(NAN);
}

TEST(PlanCli, BadInputIsRefusedNamingTheKeyAndTheReasonBeforeAnythingRuns) {
  Scratch dir("plan-bad");
  write_text(dir / "s.yaml", kScenario);
  const fs::path s = dir / "s.yaml";
  const fs::path out = dir / "out";
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--sweep", "viewers.live.count=16,lots"},
       "--set viewers.live.count=lots: " + s.string() +
           ": viewers.live.count: expected an integer in [1, 100000000], got 'lots'"},
      {{"--sweep", "viewers.live.cuont=16"}, "--set viewers.live.cuont=16: " + s.string() + ": viewers.live.cuont: unknown key"},
      {{"--sweep", "viewers.fans.count=16"}, "--set viewers.fans.count=16: viewers.fans: unknown cohort 'fans'"},
      {{"--sweep", "origin.model.instance.workers=0,2"},
       "--set origin.model.instance.workers=0: " + s.string() +
           ": origin.model.instance.workers: expected an integer in [1, 4096], got '0'"},
      {{"--sweep", "cdn.features.hold=on,off"}, "cdn.features.hold: expected true or false, got 'on'"},
      {{}, "no --sweep: an empty grid"},
      {{"--sweep", "origin.instances="}, "--sweep origin.instances=: origin.instances has no values: an empty grid"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> a = {"plan", s.string(), "--out", out.string()};
    a.insert(a.end(), c.args.begin(), c.args.end());
    const Ran r = cli(a, dir, "bad");
    EXPECT_EQ(r.code, 2) << r.all();
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(out)) << "something ran for: " << r.err;
  }
  // `run --set` is read the same way.
  const Ran run = cli({"run", s.string(), "--virtual", "-q", "--db", (dir / "r.db").string(), "--set",
                       "viewers.live.count=abc"},
                      dir, "run");
  EXPECT_EQ(run.code, 2);
  EXPECT_EQ(run.err, "--set viewers.live.count=abc: " + s.string() +
                         ": viewers.live.count: expected an integer in [1, 100000000], got 'abc'\n");
  EXPECT_FALSE(fs::exists(dir / "r.db"));
}

TEST(PlanCli, RunWithSetRecordsTheOverridesAndItsReportsShowThem) {
  Scratch dir("plan-set");
  write_text(dir / "s.yaml", kScenario);
  const Ran r = cli({"run", (dir / "s.yaml").string(), "--virtual", "-q", "--db", (dir / "r.db").string(),
                     "--report-dir", (dir / "rep").string(), "--set", "viewers.live.count=30", "--set",
                     "origin.instances=2"},
                    dir, "run");
  ASSERT_EQ(r.code, 0) << r.all();
  EXPECT_NE(r.out.find("viewers: 30;"), std::string::npos) << r.out;
  const json::object rep = read_json(dir / "rep" / "report.json");
  EXPECT_EQ(json::serialize(rep.at("run").at("overrides")), R"(["viewers.live.count=30","origin.instances=2"])");
  EXPECT_NE(read_text(dir / "rep" / "report.md").find("overrides: `--set viewers.live.count=30` `--set origin.instances=2`"),
            std::string::npos);
  EXPECT_NE(read_text(dir / "rep" / "report.html").find("overrides <code>--set viewers.live.count=30</code>"),
            std::string::npos);
  // The scenario as run: the overrides' values, in parameters_json.
  auto db = ResultsDb::open((dir / "r.db").string());
  ASSERT_TRUE(db);
  const json::object params = json::parse(db->rows("SELECT parameters_json FROM runs")[0][0].text()).as_object();
  EXPECT_EQ(params.at("scenario").at("origin").at("instances").to_number<int64_t>(), 2);
}

TEST(PlanCli, PointsRunAsProcessesAndTheTableIsWhatTheirDatabasesSay) {
  Scratch dir("plan-run");
  write_text(dir / "s.yaml", kScenario);
  const fs::path out = dir / "out";
  const Ran r = cli(plan_args(dir / "s.yaml", out, {"--jobs", "2", "--target-p99-ms", "1000"}), dir, "plan");
  ASSERT_EQ(r.code, 0) << r.all();
  // Progress on stderr: each point as it finishes, with its values.
  EXPECT_NE(r.err.find("plan: 4 points of plan-trial, 2 at a time, into " + out.string()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("plan: [4/4] "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("point 3 (origin.instances=2 viewers.live.count=16): done"), std::string::npos) << r.err;
  for (const char* f : {"plan.md", "plan.csv", "plan.json", "plan.html", "point-1.db", "point-4.db", "point-4.log"}) {
    EXPECT_TRUE(fs::exists(out / f)) << f;
  }

  const json::object plan = read_json(out / "plan.json");
  EXPECT_EQ(plan.at("format"), "liveorigin-plan");
  const json::array& points = plan.at("points").as_array();
  ASSERT_EQ(points.size(), 4u);
  std::map<std::pair<std::string, std::string>, double> p99;  // (instances, viewers) -> live origin_service p99
  for (const auto& pv : points) {
    const json::object& p = pv.as_object();
    const int n = static_cast<int>(p.at("point").to_number<int64_t>());
    SCOPED_TRACE("point " + std::to_string(n));
    EXPECT_EQ(p.at("status"), "ok");
    EXPECT_EQ(std::string(p.at("db").as_string()), "point-" + std::to_string(n) + ".db");
    const std::string instances(p.at("set").at("origin.instances").as_string());
    const std::string viewers(p.at("set").at("viewers.live.count").as_string());
    // Its own process wrote its own file, with its overrides recorded.
    auto db = ResultsDb::open((out / p.at("db").as_string().c_str()).string());
    ASSERT_TRUE(db) << db.error().message;
    ASSERT_EQ(db->run_ids().size(), 1u);
    const std::string run = " WHERE run_id = " + std::to_string(db->run_ids()[0]);
    EXPECT_NE(db->rows("SELECT parameters_json FROM runs")[0][0].text().find(
                  "\"overrides\":[\"origin.instances=" + instances + "\",\"viewers.live.count=" + viewers + "\"]"),
              std::string::npos);
    EXPECT_EQ(from_db(*db, "SELECT CAST(value AS INTEGER) FROM origin_metrics" + run +
                               " AND series = 'liveorigin_model_instances'"),
              std::stod(instances));
    const double duration = from_db(*db, "SELECT duration_s FROM run_metrics" + run);
    EXPECT_DOUBLE_EQ(*value_of(p, "origin_requests_per_s"),
                     from_db(*db, "SELECT mean_rps FROM tier_totals" + run + " AND tier = 'origin' AND class = '*'"));
    EXPECT_DOUBLE_EQ(*value_of(p, "origin_requests_per_s_peak"),
                     from_db(*db, "SELECT origin_requests_per_s_peak FROM run_metrics" + run));
    EXPECT_NEAR(*value_of(p, "origin_egress_gbps"),
                from_db(*db, "SELECT SUM(bytes) FROM tier_totals" + run + " AND tier = 'origin' AND class <> '*'") * 8 /
                    duration / 1e9,
                1e-12);
    EXPECT_DOUBLE_EQ(*value_of(p, "store_reads_per_s"),
                     from_db(*db, "SELECT value FROM origin_metrics" + run +
                                      " AND series = 'liveorigin_model_store_reads_total'") / duration);
    EXPECT_DOUBLE_EQ(*value_of(p, "store_writes_per_s"),
                     from_db(*db, "SELECT value FROM origin_metrics" + run +
                                      " AND series = 'liveorigin_model_store_writes_total'") / duration);
    EXPECT_GT(*value_of(p, "store_reads_per_s"), 0);  // half the reads miss the hot cache
    const std::string service = " AND name = 'origin_service' AND class = 'live' AND tier = '*'";
    EXPECT_NEAR(*value_of(p, "origin_service_p50_ms"), from_db(*db, "SELECT p50_ms FROM latency_percentiles" + run + service), 1e-9);
    EXPECT_NEAR(*value_of(p, "origin_service_p99_ms"), from_db(*db, "SELECT p99_ms FROM latency_percentiles" + run + service), 1e-9);
    EXPECT_NEAR(*value_of(p, "origin_get_p99_ms"),
                from_db(*db, "SELECT p99_ms FROM latency_percentiles" + run +
                                 " AND name = 'origin_get' AND class = 'live' AND tier = '*'"),
                1e-9);
    EXPECT_EQ(*value_of(p, "dvr_shed_pct"), 0);
    EXPECT_EQ(*value_of(p, "defective_served_with_clean_available"),
              from_db(*db, "SELECT defective_served_with_clean_available FROM run_metrics" + run));
    EXPECT_EQ(*value_of(p, "viewer_missing_segments"), from_db(*db, "SELECT viewer_missing_segments FROM run_metrics" + run));
    EXPECT_EQ(*value_of(p, "viewer_error_ratio"),
              from_db(*db, "SELECT error_ratio FROM viewer_totals" + run + " AND class = '*'"));
    p99[{instances, viewers}] = *value_of(p, "origin_service_p99_ms");
  }
  // More instances: a shorter queue, the same or lower live p99; under the heavier load, lower.
  EXPECT_LE(p99.at({"2", "16"}), p99.at({"1", "16"}));
  EXPECT_LT(p99.at({"2", "64"}), p99.at({"1", "64"}) * 0.75);
  EXPECT_GT(p99.at({"1", "64"}), p99.at({"1", "16"}));

  // Instances needed: the fewest with p99 <= 1000 ms and nothing missed, per viewer count.
  const json::array& needed = plan.at("instances_needed").as_array();
  ASSERT_EQ(needed.size(), 2u);
  for (const auto& nv : needed) {
    const std::string viewers(nv.at("set").at("viewers.live.count").as_string());
    std::optional<int64_t> want;
    for (const char* i : {"1", "2"}) {
      if (!want && p99.at({i, viewers}) <= 1000) want = std::stoll(i);
    }
    SCOPED_TRACE("viewers " + viewers);
    if (want) {
      EXPECT_EQ(nv.at("instances").to_number<int64_t>(), *want);
    } else {
      EXPECT_TRUE(nv.at("instances").is_null());
    }
    EXPECT_EQ(nv.at("most_swept").to_number<int64_t>(), 2);
  }
  // This trial's figures: 16 viewers fit one instance, 64 need two.
  EXPECT_EQ(needed[0].at("instances").to_number<int64_t>(), 1);
  EXPECT_EQ(needed[1].at("instances").to_number<int64_t>(), 2);
  EXPECT_NE(r.out.find("  origin instances needed for live origin_service p99 <= 1000 ms and no segment missed:\n"
                       "    viewers.live.count=16: 1\n    viewers.live.count=64: 2\n"),
            std::string::npos)
      << r.out;

  // The other files carry the same rows.
  const std::string csv = read_text(out / "plan.csv");
  EXPECT_EQ(count(csv, "\n"), 5u);
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "point,origin.instances,viewers.live.count,origin_requests_per_s,origin_requests_per_s_peak,"
            "origin_egress_gbps,store_reads_per_s,store_writes_per_s,origin_service_p50_ms,origin_service_p99_ms,"
            "origin_get_p99_ms,dvr_shed_pct,defective_served_with_clean_available,viewer_error_ratio,"
            "viewer_missing_segments,gates,status");
  const std::string md = read_text(out / "plan.md");
  EXPECT_NE(md.find("| viewers.live.count | instances needed |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 16 | 1 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 4 | 2 | 64 | "), std::string::npos) << md;
  const std::string html = read_text(out / "plan.html");
  EXPECT_NE(html.find("default-src 'none'"), std::string::npos);
  EXPECT_NE(html.find("data-chart=\"plan-instances-needed\""), std::string::npos);
  EXPECT_NE(html.find("data-chart=\"plan-origin_service_p99_ms\" data-points=\"4\" data-series=\"2\""), std::string::npos);
  EXPECT_EQ(count(html, "<svg class=\"chart\""), 13u);  // 12 figures and instances needed
  EXPECT_NE(html.find("<footer id=\"report-complete\" data-complete=\"1\">"), std::string::npos);
}

TEST(PlanCli, EmittedCommandsRunAnywhereAndMergeGivesTheSameTable) {
  Scratch dir("plan-emit");
  write_text(dir / "s.yaml", kScenario);
  const fs::path direct = dir / "direct";
  const fs::path emitted = dir / "emitted";
  ASSERT_EQ(cli(plan_args(dir / "s.yaml", direct, {"--jobs", "2"}), dir, "direct").code, 0);

  const Ran emit = cli(plan_args(dir / "s.yaml", emitted, {"--emit-jobs"}), dir, "emit");
  ASSERT_EQ(emit.code, 0) << emit.all();
  EXPECT_NE(emit.err.find("liveorigin plan --merge --out " + emitted.string()), std::string::npos) << emit.err;
  std::vector<std::string> commands;
  std::istringstream lines(emit.out);
  for (std::string line; std::getline(lines, line);) commands.push_back(line);
  ASSERT_EQ(commands.size(), 4u) << emit.out;
  EXPECT_EQ(commands[3], std::string(LIVEORIGIN_BINARY) + " run " + (dir / "s.yaml").string() +
                             " --virtual -q --no-report --db " + (emitted / "point-4.db").string() +
                             " --set origin.instances=2 --set viewers.live.count=64");
  EXPECT_TRUE(fs::exists(emitted / "plan.json"));

  // Points run "on other machines": each command by a shell, into a directory of its
  // own, the files copied back afterwards.
  fs::remove_all(emitted);
  for (size_t i = 0; i < commands.size(); ++i) {
    const Ran ran = run_program({"/bin/sh", "-c", commands[i]}, dir.path(), "point" + std::to_string(i + 1));
    EXPECT_EQ(ran.code, 0) << ran.all();
  }
  // The manifest is the grid: --merge needs it back, with the results files beside it.
  const Ran no_manifest = cli({"plan", "--merge", "--out", emitted.string()}, dir, "merge0");
  EXPECT_EQ(no_manifest.code, 2);
  EXPECT_NE(no_manifest.err.find("plan.json: no such plan"), std::string::npos) << no_manifest.err;
  ASSERT_EQ(cli(plan_args(dir / "s.yaml", emitted, {"--emit-jobs"}), dir, "emit2").code, 0);

  const Ran merged = cli({"plan", "--merge", "--out", emitted.string()}, dir, "merge");
  ASSERT_EQ(merged.code, 0) << merged.all();
  EXPECT_EQ(read_text(emitted / "plan.csv"), read_text(direct / "plan.csv"));
  EXPECT_EQ(read_text(emitted / "plan.md"), read_text(direct / "plan.md"));
  // With the scenario: the default target (200 ms), and the same file is checked.
  EXPECT_EQ(cli({"plan", (dir / "s.yaml").string(), "--merge", "--out", emitted.string()}, dir, "merge-s").code, 0);

  // A results file of another point is not taken for this one: the table says so, exit 1.
  fs::copy_file(emitted / "point-1.db", emitted / "point-2.db", fs::copy_options::overwrite_existing);
  fs::remove(emitted / "point-3.db");
  const Ran wrong = cli({"plan", "--merge", "--out", emitted.string()}, dir, "merge-wrong");
  EXPECT_EQ(wrong.code, 1) << wrong.all();
  EXPECT_NE(wrong.out.find("point 2 (origin.instances=1 viewers.live.count=64): no result: point-2.db holds no run of "
                           "this point"),
            std::string::npos)
      << wrong.out;
  EXPECT_NE(wrong.out.find("point 3 (origin.instances=2 viewers.live.count=16): no result: point-3.db not found"),
            std::string::npos)
      << wrong.out;
  EXPECT_NE(read_text(emitted / "plan.md").find("| 3 | 2 | 16 | no result: point-3.db not found |"), std::string::npos);
  // A scenario edited since the plan was made is refused.
  write_text(dir / "s.yaml", std::string(kScenario) + "interval_ms: 2000\n");
  const Ran changed = cli({"plan", (dir / "s.yaml").string(), "--merge", "--out", emitted.string()}, dir, "merge-changed");
  EXPECT_EQ(changed.code, 2);
  EXPECT_NE(changed.err.find("is not the scenario the plan in " + emitted.string() + " was made of"), std::string::npos)
      << changed.err;
}

TEST(PlanCli, EmittedCommandsAreQuotedForTheShell) {
  Scratch dir("plan-quote");
  write_text(dir / "s.yaml", "duration_s: 10\n");
  const fs::path out = dir / "out";
  const Ran emit = cli({"plan", (dir / "s.yaml").string(), "--sweep", "name=plan one,it's", "--emit-jobs", "--out",
                        out.string()},
                       dir, "emit");
  ASSERT_EQ(emit.code, 0) << emit.all();
  EXPECT_NE(emit.out.find(" --set 'name=plan one'\n"), std::string::npos) << emit.out;
  EXPECT_NE(emit.out.find(" --set 'name=it'\\''s'\n"), std::string::npos) << emit.out;
  std::istringstream lines(emit.out);
  int n = 0;
  for (std::string line; std::getline(lines, line);) {
    const Ran ran = run_program({"/bin/sh", "-c", line}, dir.path(), "point" + std::to_string(++n));
    EXPECT_EQ(ran.code, 0) << ran.all();
  }
  EXPECT_EQ(n, 2);
  auto db = ResultsDb::open((out / "point-2.db").string());
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_EQ(db->rows("SELECT scenario_name FROM runs")[0][0].text(), "it's");
  EXPECT_EQ(cli({"plan", "--merge", "--out", out.string()}, dir, "merge").code, 0);
}

TEST(PlanCli, APointWhoseRunFailsIsReportedAndThePlanExitsNonZero) {
  Scratch dir("plan-fail");
  write_text(dir / "s.yaml", "duration_s: 10\n");
  const fs::path out = dir / "out";
  // Virtual time runs the core in-process: the child-process origin cannot run there.
  const Ran r = cli({"plan", (dir / "s.yaml").string(), "--sweep", "origin.mode=in-process,child", "--out", out.string()},
                    dir, "plan");
  EXPECT_EQ(r.code, 1) << r.all();
  EXPECT_NE(r.err.find("point 2 (origin.mode=child): FAILED (exit 2), log point-2.log: liveorigin run: virtual time "
                       "needs origin.mode: in-process"),
            std::string::npos)
      << r.err;
  const json::object plan = read_json(out / "plan.json");
  EXPECT_EQ(plan.at("points").at(0).at("status"), "ok");
  EXPECT_NE(std::string(plan.at("points").at(1).at("status").as_string()).find("no result: failed (exit 2)"),
            std::string::npos);
}

}  // namespace
}  // namespace liveorigin::reports::testing
