// The planning table of `liveorigin plan` (docs/planning.md): one row per point of the
// sweep grid, read from the point's own results database with the gate-metric queries
// (reports/gates.h), and the number of origin instances each combination of the other
// swept keys needs to keep live-edge p99 under a target. Written as plan.md, plan.csv,
// plan.json and plan.html (self-contained, SVG charts). plan.json is also the grid's
// manifest: the emit step writes it before any point has run, and `plan --merge` reads
// the grid back from it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/fwd.hpp>

#include "origin/core/result.h"

namespace liveorigin::reports {

// One figure of a point's run: a column of the table.
struct PlanColumn {
  std::string id;     // plan.json and plan.csv: origin_service_p99_ms
  std::string label;  // for people: "live origin service p99"
  std::string unit;   // requests/s, Gb/s, ops/s, ms, %, ratio, segments
};
const std::vector<PlanColumn>& plan_columns();
// Index in plan_columns() of the columns "instances needed" decides by.
size_t plan_column(const std::string& id);

using Settings = std::vector<std::pair<std::string, std::string>>;  // swept key, value; sweep order

struct PlanPoint {
  int number = 0;
  Settings set;
  std::string db;       // its results file, relative to the plan's directory: point-3.db
  std::string command;  // the command that runs it
  // What its run gave, once read (read_plan_results).
  bool has_result = false;
  std::string status = "not run";  // "ok", or why there is no result
  std::string gates;               // "pass", "2 of 7 failed", "none"; "" without a result
  int64_t run_id = 0;
  std::vector<std::optional<double>> values;  // one per plan_columns(); nullopt: no data
};

struct PlanSweep {
  std::string key;
  std::vector<std::string> values;
};

// For one combination of the swept keys other than origin.instances: the smallest
// instance count whose live origin_service p99 is at most the target and whose viewers
// missed no segment.
struct InstancesNeeded {
  Settings others;
  std::optional<int64_t> instances;  // nullopt: no count swept met the target
  int64_t most_swept = 0;            // the largest count swept: "more than <most_swept>"
  std::vector<int> without_result;   // points of this combination that have no result
};

struct Plan {
  std::string scenario_path;  // as given to `plan`
  std::string scenario_name;
  std::string scenario_sha256;  // runs.scenario_hash of every point
  std::vector<PlanSweep> sweeps;
  std::vector<PlanPoint> points;
  double target_p99_ms = 200;
  std::vector<InstancesNeeded> needed;  // empty unless origin.instances is swept

  bool complete() const;  // every point has a result
};

// Reads every point's run from `dir`/<point.db>: the latest run there that is of this
// scenario (its hash) with exactly the point's overrides (runs.parameters_json), so a
// results file copied back from the wrong machine or point is not taken for it.
void read_plan_results(Plan& plan, const std::string& dir);
// Fills plan.needed from the points' results (origin.instances swept) and the target.
void decide_instances(Plan& plan);

// The key "instances needed" is decided along.
inline constexpr const char* kInstancesKey = "origin.instances";

// Pieces of the table's text, shared by its renderings (plan.cc, plan_html.cc).
std::string settings_text(const Settings& set);                   // origin.instances=2 viewers.live.count=64
std::string values_text(const std::vector<std::string>& values);  // 1, 2, 4
std::optional<double> swept_number(const std::string& value);     // a swept value that is a number: 64, not true
std::string plan_cell(const PlanPoint& p, size_t column);         // 433.6; "-" no data; "" no result
std::string needed_text(const InstancesNeeded& n);                // 4, or "more than 8"
std::string needed_condition(const Plan& plan);                   // what "needed" means at the plan's target
Settings without_key(const Settings& set, const std::string& key);

boost::json::value plan_json(const Plan& plan);
// The grid of a plan.json (scenario, sweeps, points, target); results are read again.
Result<Plan> read_plan_manifest(const std::string& path);

std::string render_plan_markdown(const Plan& plan);
std::string render_plan_csv(const Plan& plan);
std::string render_plan_html(const Plan& plan);

struct WrittenPlan {
  std::string markdown, csv, json, html;  // paths
};
// plan.json alone: the manifest (--emit-jobs, and before the points run).
Result<std::string> write_plan_manifest(const Plan& plan, const std::string& dir);
Result<WrittenPlan> write_plan(const Plan& plan, const std::string& dir);

}  // namespace liveorigin::reports
