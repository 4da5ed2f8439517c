#include "origin/store/cached_store.h"
#include "origin/store/memory_store.h"
#include "origin/store/redis_store.h"
#include "origin/store/sqlite_store.h"
#include "origin/store/store.h"

namespace liveorigin {

Result<std::unique_ptr<Store>> open_store(const StoreConfig& config, std::function<void(std::string_view)> log) {
  auto url = StoreUrl::parse(config.url);
  if (!url) return make_error("store " + config.url + ": " + url.error().message);
  std::unique_ptr<Store> store;
  switch (url->kind) {
    case StoreUrl::Kind::memory:
      return std::unique_ptr<Store>(std::make_unique<MemoryStore>());
    case StoreUrl::Kind::sqlite: {
      auto s = SqliteStore::open(url->path, config, std::move(log));
      if (!s) return s.error();
      store = std::move(*s);
      break;
    }
    case StoreUrl::Kind::redis:
    case StoreUrl::Kind::redis_cluster: {
      auto s = RedisStore::open(*url, config, std::move(log));
      if (!s) return s.error();
      store = std::move(*s);
      break;
    }
  }
  if (config.hot_cache_bytes > 0) store = std::make_unique<CachedStore>(std::move(store), config.hot_cache_bytes);
  return store;
}

}  // namespace liveorigin
