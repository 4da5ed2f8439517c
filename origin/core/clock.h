// The only way the origin core learns the time. The server injects SystemClock;
// tests and the virtual-time simulator inject ManualClock and advance it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace liveorigin {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch (segment numbers are epoch-locked).
  // Thread-safe.
  virtual int64_t now_ms() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t now_ms() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// Time moves only when told to. Thread-safe, so a realtime test can advance it
// while server threads read it.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_ms = 0) : now_ms_(start_ms) {}
  int64_t now_ms() const override { return now_ms_.load(std::memory_order_acquire); }
  void set_ms(int64_t t) { now_ms_.store(t, std::memory_order_release); }
  void advance_ms(int64_t d) { now_ms_.fetch_add(d, std::memory_order_acq_rel); }

 private:
  std::atomic<int64_t> now_ms_;
};

}  // namespace liveorigin
