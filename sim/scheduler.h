// The harness's only notion of time and timers. Actors (packagers, CDN nodes, viewer
// cohorts) are written against it, so the same actors run in real time on Asio
// (AsioScheduler) and in virtual time on a discrete-event engine (ManualScheduler).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include "origin/core/clock.h"

namespace liveorigin::sim {

using TimerId = uint64_t;

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  // Milliseconds since the Unix epoch (segment numbers are epoch-locked).
  virtual int64_t now_ms() const = 0;
  // Runs `fn` at `at_ms` (at once if that is past), after every callback already due
  // at the same time (ties run in scheduling order). Returns an id for cancel().
  virtual TimerId run_at(int64_t at_ms, std::function<void()> fn) = 0;
  TimerId run_after(int64_t delay_ms, std::function<void()> fn) { return run_at(now_ms() + delay_ms, std::move(fn)); }
  // Forgets a timer that has not run; a no-op otherwise.
  virtual void cancel(TimerId id) = 0;
  // The scheduler's time as an origin-core Clock.
  virtual const Clock& clock() const = 0;
};

// Virtual time: nothing runs until the owner advances it. Deterministic: callbacks run
// in (time, scheduling order). Single-threaded.
class ManualScheduler final : public Scheduler {
 public:
  explicit ManualScheduler(int64_t start_ms) : clock_(start_ms) {}

  int64_t now_ms() const override { return clock_.now_ms(); }
  TimerId run_at(int64_t at_ms, std::function<void()> fn) override;
  void cancel(TimerId id) override;
  const Clock& clock() const override { return clock_; }

  // Runs every callback due up to `until_ms` in order, moving time to each one's due
  // time, then sets the time to `until_ms`. Callbacks may schedule more.
  void run_until(int64_t until_ms);
  // Runs callbacks due now (time does not move).
  void run_due() { run_until(now_ms()); }
  size_t pending() const { return queue_.size(); }

 private:
  ManualClock clock_;
  uint64_t next_id_ = 1;
  // (due, id) -> callback: the id orders ties by scheduling order.
  std::map<std::pair<int64_t, TimerId>, std::function<void()>> queue_;
  std::map<TimerId, int64_t> due_of_;
};

}  // namespace liveorigin::sim
