// The Recorder (in-memory aggregation during a run) and the SQLite results database
// (docs/results-schema.md is the reference for every table, column and view below).
//
// Memory is bounded by what the run is about, not by how many requests it makes:
//  - intervals: one counter row per (interval, tier, class, status): at most
//    duration / interval_ms x tiers x classes x distinct statuses (~15);
//  - histograms: 16 buckets + totals per (name, class, tier);
//  - segments: one entry per (stream, number) reported, holding its PUTs (pipelines x
//    attempts), its served copies (the first serve and each change, not each response)
//    and its viewer outcomes (distinct pipeline, defects, status, weights summed);
//  - faults and actions: one row each, as the scenario schedules them.
#include "sim/results.h"

#include "results/sqlite_util.h"
#include "sim/key_hash.h"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <limits>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

namespace liveorigin::sim {

using results::db_error;
using results::exec;
using results::kResultsSchemaVersion;
using results::open_results_db;
using results::Stmt;

namespace {

constexpr size_t kBuckets = std::size(kLatencyBucketsMs) + 1;  // + Inf

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

size_t bucket_of(int64_t ms) {
  for (size_t i = 0; i < std::size(kLatencyBucketsMs); ++i) {
    if (ms <= kLatencyBucketsMs[i]) return i;
  }
  return std::size(kLatencyBucketsMs);
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Recorder

// The maps below are written to per request, and read in key order only once, when the
// run is written (sorted_by).
template <class K, class V>
using HashMap = std::unordered_map<K, V, KeyHash>;

// `order` maps a key to what it sorts by: the strings its numbers stand for, so rows are
// written in the order of the strings.
template <class K, class V, class Order>
std::vector<const std::pair<const K, V>*> sorted_by(const HashMap<K, V>& m, Order order) {
  std::vector<const std::pair<const K, V>*> out;
  out.reserve(m.size());
  for (const auto& kv : m) out.push_back(&kv);
  std::sort(out.begin(), out.end(), [&](const auto* a, const auto* b) { return order(a->first) < order(b->first); });
  return out;
}

// The strings of the keys (tiers, classes, streams, pipelines, defects, latency names),
// each held once: the per-request maps key on their numbers, so a record costs a hash
// of each short string and no copies of them.
class Names {
 public:
  uint32_t id(const std::string& s) {
    auto [it, fresh] = ids_.try_emplace(s, static_cast<uint32_t>(names_.size()));
    if (fresh) names_.push_back(&it->first);
    return it->second;
  }
  const std::string& operator[](uint32_t i) const { return *names_[i]; }

 private:
  std::unordered_map<std::string, uint32_t> ids_;
  std::vector<const std::string*> names_;
};

struct Recorder::Impl {
  struct IntervalCounts {
    int64_t requests = 0, bytes = 0, cache_hits = 0, collapsed = 0, filtered = 0, held = 0, shed = 0;
  };
  struct Histogram {
    std::array<int64_t, kBuckets> buckets{};
    int64_t count = 0, sum_ms = 0;
    int64_t min_ms = std::numeric_limits<int64_t>::max();
    int64_t max_ms = std::numeric_limits<int64_t>::min();
  };
  struct Serve {
    std::string pipeline, defects;
    int64_t version = -1;
    int64_t first_ms = 0, last_ms = 0, responses = 0;
    std::string markers;
  };
  struct Segment {
    std::vector<PutRecord> puts;
    std::vector<Serve> serves;  // the first serve and each change of copy
    HashMap<std::tuple<uint32_t, uint32_t, uint32_t, int>, int64_t> viewers;  // (class, pipeline, defects, status)
  };

  int64_t interval_ms;
  RunInfo info;
  Names names;
  HashMap<std::tuple<int64_t, uint32_t, uint32_t, int>, IntervalCounts> intervals;  // (interval, tier, class, status)
  HashMap<std::tuple<uint32_t, uint32_t, uint32_t>, Histogram> histograms;          // (name, class, tier)
  HashMap<std::pair<uint32_t, int64_t>, Segment> segments;                          // (stream, number)
  Segment& segment(const std::string& stream, int64_t number) { return segments[{names.id(stream), number}]; }
  std::vector<FaultRecord> faults;
  struct InstanceCounts {
    int64_t requests = 0, errors = 0, no_answer = 0;
  };
  std::map<std::pair<int64_t, int>, InstanceCounts> instances;  // (interval, instance)
  std::vector<ActionRecord> actions;
  std::vector<OriginMetric> origin_metrics;
};

Recorder::Recorder(int64_t interval_ms) : impl_(std::make_unique<Impl>()) {
  impl_->interval_ms = std::max<int64_t>(1, interval_ms);
}

Recorder::~Recorder() = default;

void Recorder::begin(const RunInfo& info) { impl_->info = info; }

void Recorder::put(const PutRecord& r) { impl_->segment(r.stream, r.number).puts.push_back(r); }

void Recorder::served(const ServeRecord& r) {
  auto& serves = impl_->segment(r.stream, r.number).serves;
  if (!serves.empty()) {
    Impl::Serve& last = serves.back();
    if (last.pipeline == r.pipeline && last.defects == r.defects && last.version == r.version &&
        last.markers == r.markers) {
      last.first_ms = std::min(last.first_ms, r.at_ms);
      last.last_ms = std::max(last.last_ms, r.at_ms);
      ++last.responses;
      return;
    }
  }
  serves.push_back(Impl::Serve{r.pipeline, r.defects, r.version, r.at_ms, r.at_ms, 1, r.markers});
}

void Recorder::viewer(const ViewerRecord& r) {
  Impl& m = *impl_;
  m.segment(r.stream, r.number)
      .viewers[{m.names.id(r.request_class), m.names.id(r.pipeline), m.names.id(r.defects), r.status}] += r.weight;
}

void Recorder::request(const RequestRecord& r) {
  int64_t interval = floor_div(r.at_ms - impl_->info.started_ms, impl_->interval_ms);
  Impl::IntervalCounts& c = impl_->intervals[{interval, impl_->names.id(r.tier), impl_->names.id(r.request_class), r.status}];
  c.requests += r.weight;
  c.bytes += r.bytes;
  if (r.cache_hit) c.cache_hits += r.weight;
  if (r.collapsed) c.collapsed += r.weight;
  if (r.filtered) c.filtered += r.weight;
  if (r.held) c.held += r.weight;
  if (r.shed) c.shed += r.weight;
  if (r.tier == "origin") {
    requests_total_ += r.weight;
    if (r.status == 0 || r.status >= 500) errors_total_ += r.weight;
  }
}

void Recorder::latency(const LatencyRecord& r) {
  if (r.weight <= 0) return;
  Impl& m = *impl_;
  Impl::Histogram& h = m.histograms[{m.names.id(r.name), m.names.id(r.request_class), m.names.id(r.tier)}];
  h.buckets[bucket_of(r.ms)] += r.weight;
  h.count += r.weight;
  h.sum_ms += r.ms * r.weight;
  h.min_ms = std::min(h.min_ms, r.ms);
  h.max_ms = std::max(h.max_ms, r.ms);
}

void Recorder::fault(const FaultRecord& r) { impl_->faults.push_back(r); }

void Recorder::instance_request(const InstanceRecord& r) {
  const int64_t interval = floor_div(r.at_ms - impl_->info.started_ms, impl_->interval_ms);
  auto& c = impl_->instances[{interval, r.instance}];
  if (r.status == 0) {
    ++c.no_answer;
    return;
  }
  ++c.requests;
  if (r.status >= 500) ++c.errors;
}

void Recorder::action(const ActionRecord& r) { impl_->actions.push_back(r); }
void Recorder::origin_metric(const OriginMetric& m) { impl_->origin_metrics.push_back(m); }

Result<int64_t> Recorder::write(const std::string& db_path, int64_t ended_ms, const std::string& status) {
  Result<sqlite3*> opened = open_results_db(db_path);
  if (!opened) return opened.error();
  sqlite3* db = *opened;
  struct Closer {
    sqlite3* db;
    ~Closer() { sqlite3_close_v2(db); }
  } closer{db};

  const Impl& m = *impl_;
  const RunInfo& info = m.info;

  if (!exec(db, "BEGIN IMMEDIATE")) return db_error(db_path, db, "cannot start a transaction");
  auto fail = [&](const std::string& what) -> Error {
    Error e = db_error(db_path, db, what);
    exec(db, "ROLLBACK");
    return e;
  };

  Stmt run(db,
           "INSERT INTO runs (scenario_name, scenario_hash, scenario_text, seed, version, mode, origin_mode, "
           "origin_url, parameters_json, interval_ms, started_ms, ended_ms, status, schema_version) "
           "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  if (!run.run(info.scenario_name, info.scenario_hash, info.scenario_text, static_cast<int64_t>(info.seed),
               info.version, info.mode, info.origin_mode, info.origin_url, info.parameters_json, m.interval_ms,
               info.started_ms, ended_ms, status, static_cast<int64_t>(kResultsSchemaVersion))) {
    return fail("cannot insert the run");
  }
  const int64_t id = sqlite3_last_insert_rowid(db);

  Stmt streams(db, "INSERT INTO streams VALUES (?,?,?,?,?,?)");
  Stmt segments(db, "INSERT INTO segments VALUES (?,?,?,?,?)");
  Stmt puts(db, "INSERT INTO puts VALUES (?,?,?,?,?,?,?,?,?,?,?)");
  Stmt serves(db, "INSERT INTO serves VALUES (?,?,?,?,?,?,?,?,?,?,?)");
  Stmt viewers(db, "INSERT INTO viewer_segments VALUES (?,?,?,?,?,?,?,?)");
  Stmt intervals(db, "INSERT INTO intervals VALUES (?,?,?,?,?,?,?,?,?,?,?,?)");
  Stmt histograms(db, "INSERT INTO histograms VALUES (?,?,?,?,?,?,?)");
  Stmt latencies(db, "INSERT INTO latencies VALUES (?,?,?,?,?,?,?,?)");
  Stmt faults(db, "INSERT INTO faults VALUES (?,?,?,?,?)");
  Stmt instances(db, "INSERT INTO instance_intervals VALUES (?,?,?,?,?,?)");
  Stmt actions(db, "INSERT INTO actions VALUES (?,?,?,?,?)");
  Stmt origin_metrics(db, "INSERT INTO origin_metrics VALUES (?,?,?)");
  for (const Stmt* s : {&streams, &segments, &puts, &serves, &viewers, &intervals, &histograms, &latencies, &faults,
                        &instances, &actions, &origin_metrics}) {
    if (!s->ok()) return fail("cannot prepare the inserts");
  }

  std::map<std::string, const StreamInfo*> stream_info;
  for (const StreamInfo& s : info.streams) {
    if (!stream_info.emplace(s.id, &s).second) continue;  // first wins
    if (!streams.run(id, s.id, s.segment_duration_ms, s.availability_start_ms, s.start_number,
                     s.publish_latency_ms)) {
      return fail("cannot insert streams");
    }
  }

  const Names& names = m.names;
  for (const auto* entry : sorted_by(m.segments, [&](const auto& k) { return std::tie(names[k.first], k.second); })) {
    const auto& [key, seg] = *entry;
    const std::string& stream = names[key.first];
    const int64_t number = key.second;
    std::optional<int64_t> due;
    bool counted = true;  // when the stream's timeline is unknown
    if (auto it = stream_info.find(stream); it != stream_info.end()) {
      const StreamInfo& s = *it->second;
      due = s.availability_start_ms + (number - s.start_number + 1) * s.segment_duration_ms + s.publish_latency_ms;
      counted = *due >= info.started_ms - info.backfill_s * 1000 && *due <= ended_ms - 2 * s.segment_duration_ms;
    }
    if (!segments.run(id, stream, number, due, counted)) return fail("cannot insert segments");
    for (const PutRecord& p : seg.puts) {
      std::optional<int64_t> answered;
      if (p.answered_ms != 0) answered = p.answered_ms;
      if (!puts.run(id, stream, number, p.pipeline, p.attempt, p.sent_ms, answered, p.status, p.defects,
                    p.transport_corrupted, p.bytes)) {
        return fail("cannot insert puts");
      }
    }
    int64_t seq = 0;
    for (const Impl::Serve& s : seg.serves) {
      std::optional<int64_t> version;
      if (s.version >= 0) version = s.version;
      if (!serves.run(id, stream, number, seq++, s.pipeline, s.defects, version, s.first_ms, s.last_ms,
                      s.responses, s.markers)) {
        return fail("cannot insert serves");
      }
    }
    auto by_strings = [&](const auto& k) {
      return std::tie(names[std::get<0>(k)], names[std::get<1>(k)], names[std::get<2>(k)], std::get<3>(k));
    };
    for (const auto* v : sorted_by(seg.viewers, by_strings)) {
      const auto& [vkey, weight] = *v;
      const auto& [cls, pipeline, defects, st] = vkey;
      if (!viewers.run(id, stream, number, names[cls], names[pipeline], names[defects], st, weight)) {
        return fail("cannot insert viewer_segments");
      }
    }
  }

  auto interval_order = [&](const auto& k) {
    return std::tie(std::get<0>(k), names[std::get<1>(k)], names[std::get<2>(k)], std::get<3>(k));
  };
  for (const auto* entry : sorted_by(m.intervals, interval_order)) {
    const auto& [key, c] = *entry;
    const auto& [interval, tier, cls, st] = key;
    if (!intervals.run(id, interval, names[tier], names[cls], st, c.requests, c.bytes, c.cache_hits, c.collapsed, c.filtered,
                       c.held, c.shed)) {
      return fail("cannot insert intervals");
    }
  }

  auto histogram_order = [&](const auto& k) {
    return std::tie(names[std::get<0>(k)], names[std::get<1>(k)], names[std::get<2>(k)]);
  };
  for (const auto* entry : sorted_by(m.histograms, histogram_order)) {
    const auto& [key, h] = *entry;
    const std::string& name = names[std::get<0>(key)];
    const std::string& cls = names[std::get<1>(key)];
    const std::string& tier = names[std::get<2>(key)];
    for (size_t b = 0; b < kBuckets; ++b) {
      std::optional<int64_t> le;
      if (b < std::size(kLatencyBucketsMs)) le = kLatencyBucketsMs[b];
      if (!histograms.run(id, name, cls, tier, static_cast<int64_t>(b), le, h.buckets[b])) {
        return fail("cannot insert histograms");
      }
    }
    if (!latencies.run(id, name, cls, tier, h.count, h.sum_ms, h.min_ms, h.max_ms)) {
      return fail("cannot insert latencies");
    }
  }

  for (const auto& [key, counts] : m.instances) {
    if (!instances.run(id, key.first, static_cast<int64_t>(key.second), counts.requests, counts.errors,
                       counts.no_answer)) {
      return fail("cannot insert instance_intervals");
    }
  }
  for (const FaultRecord& f : m.faults) {
    if (!faults.run(id, f.target, f.kind, f.start_ms, f.end_ms)) return fail("cannot insert faults");
  }
  for (const ActionRecord& a : m.actions) {
    if (!actions.run(id, a.at_ms, a.kind, a.detail, a.status)) return fail("cannot insert actions");
  }
  for (const OriginMetric& om : m.origin_metrics) {
    if (!origin_metrics.run(id, om.series, om.value)) return fail("cannot insert origin_metrics");
  }

  if (!exec(db, "COMMIT")) return fail("cannot commit the run");
  return id;
}

}  // namespace liveorigin::sim
