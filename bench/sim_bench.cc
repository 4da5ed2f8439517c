// The virtual-time engine's event queue under the classic "hold" model: N timers
// pending; each one that runs schedules one more at now + a random increment, so the
// queue stays at N (docs/simulation.md). Compared in the same run with what it
// replaced (two std::maps) and with a plain std::priority_queue of std::function.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <queue>
#include <random>
#include <vector>

#include "sim/scheduler.h"

namespace {

using liveorigin::sim::ManualScheduler;

constexpr int64_t kSpreadMs = 60'000;  // increments uniform in [1, kSpreadMs]: a minute, where a simulation's timers fall

// Virtual time each iteration advances: about 64 events at any queue length.
int64_t step_ms(size_t pending) { return std::max<int64_t>(1, kSpreadMs * 64 / static_cast<int64_t>(pending)); }

// Increments drawn once, so every engine sees the same sequence and the draw is not timed.
const std::vector<int64_t>& increments() {
  static const std::vector<int64_t> v = [] {
    std::mt19937_64 rng(42);
    std::uniform_int_distribution<int64_t> d(1, kSpreadMs);
    std::vector<int64_t> out(1 << 20);
    for (auto& x : out) x = d(rng);
    return out;
  }();
  return v;
}

struct Hold {
  ManualScheduler* s;
  size_t* next;
  void operator()() const {
    const auto& inc = increments();
    const int64_t delay = inc[(*next)++ & (inc.size() - 1)];
    s->run_at(s->now_ms() + delay, *this);
  }
};

void BM_HoldManualScheduler(benchmark::State& state) {
  const auto pending = static_cast<size_t>(state.range(0));
  ManualScheduler s(0);
  size_t next = 0;
  for (size_t i = 0; i < pending; ++i) s.run_at(increments()[i & (increments().size() - 1)], Hold{&s, &next});
  const int64_t step = step_ms(pending);
  const uint64_t before = s.events_run();
  for (auto _ : state) s.run_until(s.now_ms() + step);
  state.SetItemsProcessed(static_cast<int64_t>(s.events_run() - before));
  state.counters["pending"] = static_cast<double>(s.pending());
}
BENCHMARK(BM_HoldManualScheduler)->Arg(1 << 20)->Arg(1 << 14);

// The queue ManualScheduler had before: (due, id) -> callback, and id -> due for cancel.
struct MapQueue {
  int64_t now = 0;
  uint64_t next_id = 1;
  std::map<std::pair<int64_t, uint64_t>, std::function<void()>> queue;
  std::map<uint64_t, int64_t> due_of;
  uint64_t ran = 0;
  void run_at(int64_t at, std::function<void()> fn) {
    const uint64_t id = next_id++;
    queue.emplace(std::make_pair(at, id), std::move(fn));
    due_of.emplace(id, at);
  }
  void run_until(int64_t until) {
    while (!queue.empty() && queue.begin()->first.first <= until) {
      auto node = queue.extract(queue.begin());
      due_of.erase(node.key().second);
      now = node.key().first;
      ++ran;
      node.mapped()();
    }
    now = until;
  }
};

void BM_HoldTwoMaps(benchmark::State& state) {
  const auto pending = static_cast<size_t>(state.range(0));
  MapQueue q;
  size_t next = 0;
  std::function<void()> hold;
  hold = [&] { q.run_at(q.now + increments()[next++ & (increments().size() - 1)], hold); };
  for (size_t i = 0; i < pending; ++i) q.run_at(increments()[i & (increments().size() - 1)], hold);
  const int64_t step = step_ms(pending);
  for (auto _ : state) q.run_until(q.now + step);
  state.SetItemsProcessed(static_cast<int64_t>(q.ran));
}
BENCHMARK(BM_HoldTwoMaps)->Arg(1 << 20)->Arg(1 << 14);

void BM_HoldPriorityQueue(benchmark::State& state) {
  struct Item {
    int64_t due;
    uint64_t seq;
    std::function<void()> fn;
    bool operator>(const Item& o) const { return due != o.due ? due > o.due : seq > o.seq; }
  };
  const auto pending = static_cast<size_t>(state.range(0));
  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> q;
  int64_t now = 0;
  uint64_t seq = 0, ran = 0;
  size_t next = 0;
  std::function<void()> hold;
  hold = [&] { q.push(Item{now + increments()[next++ & (increments().size() - 1)], seq++, hold}); };
  for (size_t i = 0; i < pending; ++i) q.push(Item{increments()[i & (increments().size() - 1)], seq++, hold});
  const int64_t step = step_ms(pending);
  for (auto _ : state) {
    const int64_t until = now + step;
    while (!q.empty() && q.top().due <= until) {
      Item it = q.top();
      q.pop();
      now = it.due;
      ++ran;
      it.fn();
    }
    now = until;
  }
  state.SetItemsProcessed(static_cast<int64_t>(ran));
}
BENCHMARK(BM_HoldPriorityQueue)->Arg(1 << 20)->Arg(1 << 14);

}  // namespace

BENCHMARK_MAIN();
