// Reports of recorded runs (docs/reports.md): the figures of one run collected from the
// results database into a Report, and rendered as
//   report.html  one self-contained page (inline SVG, no scripts, CSP default-src 'none')
//   report.md    for CI job summaries and pull-request comments
//   report.json  every figure with its unit (also a baseline for `liveorigin gate`)
//   junit.xml    one test case per gate (and per baseline check, from `liveorigin gate`)
// and two runs side by side (`liveorigin report --compare A B`).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/fwd.hpp>

#include "origin/core/result.h"
#include "reports/gates.h"
#include "reports/results_db.h"

namespace liveorigin::reports {

// The run as `runs` records it, plus what its scenario text says.
struct RunRecord {
  int64_t id = 0;
  std::string db_path;
  std::string scenario_name;
  std::string scenario_hash;
  std::string scenario_text;
  std::string description;  // the scenario's leading comment
  uint64_t seed = 0;
  std::string version;
  std::string mode;         // realtime | virtual
  std::string origin_mode;  // in-process | child | external
  std::string origin_url;
  std::string parameters_json;
  // Virtual time with the deployment model: "8 instances, redis store, calibration
  // \"bench box\" (calibration/box.yaml)"; "" otherwise.
  std::string origin_model;
  std::vector<std::string> overrides;  // the --set overrides it ran with ("key=value"), from parameters_json
  int64_t interval_ms = 1000;
  int64_t started_ms = 0;
  int64_t ended_ms = 0;
  std::string status;
  double duration_s() const { return static_cast<double>(ended_ms - started_ms) / 1000.0; }
};

// One figure: a gate metric with its selectors, its value (nullopt: no data) and unit.
struct Figure {
  MetricKey key;
  std::optional<double> value;
  std::string unit;
  bool higher_is_better = false;
};

// Values per bucket of whole intervals (at least one segment long, at most ~300 per run);
// t_s[i] is the middle of bucket i, seconds since the run started. A NaN value is
// "nothing to measure" (e.g. a hit ratio with no requests).
struct TimeSeries {
  std::string label;
  std::string request_class;  // origin requests/s: the class; "" otherwise
  int status = 0;             // origin requests/s: the status (0: no answer); -1: several
  std::string tier;           // hit ratio: the tier
  std::vector<double> values;
};
struct TimeChart {
  std::string unit;
  int64_t bucket_ms = 1000;
  std::vector<double> t_s;
  std::vector<TimeSeries> series;
};

// A latency distribution as a piecewise-linear CDF (ms, fraction of values <= ms),
// consistent with the interpolated percentiles of docs/results-schema.md.
struct Cdf {
  std::string label;
  std::string name;           // origin_get | hold_wait | viewer_wait | put
  std::string request_class;  // '*' every class
  std::string tier;           // '*' every tier
  std::string pipeline;       // PUT latency by pipeline: the pipeline (exact, from `puts`)
  int64_t count = 0;
  std::vector<std::pair<double, double>> points;
};

struct LatencyRow {
  std::string name, request_class, tier;
  int64_t count = 0;
  std::optional<double> mean_ms, min_ms, max_ms, p50_ms, p90_ms, p95_ms, p99_ms, p999_ms;
};

struct TierRow {
  std::string tier, request_class;
  int64_t requests = 0, bytes = 0, cache_hits = 0, collapsed = 0, filtered = 0, held = 0, shed = 0;
  int64_t status_2xx = 0, status_3xx = 0, status_4xx = 0, status_5xx = 0, transport_errors = 0;
  double cache_hit_ratio = 0, shed_ratio = 0, error_ratio = 0, mean_rps = 0, peak_rps = 0;
};

struct PipelinePuts {
  std::string pipeline;
  int64_t attempts = 0, acknowledged = 0, failed = 0, transport_corrupted = 0, defective = 0, retries = 0;
  std::map<int, int64_t> statuses;  // status -> attempts (0: no answer)
  std::optional<double> p50_ms, p99_ms, max_ms;  // acknowledged attempts
};

// What one pipeline delivered for a segment (segment_pipelines).
struct SegmentCopy {
  std::string pipeline;
  int status = 0;
  std::string defects;
  bool transport_corrupted = false;
  int64_t puts = 0;
  int64_t failed_puts = 0;
  bool acknowledged = false;
  std::optional<int64_t> acked_after_due_ms;
};

struct SegmentRow {
  std::string stream;
  int64_t number = 0;
  std::optional<int64_t> due_ms;
  bool counted = false;
  std::string candidates;
  std::optional<int64_t> first_served_ms;
  std::string chosen_pipeline, chosen_defects;  // first serve ("" none)
  std::string final_pipeline, final_defects;    // last copy served
  int64_t changes = 0;
  int64_t viewers_clean = 0, viewers_defective = 0, viewers_missing = 0;
  std::string faults;
  bool defective_with_clean = false;
  std::vector<SegmentCopy> copies;  // by pipeline rank
};

struct StreamRow {
  std::string stream;
  int64_t segment_duration_ms = 2000;
};

struct FaultRow {
  std::string target, kind;
  int64_t start_ms = 0, end_ms = 0;
};

struct ActionRow {
  int64_t at_ms = 0;
  std::string kind, detail;
  int status = 0;
};

// What one origin instance answered (runs with origin.instances > 1).
struct InstanceRow {
  int instance = 1;
  int64_t requests = 0, errors = 0;  // answered; of those 5xx
  int64_t no_answer = 0;             // sent and not answered (then tried on the next)
  double share = 0;                  // of every instance's requests
  // The longest stretch of whole intervals with no request answered while traffic went
  // on (first to last interval any instance answered), and when it started (seconds
  // since the run started): an instance down, its traffic moved.
  double longest_silence_s = 0, silent_from_s = 0;
};

struct Report {
  RunRecord run;
  std::vector<std::string> pipelines;  // rank order (the scenario's, else as recorded)
  std::vector<std::string> cdn_tiers;  // the scenario's order, top tier first as listed
  std::vector<GateResult> gates;
  std::string gates_note;  // why gates could not be read from the recorded scenario ("" if they could)
  std::vector<Figure> figures;
  TimeChart origin_rps;   // requests/s reaching the origin, per class and status
  TimeChart hit_ratio;    // CDN hit ratio per tier
  TimeChart instance_rps;  // requests/s answered per origin instance (empty: one instance)
  std::vector<InstanceRow> instances;
  std::vector<Cdf> origin_get_cdfs;   // per class ('other': the nodes' polls)
  std::vector<Cdf> hold_wait_cdfs;    // per tier (origin, CDN tiers)
  std::vector<Cdf> viewer_wait_cdfs;  // per class
  std::vector<Cdf> put_cdfs;          // per pipeline
  std::vector<LatencyRow> latencies;
  std::vector<TierRow> tiers;
  std::vector<PipelinePuts> puts;
  std::vector<StreamRow> streams;
  std::vector<SegmentRow> segments;  // every recorded segment, by stream and number
  std::vector<FaultRow> faults;
  std::vector<ActionRow> actions;

  bool passed() const { return all_passed(gates); }
  const Figure* figure(const std::string& key) const;
  // Counted segments due during the run, first serve per pipeline ("" = never served).
  std::map<std::string, int64_t> served_by_pipeline() const;
};

// The --set overrides runs.parameters_json records ("key=value", in order; none: empty).
std::vector<std::string> recorded_overrides(const std::string& parameters_json);

// Reads everything a report shows for `run_id` (which must exist: ResultsDb::resolve_run).
// The gates are the recorded scenario's (runs.scenario_text), evaluated on the run.
Result<Report> collect_report(const ResultsDb& db, int64_t run_id);

std::string render_html(const Report& r);
std::string render_markdown(const Report& r);
boost::json::value report_json(const Report& r);
std::string render_json(const Report& r);
// One <testcase> per gate; with `baseline`, a second suite with one per baseline check.
std::string render_junit(const Report& r, const std::vector<BaselineCheck>* baseline = nullptr);

struct WrittenReports {
  std::string dir, html, markdown, json, junit;  // paths
};
// Writes report.html, report.md, report.json and junit.xml into `dir` (created).
Result<WrittenReports> write_reports(const Report& r, const std::string& dir);
// One output file, whole ("cannot write PATH" when it fails); returns its path.
Result<std::string> write_file(const std::filesystem::path& path, const std::string& text);
// `dir` and its parents ("cannot create DIR: why").
Result<std::filesystem::path> make_dir(const std::string& dir);
// The default directory for a run's reports: out/<scenario>-run<id>.
std::string default_report_dir(const Report& r);

// Two runs side by side: report.html, report.md and report.json (differences of every
// figure, then each run's own report JSON) in `dir`. junit is left empty.
// "better", "worse" or "same" (within 1 % of A) for a figure going from a to b.
std::string compare_verdict(double a, double b, bool higher_is_better);
std::string render_compare_html(const Report& a, const Report& b);
std::string render_compare_markdown(const Report& a, const Report& b);
std::string render_compare_json(const Report& a, const Report& b);
Result<WrittenReports> write_comparison(const Report& a, const Report& b, const std::string& dir);

// A JSON value as indented text (two spaces), for files people read and diff.
std::string pretty_json(const boost::json::value& v);

}  // namespace liveorigin::reports
