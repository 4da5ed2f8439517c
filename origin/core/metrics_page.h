// GET /metrics: the Prometheus text of every counter (docs/http-api.md §12.2).
// Pure: formats what it is given.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "origin/core/messages.h"
#include "origin/core/metrics.h"
#include "origin/core/state.h"
#include "origin/core/store_status.h"

namespace liveorigin {

struct MetricsInputs {
  std::vector<std::shared_ptr<ThreadCounters>> threads;
  const Registry* registry = nullptr;
  int64_t held_requests = 0;
  int64_t stored_bytes = 0;
  int64_t budget_bytes = 0;
  bool draining = false;
  const SharedMetrics* shared = nullptr;
  const StoreStatus* store = nullptr;  // null: the memory store, nothing to show
};

Response metrics_page(const MetricsInputs& in);

}  // namespace liveorigin
