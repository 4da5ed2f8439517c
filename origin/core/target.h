// Splits a request target (origin-form) into decoded path segments and the query,
// validating it with Boost.URL. No allocation unless a segment is percent-encoded.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "origin/core/result.h"

namespace liveorigin {

struct Target {
  Target() = default;
  Target(Target&&) = default;
  Target& operator=(Target&&) = default;
  Target(const Target&) = delete;
  Target& operator=(const Target&) = delete;

  static constexpr size_t kMaxSegments = 8;
  std::array<std::string_view, kMaxSegments> segments{};
  size_t count = 0;
  std::string_view query;  // encoded, without '?'

  std::string_view operator[](size_t i) const { return i < count ? segments[i] : std::string_view{}; }

 private:
  friend Result<Target> parse_target(std::string_view target);
  std::string decoded_;  // backing store for percent-decoded segments
};

// Errors: "bad request target" (not origin-form), "empty path segment",
// "'.' or '..' path segment" (also when percent-encoded), "too many path segments",
// "bad path segment" (a percent-encoded '/').
// The returned Target's views point into `target` (which must outlive it) or into
// the Target's own heap buffer, which moves with it; do not copy a Target.
Result<Target> parse_target(std::string_view target);

// The value of `key` in an encoded query ("since=12&x=1"), percent-decoded.
std::optional<std::string> query_param(std::string_view query, std::string_view key);

}  // namespace liveorigin
