// Where object bytes and the shared state live (docs/storage.md). The origin core
// decides which key to read or write and keeps all metadata; a Store holds bytes by
// key. The stores that outlive the process or are shared by instances (sqlite, redis)
// also keep the journal of the shared state (JournalStore below, origin/core/journal.h).
// Backends: memory (the embedded default), sqlite, redis, redis-cluster; CachedStore
// (a hot cache) and FaultStore (faults) wrap any of them.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "origin/core/config.h"
#include "origin/core/messages.h"
#include "origin/core/result.h"
#include "origin/core/store_status.h"

namespace liveorigin {

class JournalStore;

class Store {
 public:
  virtual ~Store() = default;

  // Stores `bytes` under `key` (keys are never reused). `done(true)` once the store
  // holds them durably for this backend (every chunk written, for the chunked ones),
  // `done(false)` on failure. A reader never sees part of an object. `expires_at_ms`
  // (epoch; 0: never) lets a backend drop it by itself after it left the DVR window.
  // `done` may run inline or on another thread.
  virtual void put(std::string key, SharedBytes bytes, int64_t expires_at_ms, std::function<void(bool ok)> done) = 0;
  void put(std::string key, SharedBytes bytes, std::function<void(bool ok)> done) {
    put(std::move(key), std::move(bytes), 0, std::move(done));
  }

  // Reads `key`; `done(nullptr)` when absent or on failure. May run inline or on
  // another thread.
  virtual void get(std::string key, std::function<void(SharedBytes)> done) = 0;

  // The bytes when they can be had without waiting (memory, a hot cache): the
  // outer optional is empty when the caller must use get(); a null pointer inside
  // means the key is absent.
  virtual std::optional<SharedBytes> try_get(std::string_view key) { return std::nullopt; }

  // Forgets `key`; responses already holding the bytes keep them.
  virtual void erase(std::string_view key) = 0;

  virtual std::string_view name() const = 0;

  // The journal of the shared state, for stores that keep one (null: memory).
  virtual JournalStore* journal() { return nullptr; }
  // What /healthz and /metrics show of the store (null: nothing to show).
  virtual const StoreStatus* status() const { return nullptr; }
};

// Per event, the journal's entries numbered 1, 2, ... in append order, and the newest
// snapshot of the state they lead to. The blocking calls are made from the journal
// runner's thread (origin/driver/journal_runner.h), never from a request's.
class JournalStore {
 public:
  struct Entry {
    int64_t seq = 0;
    std::string text;
  };
  struct Snapshot {
    int64_t seq = 0;
    std::string text;
  };
  using Sink = std::function<void(const std::string& event, int64_t seq, const std::string& text)>;

  virtual ~JournalStore() = default;

  // Appends an entry to `event`'s journal; `done(seq)` once it is durable as the
  // store's settings define it, or an Error. May run on another thread.
  virtual void append(std::string event, std::string text, std::function<void(Result<int64_t>)> done) = 0;
  // The entries after `after`, in order, at most `limit`. Blocking.
  virtual Result<std::vector<Entry>> read(const std::string& event, int64_t after, size_t limit) = 0;
  // The events that have a journal. Blocking.
  virtual Result<std::vector<std::string>> events() = 0;
  virtual Result<std::optional<Snapshot>> load_snapshot(const std::string& event) = 0;
  // Keeps `snapshot` when it is newer than the one stored; entries it covers may be
  // trimmed, but not the newest `keep_entries` of them. Blocking.
  virtual Result<bool> save_snapshot(const std::string& event, const Snapshot& snapshot, int64_t keep_entries) = 0;
  // From now on, every new entry of every event, from every writer: each event's in
  // order, possibly with gaps (the runner reads what it missed). `sink` runs on the
  // store's thread.
  virtual void subscribe(Sink sink) = 0;
};

// Opens the store `config.url` names, with the hot cache in front of any but memory.
// Errors name the URL: "store redis://10.0.0.5:6379: cannot connect: Connection
// refused". `log` hears of the store's transitions (down, up again), once each.
Result<std::unique_ptr<Store>> open_store(const StoreConfig& config, std::function<void(std::string_view)> log = {});

}  // namespace liveorigin
