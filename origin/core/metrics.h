// Counters behind GET /metrics. Hot-path counters live in a per-thread block
// (single writer, relaxed atomics: a plain load and store on x86, no lock prefix)
// and are summed when scraped; rare events use shared counters.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <memory>
#include <vector>

#include "origin/core/mutex.h"

namespace liveorigin {

// Where a request was decided (the delivery zones of docs/http-api.md §7.2, plus
// the non-segment paths).
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

inline constexpr std::array<int, 22> kStatusCodes = {100, 200, 201, 204, 206, 304, 400, 401, 403, 404, 405,
                                                     408, 409, 410, 411, 413, 416, 422, 431, 500, 503, 507};
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

// Millisecond latency histogram; single writer like Counter.
class Histogram {
 public:
  static constexpr std::array<int64_t, 12> kBoundsMs = {0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000};
  void observe(int64_t ms) {
    size_t i = 0;
    while (i < kBoundsMs.size() && ms > kBoundsMs[i]) ++i;
    buckets_[i].add();
    sum_ms_.add(static_cast<uint64_t>(ms < 0 ? 0 : ms));
  }
  uint64_t bucket(size_t i) const { return buckets_[i].get(); }  // i == kBoundsMs.size(): +Inf
  uint64_t sum_ms() const { return sum_ms_.get(); }

 private:
  std::array<Counter, kBoundsMs.size() + 1> buckets_;
  Counter sum_ms_;
};

// Class label of requests_total: the three request classes, and "none" for requests
// that are not for a numbered segment.
inline constexpr size_t kClassLabels = 4;
inline constexpr size_t kNoClass = 3;  // the "none" label
const char* class_label(size_t c);

// One per driver thread (io_context). Not shared between writers.
struct ThreadCounters {
  using ByStatus = std::array<Counter, kStatusCodes.size() + 1>;
  using ByZone = std::array<ByStatus, static_cast<size_t>(ZoneLabel::count_)>;
  std::array<ByZone, kClassLabels> requests;  // GET, HEAD, admin, ... by class, zone, status
  ByStatus puts;  // ingest PUTs by answer
  std::array<Counter, kClassLabels> shed;  // 503s for overload, by class
  Counter suppressed;                      // repeats answered from the suppression cache
  Counter store_reads_done;                // store reads the core asked for, completed
  Histogram hold_wake_ms;                  // from the publishing PUT to the held answer
  Histogram put_ms;                        // from a PUT's head to its acknowledgement
  // In-flight store reads started by this thread (incremented and decremented by it).
  std::atomic<int64_t> store_reads{0};
  Counter defective_served;
  Counter bytes_served;
  Counter bytes_ingested;
  Counter holds;           // requests that started waiting
  Counter hold_timeouts;   // held until hold_ms_max and answered not-yet
  Counter holds_refused;   // not held because hold_requests_max were waiting
};

// Counts one answered request (not an ingest PUT) in requests_total.
inline void count_request(ThreadCounters& c, ZoneLabel zone, int status, size_t class_label = kNoClass) {
  c.requests[class_label][static_cast<size_t>(zone)][status_index(status)].add();
}

// The counter blocks of every driver thread: summed when /metrics is scraped, and
// read without a lock by the overload check (in-flight store reads).
class CounterBlocks {
 public:
  // A new block for a new driver thread. Thread-safe.
  std::shared_ptr<ThreadCounters> add() EXCLUDES(mu_);
  // Every block so far. Thread-safe.
  std::vector<std::shared_ptr<ThreadCounters>> all() const EXCLUDES(mu_);
  // Sum of every thread's in-flight store reads; takes no lock.
  int64_t store_reads_in_flight() const;

 private:
  mutable Mutex mu_;  // a leaf lock
  std::vector<std::shared_ptr<ThreadCounters>> blocks_ GUARDED_BY(mu_);
  // The same blocks, readable without mu_: append-only, kept alive by blocks_.
  static constexpr size_t kViewMax = 1024;
  std::array<std::atomic<ThreadCounters*>, kViewMax> view_{};
  std::atomic<size_t> view_size_{0};
};

// Events that happen a few times per segment, not per request.
class SharedMetrics {
 public:
  // count("liveorigin_selections_total", R"(pipeline="a",reason="clean")")
  void count(std::string_view name, std::string labels, int64_t n = 1);
  // Appends every metric in Prometheus text format, as counters.
  void append_text(std::string& out) const;

 private:
  mutable Mutex mu_;  // a leaf lock
  std::map<std::string, std::map<std::string, int64_t>, std::less<>> values_ GUARDED_BY(mu_);
};

// Formats a label value for the Prometheus text format (escapes \, " and newline).
std::string prom_label(std::string_view value);

}  // namespace liveorigin
