// Per-driver-thread context of the origin core: the thread's registry snapshot, its
// counters, its suppression cache and the effects its calls left. Used by one thread
// at a time; the units read and write their parts of it, drivers only take_effects()
// and read counters().
#pragma once

#include <memory>
#include <utility>

#include "origin/core/actions.h"
#include "origin/core/ledger.h"
#include "origin/core/metrics.h"
#include "origin/core/priority.h"

namespace liveorigin {

class OriginThread {
 public:
  Effects take_effects() { return std::exchange(effects, {}); }
  ThreadCounters& counters() { return *counters_; }

  // The units' parts.
  RegistryView registry_view;    // ledger.h
  SuppressionCache suppression;  // priority.h
  Effects effects;               // what the last calls asked the driver to do

 private:
  friend class Origin;
  explicit OriginThread(std::shared_ptr<ThreadCounters> counters) : counters_(std::move(counters)) {}
  std::shared_ptr<ThreadCounters> counters_;
};

}  // namespace liveorigin
