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

void FaultStore::set_error_rate(double rate, uint64_t seed) {
  std::lock_guard lock(rate_mu_);
  error_rate_ = rate;
  rng_state_ = seed | 1;
}

bool FaultStore::fails() {
  if (down_) return true;
  std::lock_guard lock(rate_mu_);
  if (error_rate_ <= 0) return false;
  // xorshift64*: deterministic for a seed, so a failing run can be repeated.
  rng_state_ ^= rng_state_ >> 12;
  rng_state_ ^= rng_state_ << 25;
  rng_state_ ^= rng_state_ >> 27;
  const uint64_t draw = rng_state_ * 2685821657736338717ULL;
  return static_cast<double>(draw >> 11) / static_cast<double>(uint64_t{1} << 53) < error_rate_;
}

void FaultStore::append(std::string event, std::string text, std::function<void(Result<int64_t>)> done) {
  if (fails()) return done(make_error("store " + std::string(name()) + ": fault injected"));
  const int64_t delay = put_delay_ms_;
  JournalStore* inner = inner_.journal();
  if (delay <= 0) return inner->append(std::move(event), std::move(text), std::move(done));
  delays_.after(delay, [inner, event = std::move(event), text = std::move(text), done = std::move(done)]() mutable {
    inner->append(std::move(event), std::move(text), std::move(done));
  });
}

void FaultStore::put(std::string key, SharedBytes bytes, int64_t expires_at_ms, std::function<void(bool ok)> done) {
  if (fails()) return done(false);
  const int64_t delay = put_delay_ms_;
  if (delay <= 0) return inner_.put(std::move(key), std::move(bytes), expires_at_ms, std::move(done));
  delays_.after(delay, [this, key = std::move(key), bytes = std::move(bytes), expires_at_ms, done = std::move(done)]() mutable {
    inner_.put(std::move(key), std::move(bytes), expires_at_ms, std::move(done));
  });
}

void FaultStore::get(std::string key, std::function<void(SharedBytes)> done) {
  if (fails()) return done(nullptr);
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
