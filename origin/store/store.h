// Where object bytes live. The origin core decides which key to read or write and
// keeps all metadata; a Store only holds bytes by key. Backends: memory (embedded
// default); sqlite and redis come later behind this same interface.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "origin/core/messages.h"

namespace liveorigin {

class Store {
 public:
  virtual ~Store() = default;

  // Stores `bytes` under `key` (keys are never reused). `done(true)` once the
  // store holds them durably for this backend, `done(false)` on failure. `done`
  // may run inline or on another thread.
  virtual void put(std::string key, SharedBytes bytes, std::function<void(bool ok)> done) = 0;

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
};

}  // namespace liveorigin
