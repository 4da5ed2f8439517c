// The virtual-time engine's contract (sim/scheduler.h): callbacks run in (time,
// scheduling order), at their time, wherever they fall (this millisecond, this block,
// the wheel's window, beyond it); cancel forgets a pending timer and nothing else.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <utility>
#include <vector>

#include "sim/scheduler.h"

namespace liveorigin::sim {
namespace {

constexpr int64_t kStart = 1'700'000'000'123;  // not on a block boundary

TEST(ManualScheduler, TiesRunInSchedulingOrderAndTimeIsTheirDueTime) {
  ManualScheduler s(kStart);
  std::vector<std::pair<int, int64_t>> ran;
  const int64_t far = kStart + 2 * ManualScheduler::kWindowMs;  // beyond the window
  for (int i = 0; i < 3; ++i) s.run_at(far, [&, i] { ran.emplace_back(i, s.now_ms()); });
  s.run_at(kStart + 5, [&] { ran.emplace_back(10, s.now_ms()); });
  s.run_at(kStart + 5, [&] { ran.emplace_back(11, s.now_ms()); });
  s.run_until(far - ManualScheduler::kWindowMs / 2);  // the far ones are now in the window
  // Set later for the same time as the far ones: they run after them.
  s.run_at(far, [&] { ran.emplace_back(3, s.now_ms()); });
  s.run_until(far + 1);
  const std::vector<std::pair<int, int64_t>> want = {
      {10, kStart + 5}, {11, kStart + 5}, {0, far}, {1, far}, {2, far}, {3, far}};
  EXPECT_EQ(ran, want);
  EXPECT_EQ(s.now_ms(), far + 1);
  EXPECT_EQ(s.pending(), 0u);
  EXPECT_EQ(s.events_run(), 6u);
}

TEST(ManualScheduler, ATimerForNowSetByACallbackRunsInTheSamePass) {
  ManualScheduler s(kStart);
  std::vector<int> ran;
  s.run_at(kStart + 10, [&] {
    ran.push_back(1);
    // Enough to move the bucket's storage while it runs.
    for (int i = 0; i < 100; ++i) s.run_at(s.now_ms(), [&, i] { ran.push_back(100 + i); });
  });
  s.run_at(kStart + 10, [&] { ran.push_back(2); });
  s.run_until(kStart + 10);
  ASSERT_EQ(ran.size(), 102u);
  EXPECT_EQ(ran[0], 1);
  EXPECT_EQ(ran[1], 2);
  EXPECT_EQ(ran[2], 100);
  EXPECT_EQ(ran[101], 199);
  EXPECT_EQ(s.now_ms(), kStart + 10);
}

TEST(ManualScheduler, CancelForgetsAPendingTimerAndIsANoOpAfterItRan) {
  ManualScheduler s(kStart);
  int ran = 0;
  const TimerId near = s.run_at(kStart + 1, [&] { ++ran; });
  const TimerId far = s.run_at(kStart + 3 * ManualScheduler::kWindowMs, [&] { ++ran; });
  const TimerId kept = s.run_at(kStart + 2, [&] { ran += 10; });
  EXPECT_EQ(s.pending(), 3u);
  s.cancel(near);
  s.cancel(far);
  s.cancel(near);  // twice: still one timer forgotten
  EXPECT_EQ(s.pending(), 1u);
  s.run_until(kStart + 4 * ManualScheduler::kWindowMs);
  EXPECT_EQ(ran, 10);
  s.cancel(kept);  // already ran
  s.cancel(0);
  s.cancel(12345678);  // never set
  EXPECT_EQ(s.pending(), 0u);
  EXPECT_EQ(s.events_run(), 1u);
}

TEST(ManualScheduler, MoveOnlyAndLargeCapturesRunAndAreFreed) {
  ManualScheduler s(kStart);
  auto owned = std::make_unique<int>(7);
  auto counted = std::make_shared<int>(0);
  int got = 0;
  s.run_at(kStart + 1, [&got, p = std::move(owned)] { got = *p; });
  std::array<int64_t, 16> big{};  // past the inline buffer: held on the heap
  big[15] = 5;
  s.run_at(kStart + 2, [&got, big, counted] { got += static_cast<int>(big[15]); });
  s.run_at(kStart + 3 * ManualScheduler::kWindowMs, [counted] {});  // never reached
  EXPECT_EQ(counted.use_count(), 3);
  s.run_until(kStart + 2);
  EXPECT_EQ(got, 12);
  EXPECT_EQ(counted.use_count(), 2);  // the run one is gone, the pending one kept
}

// Random timers (near, in the window, beyond it; some set from callbacks, some
// cancelled), against a reference that keeps (due, order) in a std::map.
TEST(ManualScheduler, RunsRandomTimersInTheSameOrderAsAReferenceQueue) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    std::mt19937_64 rng(seed);
    ManualScheduler s(kStart);
    std::map<std::pair<int64_t, uint64_t>, int> reference;  // (due, order) -> label
    std::map<int, std::pair<int64_t, uint64_t>> key_of;       // label -> its key
    std::map<int, TimerId> id_of;
    std::vector<int> ran;
    uint64_t order = 0;
    int next_label = 0;
    auto draw_delay = [&]() -> int64_t {
      switch (rng() % 4) {
        case 0: return static_cast<int64_t>(rng() % 3);                               // now or next ms
        case 1: return static_cast<int64_t>(rng() % ManualScheduler::kBlockMs);        // this block
        case 2: return static_cast<int64_t>(rng() % ManualScheduler::kWindowMs);       // the window
        default: return static_cast<int64_t>(rng() % (3 * ManualScheduler::kWindowMs));  // beyond
      }
    };
    std::function<void(int64_t)> set = [&](int64_t due) {
      const int label = next_label++;
      const int64_t at = std::max(due, s.now_ms());
      reference.emplace(std::make_pair(at, order), label);
      key_of[label] = {at, order};
      ++order;
      id_of[label] = s.run_at(due, [&, label] {
        ran.push_back(label);
        // A callback sets more now and then, as actors do.
        if (next_label < 4000 && rng() % 3 == 0) set(s.now_ms() + draw_delay());
      });
    };
    for (int i = 0; i < 2000; ++i) set(kStart + draw_delay());
    for (int i = 0; i < 300; ++i) {
      const int label = static_cast<int>(rng() % next_label);
      if (key_of.count(label) != 0) {
        s.cancel(id_of[label]);
        reference.erase(key_of[label]);
        key_of.erase(label);
      }
    }
    // Advance in uneven steps, so some runs end mid-block and some skip empty blocks.
    int64_t until = kStart;
    std::vector<int> want;
    while (!reference.empty() || s.pending() != 0) {
      until += static_cast<int64_t>(rng() % (ManualScheduler::kWindowMs / 3)) + 1;
      const size_t before = ran.size();
      s.run_until(until);
      ASSERT_EQ(s.now_ms(), until);
      // What the reference runs up to `until`, including what callbacks added meanwhile:
      // replay the labels that ran and check each was the reference's next.
      for (size_t k = before; k < ran.size(); ++k) {
        ASSERT_FALSE(reference.empty()) << "seed " << seed;
        auto first = reference.begin();
        ASSERT_EQ(first->second, ran[k]) << "seed " << seed << ", event " << k;
        ASSERT_LE(first->first.first, until);
        key_of.erase(first->second);
        reference.erase(first);
      }
      ASSERT_TRUE(reference.empty() || reference.begin()->first.first > until) << "seed " << seed;
      ASSERT_EQ(s.pending(), reference.size());
      if (until > kStart + 20 * ManualScheduler::kWindowMs) break;
    }
    EXPECT_TRUE(reference.empty());
    EXPECT_GT(ran.size(), 2000u);
  }
}

}  // namespace
}  // namespace liveorigin::sim
