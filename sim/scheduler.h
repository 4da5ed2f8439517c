// The harness's only notion of time and timers. Actors (packagers, CDN nodes, viewer
// cohorts) are written against it, so the same actors run in real time on Asio
// (AsioScheduler) and in virtual time on a discrete-event engine (ManualScheduler).
#pragma once

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

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
//
// The event queue is a timing wheel of millisecond buckets covering the next
// kWheelMs (~4.4 min, where nearly every timer of a simulation falls: segment cadence,
// latencies, TTLs, polls), with a 4-ary heap for what lies beyond. A bucket is a chain
// of fixed-size blocks holding the callbacks themselves, so running a bucket reads
// memory in order and scheduling writes one place; blocks come from a free list, so
// once warm nothing is allocated. Ties keep scheduling order: a bucket is appended to
// in that order, and far timers move into the wheel (in (due, order) order) the moment
// their time enters its window, before anything else can be scheduled for that time.
// Cancel bumps a per-id generation; a stale callback is skipped when its bucket comes
// up. bench/sim_bench.cc measures it (docs/simulation.md).
class ManualScheduler final : public Scheduler {
 public:
  explicit ManualScheduler(int64_t start_ms);
  ~ManualScheduler() override;
  ManualScheduler(const ManualScheduler&) = delete;
  ManualScheduler& operator=(const ManualScheduler&) = delete;

  int64_t now_ms() const override { return clock_.now_ms(); }
  TimerId run_at(int64_t at_ms, std::function<void()> fn) override;
  void cancel(TimerId id) override;
  const Clock& clock() const override { return clock_; }

  // Runs every callback due up to `until_ms` in order, moving time to each one's due
  // time, then sets the time to `until_ms`. Callbacks may schedule more.
  void run_until(int64_t until_ms);
  // Runs callbacks due now (time does not move).
  void run_due() { run_until(now_ms()); }
  size_t pending() const { return live_; }
  // Callbacks run so far: the engine's event count.
  uint64_t events_run() const { return events_run_; }

  static constexpr int kWheelBits = 18;
  static constexpr int64_t kWheelMs = int64_t{1} << kWheelBits;

 private:
  struct Entry {
    std::function<void()> fn;
    uint32_t slot;  // the id's generation cell
    uint32_t gen;   // its generation when set: a mismatch means cancelled
  };
  static constexpr int kBlockEntries = 8;
  struct Block {
    Block* next = nullptr;
    alignas(Entry) unsigned char storage[kBlockEntries * sizeof(Entry)];
    Entry* at(uint32_t i) { return reinterpret_cast<Entry*>(storage) + i; }
  };
  // Every block but the tail is full; the tail's fill lives here, so appending reads
  // one cache line (this) before writing the entry.
  struct Bucket {
    Block* head = nullptr;
    Block* tail = nullptr;
    uint32_t tail_count = 0;
  };
  struct Far {
    int64_t due;
    uint64_t seq;
    Entry entry;
  };
  static bool before(const Far& a, const Far& b) { return a.due != b.due ? a.due < b.due : a.seq < b.seq; }

  void append(int64_t due, Entry&& e);
  Block* new_block();
  void release(Block* b, uint32_t count);
  bool live(const Entry& e) const { return gens_[e.slot] == e.gen; }
  void retire(uint32_t slot);  // the timer ran or was cancelled: its id is stale from now on
  void pull_far();  // far timers whose time entered the wheel's window, into it
  int64_t next_due(int64_t to) const;  // the first non-empty bucket's time in [now, to]; -1: none
  void far_push(Far&& f);
  void far_pop();

  ManualClock clock_;
  // Per id cell: odd while its timer is pending, bumped to even when it runs or is
  // cancelled, odd again when the cell is reused.
  std::vector<uint32_t> gens_;
  std::vector<uint32_t> free_cells_;
  std::vector<Bucket> wheel_;
  std::vector<uint64_t> occupied_;  // a bit per bucket
  Block* free_blocks_ = nullptr;
  std::vector<Far> far_;            // 4-ary min-heap
  uint64_t next_seq_ = 0;
  size_t live_ = 0;
  uint64_t events_run_ = 0;
};

}  // namespace liveorigin::sim
