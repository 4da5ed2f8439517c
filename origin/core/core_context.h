// What every unit of the origin core reads: the clock (the only source of time),
// the server-level settings, the log and the per-segment metrics. Owned by Origin;
// units hold a reference.
#pragma once

#include <functional>
#include <string_view>

#include "origin/core/clock.h"
#include "origin/core/config.h"
#include "origin/core/metrics.h"

namespace liveorigin {

using Logger = std::function<void(std::string_view)>;

struct CoreContext {
  const Clock& clock;
  const OriginConfig& config;  // server-level settings; events live in the registry
  const Logger& log;           // may be empty
  SharedMetrics& metrics;

  void note(std::string_view line) const {
    if (log) log(line);
  }
};

}  // namespace liveorigin
