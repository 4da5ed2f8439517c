// The embedded default store: bytes in process memory, shared by reference with
// every response. Sharded so concurrent GETs of different keys rarely meet on a lock.
// The byte budget is enforced by the origin core, which knows what may be evicted.
#pragma once

#include <array>
#include <atomic>
#include <mutex>
#include <string>
#include <unordered_map>

#include "origin/store/store.h"

namespace liveorigin {

class MemoryStore final : public Store {
 public:
  using Store::put;
  void put(std::string key, SharedBytes bytes, int64_t expires_at_ms, std::function<void(bool ok)> done) override;
  void get(std::string key, std::function<void(SharedBytes)> done) override;
  std::optional<SharedBytes> try_get(std::string_view key) override;
  void erase(std::string_view key) override;
  std::string_view name() const override { return "memory"; }

  // Thread-safe.
  int64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
  size_t objects() const;

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, SharedBytes, Hash, std::equal_to<>> objects;
  };
  static constexpr size_t kShards = 16;
  Shard& shard(std::string_view key) { return shards_[Hash{}(key) % kShards]; }

  std::array<Shard, kShards> shards_;
  std::atomic<int64_t> bytes_{0};
};

}  // namespace liveorigin
