#include "origin/store/cached_store.h"

#include <functional>

namespace liveorigin {

namespace {

// A store without a status of its own (only tests build one) is always up.
class AlwaysUp final : public StoreStatus {
 public:
  std::string_view url() const override { return "?"; }
  bool up() const override { return true; }
  int64_t changed_ms() const override { return 0; }
  std::string last_error() const override { return {}; }
  std::string metrics_text() const override { return {}; }
};

}  // namespace

CachedStore::CachedStore(std::unique_ptr<Store> inner, int64_t bytes_max)
    : inner_(std::move(inner)), shard_bytes_max_(bytes_max / static_cast<int64_t>(kShards)) {}

const StoreStatus& CachedStore::inner_status() const {
  static const AlwaysUp kUp;
  const StoreStatus* s = inner_->status();
  return s ? *s : kUp;
}

CachedStore::Shard& CachedStore::shard(std::string_view key) {
  return shards_[std::hash<std::string_view>{}(key) % kShards];
}

void CachedStore::insert(Shard& s, const std::string& key, SharedBytes bytes) {
  const int64_t size = static_cast<int64_t>(bytes->size());
  if (size > shard_bytes_max_) return;  // larger than the cache could keep
  if (auto it = s.index.find(key); it != s.index.end()) {
    s.lru.splice(s.lru.begin(), s.lru, it->second);
    return;
  }
  s.lru.emplace_front(key, std::move(bytes));
  s.index.emplace(key, s.lru.begin());
  s.bytes += size;
  bytes_.fetch_add(size, std::memory_order_relaxed);
  while (s.bytes > shard_bytes_max_ && !s.lru.empty()) {
    auto& [old_key, old_bytes] = s.lru.back();
    const int64_t freed = static_cast<int64_t>(old_bytes->size());
    s.bytes -= freed;
    bytes_.fetch_sub(freed, std::memory_order_relaxed);
    s.index.erase(old_key);
    s.lru.pop_back();
    evictions_.fetch_add(1, std::memory_order_relaxed);
  }
}

void CachedStore::put(std::string key, SharedBytes bytes, int64_t expires_at_ms, std::function<void(bool ok)> done) {
  inner_->put(key, bytes, expires_at_ms, [this, key, bytes, done = std::move(done)](bool ok) {
    if (ok) {
      Shard& s = shard(key);
      std::lock_guard lock(s.mu);
      insert(s, key, bytes);
    }
    done(ok);
  });
}

std::optional<SharedBytes> CachedStore::try_get(std::string_view key) {
  Shard& s = shard(key);
  std::lock_guard lock(s.mu);
  auto it = s.index.find(std::string(key));
  if (it == s.index.end()) return std::nullopt;
  s.lru.splice(s.lru.begin(), s.lru, it->second);
  hits_.fetch_add(1, std::memory_order_relaxed);
  return it->second->second;
}

void CachedStore::get(std::string key, std::function<void(SharedBytes)> done) {
  Shard& s = shard(key);
  SharedBytes cached;
  {
    std::lock_guard lock(s.mu);
    if (auto it = s.index.find(key); it != s.index.end()) {
      hits_.fetch_add(1, std::memory_order_relaxed);
      cached = it->second->second;
      s.lru.splice(s.lru.begin(), s.lru, it->second);
    }
  }
  if (cached) return done(std::move(cached));
  {
    std::lock_guard lock(s.mu);
    auto [reading, first] = s.reading.try_emplace(key);
    reading->second.push_back(std::move(done));
    if (!first) {
      collapsed_.fetch_add(1, std::memory_order_relaxed);
      return;  // the read under way answers this one too
    }
  }
  misses_.fetch_add(1, std::memory_order_relaxed);
  inner_->get(key, [this, key](SharedBytes bytes) {
    Shard& s = shard(key);
    std::vector<std::function<void(SharedBytes)>> waiting;
    {
      std::lock_guard lock(s.mu);
      if (bytes) insert(s, key, bytes);
      if (auto it = s.reading.find(key); it != s.reading.end()) {
        waiting = std::move(it->second);
        s.reading.erase(it);
      }
    }
    for (auto& w : waiting) w(bytes);
  });
}

void CachedStore::erase(std::string_view key) {
  {
    Shard& s = shard(key);
    std::lock_guard lock(s.mu);
    if (auto it = s.index.find(std::string(key)); it != s.index.end()) {
      const int64_t freed = static_cast<int64_t>(it->second->second->size());
      s.bytes -= freed;
      bytes_.fetch_sub(freed, std::memory_order_relaxed);
      s.lru.erase(it->second);
      s.index.erase(it);
    }
  }
  inner_->erase(key);
}

std::string CachedStore::metrics_text() const {
  std::string out = inner_status().metrics_text();
  auto line = [&](const char* name, const char* type, const char* help, uint64_t v) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " +
           std::to_string(v) + "\n";
  };
  line("liveorigin_hot_cache_hits_total", "counter", "Reads answered from the hot cache.", hits_.load());
  line("liveorigin_hot_cache_misses_total", "counter", "Reads that went to the store.", misses_.load());
  line("liveorigin_hot_cache_collapsed_total", "counter", "Reads that waited for a store read already under way.",
       collapsed_.load());
  line("liveorigin_hot_cache_evictions_total", "counter", "Objects evicted to stay within hot_cache_bytes.",
       evictions_.load());
  line("liveorigin_hot_cache_bytes", "gauge", "Bytes of objects in the hot cache.",
       static_cast<uint64_t>(bytes_.load()));
  return out;
}

}  // namespace liveorigin
