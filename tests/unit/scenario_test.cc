#include "sim/scenario.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>

namespace liveorigin::sim {
namespace {

namespace fs = std::filesystem;

const std::string kSourceDir = LIVEORIGIN_SOURCE_DIR;

Scenario parse_ok(const std::string& yaml, const std::string& source = "scenarios/test.yaml") {
  auto s = parse_scenario(yaml, source);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message) << "\n--- in:\n" << yaml;
  return s.ok() ? std::move(*s) : Scenario{};
}

std::string parse_error(const std::string& yaml, const std::string& source = "t.yaml") {
  auto s = parse_scenario(yaml, source);
  EXPECT_FALSE(s.ok()) << "parsed:\n" << yaml;
  return s.ok() ? std::string() : s.error().message;
}

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A scratch directory for files a test writes.
fs::path scratch(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("liveorigin_scenario_test_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void write(const fs::path& p, const std::string& text) {
  std::ofstream out(p);
  out << text;
}

// ---------------------------------------------------------------------------------------
// Defaults

TEST(ScenarioDefaults, EmptyFileIsARunnableScenario) {
  const Scenario s = parse_ok("", "scenarios/quiet-night.yaml");
  EXPECT_EQ(s.name, "quiet-night");
  EXPECT_EQ(s.description, "");
  EXPECT_EQ(s.source_path, "scenarios/quiet-night.yaml");
  EXPECT_EQ(s.seed, 1u);
  EXPECT_EQ(s.duration_s, 60);
  EXPECT_EQ(s.interval_ms, 1000);

  EXPECT_EQ(s.origin.mode, OriginSpec::Mode::in_process);
  EXPECT_EQ(s.origin.url, "");
  EXPECT_EQ(s.origin.config_path, "");
  EXPECT_EQ(s.origin.ingest_token, "ingest-secret");
  EXPECT_EQ(s.origin.admin_token, "admin-secret");
  EXPECT_EQ(s.origin.threads, 1);
  EXPECT_FALSE(s.origin.overload.has_value());
  EXPECT_TRUE(s.origin.faults.empty());
  EXPECT_EQ(s.origin.instances, 1);
  EXPECT_EQ(s.origin.store, OriginSpec::Store::memory);

  EXPECT_EQ(s.event.id, "final");
  EXPECT_EQ(s.event.dvr_window_s, 3600);
  EXPECT_EQ(s.event.backfill_s, 0);
  ASSERT_EQ(s.event.streams.size(), 1u);
  EXPECT_EQ(s.event.streams[0].id, "video");
  EXPECT_EQ(s.event.streams[0].segment_duration_ms, 2000);
  EXPECT_EQ(s.event.streams[0].bitrate_kbps, 3000);
  EXPECT_EQ(s.event.streams[0].content_type, ContentType::video);

  ASSERT_EQ(s.pipelines.size(), 2u);
  EXPECT_EQ(s.pipelines[0].id, "a");
  EXPECT_EQ(s.pipelines[1].id, "b");
  for (const auto& p : s.pipelines) {
    EXPECT_EQ(p.publish_latency_ms.kind, Distribution::Kind::fixed);
    EXPECT_EQ(p.publish_latency_ms.a, 200);
    EXPECT_EQ(p.defects.corrupt, 0);
    EXPECT_EQ(p.defects.late_segment_ms, 3000);
    EXPECT_TRUE(p.faults.empty());
  }

  ASSERT_EQ(s.cdn.tiers.size(), 1u);
  EXPECT_EQ(s.cdn.tiers[0].name, "edge");
  EXPECT_EQ(s.cdn.tiers[0].nodes, 2);
  EXPECT_EQ(s.cdn.tiers[0].parent, "");
  EXPECT_EQ(s.cdn.edge_tiers(), std::vector<std::string>{"edge"});
  const CdnFeatures& f = s.cdn.features;
  EXPECT_TRUE(f.cache && f.collapsing && f.filtering && f.hold && f.invalidation_feed && f.retry_after_hint);
  EXPECT_EQ(f.fixed_retry_ms, 500);
  EXPECT_EQ(f.feed_interval_ms, 1000);
  EXPECT_EQ(f.timeline_interval_ms, 5000);

  ASSERT_EQ(s.viewers.size(), 1u);
  EXPECT_EQ(s.viewers[0].name, "live");
  EXPECT_EQ(s.viewers[0].behaviour, ViewerCohort::Behaviour::live);
  EXPECT_EQ(s.viewers[0].count, 100);
  EXPECT_EQ(s.viewers[0].leave_at_s, -1);
  EXPECT_EQ(s.viewers_total(), 100);

  EXPECT_TRUE(s.markers.empty());
  EXPECT_TRUE(s.invalidations.empty());
  EXPECT_TRUE(s.gates.empty());
}

TEST(ScenarioDefaults, DescriptionIsTheLeadingCommentBlock) {
  const Scenario s = parse_ok(
      "# Pipeline A drops out.\n"
      "#\n"
      "#   Indented text stays indented.\n"
      "\n"
      "# Still the story after a blank line.\n"
      "duration_s: 90   # not part of it\n"
      "# nor this\n");
  EXPECT_EQ(s.description,
            "Pipeline A drops out.\n\n  Indented text stays indented.\n\nStill the story after a blank line.");
  EXPECT_EQ(parse_ok("# story\ndescription: explicit\n").description, "explicit");
}

TEST(ScenarioDefaults, NameFallsBackToTheFileStem) {
  EXPECT_EQ(parse_ok("", "/x/y/pipeline-a-outage.yaml").name, "pipeline-a-outage");
  EXPECT_EQ(parse_ok("name: my run\n", "/x/y/z.yaml").name, "my run");
}

TEST(ScenarioDefaults, PipelineListIsShortForDefaults) {
  const Scenario s = parse_ok("pipelines: [primary, backup, tertiary]\n");
  ASSERT_EQ(s.pipelines.size(), 3u);
  EXPECT_EQ(s.pipelines[0].id, "primary");
  EXPECT_EQ(s.pipelines[2].id, "tertiary");
  EXPECT_EQ(s.pipelines[1].publish_latency_ms.a, 200);
}

TEST(ScenarioDefaults, PipelineMapKeepsFileOrderAsRankOrder) {
  const Scenario s = parse_ok("pipelines:\n  z: {}\n  b:\n  m: {}\n");
  ASSERT_EQ(s.pipelines.size(), 3u);
  EXPECT_EQ(s.pipelines[0].id, "z");
  EXPECT_EQ(s.pipelines[1].id, "b");
  EXPECT_EQ(s.pipelines[2].id, "m");
  const OriginConfig c = s.origin_config();
  ASSERT_EQ(c.events[0].pipelines.size(), 3u);
  EXPECT_EQ(c.events[0].pipelines[0].id, "z");
  EXPECT_EQ(c.events[0].pipelines[2].id, "m");
}

TEST(ScenarioDefaults, StreamContentTypeAndBitrateFollowTheName) {
  const Scenario s = parse_ok("event:\n  streams:\n    video-1080p: {bitrate_kbps: 5000}\n    audio-en: {}\n    captions: {content_type: audio}\n");
  ASSERT_EQ(s.event.streams.size(), 3u);
  EXPECT_EQ(s.event.streams[0].content_type, ContentType::video);
  EXPECT_EQ(s.event.streams[0].bitrate_kbps, 5000);
  EXPECT_EQ(s.event.streams[1].content_type, ContentType::audio);
  EXPECT_EQ(s.event.streams[1].bitrate_kbps, 128);
  EXPECT_EQ(s.event.streams[2].content_type, ContentType::audio);
  const Scenario l = parse_ok("event: {streams: [v1, audio-fr]}\n");
  ASSERT_EQ(l.event.streams.size(), 2u);
  EXPECT_EQ(l.event.streams[1].content_type, ContentType::audio);
}

TEST(ScenarioDefaults, FaultWithoutDurationLastsToTheEndOfTheRun) {
  const Scenario s = parse_ok("duration_s: 100\npipelines:\n  a:\n    faults:\n      - {kind: outage, at_s: 30}\n  b: {}\n");
  ASSERT_EQ(s.pipelines[0].faults.size(), 1u);
  EXPECT_EQ(s.pipelines[0].faults[0].duration_s, 70);
  // Beyond the end is allowed: it just ends with the run.
  const Scenario t = parse_ok("duration_s: 100\npipelines:\n  a:\n    faults:\n      - {kind: outage, at_s: 90, duration_s: 60}\n");
  EXPECT_EQ(t.pipelines[0].faults[0].duration_s, 60);
}

TEST(ScenarioDefaults, BackfillCoversTheDeepestDvrCohort) {
  EXPECT_EQ(parse_ok("viewers:\n  r: {behaviour: dvr}\n").event.backfill_s, 600);  // uniform [60, 600]
  EXPECT_EQ(parse_ok("viewers:\n  r: {behaviour: dvr, dvr_offset_s: 90}\n  s: {behaviour: dvr, dvr_offset_s: {uniform: [10, 30]}}\n")
                .event.backfill_s,
            90);
  EXPECT_EQ(parse_ok("viewers:\n  r: {behaviour: dvr, dvr_offset_s: {lognormal: {median: 100, p99: 400.5}}}\n").event.backfill_s, 401);
  // Capped at the DVR window; explicit values win.
  EXPECT_EQ(parse_ok("event: {dvr_window_s: 300}\nviewers:\n  r: {behaviour: dvr, dvr_offset_s: 1000}\n").event.backfill_s, 300);
  EXPECT_EQ(parse_ok("event: {backfill_s: 120}\n").event.backfill_s, 120);
  EXPECT_EQ(parse_ok("viewers:\n  l: {count: 10}\n").event.backfill_s, 0);
}

TEST(ScenarioDefaults, ExplicitlyEmptyViewersMeansNone) {
  const Scenario s = parse_ok("viewers: {}\n");
  EXPECT_TRUE(s.viewers.empty());
  EXPECT_EQ(s.viewers_total(), 0);
}

// ---------------------------------------------------------------------------------------
// A full file

const char* const kFull = R"(# The full story.
name: full
description: every key once
seed: 42
duration_s: 120
interval_ms: 500
origin:
  mode: in-process
  ingest_token: ing
  admin_token: adm
  threads: 4
  overload: {store_reads_max: 64, dvr_budget_rps: 30, background_budget_rps: 5, shed_ttl_ms: 3000}
  faults:
    - {kind: store-slow, at_s: 10, duration_s: 5, delay_ms: 40}
    - {kind: store-down, at_s: 50, duration_s: 2}
event:
  id: cup-final
  dvr_window_s: 1800
  backfill_s: 200
  streams:
    video-1080p: {segment_duration_ms: 2000, bitrate_kbps: 6000}
    audio-en: {segment_duration_ms: 2000, bitrate_kbps: 96, content_type: audio}
pipelines:
  a:
    publish_latency_ms: {lognormal: {median: 300, p99: 900}}
    defects:
      missing_samples: 0.01
      missing_frames: 0.02
      short_segment: 0.03
      discontinuity: 0.04
      corrupt: 0.05
      transport_corruption: 0.06
      missing_segment: 0.07
      late_segment: 0.08
      late_segment_ms: 2500
    faults:
      - {kind: outage, at_s: 20, duration_s: 60}
      - {kind: late, at_s: 5, duration_s: 3, late_ms: 1500}
      - {kind: defect_burst, at_s: 7, duration_s: 4, defect: corrupt, probability: 0.5}
      - {kind: slow_upload, at_s: 90, duration_s: 10, upload_ms: 800}
  b:
    publish_latency_ms: {uniform: [100, 400]}
  c:
    publish_latency_ms: 250
cdn:
  tiers:
    shield: {nodes: 2, parent: origin}
    edge: {nodes: 10, parent: shield}
    pop: {nodes: 3, parent: shield}
  features:
    cache: false
    collapsing: false
    filtering: false
    hold: false
    invalidation_feed: false
    retry_after_hint: false
    fixed_retry_ms: 250
    feed_interval_ms: 2000
    timeline_interval_ms: 10000
viewers:
  live:
    count: 1000
    join_ramp_s: 20
    clock_skew_ms: {normal: {mean: 0, stddev: 150}}
    streams: [video-1080p]
    background_ratio: 0.1
  replay:
    behaviour: dvr
    count: 500
    join_at_s: 30
    join_ramp_s: 5
    leave_at_s: 90
    dvr_offset_s: {exponential: {mean: 60}}
  skewed:
    behaviour: early
    count: 200
    clock_skew_ms: {fixed: 6000}
    invalid_request_ratio: 0.25
markers:
  - {at_s: 20, id: ad1, kind: ad-break, start_offset_ms: 4000, duration_ms: 30000, data: "/DAgAAAAAAAAAP/wFAUAAAABf+/+AAAAAH4AUmXAAAEAAAAAbeh4hQ=="}
  - {at_s: 70, id: chapter-2, kind: chapter, start_offset_ms: -2000}
invalidations:
  - {at_s: 40, stream: video-1080p, from_offset_segments: -5, to_offset_segments: -1, pipeline: a, exclude: true}
  - {at_s: 80, pipeline: a, exclude: false}
  - {at_s: 100}
gates:
  - {metric: defective_served_with_clean_available, op: "==", value: 0}
  - {metric: viewer_wait_ms, percentile: 99, class: live, op: "<", value: 2500, name: live p99 wait}
  - {metric: cache_hit_ratio, tier: edge, op: ">=", value: 0.9}
  - {metric: hold_wait_ms, tier: origin, percentile: 50, op: "<=", value: 400}
  - {metric: shed_ratio, class: dvr, op: "!=", value: 0}
)";

TEST(ScenarioParse, FullFileReadsEveryKey) {
  const Scenario s = parse_ok(kFull);
  EXPECT_EQ(s.name, "full");
  EXPECT_EQ(s.description, "every key once");
  EXPECT_EQ(s.seed, 42u);
  EXPECT_EQ(s.duration_s, 120);
  EXPECT_EQ(s.interval_ms, 500);
  EXPECT_EQ(s.source_text, kFull);

  EXPECT_EQ(s.origin.ingest_token, "ing");
  EXPECT_EQ(s.origin.admin_token, "adm");
  EXPECT_EQ(s.origin.threads, 4);
  ASSERT_TRUE(s.origin.overload.has_value());
  EXPECT_EQ(s.origin.overload->store_reads_max, 64);
  EXPECT_EQ(s.origin.overload->dvr_budget_rps, 30);
  EXPECT_EQ(s.origin.overload->background_budget_rps, 5);
  EXPECT_EQ(s.origin.overload->shed_ttl_ms, 3000);
  ASSERT_EQ(s.origin.faults.size(), 2u);
  EXPECT_EQ(s.origin.faults[0].kind, OriginSpec::Fault::Kind::store_slow);
  EXPECT_EQ(s.origin.faults[0].delay_ms, 40);
  EXPECT_EQ(s.origin.faults[1].kind, OriginSpec::Fault::Kind::store_down);
  EXPECT_EQ(s.origin.faults[1].at_s, 50);
  EXPECT_EQ(s.origin.faults[1].duration_s, 2);

  EXPECT_EQ(s.event.id, "cup-final");
  EXPECT_EQ(s.event.dvr_window_s, 1800);
  EXPECT_EQ(s.event.backfill_s, 200);
  ASSERT_EQ(s.event.streams.size(), 2u);
  EXPECT_EQ(s.event.streams[0].bitrate_kbps, 6000);
  EXPECT_EQ(s.event.streams[1].bitrate_kbps, 96);
  EXPECT_EQ(s.event.streams[1].content_type, ContentType::audio);

  ASSERT_EQ(s.pipelines.size(), 3u);
  const PipelineSpec& a = s.pipelines[0];
  EXPECT_EQ(a.publish_latency_ms.kind, Distribution::Kind::lognormal);
  EXPECT_EQ(a.publish_latency_ms.a, 300);
  EXPECT_EQ(a.publish_latency_ms.b, 900);
  EXPECT_DOUBLE_EQ(a.defects.missing_samples, 0.01);
  EXPECT_DOUBLE_EQ(a.defects.missing_frames, 0.02);
  EXPECT_DOUBLE_EQ(a.defects.short_segment, 0.03);
  EXPECT_DOUBLE_EQ(a.defects.discontinuity, 0.04);
  EXPECT_DOUBLE_EQ(a.defects.corrupt, 0.05);
  EXPECT_DOUBLE_EQ(a.defects.transport_corruption, 0.06);
  EXPECT_DOUBLE_EQ(a.defects.missing_segment, 0.07);
  EXPECT_DOUBLE_EQ(a.defects.late_segment, 0.08);
  EXPECT_EQ(a.defects.late_segment_ms, 2500);
  ASSERT_EQ(a.faults.size(), 4u);
  EXPECT_EQ(a.faults[0].kind, PipelineFault::Kind::outage);
  EXPECT_EQ(a.faults[0].at_s, 20);
  EXPECT_EQ(a.faults[0].duration_s, 60);
  EXPECT_EQ(a.faults[1].kind, PipelineFault::Kind::late);
  EXPECT_EQ(a.faults[1].late_ms, 1500);
  EXPECT_EQ(a.faults[2].kind, PipelineFault::Kind::defect_burst);
  EXPECT_EQ(a.faults[2].defect, "corrupt");
  EXPECT_DOUBLE_EQ(a.faults[2].probability, 0.5);
  EXPECT_EQ(a.faults[3].kind, PipelineFault::Kind::slow_upload);
  EXPECT_EQ(a.faults[3].upload_ms, 800);
  EXPECT_EQ(s.pipelines[1].publish_latency_ms.kind, Distribution::Kind::uniform);
  EXPECT_EQ(s.pipelines[2].publish_latency_ms.kind, Distribution::Kind::fixed);
  EXPECT_EQ(s.pipelines[2].publish_latency_ms.a, 250);

  ASSERT_EQ(s.cdn.tiers.size(), 3u);
  EXPECT_EQ(s.cdn.tiers[0].parent, "");  // "origin" is stored as empty
  EXPECT_EQ(s.cdn.tiers[1].parent, "shield");
  EXPECT_EQ(s.cdn.edge_tiers(), (std::vector<std::string>{"edge", "pop"}));
  const CdnFeatures& f = s.cdn.features;
  EXPECT_FALSE(f.cache || f.collapsing || f.filtering || f.hold || f.invalidation_feed || f.retry_after_hint);
  EXPECT_EQ(f.fixed_retry_ms, 250);
  EXPECT_EQ(f.feed_interval_ms, 2000);
  EXPECT_EQ(f.timeline_interval_ms, 10000);

  ASSERT_EQ(s.viewers.size(), 3u);
  EXPECT_EQ(s.viewers[0].streams, std::vector<std::string>{"video-1080p"});
  EXPECT_EQ(s.viewers[0].clock_skew_ms.kind, Distribution::Kind::normal);
  EXPECT_EQ(s.viewers[0].clock_skew_ms.b, 150);
  EXPECT_DOUBLE_EQ(s.viewers[0].background_ratio, 0.1);
  EXPECT_EQ(s.viewers[1].behaviour, ViewerCohort::Behaviour::dvr);
  EXPECT_EQ(s.viewers[1].join_at_s, 30);
  EXPECT_EQ(s.viewers[1].join_ramp_s, 5);
  EXPECT_EQ(s.viewers[1].leave_at_s, 90);
  EXPECT_EQ(s.viewers[1].dvr_offset_s.kind, Distribution::Kind::exponential);
  EXPECT_EQ(s.viewers[1].dvr_offset_s.a, 60);
  EXPECT_EQ(s.viewers[2].behaviour, ViewerCohort::Behaviour::early);
  EXPECT_EQ(s.viewers[2].clock_skew_ms.a, 6000);
  EXPECT_DOUBLE_EQ(s.viewers[2].invalid_request_ratio, 0.25);
  EXPECT_EQ(s.viewers_total(), 1700);

  ASSERT_EQ(s.markers.size(), 2u);
  EXPECT_EQ(s.markers[0].id, "ad1");
  EXPECT_EQ(s.markers[0].start_offset_ms, 4000);
  EXPECT_EQ(s.markers[0].duration_ms, 30000);
  EXPECT_EQ(s.markers[0].data_b64, "/DAgAAAAAAAAAP/wFAUAAAABf+/+AAAAAH4AUmXAAAEAAAAAbeh4hQ==");
  EXPECT_EQ(s.markers[1].kind, "chapter");
  EXPECT_EQ(s.markers[1].start_offset_ms, -2000);
  EXPECT_FALSE(s.markers[1].duration_ms.has_value());

  ASSERT_EQ(s.invalidations.size(), 3u);
  EXPECT_EQ(s.invalidations[0].stream, "video-1080p");
  EXPECT_EQ(s.invalidations[0].from_offset_segments, -5);
  EXPECT_EQ(s.invalidations[0].to_offset_segments, -1);
  EXPECT_EQ(s.invalidations[0].pipeline, "a");
  EXPECT_EQ(s.invalidations[0].exclude, true);
  EXPECT_EQ(s.invalidations[1].exclude, false);
  EXPECT_FALSE(s.invalidations[1].from_offset_segments.has_value());
  EXPECT_FALSE(s.invalidations[2].exclude.has_value());
  EXPECT_EQ(s.invalidations[2].pipeline, "");

  ASSERT_EQ(s.gates.size(), 5u);
  EXPECT_EQ(s.gates[0].name, "defective_served_with_clean_available == 0");
  EXPECT_EQ(s.gates[1].name, "live p99 wait");
  EXPECT_EQ(s.gates[1].percentile, 99);
  EXPECT_EQ(s.gates[1].request_class, "live");
  EXPECT_EQ(s.gates[2].tier, "edge");
  EXPECT_EQ(s.gates[2].name, "cache_hit_ratio tier=edge >= 0.9");
  EXPECT_EQ(s.gates[3].tier, "origin");
  EXPECT_EQ(s.gates[3].name, "hold_wait_ms p50 tier=origin <= 400");
  EXPECT_EQ(s.gates[4].op, "!=");
  EXPECT_EQ(s.gates[4].name, "shed_ratio class=dvr != 0");
}

TEST(ScenarioParse, JsonIsTheResolvedScenarioWithoutTokens) {
  const Scenario s = parse_ok(kFull);
  const boost::json::value v = to_json(s);
  const std::string text = boost::json::serialize(v);
  EXPECT_EQ(text.find("\"ing\""), std::string::npos) << text;
  EXPECT_EQ(text.find("\"adm\""), std::string::npos) << text;
  const auto& o = v.as_object();
  EXPECT_EQ(o.at("name").as_string(), "full");
  EXPECT_EQ(o.at("seed").to_number<int64_t>(), 42);
  const auto& pipelines = o.at("pipelines").as_object();
  ASSERT_EQ(pipelines.size(), 3u);
  EXPECT_EQ(pipelines.begin()->key(), "a");  // rank order kept
  EXPECT_EQ(pipelines.at("a").at("publish_latency_ms").at("lognormal").at("p99").to_number<double>(), 900);
  EXPECT_EQ(o.at("cdn").at("tiers").at("shield").at("parent").as_string(), "origin");
  EXPECT_EQ(o.at("event").at("backfill_s").to_number<int64_t>(), 200);
  EXPECT_EQ(o.at("gates").as_array().size(), 5u);
  EXPECT_EQ(o.at("viewers").at("replay").at("leave_at_s").to_number<int64_t>(), 90);
  EXPECT_TRUE(o.at("viewers").at("live").at("leave_at_s").is_null());
}

// ---------------------------------------------------------------------------------------
// Distributions

struct DistCase {
  std::string yaml;
  Distribution::Kind kind;
  double a;
  double b;
};

TEST(ScenarioDistribution, EveryFormParses) {
  const std::vector<DistCase> cases = {
      {"300", Distribution::Kind::fixed, 300, 0},
      {"12.5", Distribution::Kind::fixed, 12.5, 0},
      {"{fixed: 80}", Distribution::Kind::fixed, 80, 0},
      {"{uniform: [200, 400]}", Distribution::Kind::uniform, 200, 400},
      {"{uniform: [5, 5]}", Distribution::Kind::uniform, 5, 5},
      {"{normal: {mean: 300, stddev: 0}}", Distribution::Kind::normal, 300, 0},
      {"{lognormal: {median: 300, p99: 300}}", Distribution::Kind::lognormal, 300, 300},
      {"{lognormal: {median: 0.5, p99: 2}}", Distribution::Kind::lognormal, 0.5, 2},
      {"{exponential: {mean: 500}}", Distribution::Kind::exponential, 500, 0},
      {"\n      lognormal:\n        median: 300\n        p99: 1200", Distribution::Kind::lognormal, 300, 1200},
  };
  for (const auto& c : cases) {
    const Scenario s = parse_ok("pipelines:\n  a:\n    publish_latency_ms: " + c.yaml + "\n");
    const Distribution& d = s.pipelines[0].publish_latency_ms;
    EXPECT_EQ(d.kind, c.kind) << c.yaml;
    EXPECT_DOUBLE_EQ(d.a, c.a) << c.yaml;
    EXPECT_DOUBLE_EQ(d.b, c.b) << c.yaml;
  }
  // Clock skew may be negative (a clock running late).
  const Scenario s = parse_ok("viewers:\n  l: {clock_skew_ms: {uniform: [-500, 500]}}\n");
  EXPECT_EQ(s.viewers[0].clock_skew_ms.a, -500);
  EXPECT_EQ(parse_ok("viewers:\n  l: {clock_skew_ms: {normal: {mean: -300, stddev: 100}}}\n").viewers[0].clock_skew_ms.a, -300);
}

struct ErrorCase {
  std::string yaml;
  std::string message;
};

void expect_errors(const std::vector<ErrorCase>& cases) {
  for (const auto& c : cases) EXPECT_EQ(parse_error(c.yaml), c.message) << c.yaml;
}

TEST(ScenarioDistribution, BadParametersNameTheParameter) {
  const std::string p = "pipelines:\n  a:\n    publish_latency_ms: ";
  expect_errors({
      {p + "fast\n", "t.yaml:3:25: pipelines.a.publish_latency_ms: expected a number or a distribution (fixed, uniform, normal, lognormal, exponential), got 'fast'"},
      {p + "-5\n", "t.yaml:3:25: pipelines.a.publish_latency_ms: expected a number in [0, 3600000], got '-5'"},
      {p + "{}\n", "t.yaml:3:25: pipelines.a.publish_latency_ms: expected a number or a distribution (fixed, uniform, normal, lognormal, exponential), got an empty map"},
      {p + "[1, 2]\n", "t.yaml:3:25: pipelines.a.publish_latency_ms: expected a number or a distribution (fixed, uniform, normal, lognormal, exponential), got a list"},
      {p + "{gauss: 3}\n", "t.yaml:3:26: pipelines.a.publish_latency_ms.gauss: unknown distribution (expected one of: fixed, uniform, normal, lognormal, exponential)"},
      {p + "{fixed: 1, uniform: [1, 2]}\n", "t.yaml:3:36: pipelines.a.publish_latency_ms.uniform: one distribution per value, got 'fixed' and 'uniform'"},
      {p + "{uniform: 300}\n", "t.yaml:3:35: pipelines.a.publish_latency_ms.uniform: expected [min, max], two numbers, got '300'"},
      {p + "{uniform: [400, 200]}\n", "t.yaml:3:41: pipelines.a.publish_latency_ms.uniform[1]: expected max >= min (400), got '200'"},
      {p + "{normal: {mean: 300}}\n", "t.yaml:3:34: pipelines.a.publish_latency_ms.normal.stddev: required key is missing"},
      {p + "{normal: {mean: 300, stddev: -1}}\n", "t.yaml:3:54: pipelines.a.publish_latency_ms.normal.stddev: expected a number in [0, 3600000], got '-1'"},
      {p + "{normal: {mean: 300, sd: 10}}\n", "t.yaml:3:46: pipelines.a.publish_latency_ms.normal.sd: unknown key (expected one of: mean, stddev)"},
      {p + "{lognormal: {median: 0, p99: 10}}\n", "t.yaml:3:46: pipelines.a.publish_latency_ms.lognormal.median: expected a number in (0, 3600000], got '0'"},
      {p + "{lognormal: {median: 300, p99: 299.5}}\n", "t.yaml:3:56: pipelines.a.publish_latency_ms.lognormal.p99: expected a number >= median (300), got '299.5'"},
      {p + "{lognormal: {p99: 900}}\n", "t.yaml:3:37: pipelines.a.publish_latency_ms.lognormal.median: required key is missing"},
      {p + "{exponential: {mean: 0}}\n", "t.yaml:3:46: pipelines.a.publish_latency_ms.exponential.mean: expected a number in (0, 3600000], got '0'"},
      {"viewers:\n  r: {behaviour: dvr, dvr_offset_s: {uniform: [-10, 60]}}\n",
       "t.yaml:2:48: viewers.r.dvr_offset_s.uniform[0]: expected a number in [0, 604800], got '-10'"},
  });
}

// ---------------------------------------------------------------------------------------
// Errors, class by class

TEST(ScenarioErrors, UnknownKeysAnywhere) {
  expect_errors({
      {"seeds: 3\n", "t.yaml:1:1: seeds: unknown key (expected one of: cdn, description, duration_s, event, gates, interval_ms, invalidations, markers, name, origin, pipelines, seed, viewers)"},
      {"origin: {mode: child, thread: 2}\n", "t.yaml:1:23: origin.thread: unknown key (expected one of: admin_token, config, create_event, faults, ingest_token, instances, mode, model, overload, storage_faults, store, threads, url)"},
      {"event: {streams: {v: {bitrate: 5}}}\n", "t.yaml:1:23: event.streams.v.bitrate: unknown key (expected one of: bitrate_kbps, content_type, segment_duration_ms)"},
      {"pipelines:\n  a:\n    defects: {corupt: 0.1}\n", "t.yaml:3:15: pipelines.a.defects.corupt: unknown key (expected one of: corrupt, discontinuity, late_segment, late_segment_ms, missing_frames, missing_samples, missing_segment, short_segment, transport_corruption)"},
      {"cdn: {features: {collapse: false}}\n", "t.yaml:1:18: cdn.features.collapse: unknown key (expected one of: cache, collapsing, feed_interval_ms, filtering, fixed_retry_ms, hold, invalidation_feed, retry_after_hint, timeline_interval_ms)"},
      {"viewers:\n  l: {cnt: 5}\n", "t.yaml:2:7: viewers.l.cnt: unknown key (expected one of: background_ratio, behaviour, clock_skew_ms, count, dvr_offset_s, invalid_request_ratio, join_at_s, join_ramp_s, leave_at_s, streams)"},
      {"gates:\n  - {metric: shed_ratio, op: '<', value: 0.1, tolerance: 1}\n", "t.yaml:2:47: gates[0].tolerance: unknown key (expected one of: class, metric, name, op, percentile, tier, value)"},
  });
}

TEST(ScenarioErrors, WrongTypes) {
  expect_errors({
      {"duration_s: 1.5\n", "t.yaml:1:13: duration_s: expected an integer in [1, 86400], got '1.5'"},
      {"seed: -1\n", "t.yaml:1:7: seed: expected an integer in [0, 9223372036854775807], got '-1'"},
      {"interval_ms: 90000\n", "t.yaml:1:14: interval_ms: expected an integer in [10, 60000], got '90000'"},
      {"origin: external\n", "t.yaml:1:9: origin: expected a map, got 'external'"},
      {"pipelines: a\n", "t.yaml:1:12: pipelines: expected a map from pipeline id to its settings (or a list of ids), got 'a'"},
      {"pipelines: [{a: 1}]\n", "t.yaml:1:13: pipelines[0]: expected a pipeline id, got a map (settings go in the map form: pipeline_id: {...})"},
      {"cdn: {features: {cache: yes}}\n", "t.yaml:1:25: cdn.features.cache: expected true or false, got 'yes'"},
      {"cdn: {tiers: [edge]}\n", "t.yaml:1:14: cdn.tiers: expected a map from tier name to {nodes, parent}, e.g. {shield: {nodes: 2}, edge: {nodes: 10, parent: shield}}"},
      {"viewers: [live]\n", "t.yaml:1:10: viewers: expected a map from cohort name to its settings, e.g. {live: {count: 1000}}"},
      {"viewers:\n  l: {count: 0}\n", "t.yaml:2:14: viewers.l.count: expected an integer in [1, 100000000], got '0'"},
      {"viewers:\n  l: {behaviour: vod}\n", "t.yaml:2:18: viewers.l.behaviour: expected one of live, dvr, early, got 'vod'"},
      {"event: {streams: {v: {content_type: text}}}\n", "t.yaml:1:37: event.streams.v.content_type: expected one of video, audio, got 'text'"},
      {"pipelines:\n  a:\n    faults: {kind: outage}\n", "t.yaml:3:13: pipelines.a.faults: expected a list of faults, got a map"},
      {"markers: {at_s: 1}\n", "t.yaml:1:10: markers: expected a list of markers, got a map"},
      {"gates: {metric: shed_ratio}\n", "t.yaml:1:8: gates: expected a list of gates, got a map"},
  });
}

TEST(ScenarioErrors, ProbabilitiesAreInZeroToOne) {
  expect_errors({
      {"pipelines:\n  a:\n    defects: {missing_frames: 2}\n", "t.yaml:3:31: pipelines.a.defects.missing_frames: expected a probability in [0, 1], got '2'"},
      {"pipelines:\n  a:\n    defects: {corrupt: -0.1}\n", "t.yaml:3:24: pipelines.a.defects.corrupt: expected a probability in [0, 1], got '-0.1'"},
      {"pipelines:\n  a:\n    defects: {corrupt: 1%}\n", "t.yaml:3:24: pipelines.a.defects.corrupt: expected a probability in [0, 1], got '1%'"},
      {"viewers:\n  s: {invalid_request_ratio: 1.01}\n", "t.yaml:2:30: viewers.s.invalid_request_ratio: expected a probability in [0, 1], got '1.01'"},
      {"pipelines:\n  a:\n    faults:\n      - {kind: defect_burst, at_s: 1, defect: corrupt, probability: 5}\n",
       "t.yaml:4:69: pipelines.a.faults[0].probability: expected a probability in [0, 1], got '5'"},
  });
}

TEST(ScenarioErrors, FaultsCheckKindAndTheirKeys) {
  const std::string p = "duration_s: 60\npipelines:\n  a:\n    faults:\n      - ";
  expect_errors({
      {p + "{kind: outtage, at_s: 20, duration_s: 60}\n", "t.yaml:5:16: pipelines.a.faults[0].kind: expected one of outage, late, defect_burst, slow_upload, got 'outtage'"},
      {p + "{at_s: 20}\n", "t.yaml:5:9: pipelines.a.faults[0].kind: required key is missing"},
      {p + "{kind: outage}\n", "t.yaml:5:9: pipelines.a.faults[0].at_s: required key is missing"},
      {p + "{kind: outage, at_s: -1}\n", "t.yaml:5:30: pipelines.a.faults[0].at_s: expected an integer in [0, 59], got '-1'"},
      {p + "{kind: outage, at_s: 60}\n", "t.yaml:5:30: pipelines.a.faults[0].at_s: expected an integer in [0, 59], got '60'"},
      {p + "{kind: outage, at_s: 1, duration_s: 0}\n", "t.yaml:5:45: pipelines.a.faults[0].duration_s: expected an integer in [1, 604800], got '0'"},
      {p + "{kind: late, at_s: 1}\n", "t.yaml:5:9: pipelines.a.faults[0].late_ms: required key is missing"},
      {p + "{kind: outage, at_s: 1, late_ms: 100}\n", "t.yaml:5:42: pipelines.a.faults[0].late_ms: only for kind late"},
      {p + "{kind: defect_burst, at_s: 1}\n", "t.yaml:5:9: pipelines.a.faults[0].defect: required key is missing"},
      {p + "{kind: defect_burst, at_s: 1, defect: frames}\n", "t.yaml:5:47: pipelines.a.faults[0].defect: expected one of missing_samples, missing_frames, short_segment, discontinuity, corrupt, transport_corruption, missing_segment, got 'frames'"},
      {p + "{kind: late, at_s: 1, late_ms: 5, probability: 0.5}\n", "t.yaml:5:56: pipelines.a.faults[0].probability: only for kind defect_burst"},
      {p + "{kind: slow_upload, at_s: 1}\n", "t.yaml:5:9: pipelines.a.faults[0].upload_ms: required key is missing"},
      {p + "{kind: outage, at_s: 1, upload_ms: 5}\n", "t.yaml:5:44: pipelines.a.faults[0].upload_ms: only for kind slow_upload"},
  });
}

TEST(ScenarioErrors, IdsAndDuplicates) {
  expect_errors({
      {"pipelines:\n  a: {}\n  a: {}\n", "t.yaml:3:3: pipelines.a: duplicate pipeline 'a'"},
      {"pipelines: [a, b, a]\n", "t.yaml:1:19: pipelines.a: duplicate pipeline 'a'"},
      {"pipelines: [_a]\n", "t.yaml:1:13: pipelines._a: '_a' is not a valid id (1-64 of A-Z a-z 0-9 . _ -, not starting with _ or .)"},
      {"pipelines: [a, b, c, d, e, f, g, h, i]\n", "t.yaml:1:37: pipelines.i: at most 8 pipelines"},
      {"pipelines: {}\n", "t.yaml:1:12: pipelines: expected 1 to 8 pipelines"},
      {"event:\n  streams:\n    v: {}\n    v: {}\n", "t.yaml:4:5: event.streams.v: duplicate stream 'v'"},
      {"event: {streams: {}}\n", "t.yaml:1:18: event.streams: expected at least one stream"},
      {"event: {id: 'my event'}\n", "t.yaml:1:13: event.id: 'my event' is not a valid id (1-64 of A-Z a-z 0-9 . _ -, not starting with _ or .)"},
      {"cdn:\n  tiers:\n    edge: {}\n    edge: {}\n", "t.yaml:4:5: cdn.tiers.edge: duplicate tier 'edge'"},
      {"viewers:\n  l: {}\n  l: {}\n", "t.yaml:3:3: viewers.l: duplicate cohort 'l'"},
      {"seed: 1\nduration_s: 60\nseed: 2\n", "t.yaml:3:1: seed: duplicate key 'seed'"},
      {"pipelines:\n  a:\n    defects: {corrupt: 0.1, corrupt: 0.2}\n", "t.yaml:3:29: pipelines.a.defects.corrupt: duplicate key 'corrupt'"},
  });
}

TEST(ScenarioErrors, CdnTiers) {
  expect_errors({
      {"cdn: {tiers: {}}\n", "t.yaml:1:14: cdn.tiers: expected at least one tier"},
      {"cdn:\n  tiers:\n    edge: {parent: shield}\n", "t.yaml:3:20: cdn.tiers.edge.parent: unknown tier 'shield' (expected origin or one of: edge)"},
      {"cdn:\n  tiers:\n    edge: {parent: edge}\n", "t.yaml:3:20: cdn.tiers.edge.parent: tiers form a cycle (edge -> edge); every chain of parents must end at the origin"},
      {"cdn:\n  tiers:\n    top: {}\n    a: {parent: b}\n    b: {parent: a}\n", "t.yaml:4:17: cdn.tiers.a.parent: tiers form a cycle (a -> b -> a); every chain of parents must end at the origin"},
      {"cdn:\n  tiers:\n    origin: {}\n", "t.yaml:3:5: cdn.tiers.origin: 'origin' is reserved (it names the origin or the viewers in results and gates)"},
      {"cdn:\n  tiers:\n    edge: {nodes: 0}\n", "t.yaml:3:19: cdn.tiers.edge.nodes: expected an integer in [1, 100000], got '0'"},
  });
  // A tier pointing into a chain is fine; edges are the tiers nobody names as parent.
  const Scenario s = parse_ok("cdn:\n  tiers:\n    edge: {nodes: 8, parent: shield}\n    shield: {nodes: 2, parent: regional}\n    regional: {}\n    pop: {parent: regional}\n");
  EXPECT_EQ(s.cdn.edge_tiers(), (std::vector<std::string>{"edge", "pop"}));
}

TEST(ScenarioErrors, ViewerCohorts) {
  expect_errors({
      {"viewers:\n  l: {streams: [video, audio]}\n", "t.yaml:2:24: viewers.l.streams[1]: unknown stream 'audio' (the event's streams: video)"},
      {"viewers:\n  l: {streams: [video, video]}\n", "t.yaml:2:24: viewers.l.streams[1]: duplicate stream 'video'"},
      {"viewers:\n  e: {behaviour: early}\n", "t.yaml:2:6: viewers.e.clock_skew_ms: required key is missing (how far ahead an early cohort asks, e.g. {normal: {mean: 4000, stddev: 1500}})"},
      {"viewers:\n  d: {behaviour: dvr, clock_skew_ms: 100}\n", "t.yaml:2:38: viewers.d.clock_skew_ms: only for behaviour live or early (a DVR viewer's position is dvr_offset_s)"},
      {"viewers:\n  l: {dvr_offset_s: 100}\n", "t.yaml:2:21: viewers.l.dvr_offset_s: only for behaviour dvr"},
      {"duration_s: 60\nviewers:\n  l: {join_at_s: 60}\n", "t.yaml:3:18: viewers.l.join_at_s: expected an integer in [0, 59], got '60'"},
      {"viewers:\n  l: {join_at_s: 30, leave_at_s: 30}\n", "t.yaml:2:34: viewers.l.leave_at_s: expected an integer in [31, 604800], got '30'"},
  });
}

TEST(ScenarioErrors, MarkersAndInvalidations) {
  expect_errors({
      {"markers:\n  - {id: ad1}\n", "t.yaml:2:5: markers[0].at_s: required key is missing"},
      {"markers:\n  - {at_s: 5}\n", "t.yaml:2:5: markers[0].id: required key is missing"},
      {"markers:\n  - {at_s: 5, id: ad1, data: 'not base64!'}\n", "t.yaml:2:30: markers[0].data: expected base64 (RFC 4648, padded), got 'not base64!'"},
      {"markers:\n  - {at_s: 5, id: ad1, duration_ms: 0}\n", "t.yaml:2:37: markers[0].duration_ms: expected an integer in [1, 1099511627776], got '0'"},
      {"invalidations:\n  - {at_s: 5, stream: video-720p}\n", "t.yaml:2:23: invalidations[0].stream: unknown stream 'video-720p' (the event's streams: video)"},
      {"invalidations:\n  - {at_s: 5, pipeline: c}\n", "t.yaml:2:25: invalidations[0].pipeline: unknown pipeline 'c' (the scenario's pipelines: a, b)"},
      {"invalidations:\n  - {at_s: 5, from_offset_segments: -1, to_offset_segments: -5}\n", "t.yaml:2:61: invalidations[0].to_offset_segments: expected an integer >= from_offset_segments (-1), got '-5'"},
      {"invalidations:\n  - {at_s: 5, exclude: true}\n", "t.yaml:2:24: invalidations[0].exclude: exclude needs a pipeline"},
  });
}

TEST(ScenarioErrors, Gates) {
  const std::string metrics =
      "defective_served_with_clean_available, viewer_missing_segments, viewer_error_ratio, origin_requests_per_s, "
      "origin_get_latency_ms, viewer_wait_ms, hold_wait_ms, put_latency_ms, cache_hit_ratio, origin_status_5xx, "
      "failover_gap_segments, shed_ratio";
  expect_errors({
      {"gates:\n  - {metric: p99, op: '<', value: 1}\n", "t.yaml:2:14: gates[0].metric: expected one of " + metrics + ", got 'p99'"},
      {"gates:\n  - {op: '<', value: 1}\n", "t.yaml:2:5: gates[0].metric: required key is missing"},
      {"gates:\n  - {metric: origin_status_5xx, value: 1}\n", "t.yaml:2:5: gates[0].op: required key is missing (one of < <= > >= == !=)"},
      {"gates:\n  - {metric: origin_status_5xx, op: '=', value: 1}\n", "t.yaml:2:37: gates[0].op: expected one of < <= > >= == !=, got '='"},
      {"gates:\n  - {metric: origin_status_5xx, op: !=, value: 1}\n", "t.yaml:2:37: gates[0].op: got the YAML tag '!=': quote the operator (op: \"!=\")"},
      {"gates:\n  - metric: origin_status_5xx\n    op: >\n    value: 1\n", "t.yaml:3:9: gates[0].op: expected one of < <= > >= == !=, got '' (quote the operator: op: \">\")"},
      {"gates:\n  - {metric: origin_status_5xx, op: >=, value: 1}\n", "t.yaml:2:37: op: unknown token; quote comparison operators (op: \">=\")"},
      {"gates:\n  - {metric: origin_status_5xx, op: '<'}\n", "t.yaml:2:5: gates[0].value: required key is missing"},
      {"gates:\n  - {metric: origin_status_5xx, op: '<', value: -1}\n", "t.yaml:2:49: gates[0].value: expected a number >= 0, got '-1'"},
      {"gates:\n  - {metric: cache_hit_ratio, op: '>', value: 90}\n", "t.yaml:2:47: gates[0].value: expected a ratio in [0, 1], got '90'"},
      {"gates:\n  - {metric: origin_status_5xx, percentile: 99, op: '<', value: 1}\n", "t.yaml:2:45: gates[0].percentile: only for latency metrics (origin_get_latency_ms, viewer_wait_ms, hold_wait_ms, put_latency_ms); origin_status_5xx is a count"},
      {"gates:\n  - {metric: shed_ratio, percentile: 50, op: '<', value: 1}\n", "t.yaml:2:38: gates[0].percentile: only for latency metrics (origin_get_latency_ms, viewer_wait_ms, hold_wait_ms, put_latency_ms); shed_ratio is a ratio"},
      {"gates:\n  - {metric: viewer_wait_ms, op: '<', value: 1}\n", "t.yaml:2:5: gates[0].percentile: required key is missing (a latency gate names its percentile, e.g. percentile: 99)"},
      {"gates:\n  - {metric: viewer_wait_ms, percentile: 0, op: '<', value: 1}\n", "t.yaml:2:42: gates[0].percentile: expected a percentile in (0, 100], got '0'"},
      {"gates:\n  - {metric: viewer_wait_ms, percentile: 99.9, class: vip, op: '<', value: 1}\n", "t.yaml:2:55: gates[0].class: expected one of live, dvr, background, got 'vip'"},
      {"gates:\n  - {metric: put_latency_ms, percentile: 99, class: live, op: '<', value: 1}\n", "t.yaml:2:53: gates[0].class: not for put_latency_ms (it has no request class)"},
      {"gates:\n  - {metric: cache_hit_ratio, tier: edg, op: '>', value: 0.5}\n", "t.yaml:2:37: gates[0].tier: expected one of edge (cache_hit_ratio is measured at CDN tiers), got 'edg'"},
      {"gates:\n  - {metric: hold_wait_ms, percentile: 99, tier: viewer, op: '<', value: 1}\n", "t.yaml:2:50: gates[0].tier: expected one of edge, origin (hold_wait_ms is measured at CDN tiers and the origin), got 'viewer'"},
      {"gates:\n  - {metric: viewer_error_ratio, tier: edge, op: '<', value: 0.1}\n", "t.yaml:2:40: gates[0].tier: not for viewer_error_ratio (only cache_hit_ratio and hold_wait_ms are per tier)"},
  });
}

TEST(ScenarioErrors, OriginModes) {
  expect_errors({
      {"origin: {mode: remote}\n", "t.yaml:1:16: origin.mode: expected one of in-process, child, external, got 'remote'"},
      {"origin: {mode: external}\n", "t.yaml:1:9: origin.url: required key is missing (mode external drives the origin at this URL)"},
      {"origin: {mode: external, url: 'localhost:8080'}\n", "t.yaml:1:31: origin.url: expected an http:// URL such as http://127.0.0.1:8080, got 'localhost:8080'"},
      {"origin: {url: 'http://x'}\n", "t.yaml:1:15: origin.url: only for mode external (the harness starts the origin itself)"},
      {"origin: {mode: external, url: 'http://x', config: o.yaml}\n", "t.yaml:1:51: origin.config: only for mode in-process or child (an external origin has its own config)"},
      {"origin: {mode: external, url: 'http://x', threads: 2}\n", "t.yaml:1:52: origin.threads: only for mode in-process or child"},
      {"origin: {mode: child, create_event: false}\n", "t.yaml:1:37: origin.create_event: only for mode external"},
      {"origin: {config: o.yaml, overload: {dvr_budget_rps: 5}}\n", "t.yaml:1:36: origin.overload: not with origin.config (put overload in that file)"},
      {"origin: {config: o.yaml, threads: 3}\n", "t.yaml:1:35: origin.threads: not with origin.config (the file's threads applies)"},
      {"origin: {overload: {dvr_rps: 5}}\n", "t.yaml:1:21: origin.overload.dvr_rps: unknown key (expected one of: background_budget_rps, dvr_budget_rps, shed_ttl_ms, store_reads_max)"},
      {"origin: {mode: child, faults: [{kind: store-slow, at_s: 1, delay_ms: 5}]}\n", "t.yaml:1:39: origin.faults[0].kind: the store of child instances is slowed or stopped at the network: set origin.store: redis or redis-cluster"},
      {"origin:\n  faults:\n    - {kind: store-slow, at_s: 1}\n", "t.yaml:3:7: origin.faults[0].delay_ms: required key is missing (kind store-slow)"},
      {"origin:\n  faults:\n    - {kind: store-down, at_s: 1, delay_ms: 5}\n", "t.yaml:3:45: origin.faults[0].delay_ms: only for kind store-slow"},
      {"origin:\n  storage_faults:\n    - {kind: slow, at_s: 1}\n", "t.yaml:3:5: origin.storage_faults: is now origin.faults (kinds store-slow, store-down, origin-kill)"},
      {"origin: {mode: child, instances: 3}\n", "t.yaml:1:34: origin.instances: several instances share their state through the store: set origin.store: redis or redis-cluster"},
      // Several in-process instances and their kills are virtual time's (origin.model); real time refuses them when it runs.
      {"origin: {mode: child, model: {}}\n", "t.yaml:1:30: origin.model: only for mode in-process (virtual time models the core's instances and store)"},
      {"origin:\n  mode: child\n  instances: 2\n  store: redis\n  faults:\n    - {kind: origin-kill, at_s: 1, instance: 3}\n", "t.yaml:6:46: origin.faults[0].instance: expected an integer in [1, 2], got '3'"},
      {"origin: {store: floppy}\n", "t.yaml:1:17: origin.store: expected one of memory, sqlite, redis, redis-cluster, got 'floppy'"},
      {"origin: {ingest_token: ''}\n", "t.yaml:1:24: origin.ingest_token: expected a non-empty token of printable ASCII"},
  });
  const Scenario e = parse_ok("origin: {mode: external, url: 'http://10.0.0.5:8080/', create_event: false}\n");
  EXPECT_EQ(e.origin.mode, OriginSpec::Mode::external);
  EXPECT_EQ(e.origin.url, "http://10.0.0.5:8080");
  EXPECT_FALSE(e.origin.create_event);
}

TEST(ScenarioErrors, SyntaxErrorsNameLineAndColumn) {
  EXPECT_EQ(parse_error("event:\n  streams: [a, b\nseed: 1\n"), "t.yaml:3:5: end of sequence flow not found");
  EXPECT_EQ(parse_error("seed: 1\n  duration_s: 2\n"), "t.yaml:2:13: illegal map value");
  EXPECT_EQ(parse_error("[1, 2]\n"), "t.yaml:1:1: expected a map, got a list");
}

// ---------------------------------------------------------------------------------------
// The origin config the harness runs

TEST(ScenarioOriginConfig, GeneratedConfigIsTheEventWithTheScenarioTokens) {
  const Scenario s = parse_ok(kFull);
  const OriginConfig c = s.origin_config();
  EXPECT_EQ(c.listen, "127.0.0.1:0");
  EXPECT_EQ(c.ingest_listen, "");
  EXPECT_EQ(c.threads, 4);
  ASSERT_EQ(c.auth.ingest_tokens.size(), 1u);
  EXPECT_EQ(c.auth.ingest_tokens[0].token, "ing");
  EXPECT_TRUE(c.auth.ingest_tokens[0].events.empty());
  EXPECT_EQ(c.auth.admin_tokens, std::vector<std::string>{"adm"});
  EXPECT_EQ(c.overload.dvr_budget_rps, 30);
  EXPECT_EQ(c.overload.store_reads_max, 64);
  EXPECT_EQ(c.overload.background_budget_rps, 5);
  EXPECT_EQ(c.overload.shed_ttl_ms, 3000);
  ASSERT_EQ(c.events.size(), 1u);
  const EventConfig& e = c.events[0];
  EXPECT_EQ(e.id, "cup-final");
  EXPECT_EQ(e.dvr_window_s, 1800);
  ASSERT_EQ(e.pipelines.size(), 3u);
  EXPECT_EQ(e.pipelines[0].id, "a");
  EXPECT_EQ(e.pipelines[1].id, "b");
  EXPECT_EQ(e.pipelines[2].id, "c");
  ASSERT_EQ(e.streams.size(), 2u);
  const StreamConfig& v = e.streams[0];
  EXPECT_EQ(v.id, "video-1080p");
  EXPECT_EQ(v.segment_duration_ms, 2000);
  EXPECT_EQ(v.segment_template, "$Number$.m4s");
  EXPECT_EQ(v.parsed_template.format(7), "7.m4s");
  EXPECT_EQ(v.start_number, 0);
  EXPECT_EQ(v.availability_start_ms, 0);
  EXPECT_EQ(v.hold_window_ms, 2000);        // the origin's own defaults
  EXPECT_EQ(v.hold_ms_max, 4000);
  EXPECT_EQ(v.pipeline_liveness_ms, 6000);
  EXPECT_EQ(v.content_type, ContentType::video);
  EXPECT_EQ(e.streams[1].content_type, ContentType::audio);

  // 6000 kbps * 2 s = 1.5 MB per segment: 4x that is under the 64 MiB default.
  EXPECT_EQ(c.body_limit_bytes, int64_t{64} << 20);
  // (6000 + 96) kbps = 762 kB/s, x 1800 s x 3 pipelines x 1.25 = 5.1 GB: capped.
  EXPECT_EQ(c.store.url, "memory");
  EXPECT_EQ(c.store.budget_bytes, int64_t{2} << 30);
}

TEST(ScenarioOriginConfig, SizesFollowTheStreams) {
  // A 60 s segment at 50 Mbit/s is 375 MB: the body limit is at least 4x that.
  const Scenario big = parse_ok("event:\n  dvr_window_s: 60\n  streams:\n    uhd: {segment_duration_ms: 60000, bitrate_kbps: 50000}\npipelines: [a]\n");
  const OriginConfig b = big.origin_config();
  EXPECT_GE(b.body_limit_bytes, 4 * int64_t{375'000'000});
  EXPECT_LE(b.body_limit_bytes, int64_t{1} << 32);
  // A small event: a budget covering its DVR window from every pipeline, 64 MiB at least.
  const Scenario small = parse_ok("event:\n  dvr_window_s: 600\n  streams:\n    v: {bitrate_kbps: 3000}\n");
  const OriginConfig c = small.origin_config();
  const int64_t need = int64_t{3000} * 125 * 600 * 2;  // 450 MB
  EXPECT_GE(c.store.budget_bytes, need);
  EXPECT_LE(c.store.budget_bytes, int64_t{2} << 30);
  EXPECT_EQ(parse_ok("event: {dvr_window_s: 1}\n").origin_config().store.budget_bytes, int64_t{64} << 20);
  EXPECT_EQ(c.overload.dvr_budget_rps, 0);  // the origin's defaults without origin.overload
  EXPECT_EQ(c.overload.store_reads_max, 256);
}

TEST(ScenarioOriginConfig, ConfigFileResolvesAgainstTheScenarioAndIsChecked) {
  const fs::path dir = scratch("config");
  fs::create_directories(dir / "scenarios");
  const std::string origin_yaml =
      "listen: 0.0.0.0:8080\n"
      "ingest_listen: 0.0.0.0:8081\n"
      "threads: 3\n"
      "auth: {ingest_tokens: [ingest-secret], admin_tokens: [admin-secret]}\n"
      "overload: {dvr_budget_rps: 7}\n"
      "events:\n"
      "  - id: final\n"
      "    pipelines: [a, b]\n"
      "    streams:\n"
      "      - id: video\n"
      "        hold_window_ms: 1500\n";
  write(dir / "origin.yaml", origin_yaml);
  write(dir / "scenarios" / "s.yaml", "# story\norigin:\n  config: ../origin.yaml\n");
  auto s = load_scenario((dir / "scenarios" / "s.yaml").string());
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->origin.config_path, (dir / "origin.yaml").string());
  auto c = s->effective_origin_config();
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->listen, "127.0.0.1:0");
  EXPECT_EQ(c->ingest_listen, "");
  EXPECT_EQ(c->threads, 3);
  EXPECT_EQ(c->overload.dvr_budget_rps, 7);
  EXPECT_EQ(c->events[0].streams[0].hold_window_ms, 1500);

  const std::string where = (dir / "scenarios" / "s.yaml").string() + ":3:11: origin.config: ";
  const std::string file = (dir / "origin.yaml").string();
  struct Case {
    std::string origin_yaml;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"events: [{id: final, pipelines: [b, a], streams: [{id: video}]}]\nauth: {ingest_tokens: [ingest-secret], admin_tokens: [admin-secret]}\n",
       file + ": event 'final' has pipelines [b, a], the scenario [a, b]"},
      {"events: [{id: final, pipelines: [a, b], streams: [{id: audio}]}]\nauth: {ingest_tokens: [ingest-secret], admin_tokens: [admin-secret]}\n",
       file + ": event 'final' has no stream 'video'"},
      {"events: [{id: final, pipelines: [a, b], streams: [{id: video, segment_duration_ms: 4000}]}]\nauth: {ingest_tokens: [ingest-secret], admin_tokens: [admin-secret]}\n",
       file + ": stream 'video' has segment_duration_ms 4000, the scenario 2000"},
      {"events: [{id: final, pipelines: [a, b], streams: [{id: video, start_number: 1}]}]\nauth: {ingest_tokens: [ingest-secret], admin_tokens: [admin-secret]}\n",
       file + ": stream 'video' must be epoch-locked with the default template (segment_template \"$Number$.m4s\", start_number 0, availability_start_ms 0): the simulated packagers publish that way"},
      {"events: [{id: final, pipelines: [a, b], streams: [{id: video}]}]\nauth: {ingest_tokens: [other], admin_tokens: [admin-secret]}\n",
       file + " has no ingest token 'ingest-secret' for every pipeline of event 'final' (set origin.ingest_token to one it has)"},
      {"events: [{id: final, pipelines: [a, b], streams: [{id: video}]}]\nauth: {ingest_tokens: [ingest-secret]}\n",
       file + " has no admin token 'admin-secret' (set origin.admin_token to one it has)"},
  };
  for (const auto& k : cases) {
    write(dir / "origin.yaml", k.origin_yaml);
    auto bad = load_scenario((dir / "scenarios" / "s.yaml").string());
    ASSERT_FALSE(bad.ok()) << k.origin_yaml;
    EXPECT_EQ(bad.error().message, where + k.message);
  }
  // The file's own syntax errors keep their file:line:col.
  write(dir / "origin.yaml", "events:\n  - id: final\n    pipelinez: [a]\n");
  auto bad = load_scenario((dir / "scenarios" / "s.yaml").string());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, where + file + ":2:5: events[0].pipelines: expected a list of 1 to 8 pipeline ids in rank order");
  fs::remove(dir / "origin.yaml");
  bad = load_scenario((dir / "scenarios" / "s.yaml").string());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, where + "cannot read " + file + ": No such file or directory");
  fs::remove_all(dir);
}

// ---------------------------------------------------------------------------------------
// validate

TEST(ScenarioValidate, PrintsASummaryOrTheError) {
  const fs::path dir = scratch("validate");
  write(dir / "good.yaml", "pipelines: [a, b, c]\ncdn:\n  tiers:\n    shield: {}\n    edge: {parent: shield}\nviewers:\n  l: {count: 700}\n  d: {behaviour: dvr, count: 50}\n");
  write(dir / "one.yaml", "pipelines: [a]\nviewers:\n  l: {count: 1}\n");
  write(dir / "bad.yaml", "seed: x\n");
  std::ostringstream out, err;
  EXPECT_EQ(validate_scenario_file((dir / "good.yaml").string(), out, err), 0);
  EXPECT_EQ(out.str(), (dir / "good.yaml").string() + ": ok (3 pipelines, 2 tiers, 750 viewers)\n");
  EXPECT_EQ(err.str(), "");
  out.str("");
  EXPECT_EQ(validate_scenario_file((dir / "one.yaml").string(), out, err), 0);
  EXPECT_EQ(out.str(), (dir / "one.yaml").string() + ": ok (1 pipeline, 1 tier, 1 viewer)\n");
  out.str("");
  EXPECT_EQ(validate_scenario_file((dir / "bad.yaml").string(), out, err), 1);
  EXPECT_EQ(out.str(), "");
  EXPECT_EQ(err.str(), (dir / "bad.yaml").string() + ":1:7: seed: expected an integer in [0, 9223372036854775807], got 'x'\n");
  err.str("");
  EXPECT_EQ(validate_scenario_file((dir / "missing.yaml").string(), out, err), 1);
  EXPECT_EQ(err.str(), (dir / "missing.yaml").string() + ": cannot read: No such file or directory\n");
  fs::remove_all(dir);
}

// ---------------------------------------------------------------------------------------
// Broken files: each names file, line, column and key.

struct BrokenCase {
  std::string file;     // under tests/data/scenarios/broken/
  std::string message;  // paths relative to tests/data/scenarios/
};

const std::vector<BrokenCase> kBroken = {
    {"multiplicity-not-dividing.yaml", "broken/multiplicity-not-dividing.yaml:5:39: cdn.tiers.edge.multiplicity: must divide nodes (1000): each simulated node stands for the same number of real ones"},
    {"multiplicity-starves-parents.yaml", "broken/multiplicity-starves-parents.yaml:5:38: cdn.tiers.edge.multiplicity: leaves nodes of tier 'shield' without children: 400 / 4 = 100 simulated nodes, each the child of one of its 200 nodes; use a multiplicity of at most 2"},
    {"unknown-key.yaml", "broken/unknown-key.yaml:5:5: pipelines.a.publish_latency: unknown key (expected one of: defects, faults, publish_latency_ms)"},
    {"wrong-type.yaml", "broken/wrong-type.yaml:3:13: duration_s: expected an integer in [1, 86400], got 'two minutes'"},
    {"bad-distribution.yaml", "broken/bad-distribution.yaml:4:56: pipelines.a.publish_latency_ms.lognormal.p99: expected a number >= median (300), got '200'"},
    {"unknown-distribution.yaml", "broken/unknown-distribution.yaml:5:21: viewers.live.clock_skew_ms.gaussian: unknown distribution (expected one of: fixed, uniform, normal, lognormal, exponential)"},
    {"uniform-reversed.yaml", "broken/uniform-reversed.yaml:5:35: viewers.rewind.dvr_offset_s.uniform[1]: expected max >= min (600), got '60'"},
    {"probability-out-of-range.yaml", "broken/probability-out-of-range.yaml:4:46: pipelines.a.defects.corrupt: expected a probability in [0, 1], got '1.5'"},
    {"unknown-fault-kind.yaml", "broken/unknown-fault-kind.yaml:6:16: pipelines.a.faults[0].kind: expected one of outage, late, defect_burst, slow_upload, got 'outtage'"},
    {"fault-key-for-other-kind.yaml", "broken/fault-key-for-other-kind.yaml:7:18: pipelines.a.faults[0].late_ms: only for kind late"},
    {"fault-after-run.yaml", "broken/fault-after-run.yaml:6:30: pipelines.a.faults[0].at_s: expected an integer in [0, 59], got '75'"},
    {"tier-parent-missing.yaml", "broken/tier-parent-missing.yaml:5:30: cdn.tiers.edge.parent: unknown tier 'sheild' (expected origin or one of: shield, edge)"},
    {"tier-cycle.yaml", "broken/tier-cycle.yaml:4:34: cdn.tiers.regional.parent: tiers form a cycle (regional -> edge -> shield -> regional); every chain of parents must end at the origin"},
    {"viewer-stream-unknown.yaml", "broken/viewer-stream-unknown.yaml:9:28: viewers.live.streams[1]: unknown stream 'video-720p' (the event's streams: video-1080p, audio-en)"},
    {"gate-metric-unknown.yaml", "broken/gate-metric-unknown.yaml:4:14: gates[1].metric: expected one of defective_served_with_clean_available, viewer_missing_segments, viewer_error_ratio, origin_requests_per_s, origin_get_latency_ms, viewer_wait_ms, hold_wait_ms, put_latency_ms, cache_hit_ratio, origin_status_5xx, failover_gap_segments, shed_ratio, got 'p99_latency'"},
    {"gate-percentile-on-count.yaml", "broken/gate-percentile-on-count.yaml:3:45: gates[0].percentile: only for latency metrics (origin_get_latency_ms, viewer_wait_ms, hold_wait_ms, put_latency_ms); origin_status_5xx is a count"},
    {"gate-op-unquoted.yaml", "broken/gate-op-unquoted.yaml:4:10: op: unexpected character in block scalar; quote comparison operators (op: \">=\")"},
    {"gate-tier-unknown.yaml", "broken/gate-tier-unknown.yaml:7:37: gates[0].tier: expected one of shield, edge (cache_hit_ratio is measured at CDN tiers), got 'origin'"},
    {"duplicate-pipeline.yaml", "broken/duplicate-pipeline.yaml:5:3: pipelines.a: duplicate pipeline 'a'"},
    {"yaml-syntax.yaml", "broken/yaml-syntax.yaml:4:8: end of sequence flow not found"},
    {"external-without-url.yaml", "broken/external-without-url.yaml:3:3: origin.url: required key is missing (mode external drives the origin at this URL)"},
    {"exclude-without-pipeline.yaml", "broken/exclude-without-pipeline.yaml:4:51: invalidations[0].exclude: exclude needs a pipeline"},
    {"origin-config-mismatch.yaml", "broken/origin-config-mismatch.yaml:3:11: origin.config: origin-other-event.yaml defines no event 'final' (the scenario's event.id)"},
};

std::string relative_to_data(std::string message, const std::string& data_dir) {
  const std::string prefix = data_dir + "/";
  for (size_t at = message.find(prefix); at != std::string::npos; at = message.find(prefix)) message.erase(at, prefix.size());
  return message;
}

TEST(ScenarioBroken, EveryBrokenFileGivesItsExactMessage) {
  const std::string data = kSourceDir + "/tests/data/scenarios";
  for (const auto& c : kBroken) {
    const std::string path = data + "/broken/" + c.file;
    ASSERT_TRUE(fs::exists(path)) << path;
    std::ostringstream out, err;
    EXPECT_EQ(validate_scenario_file(path, out, err), 1) << c.file;
    EXPECT_EQ(relative_to_data(err.str(), data), c.message + "\n") << c.file;
  }
}

TEST(ScenarioBroken, EveryFileInTheDirectoryIsInTheTable) {
  std::set<std::string> listed;
  for (const auto& c : kBroken) listed.insert(c.file);
  size_t n = 0;
  for (const auto& entry : fs::directory_iterator(kSourceDir + "/tests/data/scenarios/broken")) {
    if (entry.path().extension() != ".yaml") continue;
    ++n;
    EXPECT_TRUE(listed.contains(entry.path().filename().string())) << entry.path() << " has no expected message";
  }
  EXPECT_EQ(n, kBroken.size());
  EXPECT_GE(n, 12u);
}

// ---------------------------------------------------------------------------------------
// The shipped scenarios

TEST(ScenarioFiles, EveryShippedScenarioLoads) {
  const std::set<std::string> expected = {"baseline",
                                          "pipeline-a-outage",
                                          "both-pipelines-defective",
                                          "early-request-storm",
                                          "dvr-surge-under-load",
                                          "invalid-request-storm",
                                          "ad-break-markers",
                                          "invalidation-mid-event",
                                          "region-failover-flapping",
                                          "three-instances-redis",
                                          "capacity-65m-viewers",
                                          "capacity-final-peak",
                                          "capacity-origin-instances"};
  std::set<std::string> found;
  const std::string readme = read(kSourceDir + "/scenarios/README.md");
  for (const auto& entry : fs::directory_iterator(kSourceDir + "/scenarios")) {
    if (entry.path().extension() != ".yaml") continue;
    const std::string path = entry.path().string();
    auto s = load_scenario(path);
    ASSERT_TRUE(s.ok()) << s.error().message;
    if (s->event.streams.empty()) continue;  // an origin config file, not a scenario
    found.insert(s->name);
    SCOPED_TRACE(path);
    EXPECT_EQ(s->name, entry.path().stem().string());
    if (s->name.starts_with("capacity-")) {
      // Planning scenarios are the seed's scale, for virtual time: only their form is checked here.
      EXPECT_GT(s->description.size(), 200u);
      EXPECT_NE(readme.find("`" + s->name + ".yaml`"), std::string::npos) << "listed in scenarios/README.md";
      std::ostringstream out, err;
      EXPECT_EQ(validate_scenario_file(path, out, err), 0) << err.str();
      continue;
    }
    EXPECT_GT(s->description.size(), 200u) << "each scenario starts with its story";
    EXPECT_GE(s->duration_s, 60);
    EXPECT_LE(s->duration_s, 120);
    EXPECT_GE(s->cdn.tiers.size(), 2u);
    EXPECT_LE(s->cdn.tiers.size(), 3u);
    EXPECT_GE(s->viewers_total(), 200);
    EXPECT_LE(s->viewers_total(), 10000);
    EXPECT_FALSE(s->gates.empty());
    for (const auto& st : s->event.streams) EXPECT_EQ(st.segment_duration_ms, 2000);
    EXPECT_NE(readme.find("`" + s->name + ".yaml`"), std::string::npos) << "listed in scenarios/README.md";
    const OriginConfig c = s->origin_config();
    EXPECT_EQ(c.events.at(0).pipelines.size(), s->pipelines.size());
    std::ostringstream out, err;
    EXPECT_EQ(validate_scenario_file(path, out, err), 0) << err.str();
  }
  EXPECT_EQ(found, expected);
}

TEST(ScenarioFiles, StoriesSayWhatTheyClaim) {
  const std::string dir = kSourceDir + "/scenarios/";
  auto load = [&](const std::string& name) {
    auto s = load_scenario(dir + name + ".yaml");
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
    return s.ok() ? std::move(*s) : Scenario{};
  };
  const Scenario outage = load("pipeline-a-outage");
  ASSERT_EQ(outage.pipelines[0].faults.size(), 1u);
  EXPECT_EQ(outage.pipelines[0].faults[0].kind, PipelineFault::Kind::outage);
  EXPECT_EQ(outage.pipelines[0].faults[0].duration_s, 60);

  const Scenario flapping = load("region-failover-flapping");
  ASSERT_EQ(flapping.pipelines[0].faults.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(flapping.pipelines[0].faults[i].duration_s, 10);
    if (i > 0) {
      EXPECT_EQ(flapping.pipelines[0].faults[i].at_s - flapping.pipelines[0].faults[i - 1].at_s, 30);
    }
  }

  const Scenario both = load("both-pipelines-defective");
  const auto& fa = both.pipelines[0].faults.at(0);
  const auto& fb = both.pipelines[1].faults.at(0);
  EXPECT_LT(fb.at_s, fa.at_s + fa.duration_s) << "the bursts overlap";

  const Scenario surge = load("dvr-surge-under-load");
  ASSERT_TRUE(surge.origin.overload.has_value());
  EXPECT_GT(surge.origin.overload->dvr_budget_rps, 0);
  EXPECT_EQ(surge.origin_config().overload.dvr_budget_rps, surge.origin.overload->dvr_budget_rps);
  EXPECT_GT(surge.event.backfill_s, 0);

  const Scenario early = load("early-request-storm");
  EXPECT_TRUE(std::any_of(early.viewers.begin(), early.viewers.end(),
                          [](const ViewerCohort& v) { return v.behaviour == ViewerCohort::Behaviour::early; }));

  const Scenario storm = load("invalid-request-storm");
  EXPECT_TRUE(std::any_of(storm.viewers.begin(), storm.viewers.end(),
                          [](const ViewerCohort& v) { return v.invalid_request_ratio > 0; }));

  EXPECT_FALSE(load("ad-break-markers").markers.empty());
  const Scenario inv = load("invalidation-mid-event");
  ASSERT_FALSE(inv.invalidations.empty());
  EXPECT_EQ(inv.invalidations[0].pipeline, "a");
  EXPECT_EQ(inv.invalidations[0].exclude, true);
}

// ---------------------------------------------------------------------------------------
// Metrics and the format doc

TEST(ScenarioGateMetrics, TheDocDefinesEveryMetricAndKey) {
  const std::string doc = read(kSourceDir + "/docs/scenario-format.md");
  ASSERT_FALSE(doc.empty());
  EXPECT_EQ(gate_metrics().size(), 12u);
  for (const auto& m : gate_metrics()) {
    EXPECT_NE(doc.find("`" + std::string(m.name) + "`"), std::string::npos) << m.name;
    EXPECT_EQ(find_gate_metric(m.name), &m);
  }
  EXPECT_EQ(find_gate_metric("nope"), nullptr);
  for (const char* key :
       {"name", "description", "seed", "duration_s", "interval_ms", "origin", "mode", "url", "config", "create_event",
        "ingest_token", "admin_token", "threads", "overload", "storage_faults", "delay_ms", "event", "id",
        "dvr_window_s", "backfill_s", "streams", "segment_duration_ms", "bitrate_kbps", "content_type", "pipelines",
        "publish_latency_ms", "defects", "missing_samples", "missing_frames", "short_segment", "discontinuity",
        "corrupt", "transport_corruption", "missing_segment", "late_segment", "late_segment_ms", "faults", "kind",
        "at_s", "duration_s", "late_ms", "defect", "probability", "upload_ms", "cdn", "tiers", "nodes", "parent",
        "features", "cache", "collapsing", "filtering", "hold", "invalidation_feed", "retry_after_hint",
        "fixed_retry_ms", "feed_interval_ms", "timeline_interval_ms", "viewers", "behaviour", "count", "join_at_s",
        "join_ramp_s", "leave_at_s", "clock_skew_ms", "dvr_offset_s", "invalid_request_ratio", "background_ratio",
        "markers", "start_offset_ms", "duration_ms", "data", "invalidations", "stream", "from_offset_segments",
        "to_offset_segments", "pipeline", "exclude", "gates", "metric", "op", "value", "percentile", "class", "tier"}) {
    EXPECT_NE(doc.find("`" + std::string(key) + "`"), std::string::npos) << key;
  }
}

TEST(ScenarioGateMetrics, TheDocsCompleteExampleParses) {
  const std::string doc = read(kSourceDir + "/docs/scenario-format.md");
  const size_t section = doc.find("## 13. Complete annotated example");
  ASSERT_NE(section, std::string::npos);
  const size_t begin = doc.find("```yaml\n", section);
  ASSERT_NE(begin, std::string::npos);
  const size_t end = doc.find("```\n", begin + 8);
  ASSERT_NE(end, std::string::npos);
  const Scenario s = parse_ok(doc.substr(begin + 8, end - begin - 8), "docs/example.yaml");
  EXPECT_EQ(s.name, "final-flap-surge");
  EXPECT_EQ(s.description.rfind("Final, pipeline a's region flaps", 0), 0u);
  EXPECT_EQ(s.pipelines.size(), 2u);
  EXPECT_EQ(s.viewers_total(), 4500);
  EXPECT_EQ(s.gates.size(), 6u);
}

}  // namespace
}  // namespace liveorigin::sim
