// `liveorigin plan` (docs/planning.md): a scenario over a sweep grid, each point run as
// its own `liveorigin run --virtual` process into its own results file, `--jobs` at a
// time, then the planning table. `--emit-jobs` prints the points' commands instead (for
// GNU parallel, Slurm or any job runner) and `--merge` makes the table from the results
// files copied back. Exit codes: 0 every point has a result (a point whose gates failed
// has one), 1 some point has none (its run failed, or its file is missing), 2 bad input.
#pragma once

#include <string>
#include <vector>

namespace liveorigin {

struct PlanArgs {
  std::string scenario;             // required unless --merge with --out
  std::vector<std::string> sweeps;  // key=v1,v2,...
  int jobs = 1;
  std::string out;  // default: out/plan-<scenario name>
  double target_p99_ms = 200;
  bool target_given = false;  // else --merge keeps the plan's own target
  bool emit_jobs = false;
  bool merge = false;
};

int plan_command(const PlanArgs& args);

}  // namespace liveorigin
