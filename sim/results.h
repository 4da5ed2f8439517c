// What a run records, and the SQLite database it lands in (docs/results-schema.md).
// Actors report to a Recorder as things happen; it aggregates per interval in memory
// (bounded: one row per interval x tier x class x status) and writes everything to
// SQLite when the run ends, so the run's hot paths never wait on the disk.
// Not thread-safe: the harness calls it from its one scheduler thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "origin/core/result.h"
#include "results/schema.h"

struct sqlite3;

namespace liveorigin::sim {

using results::kLatencyBucketsMs;

// A stream's timeline, so the database knows when each segment was due
// (avail(n) = availability_start_ms + (n - start_number + 1) * segment_duration_ms
// + publish_latency_ms, docs/http-api.md §2.1) and which faults were active then.
struct StreamInfo {
  std::string id;
  int64_t segment_duration_ms = 2000;
  int64_t availability_start_ms = 0;  // epoch ms
  int64_t start_number = 0;
  int64_t publish_latency_ms = 0;
};

struct RunInfo {
  std::string scenario_name;
  std::string scenario_hash;   // sha-256 hex of the scenario text
  std::string scenario_text;
  uint64_t seed = 0;
  std::string version;         // liveorigin version
  std::string mode;            // "realtime" | "virtual"
  std::string origin_mode;     // "in-process" | "child" | "external"
  std::string origin_url;
  std::string parameters_json;  // the resolved scenario as JSON
  int64_t started_ms = 0;       // epoch ms (t0); intervals count from here
  std::vector<StreamInfo> streams;  // empty: segments' due times are unknown (NULL)
  // Counted segments (docs/scenario-format.md §11) are those due from
  // started_ms - backfill_s to the run's end - 2 segment durations.
  int64_t backfill_s = 0;
};

struct PutRecord {
  std::string stream;
  int64_t number = 0;
  std::string pipeline;
  int attempt = 1;           // retries after a 400/5xx count up
  int64_t sent_ms = 0;       // epoch ms the request started
  int64_t answered_ms = 0;   // epoch ms the answer arrived (0: none)
  int status = 0;            // 0: transport error
  std::string defects;       // the Segment-Defects sent ("" clean)
  bool transport_corrupted = false;  // bytes damaged on purpose: the digest no longer matches
  int64_t bytes = 0;
};

// What the origin served for a segment, as seen by the CDN tier that faces it.
struct ServeRecord {
  std::string stream;
  int64_t number = 0;
  int64_t at_ms = 0;
  std::string pipeline;  // whose bytes (read from the body, so it works for any origin)
  std::string defects;   // that pipeline's Segment-Defects for this segment ("" clean)
  int64_t version = -1;  // Live-Version, -1 if absent
  std::string markers;   // Live-Markers as served ("" none)
};

// What reached viewers for a segment (weighted: one record may stand for many viewers).
struct ViewerRecord {
  std::string stream;
  int64_t number = 0;
  std::string pipeline;   // "" when the viewer got no segment (404/410/503 in the end)
  std::string defects;
  int status = 0;
  int64_t weight = 1;
  std::string request_class = "live";  // the viewer's request class: live | dvr | background
};

// One request at a tier, counted into its interval.
struct RequestRecord {
  int64_t at_ms = 0;
  std::string tier;           // a CDN tier name, "origin" for origin-facing requests, "viewer"
  std::string request_class;  // live | dvr | background | other
  int status = 0;             // 0: transport error
  int64_t weight = 1;
  int64_t bytes = 0;          // body bytes of all `weight` responses together
  bool cache_hit = false;
  bool collapsed = false;     // joined an upstream request already in flight
  bool filtered = false;      // answered from the timeline, never sent upstream
  bool held = false;          // waited (at the edge or at the origin) for the segment
  bool shed = false;          // answered 503 Live-Reject: overload (shed or suppressed)
};

struct LatencyRecord {
  std::string name;  // "origin_get", "origin_service", "hold_wait", "put", "backfill_put", "viewer_wait"
  std::string request_class;
  std::string tier;
  int64_t ms = 0;
  int64_t weight = 1;
};

// An answer from one origin instance (several instances: origin.instances).
struct InstanceRecord {
  int64_t at_ms = 0;
  int instance = 1;  // from 1
  int status = 0;    // 0: no answer
};

struct FaultRecord {
  std::string target;  // "pipeline a", "storage", ...
  std::string kind;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
};

// A sample of the origin's own /metrics (Prometheus text), scraped at the end of the
// run when the origin is a liveorigin: "liveorigin_store_reads_total" -> 123.
struct OriginMetric {
  std::string series;  // name{labels} exactly as the origin printed it
  double value = 0;
};

struct ActionRecord {
  int64_t at_ms = 0;
  std::string kind;    // "marker", "invalidation"
  std::string detail;  // JSON
  int status = 0;      // the admin API's answer
};

class Recorder {
 public:
  explicit Recorder(int64_t interval_ms);
  ~Recorder();

  void begin(const RunInfo& info);
  void put(const PutRecord& r);
  void served(const ServeRecord& r);
  void viewer(const ViewerRecord& r);
  void request(const RequestRecord& r);
  void latency(const LatencyRecord& r);
  void fault(const FaultRecord& r);
  void instance_request(const InstanceRecord& r);
  void action(const ActionRecord& r);
  void origin_metric(const OriginMetric& m);

  // Live counters for the progress line: requests at the origin (tier "origin", weighted)
  // and, of those, transport errors and 5xx.
  int64_t requests_total() const { return requests_total_; }
  int64_t errors_total() const { return errors_total_; }  // transport errors and 5xx at the origin

  // Writes the run to `db_path` (created with the schema if new; a newer schema
  // version is an error). Returns the run id. `status`: "completed", "failed: ...".
  Result<int64_t> write(const std::string& db_path, int64_t ended_ms, const std::string& status);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int64_t requests_total_ = 0;
  int64_t errors_total_ = 0;
};

}  // namespace liveorigin::sim
