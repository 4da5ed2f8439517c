// `liveorigin calibrate`: the origin model's parameters (scenario `origin.model`,
// docs/simulation.md) derived from measured runs — a `scripts/bench` results.json and,
// optionally, a realtime scenario run's results database — written as a calibration
// file that scenarios name, each figure with a comment saying where it came from.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

#include "origin/core/result.h"

namespace liveorigin::sim {

struct CalibrateArgs {
  std::string bench;    // scripts/bench's results.json
  std::string run_db;   // a realtime run's results database ("" none)
  int64_t run_id = 0;   // its run (0: the latest)
  std::string out;      // the calibration file to write
  std::string name;     // the calibration's name ("" : from the bench's commit and date)
};

// The calibration file's text. `bench_json` is results.json's content; `hot_cache`,
// when measured, the share of store reads a realtime run's hot cache answered.
struct RunFigures {
  bool measured = false;
  double hot_cache_hit_ratio = 0;
  int64_t hits = 0, misses = 0;
  std::string source;  // "results.db run 3 (scenario redis-failover, realtime)"
};
Result<std::string> calibration_text(std::string_view bench_json, std::string_view bench_source,
                                     const RunFigures& run, const std::string& name);

// The hot cache's share of reads in a realtime run (liveorigin_hot_cache_* of the run's
// /metrics scrape); `measured` false when the run's origin had no hot cache.
Result<RunFigures> hot_cache_figures(const std::string& db_path, int64_t run_id);

// Exit 0 written, 2 bad input (the message names the file and what is wrong).
int calibrate_command(const CalibrateArgs& args, std::ostream& out, std::ostream& err);

}  // namespace liveorigin::sim
