#include "origin/store/fault_store.h"

namespace liveorigin {

DelayThread::DelayThread() : thread_([this] { run(); }) {}

DelayThread::~DelayThread() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void DelayThread::after(int64_t delay_ms, std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    due_.emplace(std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms), std::move(fn));
  }
  cv_.notify_all();
}

void DelayThread::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (due_.empty()) {
      if (stop_) return;
      cv_.wait(lock);
      continue;
    }
    auto first = due_.begin();
    if (!stop_ && first->first > std::chrono::steady_clock::now()) {
      cv_.wait_until(lock, first->first);
      continue;
    }
    auto fn = std::move(first->second);
    due_.erase(first);
    lock.unlock();
    fn();
    lock.lock();
  }
}

void FaultStore::put(std::string key, SharedBytes bytes, int64_t expires_at_ms, std::function<void(bool ok)> done) {
  if (down_) return done(false);
  const int64_t delay = put_delay_ms_;
  if (delay <= 0) return inner_.put(std::move(key), std::move(bytes), expires_at_ms, std::move(done));
  delays_.after(delay, [this, key = std::move(key), bytes = std::move(bytes), expires_at_ms, done = std::move(done)]() mutable {
    inner_.put(std::move(key), std::move(bytes), expires_at_ms, std::move(done));
  });
}

void FaultStore::get(std::string key, std::function<void(SharedBytes)> done) {
  if (down_) return done(nullptr);
  const int64_t delay = get_delay_ms_;
  if (delay <= 0) return inner_.get(std::move(key), std::move(done));
  delays_.after(delay, [this, key = std::move(key), done = std::move(done)]() mutable {
    inner_.get(std::move(key), std::move(done));
  });
}

std::optional<SharedBytes> FaultStore::try_get(std::string_view key) {
  if (down_ || get_delay_ms_ > 0) return std::nullopt;
  return inner_.try_get(key);
}

}  // namespace liveorigin
