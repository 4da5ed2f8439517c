// Request classes and overload (docs/http-api.md §7.8): every
// segment request is classed live, dvr or background before any work; under
// overload background, then dvr, are answered 503 with a short cache TTL, and a
// repeat of a shed request within that TTL is answered from a small per-thread
// suppression cache without any work. Live is never shed.
//
// State: per-class request budgets (atomics, one-second windows) and, per driver
// thread, the suppression cache (in OriginThread: single user, no lock).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "origin/core/clock.h"
#include "origin/core/config.h"
#include "origin/core/messages.h"
#include "origin/core/metrics.h"
#include "origin/core/store_status.h"

namespace liveorigin {

class HeldRequest;
class OriginThread;

// Paths answered 503 for overload, and until when a repeat gets the same answer.
// Direct-mapped; one per driver thread.
class SuppressionCache {
 public:
  static constexpr size_t kSlots = 4096;

 private:
  friend class Priority;
  struct Slot {
    uint64_t path_hash = 0;  // 0: empty
    int64_t until_ms = 0;
    uint8_t class_label = 0;
  };
  std::vector<Slot> slots_;        // allocated at the first shed
  int64_t active_until_ms_ = 0;    // no lookups at all once every slot is stale
};

class Priority {
 public:
  // `clock` and `counters` must outlive this.
  Priority(const Clock& clock, const OverloadConfig& config, std::string server_id, const CounterBlocks& counters);

  // The class of a request for segment `n` when the live edge is `edge`: background
  // for prefetches, live within live_window_segments of the edge, else dvr; CMCD
  // refines it (a VOD-type session is dvr; a buffer under one segment is live).
  RequestClass classify(const RequestHead& head, const StreamConfig& sc, int64_t n, int64_t edge) const;

  // True when `c` must be shed now (live never is): in-flight store reads or the class's
  // budget over their limit, or a store that fails its operations. Counts the request
  // against its class's budget. Thread-safe, lock-free.
  bool overloaded(RequestClass c, int64_t now_ms);

  // The store's state, when it has one to show (origin.h owns the pointer).
  void watch_store(const std::atomic<const StoreStatus*>* status) { store_ = status; }

  // The 503 of a shed request.
  Response shed_response() const;
  // Remembers a shed answer for `target` so its repeats are suppressed.
  void remember_shed(OriginThread& t, std::string_view target, int64_t now_ms, RequestClass cls) const;

  // A repeat of a request shed moments ago: the same 503 without any work (counted),
  // or nothing. Requests carrying CMCD and resumed holds are always classified afresh.
  std::optional<Response> suppressed(OriginThread& t, const RequestHead& head,
                                     const std::shared_ptr<HeldRequest>& held) const;

 private:
  struct Budget {
    std::atomic<int64_t> window_s{0};
    std::atomic<int64_t> used{0};
  };

  const Clock& clock_;
  const OverloadConfig config_;
  const std::string server_id_;
  const CounterBlocks& counters_;
  const std::atomic<const StoreStatus*>* store_ = nullptr;
  std::array<Budget, kRequestClasses> budgets_;
};

}  // namespace liveorigin
