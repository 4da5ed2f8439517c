// The origin's write side. One mutex — lock level 1 of the order in state.h —
// serializes every change to the registry (events, markers, exclusions, tokens) and
// to the store's bookkeeping (bytes held, the eviction index, key numbering).
// Readers never take it: the GET path reads the registry from a per-thread snapshot
// and reloads that snapshot only when a writer has published a new one.
//
// The lock is taken in one place, by constructing a Writer. Functions that need it
// take a `Ledger::Writer&`, so every compiler checks that their caller holds it.
// While a Writer lives the current registry may be read without the snapshot lock,
// because only writers replace it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <tuple>

#include "origin/core/mutex.h"
#include "origin/core/state.h"

namespace liveorigin {

// A driver thread's snapshot of the registry (kept in its OriginThread).
struct RegistryView {
  uint64_t gen = ~uint64_t{0};
  std::shared_ptr<const Registry> registry;
};

// Stored numbered segments, oldest first: (avail_ms, stream, n). Budget eviction
// takes from the front.
using AgeIndex = std::set<std::tuple<int64_t, StreamState*, int64_t>>;

class Ledger {
 public:
  explicit Ledger(std::shared_ptr<const Registry> initial);

  // The registry as of the latest publish. Takes the snapshot lock only when a writer
  // published since `view` was refreshed; the reference is valid until the next call
  // with the same `view`.
  const Registry& view(RegistryView& view) const EXCLUDES(snapshot_mu_);

  // Set once, before the first request: what makes this instance's store keys its own
  // when several instances write to one store.
  void set_key_tag(std::string tag) { key_tag_ = std::move(tag); }

  // Bytes of stored objects (a relaxed read: for metrics and tests).
  int64_t stored_bytes() const { return stored_bytes_.load(std::memory_order_relaxed); }

  class Writer;

 private:
  mutable Mutex mu_;           // level 1: the writer lock
  mutable Mutex snapshot_mu_;  // level 3: guards the pointer swap only
  // Replaced only by a Writer (so also under mu_).
  std::shared_ptr<const Registry> registry_ GUARDED_BY(snapshot_mu_);
  std::atomic<uint64_t> gen_{0};
  std::atomic<int64_t> stored_bytes_{0};  // written only under mu_
  AgeIndex by_age_ GUARDED_BY(mu_);
  uint64_t key_counter_ GUARDED_BY(mu_) = 0;
  std::string key_tag_;  // written before any reader
};

class SCOPED_CAPABILITY Ledger::Writer {
 public:
  explicit Writer(Ledger& ledger) ACQUIRE(ledger.mu_);
  ~Writer() RELEASE();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // The current registry.
  const Registry& registry() const;
  // A copy of it to edit and publish.
  std::shared_ptr<Registry> copy() const;
  // Readers see `next` from their next view() on.
  void publish(std::shared_ptr<const Registry> next);
  // Publishes a registry in which `id` is `next` (added or replaced).
  void replace_event(const std::string& id, std::shared_ptr<EventState> next);

  int64_t stored_bytes() const { return ledger_.stored_bytes_.load(std::memory_order_relaxed); }
  void add_stored_bytes(int64_t delta);
  AgeIndex& by_age();
  // Store keys are never reused, by this instance nor (with a key tag) by another: a
  // replacement is a new key.
  std::string next_key_id();

 private:
  Ledger& ledger_;
};

}  // namespace liveorigin
