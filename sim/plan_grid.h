// The grid `liveorigin plan` runs (docs/planning.md): each `--sweep key=v1,v2,...` is
// one scenario key and its values; the grid is their cartesian product, one numbered
// point per combination, each point the --set overrides of one run. Every point is
// checked by reading the scenario with its overrides before anything runs, so a bad
// key or value is refused up front, naming the key and the reason.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "origin/core/result.h"
#include "sim/scenario.h"

namespace liveorigin::sim {

struct Sweep {
  std::string key;                  // viewers.live.count
  std::vector<std::string> values;  // as typed, in order
};

// "key=v1,v2,...". Errors: "--sweep x: expected key=v1,v2,..." and the --set key checks.
Result<Sweep> parse_sweep(std::string_view text);

struct GridPoint {
  int number = 0;               // from 1, in grid order
  std::vector<Override> set;    // one per sweep, in sweep order
};

// Every combination, the first sweep varying slowest. Errors: no sweep ("an empty grid"),
// a sweep without values, a key swept twice.
Result<std::vector<GridPoint>> make_grid(const std::vector<Sweep>& sweeps);

// Reads the scenario at `path` once per point with the point's overrides. The error
// lists every distinct reason (a bad value fails each point that has it, once).
// Sweeping origin.instances over a scenario whose one-instance points would run the
// ideal origin (no origin.model) is refused too: those points take no time and say
// nothing about capacity.
Result<bool> check_grid(const std::string& path, const std::vector<GridPoint>& points);

}  // namespace liveorigin::sim
