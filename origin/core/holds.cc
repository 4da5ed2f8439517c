#include "origin/core/holds.h"

#include <algorithm>

#include "origin/core/origin_thread.h"

namespace liveorigin {

namespace {

void append_ht(Response& r, int64_t held_ms) {
  for (auto& h : r.headers) {
    if (h.name == "CMSD-Static") {
      h.value += ",ht=" + std::to_string(held_ms);
      return;
    }
  }
  r.set("CMSD-Static", "ht=" + std::to_string(held_ms));
}

}  // namespace

std::variant<Hold, const char*> HoldTable::hold(OriginThread& t, StreamState& ss,
                                                const std::shared_ptr<StreamState>& stream, int64_t n, int64_t wake_at_ms, int64_t hold_ms_max, int64_t now_ms,
                                                const std::shared_ptr<HeldRequest>& held, ZoneLabel zone,
                                                RequestClass cls) {
  if (!held || hold_ms_max == 0) return "not yet";
  const bool drain = draining();
  if (drain && held->held_since_ms_ < 0) return "not yet (draining)";
  if (held->held_since_ms_ < 0) {
    if (held_count_.fetch_add(1, std::memory_order_relaxed) >= hold_requests_max_) {
      held_count_.fetch_sub(1, std::memory_order_relaxed);
      t.counters().holds_refused.add();
      return "not yet (hold capacity reached)";
    }
    held->held_since_ms_ = now_ms;
    held->counted_ = true;
    held->zone_ = zone;
    held->class_ = cls;
    held->woken_ms_ = -1;
    held->stream_ = stream;
    held->number_ = n;
    t.counters().holds.add();
  }
  const int64_t hold_deadline = held->held_since_ms_ + hold_ms_max;
  const int64_t drain_deadline = drain ? drain_hold_until_ms_.load(std::memory_order_relaxed) : hold_deadline;
  const int64_t deadline = std::min(hold_deadline, drain_deadline);
  if (now_ms >= deadline) {
    if (now_ms < hold_deadline) return "not yet (draining)";
    t.counters().hold_timeouts.add();
    return "not yet (held for hold_ms_max)";
  }
  ss.segments[n].waiters.push_back(held);
  held->registered_ = true;
  return Hold{std::min(wake_at_ms, deadline)};
}

void HoldTable::answered(OriginThread& t, const std::shared_ptr<HeldRequest>& held, Response& r, int64_t now_ms) {
  if (!held || !held->counted_) return;
  append_ht(r, now_ms - held->held_since_ms_);
  if (held->woken_ms_ >= 0) t.counters().hold_wake_ms.observe(now_ms - held->woken_ms_);
  release(held);
}

void HoldTable::unregister(StreamState& ss, int64_t n, const std::shared_ptr<HeldRequest>& held) {
  if (!held || !held->registered_) return;
  auto it = ss.segments.find(n);
  if (it != ss.segments.end()) {
    auto& w = it->second.waiters;
    w.erase(std::remove(w.begin(), w.end(), held), w.end());
    drop_if_unused(ss, it);
  }
  held->registered_ = false;
}

void HoldTable::wake_all(std::vector<std::shared_ptr<HeldRequest>>& waiters, Effects& effects, int64_t published_ms) {
  for (auto& w : waiters) {
    w->registered_ = false;
    if (published_ms >= 0) w->woken_ms_ = published_ms;
    effects.wake.push_back(std::move(w));
  }
  waiters.clear();
}

void HoldTable::release(const std::shared_ptr<HeldRequest>& held) {
  if (held->counted_) {
    held->counted_ = false;
    held_count_.fetch_sub(1, std::memory_order_relaxed);
  }
  // The request is over: a driver may reuse the same waiter for the connection's next
  // request, which must start as a new request, not as this one resumed.
  held->held_since_ms_ = -1;
  held->woken_ms_ = -1;
}

void HoldTable::cancel(const std::shared_ptr<HeldRequest>& held) {
  if (auto stream = held->stream_.lock()) {
    MutexLock lock(stream->mu);
    unregister(*stream, held->number_, held);
  }
  release(held);
}

void HoldTable::set_draining(int64_t hold_until_ms) {
  drain_hold_until_ms_.store(hold_until_ms, std::memory_order_relaxed);
  draining_.store(true, std::memory_order_release);
}

}  // namespace liveorigin
