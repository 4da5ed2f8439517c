// Counters behind GET /metrics. Hot-path counters live in a per-thread block
// (single writer, relaxed atomics: a plain load and store on x86, no lock prefix)
// and are summed when scraped; rare events use shared counters.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace liveorigin {

// Where a request was decided (DESIGN §2.3 zones, plus the non-segment paths).
enum class ZoneLabel : uint8_t {
  unknown_event,
  unknown_stream,
  expired,
  select,
  hold,
  not_yet,
  too_early,
  plain_object,
  ingest,
  admin,
  api,  // /time, /_timeline, /healthz, /metrics
  bad_request,
  count_,
};
const char* to_string(ZoneLabel z);

inline constexpr std::array<int, 21> kStatusCodes = {100, 200, 201, 204, 206, 304, 400, 401, 403, 404, 405,
                                                     408, 409, 410, 411, 413, 416, 422, 500, 503, 507};
inline constexpr size_t kStatusOther = kStatusCodes.size();
size_t status_index(int status);

class Counter {
 public:
  // Single writer per Counter: the owning thread.
  void add(uint64_t n = 1) { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  uint64_t get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

// One per driver thread (io_context). Not shared between writers.
struct ThreadCounters {
  using ByStatus = std::array<Counter, kStatusCodes.size() + 1>;
  std::array<ByStatus, static_cast<size_t>(ZoneLabel::count_)> requests;  // GET, HEAD, admin, ...
  ByStatus puts;  // ingest PUTs by answer
  Counter defective_served;
  Counter bytes_served;
  Counter bytes_ingested;
  Counter holds;           // requests that started waiting
  Counter hold_timeouts;   // held until hold_ms_max and answered not-yet
  Counter holds_refused;   // not held because hold_requests_max were waiting
};

// Events that happen a few times per segment, not per request.
class SharedMetrics {
 public:
  // count("liveorigin_selections_total", R"(pipeline="a",reason="clean")")
  void count(std::string_view name, std::string labels, int64_t n = 1);
  // Appends every metric in Prometheus text format, as counters.
  void append_text(std::string& out) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::map<std::string, int64_t>, std::less<>> values_;
};

// Formats a label value for the Prometheus text format (escapes \, " and newline).
std::string prom_label(std::string_view value);

}  // namespace liveorigin
