// Faults by wrapping (LevelDB's fault-injection env): a Store that forwards to a real
// one and breaks only what it is told to: slow reads or writes, a store that is down.
// Used by overload tests now and by the harness's storage faults later.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "origin/store/store.h"

namespace liveorigin {

// Runs callbacks after a delay on its own thread. Bounded only by what callers
// schedule; stops (dropping nothing: it runs what is due, then the rest at once) on
// destruction.
class DelayThread {
 public:
  DelayThread();
  ~DelayThread();
  void after(int64_t delay_ms, std::function<void()> fn);

 private:
  void run();
  std::mutex mu_;
  std::condition_variable cv_;
  std::multimap<std::chrono::steady_clock::time_point, std::function<void()>> due_;
  bool stop_ = false;
  std::thread thread_;
};

class FaultStore final : public Store {
 public:
  explicit FaultStore(Store& inner) : inner_(inner) {}

  // Thread-safe setters: faults can change while requests are in flight.
  void set_get_delay_ms(int64_t ms) { get_delay_ms_ = ms; }
  void set_put_delay_ms(int64_t ms) { put_delay_ms_ = ms; }
  void set_down(bool down) { down_ = down; }  // every get misses, every put fails

  using Store::put;
  void put(std::string key, SharedBytes bytes, int64_t expires_at_ms, std::function<void(bool ok)> done) override;
  void get(std::string key, std::function<void(SharedBytes)> done) override;
  // Slow or down: never synchronous, so reads are in flight like on a remote store.
  std::optional<SharedBytes> try_get(std::string_view key) override;
  void erase(std::string_view key) override { inner_.erase(key); }
  std::string_view name() const override { return "fault"; }
  JournalStore* journal() override { return inner_.journal(); }
  const StoreStatus* status() const override { return inner_.status(); }

 private:
  Store& inner_;
  std::atomic<int64_t> get_delay_ms_{0};
  std::atomic<int64_t> put_delay_ms_{0};
  std::atomic<bool> down_{false};
  DelayThread delays_;
};

}  // namespace liveorigin
