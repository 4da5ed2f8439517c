// What the core shows of its store (docs/storage.md): whether it answers, since when,
// the last error, and its own counters for /metrics. The store implements it; the
// core only reads it (lock-free reads of what the store keeps), so /healthz and
// /metrics stay I/O-free.
#pragma once

#include <cstdint>
#include <string>

namespace liveorigin {

class StoreStatus {
 public:
  virtual ~StoreStatus() = default;
  virtual std::string_view url() const = 0;
  // False while the store fails operations (after its timeout or an error).
  virtual bool up() const = 0;
  // When up() last changed (epoch ms; 0: never), and the error that made it fail.
  virtual int64_t changed_ms() const = 0;
  virtual std::string last_error() const = 0;
  // Prometheus text of the store's own counters (hot cache, chunk retries, ...).
  virtual std::string metrics_text() const = 0;
};

}  // namespace liveorigin
