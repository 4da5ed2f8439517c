// The harness's only notion of time and timers. Actors (packagers, CDN nodes, viewer
// cohorts) are written against it, so the same actors run in real time on Asio
// (AsioScheduler) and in virtual time on a discrete-event engine (ManualScheduler).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "origin/core/clock.h"
#include "sim/task.h"

namespace liveorigin::sim {

using TimerId = uint64_t;

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  // Milliseconds since the Unix epoch (segment numbers are epoch-locked).
  virtual int64_t now_ms() const = 0;
  // Runs `fn` at `at_ms` (at once if that is past), after every callback already due
  // at the same time (ties run in scheduling order). Returns an id for cancel().
  virtual TimerId run_at(int64_t at_ms, Task fn) = 0;
  TimerId run_after(int64_t delay_ms, Task fn) { return run_at(now_ms() + delay_ms, std::move(fn)); }
  // Forgets a timer that has not run; a no-op otherwise.
  virtual void cancel(TimerId id) = 0;
  // The scheduler's time as an origin-core Clock.
  virtual const Clock& clock() const = 0;
};

// Virtual time: nothing runs until the owner advances it. Deterministic: callbacks run
// in (time, scheduling order). Single-threaded.
//
// The event queue is a two-level timing wheel. The time line is cut into blocks of
// kBlockMs; the current block has a bucket per millisecond, the next kBlocks blocks
// (~4.4 min, where nearly every timer of a simulation falls: segment cadence,
// latencies, TTLs, polls) a bucket each, and a 4-ary heap holds what lies beyond.
// Scheduling appends to one of a few hundred coarse buckets, so writes stream into
// memory instead of landing on a random one of 2^18 millisecond buckets (the previous
// wheel: a cache miss per timer at a million pending); when time enters a block, its
// coarse bucket is scattered over the block's millisecond buckets, which fit in cache.
// Buckets are vectors that keep (or pass on) their storage, so a warm queue allocates
// nothing.
// Ties keep scheduling order: every bucket is appended to in that order, a coarse
// bucket is scattered in its order before anything can be scheduled straight into
// the block, and far timers enter their coarse bucket (in (due, order) order) the
// moment their block enters the window, before anything else can be scheduled there.
// Cancel marks the timer done; a done callback is skipped when reached.
// bench/sim_bench.cc measures it (docs/simulation.md).
class ManualScheduler final : public Scheduler {
 public:
  explicit ManualScheduler(int64_t start_ms);
  ~ManualScheduler() override;
  ManualScheduler(const ManualScheduler&) = delete;
  ManualScheduler& operator=(const ManualScheduler&) = delete;

  int64_t now_ms() const override { return clock_.now_ms(); }
  TimerId run_at(int64_t at_ms, Task fn) override;
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

  static constexpr int kBlockBits = 10;
  static constexpr int64_t kBlockMs = int64_t{1} << kBlockBits;
  static constexpr int kBlocks = 256;  // coarse buckets: the window is kBlocks blocks
  static constexpr int64_t kWindowMs = kBlockMs * kBlocks;

 private:
  struct Entry {
    Task fn;
    int64_t due;
    uint64_t seq;  // scheduling order, and the TimerId
  };
  static bool before(const Entry& a, const Entry& b) { return a.due != b.due ? a.due < b.due : a.seq < b.seq; }
  static int64_t block_of(int64_t ms) { return ms >> kBlockBits; }

  // A bit per timer ever set, by seq, in chunks: set once it has run or was cancelled.
  // Timers set about the same time run about the same time, so the bits a bucket
  // touches lie close together (not so a per-timer cell reused at random: a cache miss
  // per timer at a million pending); a chunk is freed when all its timers are done.
  static constexpr int kChunkBits = 16;
  struct DoneChunk {
    uint64_t bits[(size_t{1} << kChunkBits) / 64] = {};
    uint32_t done = 0;
  };
  bool done(uint64_t seq) const;
  void mark_done(uint64_t seq);  // the timer ran or was cancelled: its id is stale from now on
  void place(Entry&& e);        // into the current block's, a coarse or the far bucket
  void fine_push(Entry&& e);
  void coarse_push(int64_t block, Entry&& e);
  void enter_block(int64_t block);  // time reaches `block`: far timers into the window, scatter its bucket
  int64_t next_fine(int64_t to) const;  // the first non-empty ms bucket's time in [now, to]; -1: none
  int64_t next_block() const;           // the first later block holding timers; -1: none
  void far_push(Entry&& e);
  void far_pop();

  ManualClock clock_;
  std::vector<std::unique_ptr<DoneChunk>> done_;  // chunk seq >> kChunkBits; null: all done
  uint64_t next_seq_ = 1;                          // 0 is no timer
  int64_t block_;                              // the current block
  std::vector<std::vector<Entry>> fine_;       // kBlockMs buckets: the current block's milliseconds
  std::vector<uint64_t> fine_occupied_;        // a bit per ms bucket
  std::vector<std::vector<Entry>> coarse_;     // kBlocks buckets: block b in coarse_[b % kBlocks]
  std::vector<uint64_t> coarse_occupied_;      // a bit per coarse bucket
  // Storage of scattered coarse buckets, for the next bucket to fill: only the few
  // buckets in use at a time (a minute of timers: ~60) hold memory, not all kBlocks.
  std::vector<std::vector<Entry>> spare_;
  std::vector<Entry> far_;                     // 4-ary min-heap
  size_t live_ = 0;
  uint64_t events_run_ = 0;
};

}  // namespace liveorigin::sim
