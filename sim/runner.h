// Runs a scenario from start to results: brings up (or targets) the origin, builds the
// packagers, CDN tiers and viewer cohorts, plays the scenario's faults and admin
// actions, shows progress, and writes everything to the results database.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

#include "origin/core/result.h"
#include "sim/scenario.h"

namespace liveorigin::sim {

struct RunOptions {
  std::string db_path = "results.db";
  // Virtual time: the origin core in-process on a discrete-event clock, no sockets.
  // Deterministic (same seed, same results) and as fast as the machine allows.
  bool virtual_time = false;
  // Progress on `progress_out`: a rewritten line on a terminal, plain lines otherwise.
  std::ostream* progress_out = nullptr;
  bool progress_is_tty = false;
  std::string liveorigin_binary;  // for origin.mode: child (default: this program)
  int viewer_groups_per_edge = 16;
  // Seconds after the end to let requests in flight finish before results are written.
  int64_t settle_s = 5;
};

struct RunSummary {
  int64_t run_id = 0;
  std::string db_path;
  std::string origin_url;
  std::string text;  // the human summary printed at the end
};

// What runs.scenario_hash records: the SHA-256 (hex) of the scenario file's text.
std::string scenario_hash(const Scenario& scenario);

// Errors name what failed: "origin: cannot listen on ...", "results.db: ...".
Result<RunSummary> run_scenario(const Scenario& scenario, const RunOptions& options);

}  // namespace liveorigin::sim
