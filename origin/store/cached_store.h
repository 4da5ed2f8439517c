// The hot cache (docs/storage.md): recent objects in process memory in front of a
// store that is not (sqlite, redis), so the read storms at the live edge are answered
// from memory and the store sees one read per object, not one per request.
//  - bounded: at most `bytes_max` bytes of objects, least recently used out first —
//    the live window, which every request touches, stays;
//  - written through: a PUT's bytes enter the cache as they are stored;
//  - collapsed: concurrent reads of a missing object make one store read;
//  - erase-aware: keys are never reused, and a key the core erases (a replaced or
//    expired object) leaves the cache at once, so nothing stale is served.
// Thread-safe; sharded so concurrent GETs of different keys rarely meet on a lock.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "origin/store/store.h"

namespace liveorigin {

class CachedStore final : public Store, public StoreStatus {
 public:
  CachedStore(std::unique_ptr<Store> inner, int64_t bytes_max);

  using Store::put;
  void put(std::string key, SharedBytes bytes, int64_t expires_at_ms, std::function<void(bool ok)> done) override;
  void get(std::string key, std::function<void(SharedBytes)> done) override;
  std::optional<SharedBytes> try_get(std::string_view key) override;
  void erase(std::string_view key) override;
  std::string_view name() const override { return inner_->name(); }
  JournalStore* journal() override { return inner_->journal(); }
  const StoreStatus* status() const override { return this; }

  // StoreStatus: the inner store's, with the cache's counters.
  std::string_view url() const override { return inner_status().url(); }
  bool up() const override { return inner_status().up(); }
  int64_t changed_ms() const override { return inner_status().changed_ms(); }
  std::string last_error() const override { return inner_status().last_error(); }
  std::string metrics_text() const override;

  int64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
  Store& inner() { return *inner_; }

 private:
  struct Shard {
    std::mutex mu;
    std::list<std::pair<std::string, SharedBytes>> lru;  // most recent first
    std::unordered_map<std::string, std::list<std::pair<std::string, SharedBytes>>::iterator> index;
    std::unordered_map<std::string, std::vector<std::function<void(SharedBytes)>>> reading;  // collapsed reads
    int64_t bytes = 0;
  };
  static constexpr size_t kShards = 16;
  Shard& shard(std::string_view key);
  void insert(Shard& s, const std::string& key, SharedBytes bytes);  // caller holds s.mu
  const StoreStatus& inner_status() const;

  std::unique_ptr<Store> inner_;
  const int64_t shard_bytes_max_;
  std::array<Shard, kShards> shards_;
  std::atomic<int64_t> bytes_{0};
  std::atomic<uint64_t> hits_{0}, misses_{0}, collapsed_{0}, evictions_{0};
};

}  // namespace liveorigin
