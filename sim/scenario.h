// A scenario: the origin under test, the event it serves, the packaging pipelines
// (their latency, defects and faults), the CDN fleet, the viewers, scheduled admin
// actions and the gates. Parsed from YAML (docs/scenario-format.md); every value is
// resolved (defaults applied), units are in the names, times in the run are relative
// to its start unless a name says otherwise.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

#include "origin/core/config.h"
#include "origin/core/result.h"
#include "results/gate_spec.h"
#include "sim/scenario_overrides.h"

namespace liveorigin::sim {

using results::find_gate_metric;
using results::Gate;
using results::gate_metrics;
using results::GateMetric;

// A random quantity, in the unit its key names (e.g. publish_latency_ms).
//   fixed: value                   {fixed: 300}  or a bare number: 300
//   uniform: [min, max]            {uniform: [200, 400]}
//   normal: mean, stddev           {normal: {mean: 0, stddev: 150}}       (may go negative)
//   lognormal: median, p99         {lognormal: {median: 300, p99: 1200}}
//   exponential: mean              {exponential: {mean: 500}}
struct Distribution {
  enum class Kind { fixed, uniform, normal, lognormal, exponential };
  Kind kind = Kind::fixed;
  double a = 0;  // fixed: value; uniform: min; normal: mean; lognormal: median; exponential: mean
  double b = 0;  // uniform: max; normal: stddev; lognormal: p99
};

// Per-segment probabilities, each in [0, 1], drawn independently per segment.
struct DefectRates {
  double missing_samples = 0;   // reported as missing-samples=<1..2000>
  double missing_frames = 0;    // missing-frames=<1..25>
  double short_segment = 0;     // short-ms=<40..500>
  double discontinuity = 0;
  double corrupt = 0;
  double transport_corruption = 0;  // bytes damaged after the digest: the origin answers 400, the packager retries
  double missing_segment = 0;       // never PUT
  double late_segment = 0;          // PUT late_segment_ms after it was due
  int64_t late_segment_ms = 3000;
};

struct PipelineFault {
  enum class Kind { outage, late, defect_burst, slow_upload };
  Kind kind = Kind::outage;
  int64_t at_s = 0;
  int64_t duration_s = 0;
  // late: every segment is PUT this much later than usual.
  int64_t late_ms = 0;
  // defect_burst: this defect kind ("missing_samples", "missing_frames", "short_segment",
  // "discontinuity", "corrupt", "transport_corruption", "missing_segment") at this rate.
  std::string defect;
  double probability = 1.0;
  // slow_upload: the body takes this long to arrive after the head.
  int64_t upload_ms = 0;
};

struct PipelineSpec {
  std::string id;  // as in the event's pipelines, rank order
  Distribution publish_latency_ms{Distribution::Kind::fixed, 200, 0};
  DefectRates defects;
  std::vector<PipelineFault> faults;
};

struct StreamSpec {
  std::string id;
  int64_t segment_duration_ms = 2000;
  int64_t bitrate_kbps = 3000;  // segment bytes = bitrate * duration / 8, +-5 %
  ContentType content_type = ContentType::video;
};

struct EventSpec {
  std::string id = "final";
  int64_t dvr_window_s = 3600;
  std::vector<StreamSpec> streams;
  // History published before the run starts (seconds of media before t = 0), so DVR
  // viewers have something to watch: by the first pipeline in rank order, clean.
  // Default: the largest offset a DVR cohort asks for (p99 of its distribution), capped
  // at dvr_window_s; 0 without DVR cohorts.
  int64_t backfill_s = 0;
  // Extra per-stream origin keys (hold_window_ms, selection_grace_ms, ...) are not
  // scenario keys: put them in the origin config file when they matter.
};

// How an origin instance and the store perform, for virtual time (the core's logic
// runs for real there, but nothing takes time without this): an instance serves
// `workers` requests at once, each for a service time, and sends bodies at
// `egress_gbps`; the store, shared by the instances, completes `ops_per_s` operations
// a second at most, each after a read or write latency, and an instance answers
// `hot_cache_hit_ratio` of its reads from its hot cache without the store. Real time
// measures the real thing and ignores this. `liveorigin calibrate` writes these keys,
// from measured runs, into a file that `origin.model.calibration` names.
struct OriginModel {
  struct Instance {
    int workers = 2;
    Distribution service_ms{Distribution::Kind::lognormal, 0.05, 0.5};
    double egress_gbps = 10;
    // Workers of their own for PUTs and admin requests, as `ingest_listen` gives the
    // server (one thread); 0: they queue behind GETs for the same workers.
    int ingest_workers = 0;
  };
  struct Store {
    Distribution read_ms{Distribution::Kind::lognormal, 0.3, 2};
    Distribution write_ms{Distribution::Kind::lognormal, 0.5, 3};
    // From one instance accepting a change (its store writes done) to the others
    // applying it: the journal entry's publication over pub/sub (docs/storage.md
    // "Many instances": milliseconds).
    Distribution journal_ms{Distribution::Kind::lognormal, 1, 5};
    double ops_per_s = 100'000;
    double hot_cache_hit_ratio = 0.9;
  };
  Instance instance;
  Store store;
  bool given = false;            // the scenario has origin.model (else: see run_scenario)
  std::string calibration_path;  // resolved; empty: the defaults above
  std::string calibration_name;  // the calibration file's `name`, for reports
};

struct OriginSpec {
  enum class Mode { in_process, child, external };
  Mode mode = Mode::in_process;
  std::string url;          // external: base URL, "http://127.0.0.1:8080"
  std::string config_path;  // in-process/child: an origin config file (resolved against the
                            // scenario file's directory); empty: generated from `event`
  std::string config_where;  // "file:line:col" of the `origin.config` key, for load_scenario's checks
  bool create_event = true;  // external: create the event through the admin API first
  std::string ingest_token = "ingest-secret";
  std::string admin_token = "admin-secret";
  int threads = 1;          // in-process/child: server threads
  // in-process/child without `config`: the origin's overload settings (the keys of the
  // origin config's `overload` section); nullopt: the origin's defaults.
  std::optional<OverloadConfig> overload;
  // in-process/child: how many origin instances (child processes behind the CDN's top
  // tier, its nodes spread over them) and the store they share (docs/storage.md). The
  // harness starts what the store needs: a SQLite file, or redis-server processes (one,
  // or a cluster of 3 primaries with a replica each) behind fault proxies.
  enum class Store { memory, sqlite, redis, redis_cluster };
  int instances = 1;
  Store store = Store::memory;
  // What breaks, when (in the run): the store slow (every operation delay_ms later) or
  // down; an instance killed (kill -9) and started again after duration_s.
  struct Fault {
    enum class Kind { store_slow, store_down, origin_kill };
    Kind kind = Kind::store_slow;
    int64_t at_s = 0;
    int64_t duration_s = 0;
    int64_t delay_ms = 0;  // store-slow
    int instance = 1;      // origin-kill: which one, from 1
  };
  std::vector<Fault> faults;
  // Virtual time: each instance is the real core behind this performance model.
  OriginModel model;
  std::string model_where;  // "file:line:col" of `origin.model.calibration`, for load_scenario
};

const char* store_name(OriginSpec::Store store);  // memory, sqlite, redis, redis-cluster
const char* fault_name(OriginSpec::Fault::Kind kind);  // store-slow, store-down, origin-kill

struct CdnTier {
  std::string name;    // "shield", "edge"
  int64_t nodes = 1;
  std::string parent;  // a tier name, or empty: the origin
  // Nodes simulated as one: nodes / multiplicity simulated nodes, each standing for this
  // many alike nodes under the same parent (docs/simulation.md, aggregation).
  int64_t multiplicity = 1;
  int64_t simulated_nodes() const { return nodes / multiplicity; }
  // The round trip between a node of a tier without a parent and the origin: half of it
  // before the origin sees the request, half after it answers.
  int64_t origin_rtt_ms = 0;
};

struct CdnFeatures {
  bool cache = true;              // millisecond TTL caches honouring CDN-Cache-Control
  bool collapsing = true;         // one upstream request per object at a time
  bool filtering = true;          // reject impossible requests from /_timeline, no upstream
  bool hold = true;               // edge holds early requests until due, rather than pass them on
  bool invalidation_feed = true;  // follow /_invalidations and purge
  bool retry_after_hint = true;   // retry 404 not-yet / 503 after the TTL the origin gave
  int64_t fixed_retry_ms = 500;   // the retry interval when retry_after_hint is off
  int64_t feed_interval_ms = 1000;
  int64_t timeline_interval_ms = 5000;
};

struct CdnSpec {
  std::vector<CdnTier> tiers;  // file order; edges are the tiers no other tier names as parent
  CdnFeatures features;

  std::vector<std::string> edge_tiers() const;  // names, in file order
};

struct ViewerCohort {
  enum class Behaviour { live, dvr, early };
  std::string name;
  Behaviour behaviour = Behaviour::live;
  int64_t count = 100;   // viewers, spread evenly over the edge nodes
  int64_t join_at_s = 0;
  int64_t join_ramp_s = 0;  // viewers join uniformly over this span
  int64_t leave_at_s = -1;  // -1: stay to the end
  // live and early: when a viewer asks for a segment relative to when it is due
  // (early: positive means before it is due).
  Distribution clock_skew_ms{Distribution::Kind::fixed, 0, 0};
  // dvr: how far behind the live edge a viewer watches.
  Distribution dvr_offset_s{Distribution::Kind::uniform, 60, 600};
  std::vector<std::string> streams;  // empty: every stream
  // Requests that cannot exist (far future numbers, unknown events): for storms.
  double invalid_request_ratio = 0;
  // Prefetch hints: this share of requests are marked `Live-Priority: background`.
  double background_ratio = 0;
};

// Admin actions at a time in the run.
struct MarkerAction {
  int64_t at_s = 0;
  std::string id;
  std::string kind = "ad-break";
  int64_t start_offset_ms = 0;  // the marker starts at (media time of the live edge at at_s) + this
  std::optional<int64_t> duration_ms;
  std::string data_b64;
};

struct InvalidationAction {
  int64_t at_s = 0;
  std::string stream;                          // empty: every stream
  std::optional<int64_t> from_offset_segments;  // relative to the live edge at at_s (e.g. -10)
  std::optional<int64_t> to_offset_segments;
  std::string pipeline;
  std::optional<bool> exclude;
};

struct Scenario {
  std::string name;         // default: the file name without .yaml
  std::string description;  // the story, for reports
  std::string source_path;  // the file it was read from
  std::string source_text;  // its text (hashed into runs.scenario_hash)
  uint64_t seed = 1;
  int64_t duration_s = 60;
  int64_t interval_ms = 1000;  // granularity of the per-interval results
  OriginSpec origin;
  EventSpec event;
  std::vector<PipelineSpec> pipelines;  // rank order
  CdnSpec cdn;
  std::vector<ViewerCohort> viewers;
  std::vector<MarkerAction> markers;
  std::vector<InvalidationAction> invalidations;
  std::vector<Gate> gates;
  // The --set overrides the scenario was read with, in order (recorded with the run).
  std::vector<Override> overrides;

  // The origin config for in-process/child modes when `origin.config_path` is empty:
  // the event, with the scenario's tokens.
  OriginConfig origin_config() const;
  // What an in-process/child origin runs: origin_config(), or the file at
  // origin.config_path with listen 127.0.0.1:0 and no ingest_listen.
  Result<OriginConfig> effective_origin_config() const;
  int64_t viewers_total() const;  // the sum of the cohorts' counts
};

// Parses a scenario. Errors read "file:line:col: key.path: what was expected, got 'x'";
// unknown keys are errors. `source` names the file (relative paths in it resolve
// against its directory).
// parse_scenario does no file I/O; load_scenario reads the file, parses it and, when
// `origin.config` is set, checks that file (it parses, defines the scenario's event with
// the same pipelines and streams, and accepts the scenario's tokens).
// Whether virtual time runs the deployment model (sim/origin_model.h) rather than the
// ideal origin: one instance on the memory store, without origin.model and faults, is
// the core alone, taking no time; anything more is the model.
bool uses_origin_model(const Scenario& s);

// A calibration file's model for one store kind (errors: "source:line:col: key: ...").
Result<OriginModel> parse_calibration(std::string_view text, std::string_view source, OriginSpec::Store store);
// With `overrides` (--set), each is put into the YAML tree before it is read, so the
// same checks apply to it; errors then name the override (scenario_overrides.h).
Result<Scenario> parse_scenario(std::string_view text, std::string_view source,
                                std::span<const Override> overrides = {});
Result<Scenario> load_scenario(const std::string& path, std::span<const Override> overrides = {});

// `liveorigin validate FILE`: prints "FILE: ok (N pipelines, M tiers, K viewers)" to `out`
// and returns 0, or prints the error to `err` and returns 1.
int validate_scenario_file(const std::string& path, std::ostream& out, std::ostream& err);

// The resolved scenario (every key, defaults applied) as JSON, for runs.parameters_json.
boost::json::value to_json(const Scenario& scenario);

}  // namespace liveorigin::sim
