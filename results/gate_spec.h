// Gates: assertions on a run's recorded metrics (docs/scenario-format.md, "Gates").
// Parsed with the scenario by the harness, evaluated on the recorded run by the
// reports; the spec lives here so neither depends on the other.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "origin/core/yaml_reader.h"

namespace liveorigin::results {

// An assertion on recorded metrics, evaluated at the end of the run (reports issue).
struct Gate {
  std::string metric;  // a metric name from docs/scenario-format.md
  std::string op;      // one of < <= > >= == !=
  double value = 0;
  std::optional<double> percentile;  // for latency metrics: 50, 99, ...
  std::string request_class;         // live | dvr | background; empty: all
  std::string tier;                  // a CDN tier; empty: all (or the origin, per metric)
  std::string name;                  // a label for reports; default "<metric> <op> <value>"
};

// The metrics a gate may name (docs/scenario-format.md, "Gates" defines each).
struct GateMetric {
  enum class Kind { count, ratio, rate, latency_ms };
  enum class Tiers { none, cdn, cdn_or_origin };  // what `tier` may name
  std::string_view name;
  Kind kind;
  bool takes_class;  // `class` allowed
  Tiers tiers;
};
std::span<const GateMetric> gate_metrics();
const GateMetric* find_gate_metric(std::string_view name);  // nullptr if unknown

// The `gates:` list of a scenario. `tier_names` are the scenario's CDN tiers, which a
// gate's `tier` may name. Errors read "file:line:col: gates[0].op: ...".
std::vector<Gate> parse_gates(const YAML::Node& node, const yaml::Location& where,
                              const std::vector<std::string>& tier_names);

}  // namespace liveorigin::results
