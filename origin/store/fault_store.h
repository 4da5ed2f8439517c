// Faults by wrapping (LevelDB's fault-injection env): a Store that forwards to a real
// one and breaks only what it is told to: added latency, an error rate, a store that is
// down (an outage window, opened and closed by whoever schedules it) — for its bytes
// and, for a journaled store, its journal appends too. Dropped connections of the
// network stores are made by sim/fault_proxy.h, beneath the real client.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

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

class FaultStore final : public Store, public JournalStore {
 public:
  explicit FaultStore(Store& inner) : inner_(inner) {}

  // Thread-safe setters: faults can change while requests are in flight.
  void set_get_delay_ms(int64_t ms) { get_delay_ms_ = ms; }
  void set_put_delay_ms(int64_t ms) { put_delay_ms_ = ms; }  // writes: objects and journal appends
  void set_down(bool down) { down_ = down; }  // every get misses, every write fails
  // This share of operations fails (at once), drawn from a seeded generator.
  void set_error_rate(double rate, uint64_t seed = 1);

  using Store::put;
  void put(std::string key, SharedBytes bytes, int64_t expires_at_ms, std::function<void(bool ok)> done) override;
  void get(std::string key, std::function<void(SharedBytes)> done) override;
  // Slow or down: never synchronous, so reads are in flight like on a remote store.
  std::optional<SharedBytes> try_get(std::string_view key) override;
  void erase(std::string_view key) override { inner_.erase(key); }
  std::string_view name() const override { return "fault"; }
  JournalStore* journal() override { return inner_.journal() ? this : nullptr; }
  const StoreStatus* status() const override { return inner_.status(); }

  // JournalStore: appends get the faults; the rest goes to the inner journal.
  void append(std::string event, std::string text, std::function<void(Result<int64_t>)> done) override;
  Result<std::vector<Entry>> read(const std::string& event, int64_t after, size_t limit) override {
    return inner_.journal()->read(event, after, limit);
  }
  Result<std::vector<std::string>> events() override { return inner_.journal()->events(); }
  Result<std::optional<Snapshot>> load_snapshot(const std::string& event) override {
    return inner_.journal()->load_snapshot(event);
  }
  Result<bool> save_snapshot(const std::string& event, const Snapshot& s, int64_t keep) override {
    return inner_.journal()->save_snapshot(event, s, keep);
  }
  void subscribe(Sink sink) override { inner_.journal()->subscribe(std::move(sink)); }

 private:
  bool fails();  // down, or drawn by the error rate

  Store& inner_;
  std::mutex rate_mu_;
  double error_rate_ = 0;   // guarded by rate_mu_
  uint64_t rng_state_ = 1;  // guarded by rate_mu_
  std::atomic<int64_t> get_delay_ms_{0};
  std::atomic<int64_t> put_delay_ms_{0};
  std::atomic<bool> down_{false};
  DelayThread delays_;
};

}  // namespace liveorigin
