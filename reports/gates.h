// Gates: the scenario's assertions on a recorded run (docs/scenario-format.md §11,
// computed with the queries of docs/results-schema.md "Gate metrics"), and regressions
// against a baseline (docs/reports.md "Baselines").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "origin/core/result.h"
#include "reports/results_db.h"
#include "results/gate_spec.h"

namespace liveorigin::reports {

// A gate metric with its selectors, as a gate or a baseline names it. Its text form,
// used as the key of report.json's "metrics" and of baselines:
//   metric                       e.g. failover_gap_segments
//   metric{p=99,class=live}      selectors in this order: p, class, tier
struct MetricKey {
  std::string metric;
  std::optional<double> percentile;  // latency metrics only
  std::string request_class;         // "" every class
  std::string tier;                  // "" every tier

  std::string str() const;
  static MetricKey of(const results::Gate& gate);
  bool operator==(const MetricKey&) const = default;
};

// Checks the metric name and its selectors as the scenario parser does (a latency
// metric needs p; class and tier only where the metric has them). Tiers are not checked
// against a scenario here: an unknown tier has no data.
Result<MetricKey> parse_metric_key(std::string_view text);

// "ms", "ratio", "requests/s", "segments", "requests".
std::string metric_unit(std::string_view metric);
// cache_hit_ratio: higher is better; every other gate metric: lower is better.
bool higher_is_better(std::string_view metric);
// A value for people: "433.6 ms", "0.9247", "4.57 requests/s", "0 segments"; nullopt: "no data".
std::string format_metric(std::optional<double> value, std::string_view unit);
std::string format_number(double v);  // shortest readable: 0, 12, 0.9247, 433.6

// The metric's value for the run, nullopt when a latency has no samples (ratios and
// counts with nothing to count are 0). Throws std::runtime_error on a database error.
std::optional<double> metric_value(const ResultsDb& db, int64_t run_id, const MetricKey& key);

// The p-th percentile of a latency histogram (`name`: origin_get, origin_service,
// viewer_wait, hold_wait, put; `request_class` and `tier` as recorded, '*' for all),
// interpolated as docs/results-schema.md "Percentiles" says; nullopt: no samples.
std::optional<double> histogram_percentile(const ResultsDb& db, int64_t run_id, const std::string& name,
                                           const std::string& request_class, const std::string& tier, double p);

struct GateResult {
  std::string name;  // the gate's label
  MetricKey key;
  std::string op;
  double threshold = 0;
  std::optional<double> value;  // nullopt: no data (fails)
  std::string unit;
  bool passed = false;
  // "viewer_wait_ms{p=99,class=live} = 966 ms, expected < 2500 ms", or "... no data ...".
  std::string message;
};

// `value op threshold`, for the six operators of §11.
bool compare(double value, std::string_view op, double threshold);

Result<std::vector<GateResult>> evaluate_gates(const ResultsDb& db, int64_t run_id, const std::vector<results::Gate>& gates);
bool all_passed(const std::vector<GateResult>& gates);

// A baseline: report.json of an earlier run (its "metrics"), or a map of its own,
// {"metric{selectors}": number | null | {"value": number, "tolerance_pct": number}},
// optionally wrapped as {"metrics": {...}} (docs/reports.md).
struct Baseline {
  struct Entry {
    MetricKey key;
    std::optional<double> value;  // null: the baseline had no data; not compared
    std::optional<double> tolerance_pct;  // per metric; default: the command's
  };
  std::string source;  // file name, for messages
  std::vector<Entry> entries;
};
Result<Baseline> parse_baseline(std::string_view json_text, const std::string& source);
Result<Baseline> load_baseline(const std::string& path);

struct BaselineCheck {
  enum class Verdict { same, improved, regressed, no_data, skipped };
  MetricKey key;
  std::string unit;
  bool higher_is_better = false;
  std::optional<double> baseline;
  std::optional<double> current;
  double tolerance_pct = 0;
  std::optional<double> change_pct;  // (current - baseline) / |baseline| * 100; nullopt when baseline is 0
  Verdict verdict = Verdict::same;
  std::string message;
  bool failed() const { return verdict == Verdict::regressed || verdict == Verdict::no_data; }
};
const char* verdict_name(BaselineCheck::Verdict v);  // "same", "improved", "regressed", "no data", "skipped"

// A regression: worse than the baseline by more than the tolerance, in the metric's
// direction (lower is better except cache_hit_ratio). A metric the baseline had a value
// for and the run has none ("no data") fails too. With a baseline of 0, any change in
// the bad direction is a regression.
Result<std::vector<BaselineCheck>> compare_to_baseline(const ResultsDb& db, int64_t run_id, const Baseline& baseline,
                                                       double tolerance_pct);
bool any_failed(const std::vector<BaselineCheck>& checks);

}  // namespace liveorigin::reports
