// Gates, baselines and reports on real recorded runs (virtual time, under a second each):
// a run with a known outcome gives the expected verdicts, JSON, Markdown and JUnit; a
// baseline catches an injected regression (request collapsing disabled) and passes an
// unchanged rerun; `liveorigin run`, `report` and `gate` give the documented exit codes.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <cmath>
#include <cstdio>

#include "reports/gates.h"
#include "reports/report.h"
#include "reports/results_db.h"
#include "sim/runner.h"
#include "sim/scenario.h"
#include "tests/reports/support.h"

namespace liveorigin::reports::testing {
namespace {

namespace json = boost::json;

const fs::path kData = fs::path(LIVEORIGIN_SOURCE_DIR) / "tests" / "reports" / "data";
const fs::path kScenario = kData / "ci-gates.yaml";

sim::Scenario load(const fs::path& path) {
  auto s = sim::load_scenario(path.string());
  if (!s) throw std::runtime_error(s.error().message);
  return *s;
}

// Runs `s` in virtual time into `db` (runs start on a segment boundary: reruns are identical).
int64_t run(const sim::Scenario& s, const fs::path& db) {
  sim::RunOptions o;
  o.db_path = db.string();
  o.virtual_time = true;
  auto r = sim::run_scenario(s, o);
  if (!r) throw std::runtime_error(r.error().message);
  return r->run_id;
}

ResultsDb open(const fs::path& db) {
  auto d = ResultsDb::open(db.string());
  if (!d) throw std::runtime_error(d.error().message);
  return std::move(*d);
}

Report collect(const ResultsDb& db, int64_t id) {
  auto r = collect_report(db, id);
  if (!r) throw std::runtime_error(r.error().message);
  return std::move(*r);
}

sim::Gate gate(std::string metric, std::string op, double value, std::optional<double> p = {}, std::string cls = "",
               std::string tier = "") {
  sim::Gate g;
  g.metric = std::move(metric);
  g.op = std::move(op);
  g.value = value;
  g.percentile = p;
  g.request_class = std::move(cls);
  g.tier = std::move(tier);
  g.name = MetricKey::of(g).str() + " " + g.op + " " + format_number(value);
  return g;
}

// The scenario with two more gates that must fail: one on a value, one with no data.
std::string failing_scenario_text() {
  std::string text = read_text(kScenario);
  const std::string at = "\ngates:\n";
  const size_t pos = text.find(at);
  EXPECT_NE(pos, std::string::npos);
  text.insert(pos + at.size(),
              "  - {metric: cache_hit_ratio, tier: edge, op: \">=\", value: 0.999, name: edge serves everything}\n"
              "  - {metric: viewer_wait_ms, class: background, percentile: 99, op: \"<\", value: 100}\n");
  return text;
}

// ---------------------------------------------------------------------------------------

TEST(Gates, MetricKeysRoundTripAndRefuseWhatAGateCannotName) {
  for (const char* k : {"failover_gap_segments", "origin_get_latency_ms{p=99}", "viewer_wait_ms{p=99.9,class=live}",
                        "hold_wait_ms{p=50,tier=origin}", "cache_hit_ratio{class=dvr,tier=edge}",
                        "origin_requests_per_s{class=background}"}) {
    auto key = parse_metric_key(k);
    ASSERT_TRUE(key) << key.error().message;
    EXPECT_EQ(key->str(), k);
  }
  EXPECT_EQ(parse_metric_key("cache_hit_ratio{tier=edge,class=dvr}")->str(), "cache_hit_ratio{class=dvr,tier=edge}");
  auto error = [](const char* k) {
    auto r = parse_metric_key(k);
    return r ? std::string("accepted") : r.error().message;
  };
  EXPECT_NE(error("origin_p99").find("unknown metric 'origin_p99'"), std::string::npos);
  EXPECT_NE(error("viewer_wait_ms").find("names its percentile"), std::string::npos);
  EXPECT_NE(error("failover_gap_segments{p=99}").find("only for latency metrics"), std::string::npos);
  EXPECT_NE(error("put_latency_ms{p=99,class=live}").find("has no request class"), std::string::npos);
  EXPECT_NE(error("shed_ratio{tier=edge}").find("not per tier"), std::string::npos);
  EXPECT_NE(error("cache_hit_ratio{tier=origin}").find("measured at CDN tiers"), std::string::npos);
  EXPECT_NE(error("viewer_wait_ms{p=101}").find("percentile in (0, 100]"), std::string::npos);
  EXPECT_NE(error("viewer_error_ratio{class=vip}").find("expected one of live, dvr, background"), std::string::npos);
  EXPECT_NE(error("viewer_wait_ms{p=99,colour=red}").find("unknown selector 'colour'"), std::string::npos);
  EXPECT_EQ(metric_unit("viewer_wait_ms"), "ms");
  EXPECT_EQ(metric_unit("cache_hit_ratio"), "ratio");
  EXPECT_EQ(metric_unit("origin_requests_per_s"), "requests/s");
  EXPECT_EQ(metric_unit("failover_gap_segments"), "segments");
  EXPECT_EQ(metric_unit("origin_status_5xx"), "requests");
  EXPECT_TRUE(higher_is_better("cache_hit_ratio"));
  EXPECT_FALSE(higher_is_better("origin_requests_per_s"));
  EXPECT_FALSE(higher_is_better("shed_ratio"));
}

TEST(Gates, OperatorsCompareAsWritten) {
  EXPECT_TRUE(compare(1, "<", 2));
  EXPECT_FALSE(compare(2, "<", 2));
  EXPECT_TRUE(compare(2, "<=", 2));
  EXPECT_TRUE(compare(3, ">", 2));
  EXPECT_TRUE(compare(2, ">=", 2));
  EXPECT_TRUE(compare(0, "==", 0));
  EXPECT_TRUE(compare(1, "!=", 0));
  EXPECT_FALSE(compare(1, "=", 1));
}

// The failover story of ci-gates.yaml: a drops out from 10 s to 25 s, b carries on.
TEST(Gates, AKnownRunGivesTheExpectedVerdicts) {
  Scratch dir("verdicts");
  const auto scenario = load(kScenario);
  const int64_t id = run(scenario, dir / "results.db");
  const ResultsDb db = open(dir / "results.db");

  // The scenario's own gates all pass.
  auto own = evaluate_gates(db, id, scenario.gates);
  ASSERT_TRUE(own) << own.error().message;
  ASSERT_EQ(own->size(), 7u);
  for (const auto& g : *own) EXPECT_TRUE(g.passed) << g.message;
  EXPECT_EQ((*own)[4].name, "edge caches absorb the audience");

  const std::vector<sim::Gate> gates = {
      gate("failover_gap_segments", "==", 0),                      // pass: b covered the outage
      gate("defective_served_with_clean_available", "==", 0),      // pass
      gate("viewer_missing_segments", "<=", 0),                    // pass
      gate("origin_requests_per_s", ">", 0, {}, "live"),           // pass: there was traffic
      gate("cache_hit_ratio", ">=", 0.999, {}, "", "edge"),        // fail: edges do miss
      gate("shed_ratio", "!=", 0),                                 // fail: nothing was shed
      gate("viewer_wait_ms", "<", 100, 99, "background"),          // fail: no background viewers, no data
      gate("hold_wait_ms", ">", 0, 50, "", "origin"),              // pass: requests were held at the origin
      gate("origin_status_5xx", "==", 0, {}, "dvr"),               // pass
  };
  auto r = evaluate_gates(db, id, gates);
  ASSERT_TRUE(r) << r.error().message;
  const std::vector<bool> expected = {true, true, true, true, false, false, false, true, true};
  ASSERT_EQ(r->size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ((*r)[i].passed, expected[i]) << (*r)[i].message;
  EXPECT_FALSE(all_passed(*r));

  EXPECT_EQ((*r)[0].value, 0.0);
  EXPECT_EQ((*r)[0].message, "failover_gap_segments = 0 segments, expected == 0 segments");
  ASSERT_TRUE((*r)[4].value);
  EXPECT_GT(*(*r)[4].value, 0.5);
  EXPECT_LT(*(*r)[4].value, 0.999);
  EXPECT_EQ((*r)[5].value, 0.0);
  EXPECT_FALSE((*r)[6].value);
  EXPECT_EQ((*r)[6].message,
            "viewer_wait_ms{p=99,class=background}: no data (no samples were recorded), expected < 100 ms");

  // The metrics agree with the database's own views.
  auto view = [&](const std::string& column) {
    return db.number("SELECT " + column + " FROM run_metrics WHERE run_id = ?1", {id});
  };
  for (const char* m : {"defective_served_with_clean_available", "viewer_missing_segments", "viewer_error_ratio",
                        "failover_gap_segments", "origin_requests_per_s", "origin_status_5xx", "shed_ratio",
                        "cache_hit_ratio"}) {
    EXPECT_EQ(metric_value(db, id, {m}), view(m)) << m;
  }
  EXPECT_DOUBLE_EQ(*metric_value(db, id, {"origin_get_latency_ms", 99.0}), *view("origin_get_p99_ms"));
  EXPECT_DOUBLE_EQ(*metric_value(db, id, {"viewer_wait_ms", 99.0}), *view("viewer_wait_p99_ms"));
  EXPECT_DOUBLE_EQ(*metric_value(db, id, {"hold_wait_ms", 99.0}), *view("hold_wait_p99_ms"));
  EXPECT_DOUBLE_EQ(*metric_value(db, id, {"viewer_wait_ms", 50.0, "live"}),
                   *db.number("SELECT p50_ms FROM latency_percentiles WHERE run_id = ?1 AND name = 'viewer_wait' "
                              "AND class = 'live' AND tier = '*'",
                              {id}));
  EXPECT_DOUBLE_EQ(*metric_value(db, id, {"cache_hit_ratio", std::nullopt, "", "edge"}),
                   *db.number("SELECT cache_hit_ratio FROM tier_totals WHERE run_id = ?1 AND tier = 'edge' AND class = '*'",
                              {id}));
}

TEST(Report, JsonMarkdownAndJUnitOfARunWithFailingGates) {
  Scratch dir("formats");
  write_text(dir / "failing.yaml", failing_scenario_text());
  const int64_t id = run(load(dir / "failing.yaml"), dir / "results.db");
  const ResultsDb db = open(dir / "results.db");
  const Report rep = collect(db, id);
  ASSERT_EQ(rep.gates.size(), 9u);
  EXPECT_FALSE(rep.passed());
  EXPECT_EQ(rep.pipelines, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(rep.cdn_tiers, (std::vector<std::string>{"shield", "edge"}));
  EXPECT_EQ(rep.run.seed, 11u);
  EXPECT_NE(rep.run.description.find("CI's own gate"), std::string::npos);

  auto written = write_reports(rep, (dir / "out").string());
  ASSERT_TRUE(written) << written.error().message;

  // report.json: every figure with its unit and direction; the gates; the series.
  const json::value doc = json::parse(read_text(written->json));
  EXPECT_EQ(doc.at("format"), "liveorigin-report");
  EXPECT_EQ(doc.at("verdict"), "fail");
  EXPECT_EQ(doc.at("run").at("id"), id);
  EXPECT_EQ(doc.at("run").at("seed"), 11);
  EXPECT_EQ(doc.at("run").at("scenario"), "ci-gates");
  const auto& metrics = doc.at("metrics").as_object();
  for (const char* k : {"failover_gap_segments", "origin_requests_per_s", "cache_hit_ratio{tier=edge}",
                        "cache_hit_ratio{tier=shield}", "origin_get_latency_ms{p=99}", "viewer_wait_ms{p=99,class=live}",
                        "hold_wait_ms{p=99,tier=origin}", "put_latency_ms{p=50}", "viewer_wait_ms{p=99,class=background}"}) {
    ASSERT_TRUE(metrics.contains(k)) << k;
  }
  for (const auto& [k, v] : metrics) {
    EXPECT_FALSE(v.at("unit").as_string().empty()) << k;
    EXPECT_TRUE(v.at("better") == "lower" || v.at("better") == "higher") << k;
    EXPECT_TRUE(v.at("value").is_number() || v.at("value").is_null()) << k;
  }
  EXPECT_EQ(metrics.at("cache_hit_ratio{tier=edge}").at("better"), "higher");
  EXPECT_EQ(metrics.at("viewer_wait_ms{p=99,class=live}").at("unit"), "ms");
  EXPECT_TRUE(metrics.at("viewer_wait_ms{p=99,class=background}").at("value").is_null());
  const auto& gates = doc.at("gates").as_array();
  ASSERT_EQ(gates.size(), 9u);
  EXPECT_EQ(gates[0].at("name"), "edge serves everything");
  EXPECT_EQ(gates[0].at("passed"), false);
  EXPECT_EQ(gates[0].at("key"), "cache_hit_ratio{tier=edge}");
  EXPECT_EQ(gates[0].at("unit"), "ratio");
  EXPECT_EQ(gates[1].at("value"), nullptr);
  const auto& ts = doc.at("time_series");
  const size_t buckets = ts.at("t_s").as_array().size();
  EXPECT_EQ(ts.at("bucket_ms"), 2000);  // one segment
  EXPECT_EQ(buckets, 23u);              // 40 s of event + 5 s settling
  for (const auto& s : ts.at("origin_requests_per_s").at("series").as_array()) {
    EXPECT_EQ(s.at("values").as_array().size(), buckets);
  }
  EXPECT_EQ(ts.at("cdn_hit_ratio").at("series").as_array().size(), 2u);
  EXPECT_FALSE(doc.at("segments").at("list").as_array().empty());
  EXPECT_EQ(doc.at("faults").as_array().size(), 1u);
  EXPECT_EQ(doc.at("faults").at(0).at("start_s"), 10.0);

  // junit.xml: one test case per gate, the two failures named.
  const std::string junit = read_text(written->junit);
  EXPECT_EQ(junit.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", 0), 0u);
  EXPECT_EQ(count(junit, "<testcase "), 9u);
  EXPECT_EQ(count(junit, "<failure "), 2u);
  EXPECT_NE(junit.find("<testsuite name=\"liveorigin.gates.ci-gates\" tests=\"9\" failures=\"2\""), std::string::npos)
      << junit;
  EXPECT_NE(junit.find("name=\"edge serves everything\""), std::string::npos);
  EXPECT_NE(junit.find("<failure type=\"gate\" message=\"cache_hit_ratio{tier=edge} = 0."), std::string::npos) << junit;
  EXPECT_NE(junit.find("expected &gt;= 0.999"), std::string::npos);
  EXPECT_NE(junit.find("<failure type=\"no-data\""), std::string::npos);
  EXPECT_NE(junit.find("<property name=\"seed\" value=\"11\"/>"), std::string::npos);

  // report.md: the verdict first, a row per gate.
  const std::string md = read_text(written->markdown);
  EXPECT_EQ(md.rfind("## liveorigin: ci-gates (run " + std::to_string(id) + ") — ❌ 2 of 9 gates failed", 0), 0u) << md;
  EXPECT_EQ(count(md, "| ❌ |"), 2u);
  EXPECT_EQ(count(md, "| ✅ |"), 7u);
  EXPECT_NE(md.find("| ❌ | edge serves everything | 0."), std::string::npos) << md;
  EXPECT_NE(md.find("Faults: pipeline a outage 10.0 s–25.0 s"), std::string::npos) << md;

  // report.html: self-contained, its charts, the verdict.
  const std::string html = read_text(written->html);
  EXPECT_NE(html.find("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                      "style-src 'unsafe-inline'; img-src data:\">"),
            std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(count(html, "http://"), count(html, "xmlns=\"http://www.w3.org/2000/svg\""));  // namespaces, not requests
  EXPECT_EQ(count(html, "url("), count(html, "url(#hatch-"));                               // in-page patterns only
  EXPECT_NE(html.find("data-verdict=\"fail\""), std::string::npos);
  for (const char* chart : {"segment-timeline", "origin-requests", "cdn-hit-ratio", "cdf-origin-get", "cdf-hold-wait",
                            "cdf-viewer-wait", "cdf-put"}) {
    EXPECT_EQ(count(html, std::string("data-chart=\"") + chart + "\""), 1u) << chart;
  }
  EXPECT_NE(html.find("seed <b>11</b>"), std::string::npos);
  EXPECT_NE(html.find("edge serves everything"), std::string::npos);
}

// A baseline catches request collapsing switched off, and passes an unchanged rerun.
// A plan rests on its calibration: every report of a modelled run names it; an ideal
// origin's report has no such line.
TEST(Report, AModelledRunNamesItsInstancesStoreAndCalibration) {
  Scratch dir("model");
  write_text(dir / "box.yaml", "name: ci box\ninstance: {workers: 3}\n");
  std::string text = read_text(kScenario);
  const size_t at = text.find("\ngates:\n");
  ASSERT_NE(at, std::string::npos);
  text.insert(at, "\norigin:\n  instances: 2\n  store: redis\n  model: {calibration: box.yaml}\n");
  write_text(dir / "modelled.yaml", text);
  const int64_t id = run(load(dir / "modelled.yaml"), dir / "results.db");
  const int64_t ideal = run(load(kScenario), dir / "results.db");
  const ResultsDb db = open(dir / "results.db");
  const Report rep = collect(db, id);
  const std::string expected = "2 instances, redis store, calibration \"ci box\" (" + (dir / "box.yaml").string() + ")";
  EXPECT_EQ(rep.run.origin_model, expected);
  auto written = write_reports(rep, (dir / "out").string());
  ASSERT_TRUE(written) << written.error().message;
  EXPECT_EQ(json::value_to<std::string>(json::parse(read_text(written->json)).at("run").at("origin_model")), expected);
  EXPECT_NE(read_text(written->markdown).find("origin model: 2 instances, redis store, calibration"), std::string::npos);
  EXPECT_NE(read_text(written->html).find("origin model: 2 instances, redis store, calibration &quot;ci box&quot;"),
            std::string::npos);
  const Report plain = collect(db, ideal);
  EXPECT_EQ(plain.run.origin_model, "");
}

TEST(Baseline, CatchesCollapsingDisabledAndPassesAnUnchangedRerun) {
  Scratch dir("baseline");
  const fs::path dbp = dir / "results.db";
  const auto scenario = load(kScenario);
  const int64_t base = run(scenario, dbp);
  const int64_t rerun = run(scenario, dbp);
  sim::Scenario no_collapsing = scenario;
  no_collapsing.cdn.features.collapsing = false;
  const int64_t regressed = run(no_collapsing, dbp);

  const ResultsDb db = open(dbp);
  const Report base_report = collect(db, base);
  // The baseline is the earlier run's report.json, as `liveorigin gate --baseline` reads it.
  auto baseline = parse_baseline(render_json(base_report), "report.json");
  ASSERT_TRUE(baseline) << baseline.error().message;
  EXPECT_EQ(baseline->entries.size(), base_report.figures.size());

  auto same = compare_to_baseline(db, rerun, *baseline, 10);
  ASSERT_TRUE(same) << same.error().message;
  EXPECT_FALSE(any_failed(*same));
  for (const auto& c : *same) {
    // Same seed, same phase, virtual time: the very same figures.
    if (c.verdict != BaselineCheck::Verdict::skipped) {
      // (JSON carries doubles to within a few units in the last place.)
      EXPECT_EQ(c.verdict, BaselineCheck::Verdict::same) << c.message;
      ASSERT_TRUE(c.current && c.baseline) << c.message;
      EXPECT_NEAR(*c.current, *c.baseline, 1e-12 * std::max(1.0, std::fabs(*c.baseline))) << c.message;
    }
  }

  auto worse = compare_to_baseline(db, regressed, *baseline, 10);
  ASSERT_TRUE(worse) << worse.error().message;
  EXPECT_TRUE(any_failed(*worse));
  auto verdict = [&](const std::string& key) {
    for (const auto& c : *worse) {
      if (c.key.str() == key) return c;
    }
    ADD_FAILURE() << "no check for " << key;
    return BaselineCheck{};
  };
  const auto load_check = verdict("origin_requests_per_s{class=live}");
  EXPECT_EQ(load_check.verdict, BaselineCheck::Verdict::regressed) << load_check.message;
  EXPECT_GT(*load_check.current, *load_check.baseline * 2) << load_check.message;
  const auto hits = verdict("cache_hit_ratio{tier=edge}");
  EXPECT_EQ(hits.verdict, BaselineCheck::Verdict::regressed) << hits.message;
  EXPECT_LT(*hits.current, *hits.baseline) << hits.message;
  EXPECT_NE(hits.message.find("higher is better, tolerance 10 %): regressed"), std::string::npos) << hits.message;
  // Correctness did not change: the failover still has no gap.
  EXPECT_EQ(verdict("failover_gap_segments").verdict, BaselineCheck::Verdict::same);

  // Its own gates catch it too (the edge hit ratio gate), but only the baseline says by
  // how much the origin's load grew.
  EXPECT_FALSE(collect(db, regressed).passed());

  // A JUnit with the baseline adds a suite with one case per metric.
  const std::string junit = render_junit(collect(db, regressed), &*worse);
  EXPECT_NE(junit.find("<testsuite name=\"liveorigin.baseline.ci-gates\" tests=\"" +
                       std::to_string(worse->size()) + "\""),
            std::string::npos);
  EXPECT_NE(junit.find("<failure type=\"regression\" message=\"origin_requests_per_s{class=live} = "), std::string::npos)
      << junit;
}

TEST(Baseline, DedicatedMapsWithTolerancesNullsAndErrors) {
  Scratch dir("baseline-map");
  const int64_t id = run(load(kScenario), dir / "results.db");
  const ResultsDb db = open(dir / "results.db");
  const double rps = *metric_value(db, id, {"origin_requests_per_s"});
  const double hits = *metric_value(db, id, {"cache_hit_ratio", std::nullopt, "", "edge"});
  ASSERT_GT(rps, 0);

  // 20 % below the run's load: a regression at 10 %, not at 30 % (per metric).
  auto num = [](double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return std::string(buf);
  };
  const std::string map = "{\"origin_requests_per_s\": " + num(rps / 1.2) +
                          ", \"origin_requests_per_s{class=live}\": null"
                          ", \"cache_hit_ratio{tier=edge}\": {\"value\": " + num(hits) +
                          ", \"tolerance_pct\": 0}"
                          ", \"failover_gap_segments\": 0"
                          ", \"viewer_wait_ms{p=99,class=background}\": 500}";
  auto b = parse_baseline(map, "map.json");
  ASSERT_TRUE(b) << b.error().message;
  ASSERT_EQ(b->entries.size(), 5u);
  auto checks = compare_to_baseline(db, id, *b, 10);
  ASSERT_TRUE(checks) << checks.error().message;
  auto v = [&](size_t i) { return (*checks)[i].verdict; };
  EXPECT_EQ(v(0), BaselineCheck::Verdict::regressed) << (*checks)[0].message;
  EXPECT_NEAR(*(*checks)[0].change_pct, 20, 0.01);
  EXPECT_EQ(v(1), BaselineCheck::Verdict::skipped);
  EXPECT_EQ(v(2), BaselineCheck::Verdict::same) << (*checks)[2].message;
  EXPECT_EQ(v(3), BaselineCheck::Verdict::same);
  EXPECT_EQ(v(4), BaselineCheck::Verdict::no_data);  // the baseline had it, this run has none: fails
  EXPECT_TRUE((*checks)[4].failed());

  auto looser = compare_to_baseline(db, id, *b, 30);
  ASSERT_TRUE(looser);
  EXPECT_EQ((*looser)[0].verdict, BaselineCheck::Verdict::same);

  // Wrapped in {"metrics": ...} it reads the same; improvements beyond tolerance say so.
  auto wrapped = parse_baseline("{\"metrics\": {\"origin_requests_per_s\": {\"value\": " + std::to_string(rps * 2) +
                                    ", \"unit\": \"requests/s\"}}}",
                                "w.json");
  ASSERT_TRUE(wrapped) << wrapped.error().message;
  EXPECT_EQ((*compare_to_baseline(db, id, *wrapped, 10))[0].verdict, BaselineCheck::Verdict::improved);

  auto error = [](const std::string& text) {
    auto r = parse_baseline(text, "b.json");
    return r ? std::string("accepted") : r.error().message;
  };
  EXPECT_NE(error("[1, 2]").find("b.json: expected a JSON object"), std::string::npos);
  EXPECT_NE(error("{\"p99\": 3}").find("b.json: 'p99': unknown metric"), std::string::npos);
  EXPECT_NE(error("{\"failover_gap_segments\": \"0\"}").find("expected a number or null"), std::string::npos);
  EXPECT_NE(error("{\"failover_gap_segments\": {\"value\": 0, \"tolerance_pct\": -1}}").find("expected >= 0"),
            std::string::npos);
  EXPECT_NE(error("{}").find("no metrics"), std::string::npos);
  EXPECT_NE(error("{not json").find("b.json: not JSON"), std::string::npos);
}

TEST(ResultsDbTest, RefusesWhatIsNotAResultsDatabase) {
  Scratch dir("db");
  auto missing = ResultsDb::open((dir / "none.db").string());
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("none.db: no such results database"), std::string::npos);
  write_text(dir / "text.db", "hello");
  auto text = ResultsDb::open((dir / "text.db").string());
  ASSERT_FALSE(text);
  EXPECT_NE(text.error().message.find("not a liveorigin results database"), std::string::npos) << text.error().message;
  const int64_t id = run(load(kScenario), dir / "results.db");
  const ResultsDb db = open(dir / "results.db");
  EXPECT_EQ(*db.resolve_run(0), id);
  EXPECT_EQ(*db.resolve_run(id), id);
  EXPECT_EQ(db.resolve_run(id + 5).error().message,
            (dir / "results.db").string() + ": no run " + std::to_string(id + 5) + " (runs: " + std::to_string(id) + ")");
}

// ---------------------------------------------------------------------------------------
// The command line: exit codes 0 pass, 1 gate failed or regression, 2 usage or input error.

Ran cli(std::vector<std::string> args, const Scratch& dir, const std::string& tag) {
  args.insert(args.begin(), LIVEORIGIN_BINARY);
  return run_program(std::move(args), dir.path(), tag);
}

TEST(Cli, RunWithPassingGatesExitsZeroAndPrintsTheReports) {
  Scratch dir("cli-pass");
  const std::string db = (dir / "results.db").string();
  const Ran r = cli({"run", kScenario.string(), "--virtual", "-q", "--db", db, "--report-dir", (dir / "rep").string()},
                    dir, "run");
  EXPECT_EQ(r.code, 0) << r.all();
  EXPECT_NE(r.out.find("  gates: 7 passed, 0 failed\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("    pass  edge caches absorb the audience: 0."), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  reports: " + (dir / "rep" / "report.html").string() + "\n"), std::string::npos) << r.out;
  for (const char* f : {"report.html", "report.md", "report.json", "junit.xml"}) {
    EXPECT_NE(r.out.find((dir / "rep" / f).string()), std::string::npos) << f;
    EXPECT_TRUE(fs::exists(dir / "rep" / f)) << f;
  }
  EXPECT_NE(read_text(dir / "rep" / "junit.xml").find("tests=\"7\" failures=\"0\""), std::string::npos);

  // `report` regenerates them from the database alone, for the latest run by default.
  const Ran rep = cli({"report", "--db", db, "--out", (dir / "again").string()}, dir, "report");
  EXPECT_EQ(rep.code, 0) << rep.all();
  EXPECT_EQ(read_text(dir / "again" / "report.json"), read_text(dir / "rep" / "report.json"));
  EXPECT_EQ(read_text(dir / "again" / "report.html"), read_text(dir / "rep" / "report.html"));
  EXPECT_EQ(cli({"gate", "--db", db}, dir, "gate").code, 0);
}

TEST(Cli, RunWithAFailingGateExitsOne) {
  Scratch dir("cli-fail");
  write_text(dir / "failing.yaml", failing_scenario_text());
  const std::string db = (dir / "results.db").string();
  const Ran r = cli({"run", (dir / "failing.yaml").string(), "--virtual", "-q", "--db", db, "--report-dir",
                     (dir / "rep").string()},
                    dir, "run");
  EXPECT_EQ(r.code, 1) << r.all();
  EXPECT_NE(r.out.find("  gates: 7 passed, 2 failed\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("    FAIL  edge serves everything: 0."), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("    FAIL  viewer_wait_ms p99 class=background < 100: no data\n"), std::string::npos) << r.out;
  EXPECT_NE(read_text(dir / "rep" / "junit.xml").find("tests=\"9\" failures=\"2\""), std::string::npos);

  const Ran g = cli({"gate", "--db", db, "--run", "1", "--junit", (dir / "gate.xml").string()}, dir, "gate");
  EXPECT_EQ(g.code, 1) << g.all();
  EXPECT_NE(g.out.find("gates 7 passed, 2 failed"), std::string::npos) << g.out;
  EXPECT_EQ(g.out.substr(g.out.size() - 5), "FAIL\n");
  EXPECT_EQ(count(read_text(dir / "gate.xml"), "<testcase "), 9u);

  // --no-report: the same verdict, no files.
  const Ran quiet = cli({"run", (dir / "failing.yaml").string(), "--virtual", "-q", "--db", db, "--no-report"}, dir, "nr");
  EXPECT_EQ(quiet.code, 1);
  EXPECT_EQ(quiet.out.find("reports:"), std::string::npos);
}

TEST(Cli, GateWithABaselineCatchesCollapsingDisabledAndPassesARerun) {
  Scratch dir("cli-baseline");
  const std::string db = (dir / "results.db").string();
  std::string text = read_text(kScenario);
  const std::string no_collapsing = [&] {
    std::string t = text;
    t.replace(t.find("cdn:\n"), 5, "cdn:\n  features: {collapsing: false}\n");
    return t;
  }();
  write_text(dir / "no-collapsing.yaml", no_collapsing);
  for (const auto& f : {kScenario, kScenario, dir / "no-collapsing.yaml"}) {
    const Ran r = cli({"run", f.string(), "--virtual", "-q", "--no-report", "--db", db}, dir, "run");
    // Without collapsing, the scenario's own edge hit ratio gate fails as well.
    ASSERT_EQ(r.code, f == kScenario ? 0 : 1) << r.all();
  }
  ASSERT_EQ(cli({"report", "--db", db, "--run", "1", "--out", (dir / "base").string()}, dir, "base").code, 0);
  const std::string baseline = (dir / "base" / "report.json").string();

  // (Reruns are identical when they start on the same phase of the segment clock; 25 %
  // also covers a run that missed it on a loaded machine.)
  const Ran same = cli({"gate", "--db", db, "--run", "2", "--baseline", baseline, "--tolerance-pct", "25"}, dir, "same");
  EXPECT_EQ(same.code, 0) << same.all();
  EXPECT_NE(same.out.find(" metrics, 0 regressed\n"), std::string::npos) << same.out;

  const Ran worse = cli({"gate", "--db", db, "--run", "3", "--baseline", baseline, "--tolerance-pct", "25", "--junit",
                         (dir / "junit.xml").string()},
                        dir, "worse");
  EXPECT_EQ(worse.code, 1) << worse.all();
  EXPECT_NE(worse.out.find("baseline " + baseline + " (tolerance 25 %)"), std::string::npos) << worse.out;
  EXPECT_NE(worse.out.find("  FAIL  origin_requests_per_s{class=live} = "), std::string::npos) << worse.out;
  EXPECT_NE(worse.out.find("  FAIL  cache_hit_ratio{tier=edge} = "), std::string::npos) << worse.out;
  const std::string junit = read_text(dir / "junit.xml");
  EXPECT_NE(junit.find("<testsuite name=\"liveorigin.baseline.ci-gates\""), std::string::npos) << junit;
  EXPECT_GE(count(junit, "<failure type=\"regression\""), 2u);

  // Two runs side by side.
  const Ran cmp = cli({"report", "--db", db, "--compare", "1", "3", "--out", (dir / "cmp").string()}, dir, "cmp");
  EXPECT_EQ(cmp.code, 0) << cmp.all();
  const std::string html = read_text(dir / "cmp" / "report.html");
  EXPECT_NE(html.find("data-report=\"comparison\" data-run-a=\"1\" data-run-b=\"3\""), std::string::npos);
  const json::value diff = json::parse(read_text(dir / "cmp" / "report.json"));
  EXPECT_EQ(diff.at("format"), "liveorigin-comparison");
  bool found = false;
  for (const auto& d : diff.at("differences").as_array()) {
    if (d.at("key") == "origin_requests_per_s") {
      found = true;
      EXPECT_EQ(d.at("verdict"), "worse");
    }
  }
  EXPECT_TRUE(found);
  EXPECT_NE(read_text(dir / "cmp" / "report.md").find("| `cache_hit_ratio{tier=edge}` |"), std::string::npos);
}

TEST(Cli, UsageAndInputErrorsExitTwo) {
  Scratch dir("cli-errors");
  const std::string db = (dir / "results.db").string();
  ASSERT_EQ(cli({"run", kScenario.string(), "--virtual", "-q", "--no-report", "--db", db}, dir, "run").code, 0);
  write_text(dir / "bad.json", "{\"origin_p99\": 1}");
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"gate", "--db", (dir / "none.db").string()}, "none.db: no such results database"},
      {{"gate", "--db", db, "--run", "9"}, "no run 9 (runs: 1)"},
      {{"gate", "--db", db, "--baseline", (dir / "missing.json").string()}, "cannot read the baseline"},
      {{"gate", "--db", db, "--baseline", (dir / "bad.json").string()}, "'origin_p99': unknown metric"},
      {{"gate", "--db", db, "--tolerance-pct", "-3"}, "--tolerance-pct"},
      {{"gate", "--db", db, "--frobnicate"}, "frobnicate"},
      {{"report", "--db", db, "--compare", "1"}, "--compare"},
      {{"report", "--db", db, "--compare", "1", "7"}, "no run 7"},
      {{"report", "--db", db, "--run", "1", "--compare", "1", "1"}, "exclude each other"},
      {{"report", "--db", kScenario.string()}, "not a liveorigin results database"},
      {{"run", (dir / "nothing.yaml").string()}, "nothing.yaml"},
      {{"frobnicate"}, "subcommand"},
  };
  int i = 0;
  for (const auto& c : cases) {
    const Ran r = cli(c.args, dir, "case" + std::to_string(i++));
    EXPECT_EQ(r.code, 2) << c.args[0] << " " << c.says << ":\n" << r.all();
    EXPECT_NE(r.all().find(c.says), std::string::npos) << r.all();
  }
}

}  // namespace
}  // namespace liveorigin::reports::testing
