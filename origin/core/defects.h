// Segment-Defects: what a packager's media inspection found in a segment, an
// RFC 8941 dictionary (missing-samples=<int>, missing-frames=<int>, short-ms=<int>,
// discontinuity, corrupt). Absent means clean. Selection ranks candidates by it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "origin/core/result.h"

namespace liveorigin {

// Worst first: a lower tier loses to a higher one.
enum class DefectTier : int8_t {
  corrupt = 0,
  discontinuity = 1,
  short_ms = 2,
  missing_frames = 3,
  missing_samples = 4,
  clean = 5,
};

const char* to_string(DefectTier t);

struct Defects {
  int64_t missing_samples = 0;
  int64_t missing_frames = 0;
  int64_t short_ms = 0;
  bool discontinuity = false;
  bool corrupt = false;
  int unknown_keys = 0;  // keys we do not know yet: counted, passed downstream
  std::string header;    // canonical RFC 8941 serialization; empty when clean

  bool clean() const { return header.empty(); }
  DefectTier tier() const;
  // How bad within the tier (samples, frames or ms missing; 1 for flags).
  int64_t magnitude() const;
  // Defect keys present besides the one that sets the tier.
  int other_keys() const;
};

// Strict RFC 8941 parse. Errors read "Segment-Defects: <what>" for a 400 body.
// Zero counts and ?0 flags are read as absent.
Result<Defects> parse_segment_defects(std::string_view field_value);

// Total order for selection: true if a is strictly better than b, not counting
// pipeline rank (the caller breaks ties by rank).
bool better_defects(const Defects& a, const Defects& b);
bool same_quality(const Defects& a, const Defects& b);

}  // namespace liveorigin
