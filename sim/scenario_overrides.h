// `--set key.path=value` (liveorigin run, and every point of liveorigin plan): a scalar
// put into the scenario's YAML tree before the scenario parser reads it, so the
// parser's own checks (unknown keys, types, ranges) judge it as if it were in the file.
// The path names map keys only (`viewers.live.count`, `cdn.tiers.edge.nodes`,
// `origin.model.instance.workers`); maps it passes through are created when absent. An
// entry of a map of named things (pipelines, event.streams, cdn.tiers, viewers) must
// exist in the file, or be the default entry the parser would use when the map is
// absent (pipelines a and b, stream video, tier edge of 2 nodes, cohort live), so a typo
// in a name is refused instead of adding a cohort or tier of its own.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "origin/core/result.h"

namespace liveorigin::sim {

struct Override {
  std::string key;    // dotted path: viewers.live.count
  std::string value;  // the scalar's text, as typed: 5000, true, 0.25
  std::string text() const { return key + "=" + value; }  // viewers.live.count=5000
  bool operator==(const Override&) const = default;
};

// "key=value". Errors: "--set x: expected key=value (e.g. viewers.live.count=5000)".
Result<Override> parse_override(std::string_view text);

// Puts each override into `root`, in order. Throws yaml::ParseError naming the override:
// "--set viewers.fans.count=5: viewers.fans: unknown cohort 'fans' (the scenario's cohorts: live)".
void apply_overrides(YAML::Node& root, std::span<const Override> overrides);

// A scenario parse error made after `overrides` were applied, told in their terms: an
// error at a key an override put there reads "--set key=value: <error>"; any other
// "with --set a=1, b=2: <error>" (an override may have caused it: duration_s shorter
// than a fault's at_s). `source` is the scenario's source name, as in the error.
std::string blame_overrides(const std::string& message, std::string_view source, std::span<const Override> overrides);

}  // namespace liveorigin::sim
