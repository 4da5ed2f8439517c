// Held requests (docs/http-api.md §7.5): a request for a segment that is due
// within the hold window, or whose selection waits for another pipeline, waits for
// the PUT that publishes it instead of being refused. Bounded: hold_requests_max in
// all, hold_ms_max each; past either bound the answer is 404 not-yet with the TTL
// hint, never a queue.
//
// State: the number of requests held (an atomic used as a bound, so a relaxed
// increment that briefly overshoots by a thread is acceptable) and the drain
// deadline. A waiter's registration lives in its segment's `waiters` (state.h),
// under the stream's mutex; its other fields are written only by calls made for
// that request, which its driver serializes.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>
#include <variant>
#include <vector>

#include "origin/core/actions.h"
#include "origin/core/config.h"
#include "origin/core/metrics.h"
#include "origin/core/state.h"

namespace liveorigin {

// A request the core decided to hold. The driver subclasses it; the core keeps a
// reference while the request waits for its segment.
class OriginThread;

class HeldRequest {
 public:
  virtual ~HeldRequest() = default;
  // Called by the driver (never by the core) for each waiter in Effects::wake. The
  // implementation must call Origin::handle again for this request on its own
  // executor, not from inside wake().
  virtual void wake() = 0;

  // True while a request is being held (between its first Hold and its answer).
  bool waiting() const { return held_since_ms_ >= 0; }
  ZoneLabel zone() const { return zone_; }
  RequestClass request_class() const { return class_; }

 private:
  friend class HoldTable;
  bool registered_ = false;  // in its segment's waiters (guarded by the stream's mutex)
  int64_t held_since_ms_ = -1;
  bool counted_ = false;     // occupies one of hold_requests_max slots
  int64_t woken_ms_ = -1;    // when a PUT woke it (guarded by the stream's mutex while registered)
  ZoneLabel zone_ = ZoneLabel::hold;
  RequestClass class_ = RequestClass::live;
  std::weak_ptr<StreamState> stream_;  // weak: the stream's waiter list owns us
  int64_t number_ = 0;
};

class HoldTable {
 public:
  explicit HoldTable(int64_t hold_requests_max) : hold_requests_max_(hold_requests_max) {}

  // Keeps `held` waiting for segment `n` of `ss` until `wake_at_ms`, or says why not
  // (the reason for the 404 not-yet answer). A new hold takes a slot; a resumed one
  // keeps its slot until its deadline (hold_ms_max, or the drain deadline).
  // `stream` owns `ss`.
  std::variant<Hold, const char*> hold(OriginThread& t, StreamState& ss, const std::shared_ptr<StreamState>& stream,
                                       int64_t n, int64_t wake_at_ms, int64_t hold_ms_max, int64_t now_ms,
                                       const std::shared_ptr<HeldRequest>& held, ZoneLabel zone, RequestClass cls)
      REQUIRES(ss.mu);

  // The held request is being answered: its CMSD held time goes on `r`, the
  // publish-to-answer latency is observed, its slot is freed, and it may start a new
  // request afresh.
  void answered(OriginThread& t, const std::shared_ptr<HeldRequest>& held, Response& r, int64_t now_ms);

  // Takes `held` off its segment's waiters (a request re-evaluated after a wake-up).
  static void unregister(StreamState& ss, int64_t n, const std::shared_ptr<HeldRequest>& held) REQUIRES(ss.mu);

  // Moves every waiter of a segment into `effects.wake`; `published_ms` >= 0 when a PUT
  // published the segment (for the wake latency), -1 when it left (expiry, eviction).
  static void wake_all(std::vector<std::shared_ptr<HeldRequest>>& waiters, Effects& effects, int64_t published_ms);

  // The client went away: frees the hold slot. Thread-safe.
  void cancel(const std::shared_ptr<HeldRequest>& held);

  // No new request is held from now on, and held requests are answered by
  // `hold_until_ms` at the latest.
  void set_draining(int64_t hold_until_ms);
  bool draining() const { return draining_.load(std::memory_order_acquire); }

  int64_t held() const { return held_count_.load(std::memory_order_relaxed); }

 private:
  void release(const std::shared_ptr<HeldRequest>& held);

  const int64_t hold_requests_max_;
  std::atomic<int64_t> held_count_{0};
  std::atomic<bool> draining_{false};
  std::atomic<int64_t> drain_hold_until_ms_{0};
};

}  // namespace liveorigin
