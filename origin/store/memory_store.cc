#include "origin/store/memory_store.h"

namespace liveorigin {

void MemoryStore::put(std::string key, SharedBytes bytes, int64_t expires_at_ms, std::function<void(bool ok)> done) {
  int64_t delta = bytes ? static_cast<int64_t>(bytes->size()) : 0;
  {
    Shard& s = shard(key);
    std::lock_guard lock(s.mu);
    SharedBytes& slot = s.objects[std::move(key)];
    if (slot) delta -= static_cast<int64_t>(slot->size());
    slot = std::move(bytes);
  }
  bytes_.fetch_add(delta, std::memory_order_relaxed);
  done(true);
}

void MemoryStore::get(std::string key, std::function<void(SharedBytes)> done) {
  done(*try_get(key));
}

std::optional<SharedBytes> MemoryStore::try_get(std::string_view key) {
  Shard& s = shard(key);
  std::lock_guard lock(s.mu);
  auto it = s.objects.find(key);
  return it == s.objects.end() ? SharedBytes{} : it->second;
}

void MemoryStore::erase(std::string_view key) {
  Shard& s = shard(key);
  std::lock_guard lock(s.mu);
  auto it = s.objects.find(key);
  if (it == s.objects.end()) return;
  bytes_.fetch_sub(it->second ? static_cast<int64_t>(it->second->size()) : 0, std::memory_order_relaxed);
  s.objects.erase(it);
}

size_t MemoryStore::objects() const {
  size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s.mu);
    n += s.objects.size();
  }
  return n;
}

}  // namespace liveorigin
