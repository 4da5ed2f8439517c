#include "sim/scheduler.h"

namespace liveorigin::sim {

TimerId ManualScheduler::run_at(int64_t at_ms, std::function<void()> fn) {
  const int64_t due = at_ms < now_ms() ? now_ms() : at_ms;
  const TimerId id = next_id_++;
  queue_.emplace(std::make_pair(due, id), std::move(fn));
  due_of_.emplace(id, due);
  return id;
}

void ManualScheduler::cancel(TimerId id) {
  auto it = due_of_.find(id);
  if (it == due_of_.end()) return;
  queue_.erase({it->second, id});
  due_of_.erase(it);
}

void ManualScheduler::run_until(int64_t until_ms) {
  while (!queue_.empty() && queue_.begin()->first.first <= until_ms) {
    auto node = queue_.extract(queue_.begin());
    due_of_.erase(node.key().second);
    if (node.key().first > now_ms()) clock_.set_ms(node.key().first);
    node.mapped()();
  }
  if (until_ms > now_ms()) clock_.set_ms(until_ms);
}

}  // namespace liveorigin::sim
