// What the core's unit tests share: the example timeline (2 s segments, the clock at
// CoreHarness::kT0) and request targets of it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tests/support/core_harness.h"

namespace liveorigin::testing {

inline constexpr int64_t kD = 2000;
inline const int64_t kEdge = CoreHarness::kT0 / kD - 1;  // 499'999

inline std::string seg(int64_t n, const std::string& stream = "video") {
  return "/live/final/" + stream + "/" + std::to_string(n) + ".m4s";
}

inline int64_t avail(int64_t n) { return (n + 1) * kD; }
inline int64_t ms_of(int64_t n) { return n * kD; }  // media start of n (epoch-locked, start_number 0)

using H = CoreHarness;

inline std::string replaced(std::string s, std::string_view from, std::string_view to) {
  const size_t at = s.find(from);
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

inline std::string marker_body(const std::string& id, int64_t start_ms, std::optional<int64_t> dur_ms = std::nullopt,
                               const std::string& data = "", const std::string& kind = "ad-break") {
  std::string b = R"({"id": ")" + id + R"(", "kind": ")" + kind + R"(", "start_ms": )" + std::to_string(start_ms);
  if (dur_ms) b += R"(, "duration_ms": )" + std::to_string(*dur_ms);
  if (!data.empty()) b += R"(, "data": ")" + data + R"(")";
  return b + "}";
}

}  // namespace liveorigin::testing
