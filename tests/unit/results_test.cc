#include "sim/results.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

namespace liveorigin::sim {
namespace {

namespace fs = std::filesystem;

// A value read back from SQLite: NULL, an integer, a real or text.
using Value = std::variant<std::monostate, int64_t, double, std::string>;
using Row = std::vector<Value>;

std::string show(const Value& v) {
  if (std::holds_alternative<std::monostate>(v)) return "NULL";
  if (auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (auto* d = std::get_if<double>(&v)) return std::to_string(*d);
  return "'" + std::get<std::string>(v) + "'";
}

// Runs every statement of `sql`; returns the rows of the last one. Fails the test on error.
std::vector<Row> query(sqlite3* db, const std::string& sql) {
  std::vector<Row> rows;
  const char* tail = sql.c_str();
  while (tail != nullptr && *tail != '\0') {
    sqlite3_stmt* s = nullptr;
    int rc = sqlite3_prepare_v2(db, tail, -1, &s, &tail);
    EXPECT_EQ(rc, SQLITE_OK) << sqlite3_errmsg(db) << "\nin: " << sql;
    if (rc != SQLITE_OK) return {};
    if (s == nullptr) continue;  // trailing whitespace or comments
    rows.clear();
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      Row row;
      for (int i = 0; i < sqlite3_column_count(s); ++i) {
        switch (sqlite3_column_type(s, i)) {
          case SQLITE_NULL: row.emplace_back(std::monostate{}); break;
          case SQLITE_INTEGER: row.emplace_back(static_cast<int64_t>(sqlite3_column_int64(s, i))); break;
          case SQLITE_FLOAT: row.emplace_back(sqlite3_column_double(s, i)); break;
          default: row.emplace_back(std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, i))));
        }
      }
      rows.push_back(std::move(row));
    }
    EXPECT_EQ(rc, SQLITE_DONE) << sqlite3_errmsg(db) << "\nin: " << sql;
    sqlite3_finalize(s);
  }
  return rows;
}

// The single value of a one-row, one-column query.
Value one(sqlite3* db, const std::string& sql) {
  std::vector<Row> rows = query(db, sql);
  EXPECT_EQ(rows.size(), 1u) << sql;
  if (rows.size() != 1 || rows[0].empty()) return std::monostate{};
  return rows[0][0];
}

int64_t integer(sqlite3* db, const std::string& sql) {
  Value v = one(db, sql);
  EXPECT_TRUE(std::holds_alternative<int64_t>(v)) << sql << " -> " << show(v);
  return std::holds_alternative<int64_t>(v) ? std::get<int64_t>(v) : -999999;
}

double real(sqlite3* db, const std::string& sql) {
  Value v = one(db, sql);
  if (auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  EXPECT_TRUE(std::holds_alternative<double>(v)) << sql << " -> " << show(v);
  return std::holds_alternative<double>(v) ? std::get<double>(v) : -999999;
}


std::string text(sqlite3* db, const std::string& sql) {
  Value v = one(db, sql);
  EXPECT_TRUE(std::holds_alternative<std::string>(v)) << sql << " -> " << show(v);
  return std::holds_alternative<std::string>(v) ? std::get<std::string>(v) : "";
}

// The ```sql blocks of docs/results-schema.md.
std::vector<std::string> doc_queries() {
  // The source tree's, not __FILE__'s: ccache's base_dir makes that relative to the build.
  fs::path doc = fs::path(LIVEORIGIN_SOURCE_DIR) / "docs" / "results-schema.md";
  std::ifstream in(doc);
  EXPECT_TRUE(in.good()) << doc;
  std::vector<std::string> blocks;
  std::string line, block;
  bool inside = false;
  while (std::getline(in, line)) {
    if (!inside && line == "```sql") {
      inside = true;
      block.clear();
    } else if (inside && line == "```") {
      inside = false;
      blocks.push_back(block);
    } else if (inside) {
      block += line + "\n";
    }
  }
  return blocks;
}

std::string doc_query(const std::string& containing) {
  for (const std::string& q : doc_queries()) {
    if (q.find(containing) != std::string::npos) return q;
  }
  ADD_FAILURE() << "no documented query contains: " << containing;
  return "SELECT NULL";
}

// A temporary directory, removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "results_test.XXXXXX").string();
    path = mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

struct Db {
  sqlite3* db = nullptr;
  explicit Db(const std::string& path) { EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK); }
  ~Db() { sqlite3_close(db); }
  operator sqlite3*() const { return db; }  // NOLINT: convenience in tests
};

// ---------------------------------------------------------------------------------------
// A small synthetic run: stream "video" (d = 2000, epoch-locked, so due(n) = (n+1)*2000),
// pipelines a and b, run from 100000 to 114500 ms in 1 s intervals. Counted segments are
// those due from 100000 (no backfill) to 114500 - 2*2000 = 110500: 50 to 54.
//   50: both clean; a served.
//   51: a defective (acked 104050), b clean (acked 104300). The origin served a's defective
//       copy at 104100 and again at 104400 -- after b's clean ack -- then b's (v2): counts.
//   52: a corrupt (acked 106050); b's first PUT transport-corrupted (400), its retry clean
//       acked at 106900. The origin served a's at 106600 only (before): does not count.
//   53: both pipelines out: nobody PUT it, 8 live viewers got 404: a gap of one segment.
//   54: b is back (after a 503 on its first PUT); 3 viewers got it, 1 got 503.
//   10: DVR viewers asked for a segment from before the run nobody published: not counted.
//   56: a live viewer got 404 for a segment due after the counted range: not counted.

constexpr int64_t kStart = 100000;
constexpr int64_t kEnd = 114500;

PutRecord put(int64_t n, const std::string& p, int64_t sent, int64_t answered, int status, const std::string& defects,
              int attempt = 1, bool corrupted = false) {
  PutRecord r;
  r.stream = "video";
  r.number = n;
  r.pipeline = p;
  r.attempt = attempt;
  r.sent_ms = sent;
  r.answered_ms = answered;
  r.status = status;
  r.defects = defects;
  r.transport_corrupted = corrupted;
  r.bytes = 750000;
  return r;
}

ServeRecord serve(int64_t n, int64_t at, const std::string& p, const std::string& defects, int64_t version) {
  return ServeRecord{"video", n, at, p, defects, version};
}

ViewerRecord viewer(int64_t n, const std::string& p, const std::string& defects, int status, int64_t weight,
                    const std::string& cls = "live") {
  return ViewerRecord{"video", n, p, defects, status, weight, cls};
}

// `weight` requests of 1000 body bytes each.
RequestRecord req(int64_t at, const std::string& tier, const std::string& cls, int status, int64_t weight,
                  bool body = true) {
  RequestRecord r;
  r.at_ms = at;
  r.tier = tier;
  r.request_class = cls;
  r.status = status;
  r.weight = weight;
  r.bytes = body ? 1000 * weight : 0;
  return r;
}

RunInfo run_info() {
  RunInfo info;
  info.scenario_name = "failover";
  info.scenario_hash = "abc123";
  info.scenario_text = "name: failover\n";
  info.seed = 42;
  info.version = "0.1.0";
  info.mode = "virtual";
  info.origin_mode = "in-process";
  info.parameters_json = R"({"duration_s":14})";
  info.started_ms = kStart;
  info.streams = {StreamInfo{"video", 2000, 0, 0, 0}};
  return info;
}

void record(Recorder& rec) {
  rec.begin(run_info());

  rec.put(put(50, "a", 102000, 102100, 201, ""));
  rec.put(put(50, "b", 102050, 102150, 201, ""));
  rec.put(put(51, "a", 104000, 104050, 201, "missing-frames=3"));
  rec.put(put(51, "b", 104000, 104300, 201, ""));
  rec.put(put(52, "a", 106000, 106050, 201, "corrupt"));
  rec.put(put(52, "b", 106000, 106100, 400, "", 1, true));
  rec.put(put(52, "b", 106200, 106900, 201, "", 2));
  rec.put(put(54, "b", 110000, 110050, 503, "", 1));
  rec.put(put(54, "b", 110300, 110380, 201, "", 2));

  rec.served(serve(50, 102200, "a", "", 1));
  rec.served(serve(50, 102300, "a", "", 1));
  rec.served(serve(51, 104100, "a", "missing-frames=3", 1));
  rec.served(serve(51, 104400, "a", "missing-frames=3", 1));
  rec.served(serve(51, 104600, "b", "", 2));
  rec.served(serve(52, 106600, "a", "corrupt", 1));
  rec.served(serve(52, 107000, "b", "", 2));
  rec.served(serve(54, 110400, "b", "", -1));

  rec.viewer(viewer(50, "a", "", 200, 6));
  rec.viewer(viewer(50, "a", "", 200, 4));  // aggregated with the one above
  rec.viewer(viewer(51, "a", "missing-frames=3", 200, 5));
  rec.viewer(viewer(51, "b", "", 200, 7));
  rec.viewer(viewer(52, "a", "corrupt", 200, 4));
  rec.viewer(viewer(52, "b", "", 200, 6));
  rec.viewer(viewer(53, "", "", 404, 8));
  rec.viewer(viewer(54, "b", "", 200, 3));
  rec.viewer(viewer(54, "", "", 503, 1));
  rec.viewer(viewer(10, "", "", 404, 2, "dvr"));
  rec.viewer(viewer(56, "", "", 404, 1));

  // Viewers' requests (their final answers).
  rec.request(req(102500, "viewer", "live", 200, 10));
  rec.request(req(104500, "viewer", "live", 200, 12));
  rec.request(req(106700, "viewer", "live", 200, 10));
  rec.request(req(108200, "viewer", "live", 404, 8, false));
  rec.request(req(108200, "viewer", "dvr", 404, 2, false));
  rec.request(req(110300, "viewer", "live", 200, 3));
  rec.request(req(110300, "viewer", "live", 503, 1, false));
  // The edge: 32 requests, 19 hits, 1 collapsed, 2 filtered.
  RequestRecord r = req(102500, "edge", "live", 200, 9);
  r.cache_hit = true;
  rec.request(r);
  rec.request(req(102500, "edge", "live", 200, 1));
  r = req(104500, "edge", "live", 200, 10);
  r.cache_hit = true;
  rec.request(r);
  rec.request(req(104500, "edge", "live", 200, 1));
  r = req(104500, "edge", "live", 200, 1);
  r.collapsed = true;
  rec.request(r);
  r = req(108200, "edge", "live", 404, 8, false);
  r.held = true;
  rec.request(r);
  r = req(108200, "edge", "dvr", 404, 2, false);
  r.filtered = true;
  rec.request(r);
  // The shield: 1 hit of 2.
  rec.request(req(102500, "shield", "live", 200, 1));
  r = req(104500, "shield", "live", 200, 1);
  r.cache_hit = true;
  rec.request(r);
  // The origin: 12 media requests (2 shed, 1 transport error) and a _timeline poll.
  rec.request(req(101000, "origin", "other", 200, 1));
  rec.request(req(102200, "origin", "live", 200, 1));
  rec.request(req(102300, "origin", "live", 200, 1));
  rec.request(req(104100, "origin", "live", 200, 1));
  rec.request(req(104400, "origin", "live", 200, 1));
  rec.request(req(104600, "origin", "live", 200, 1));
  rec.request(req(106600, "origin", "live", 200, 1));
  rec.request(req(107000, "origin", "live", 200, 1));
  r = req(108100, "origin", "live", 404, 1, false);
  r.held = true;
  rec.request(r);
  r = req(108300, "origin", "dvr", 503, 2, false);
  r.shed = true;
  rec.request(r);
  rec.request(req(114200, "origin", "live", 200, 1));  // the last interval is 500 ms long
  rec.request(req(114400, "origin", "live", 0, 1, false));

  // Latencies.
  rec.latency({"origin_get", "live", "origin", 3, 1});
  rec.latency({"origin_get", "live", "origin", 7, 1});
  rec.latency({"origin_get", "live", "origin", 15, 97});
  rec.latency({"origin_get", "live", "origin", 250, 1});
  rec.latency({"origin_get", "dvr", "origin", 70000, 1});
  rec.latency({"origin_get", "other", "origin", 30000, 50});  // _timeline polls: not in '*'
  rec.latency({"viewer_wait", "live", "viewer", 100, 9});
  rec.latency({"viewer_wait", "live", "viewer", 1500, 1});
  rec.latency({"viewer_wait", "dvr", "viewer", 40, 10});
  rec.latency({"hold_wait", "live", "origin", 400, 1});
  rec.latency({"put", "", "origin", 50, 1});
  rec.latency({"put", "", "origin", 100, 1});
  rec.latency({"put", "", "origin", 700, 1});

  rec.fault({"pipeline a", "outage", 107000, 111000});
  rec.fault({"pipeline b", "outage", 107500, 109000});
  rec.action({105000, "marker", R"({"id":"ad1","kind":"ad-break"})", 201});
}

class ResultsRun : public ::testing::Test {
 protected:
  void SetUp() override {
    record(rec_);
    Result<int64_t> id = rec_.write(path_, kEnd, "completed");
    ASSERT_TRUE(id.ok()) << id.error().message;
    EXPECT_EQ(*id, 1);
  }
  TempDir dir_;
  std::string path_ = dir_.file("results.db");
  Recorder rec_{1000};
};

using Rows = std::vector<Row>;
const Value kNull = std::monostate{};
Value I(int64_t v) { return v; }
Value S(const std::string& v) { return v; }

TEST_F(ResultsRun, LiveCountersCountOriginRequestsAndErrors) {
  EXPECT_EQ(rec_.requests_total(), 13);
  EXPECT_EQ(rec_.errors_total(), 3);  // 2 shed 503 + 1 transport error
}

TEST_F(ResultsRun, RunRowAndSchemaVersion) {
  Db db(path_);
  EXPECT_EQ(integer(db, "SELECT MAX(version) FROM schema_version"), results::kResultsSchemaVersion);
  EXPECT_EQ(query(db, "SELECT id, scenario_name, scenario_hash, scenario_text, seed, version, mode, origin_mode, "
                      "origin_url, parameters_json, interval_ms, started_ms, ended_ms, status, schema_version FROM runs"),
            (Rows{{I(1), S("failover"), S("abc123"), S("name: failover\n"), I(42), S("0.1.0"), S("virtual"),
                   S("in-process"), S(""), S(R"({"duration_s":14})"), I(1000), I(kStart), I(kEnd), S("completed"),
                   I(results::kResultsSchemaVersion)}}));
  EXPECT_EQ(query(db, "SELECT stream, segment_duration_ms, availability_start_ms, start_number, publish_latency_ms "
                      "FROM streams"),
            (Rows{{S("video"), I(2000), I(0), I(0), I(0)}}));
}

TEST_F(ResultsRun, SegmentsPutsServesAndViewers) {
  Db db(path_);
  EXPECT_EQ(query(db, "SELECT number, due_ms, counted FROM segments ORDER BY number"),
            (Rows{{I(10), I(22000), I(0)},
                  {I(50), I(102000), I(1)},
                  {I(51), I(104000), I(1)},
                  {I(52), I(106000), I(1)},
                  {I(53), I(108000), I(1)},
                  {I(54), I(110000), I(1)},
                  {I(56), I(114000), I(0)}}));
  EXPECT_EQ(integer(db, "SELECT COUNT(*) FROM puts"), 9);
  EXPECT_EQ(query(db, "SELECT attempt, status, transport_corrupted, answered_ms FROM puts "
                      "WHERE number = 52 AND pipeline = 'b' ORDER BY attempt"),
            (Rows{{I(1), I(400), I(1), I(106100)}, {I(2), I(201), I(0), I(106900)}}));
  // The first serve and each change; repeats only extend a row.
  EXPECT_EQ(query(db, "SELECT number, seq, pipeline, defects, version, first_ms, last_ms, responses FROM serves "
                      "ORDER BY number, seq"),
            (Rows{{I(50), I(0), S("a"), S(""), I(1), I(102200), I(102300), I(2)},
                  {I(51), I(0), S("a"), S("missing-frames=3"), I(1), I(104100), I(104400), I(2)},
                  {I(51), I(1), S("b"), S(""), I(2), I(104600), I(104600), I(1)},
                  {I(52), I(0), S("a"), S("corrupt"), I(1), I(106600), I(106600), I(1)},
                  {I(52), I(1), S("b"), S(""), I(2), I(107000), I(107000), I(1)},
                  {I(54), I(0), S("b"), S(""), kNull, I(110400), I(110400), I(1)}}));
  // Viewer records aggregate per (segment, class, pipeline, defects, status).
  EXPECT_EQ(query(db, "SELECT class, pipeline, defects, status, viewers FROM viewer_segments WHERE number = 50"),
            (Rows{{S("live"), S("a"), S(""), I(200), I(10)}}));
  EXPECT_EQ(query(db, "SELECT class, status, viewers FROM viewer_segments WHERE number = 10"),
            (Rows{{S("dvr"), I(404), I(2)}}));
  EXPECT_EQ(integer(db, "SELECT COUNT(*) FROM viewer_segments"), 10);
  EXPECT_EQ(integer(db, "SELECT SUM(viewers) FROM viewer_segments"), 47);
  EXPECT_EQ(query(db, "SELECT target, kind, start_ms, end_ms FROM faults ORDER BY target"),
            (Rows{{S("pipeline a"), S("outage"), I(107000), I(111000)},
                  {S("pipeline b"), S("outage"), I(107500), I(109000)}}));
  EXPECT_EQ(query(db, "SELECT at_ms, kind, detail, status FROM actions"),
            (Rows{{I(105000), S("marker"), S(R"({"id":"ad1","kind":"ad-break"})"), I(201)}}));
}

TEST_F(ResultsRun, IntervalsAggregatePerTierClassStatus) {
  Db db(path_);
  // The edge's two 200 records in interval 2 are one row: 10 requests, 9 hits.
  EXPECT_EQ(query(db, "SELECT requests, bytes, cache_hits, collapsed, filtered, held, shed FROM intervals "
                      "WHERE tier = 'edge' AND interval = 2"),
            (Rows{{I(10), I(10000), I(9), I(0), I(0), I(0), I(0)}}));
  EXPECT_EQ(query(db, "SELECT requests, cache_hits, collapsed FROM intervals WHERE tier = 'edge' AND interval = 4"),
            (Rows{{I(12), I(10), I(1)}}));
  EXPECT_EQ(query(db, "SELECT class, held, filtered FROM intervals WHERE tier = 'edge' AND interval = 8 ORDER BY class"),
            (Rows{{S("dvr"), I(0), I(2)}, {S("live"), I(8), I(0)}}));
  EXPECT_EQ(query(db, "SELECT interval, class, status, requests, shed, held FROM intervals WHERE tier = 'origin' "
                      "ORDER BY interval, class, status"),
            (Rows{{I(1), S("other"), I(200), I(1), I(0), I(0)},
                  {I(2), S("live"), I(200), I(2), I(0), I(0)},
                  {I(4), S("live"), I(200), I(3), I(0), I(0)},
                  {I(6), S("live"), I(200), I(1), I(0), I(0)},
                  {I(7), S("live"), I(200), I(1), I(0), I(0)},
                  {I(8), S("dvr"), I(503), I(2), I(2), I(0)},
                  {I(8), S("live"), I(404), I(1), I(0), I(1)},
                  {I(14), S("live"), I(0), I(1), I(0), I(0)},
                  {I(14), S("live"), I(200), I(1), I(0), I(0)}}));
  // Rates: the last interval is 500 ms long (the run ended at 114500).
  EXPECT_EQ(query(db, "SELECT start_ms, duration_ms, requests_per_s, bytes_per_s FROM interval_rates "
                      "WHERE tier = 'origin' AND interval = 14 AND status = 200"),
            (Rows{{I(114000), I(500), 2.0, 2000.0}}));
  EXPECT_DOUBLE_EQ(real(db, "SELECT requests_per_s FROM interval_rates WHERE tier = 'origin' AND interval = 4"), 3.0);
}

TEST_F(ResultsRun, HistogramBucketsAndTotals) {
  Db db(path_);
  EXPECT_EQ(integer(db, "SELECT COUNT(*) FROM histograms"), 7 * 16);  // 7 (name, class, tier) keys
  EXPECT_EQ(query(db, "SELECT bucket, le_ms, count FROM histograms WHERE name = 'origin_get' AND class = 'live' "
                      "AND count > 0 ORDER BY bucket"),
            (Rows{{I(2), I(5), I(1)}, {I(3), I(10), I(1)}, {I(4), I(20), I(97)}, {I(8), I(500), I(1)}}));
  EXPECT_EQ(query(db, "SELECT bucket, le_ms, count FROM histograms WHERE name = 'origin_get' AND class = 'dvr' "
                      "AND count > 0"),
            (Rows{{I(15), kNull, I(1)}}));
  EXPECT_EQ(query(db, "SELECT count, sum_ms, min_ms, max_ms FROM latencies WHERE name = 'origin_get' AND class = 'live'"),
            (Rows{{I(100), I(1715), I(3), I(250)}}));
  // A value equal to a bound is in that bucket.
  EXPECT_EQ(integer(db, "SELECT bucket FROM histograms WHERE name = 'put' AND count > 0 AND le_ms = 50"), 5);
}

struct Pct {
  int64_t count;
  double p50, p99, p999;
  int64_t max;
};

TEST_F(ResultsRun, LatencyPercentilesInterpolateWithinTheBucket) {
  Db db(path_);
  auto check = [&](const std::string& name, const std::string& cls, const std::string& tier, Pct want) {
    SCOPED_TRACE(name + " " + cls + " " + tier);
    std::string where = " FROM latency_percentiles WHERE name = '" + name + "' AND class = '" + cls + "' AND tier = '" +
                        tier + "'";
    EXPECT_EQ(integer(db, "SELECT count" + where), want.count);
    EXPECT_NEAR(real(db, "SELECT p50_ms" + where), want.p50, 1e-6);
    EXPECT_NEAR(real(db, "SELECT p99_ms" + where), want.p99, 1e-6);
    EXPECT_NEAR(real(db, "SELECT p999_ms" + where), want.p999, 1e-6);
    EXPECT_EQ(integer(db, "SELECT max_ms" + where), want.max);
  };
  // 3, 7, 97 x 15, 250: p50 is rank 50 of 100, in bucket (10, 20] holding ranks 3..99.
  check("origin_get", "live", "origin", {100, 10 + 10 * 48.0 / 97, 20, 245, 250});
  // '*' adds the dvr 70000 (the +Inf bucket ends at the largest value) but not 'other'.
  check("origin_get", "*", "origin", {101, 15, 497, 68990, 70000});
  check("origin_get", "dvr", "*", {1, 70000, 70000, 70000, 70000});
  check("origin_get", "other", "*", {50, 30000, 30000, 30000, 30000});
  check("viewer_wait", "live", "*", {10, 100, 1450, 1495, 1500});
  check("viewer_wait", "*", "*", {20, 50, 1400, 1490, 1500});
  check("put", "*", "*", {3, 75, 694, 699.4, 700});
  check("hold_wait", "*", "origin", {1, 400, 400, 400, 400});
  EXPECT_DOUBLE_EQ(real(db, "SELECT mean_ms FROM latency_percentiles WHERE name = 'origin_get' AND class = 'live' "
                            "AND tier = 'origin'"),
                   17.15);
  // The CDF: cumulative counts and each bucket's span.
  EXPECT_EQ(query(db, "SELECT bucket, lower_ms, upper_ms, cumulative, total FROM latency_cdf WHERE name = 'origin_get' "
                      "AND class = '*' AND tier = '*' AND count > 0 ORDER BY bucket"),
            (Rows{{I(2), I(3), I(5), I(1), I(101)},
                  {I(3), I(5), I(10), I(2), I(101)},
                  {I(4), I(10), I(20), I(99), I(101)},
                  {I(8), I(200), I(500), I(100), I(101)},
                  {I(15), I(60000), I(70000), I(101), I(101)}}));
  // The documented gate query, with an arbitrary percentile.
  EXPECT_NEAR(real(db, "SELECT lower_ms + (upper_ms - lower_ms) * (total * 1.5 / 100.0 - (cumulative - count)) / count "
                       "FROM latency_cdf WHERE run_id = 1 AND name = 'origin_get' AND class = 'live' AND tier = '*' "
                       "AND count > 0 AND cumulative >= total * 1.5 / 100.0 ORDER BY bucket LIMIT 1"),
              7.5, 1e-9);
}

TEST_F(ResultsRun, TierTotals) {
  Db db(path_);
  EXPECT_EQ(query(db, "SELECT requests, status_2xx, status_4xx, status_5xx, transport_errors, shed, held FROM "
                      "tier_totals WHERE tier = 'origin' AND class = '*'"),
            (Rows{{I(12), I(8), I(1), I(2), I(1), I(2), I(1)}}));  // the _timeline poll is left out
  EXPECT_EQ(integer(db, "SELECT requests FROM tier_totals WHERE tier = 'origin' AND class = 'other'"), 1);
  EXPECT_DOUBLE_EQ(real(db, "SELECT mean_rps FROM tier_totals WHERE tier = 'origin' AND class = '*'"),
                   12 * 1000.0 / 14500);
  EXPECT_DOUBLE_EQ(real(db, "SELECT peak_rps FROM tier_totals WHERE tier = 'origin' AND class = '*'"), 4.0);
  EXPECT_DOUBLE_EQ(real(db, "SELECT peak_rps FROM tier_totals WHERE tier = 'origin' AND class = 'live'"), 4.0);
  EXPECT_DOUBLE_EQ(real(db, "SELECT peak_rps FROM tier_totals WHERE tier = 'origin' AND class = 'dvr'"), 2.0);
  EXPECT_DOUBLE_EQ(real(db, "SELECT shed_ratio FROM tier_totals WHERE tier = 'origin' AND class = '*'"), 2.0 / 12);
  EXPECT_DOUBLE_EQ(real(db, "SELECT shed_ratio FROM tier_totals WHERE tier = 'origin' AND class = 'dvr'"), 1.0);
  EXPECT_EQ(integer(db, "SELECT requests FROM tier_totals WHERE tier = 'origin' AND class = 'live'"), 10);
  // (hits + collapsed) / (requests - filtered)
  EXPECT_DOUBLE_EQ(real(db, "SELECT cache_hit_ratio FROM tier_totals WHERE tier = 'edge' AND class = '*'"),
                   20.0 / 30);
  EXPECT_DOUBLE_EQ(real(db, "SELECT cache_hit_ratio FROM tier_totals WHERE tier = 'edge' AND class = 'dvr'"), 0.0);
  EXPECT_DOUBLE_EQ(real(db, "SELECT cache_hit_ratio FROM tier_totals WHERE tier = 'shield' AND class = '*'"), 0.5);
  EXPECT_DOUBLE_EQ(real(db, "SELECT error_ratio FROM tier_totals WHERE tier = 'viewer' AND class = '*'"), 11.0 / 46);
  EXPECT_EQ(integer(db, "SELECT bytes FROM tier_totals WHERE tier = 'viewer' AND class = '*'"), 35000);
}

TEST_F(ResultsRun, ViewerTotals) {
  Db db(path_);
  EXPECT_EQ(query(db, "SELECT class, requests, clean, defective, failed, missing_segments FROM viewer_totals "
                      "ORDER BY class"),
            (Rows{{S("*"), I(47), I(26), I(9), I(12), I(2)},
                  {S("dvr"), I(2), I(0), I(0), I(2), I(0)},
                  {S("live"), I(45), I(26), I(9), I(10), I(2)}}));
  EXPECT_DOUBLE_EQ(real(db, "SELECT error_ratio FROM viewer_totals WHERE class = 'live'"), 10.0 / 45);
}

TEST_F(ResultsRun, SegmentViews) {
  Db db(path_);
  EXPECT_EQ(query(db, "SELECT number, counted, candidates, first_acked_ms, clean_acked_ms, first_served_ms, "
                      "chosen_pipeline, chosen_defects, chosen_version, final_pipeline, final_defects, final_version, "
                      "changes, viewers_clean, viewers_defective, viewers_missing, faults, defective_with_clean "
                      "FROM segment_timeline WHERE number IN (51, 53) ORDER BY number"),
            (Rows{{I(51), I(1), S("a:201[missing-frames=3] b:201"), I(104050), I(104300), I(104100), S("a"),
                   S("missing-frames=3"), I(1), S("b"), S(""), I(2), I(1), I(7), I(5), I(0), kNull, I(1)},
                  {I(53), I(1), kNull, kNull, kNull, kNull, kNull, kNull, kNull, kNull, kNull, kNull, kNull, I(0),
                   I(0), I(8), S("pipeline a outage, pipeline b outage"), I(0)}}));
  EXPECT_EQ(text(db, "SELECT faults FROM segment_timeline WHERE number = 54"), "pipeline a outage");
  EXPECT_EQ(text(db, "SELECT candidates FROM segment_timeline WHERE number = 54"), "b:201");
  EXPECT_EQ(integer(db, "SELECT defective_with_clean FROM segment_timeline WHERE number = 52"), 0);
  EXPECT_EQ(text(db, "SELECT candidates FROM segment_timeline WHERE number = 52"), "a:201[corrupt] b:201");
  // b's segment 52: a transport-corrupted attempt, then a clean one.
  EXPECT_EQ(query(db, "SELECT puts, failed_puts, first_sent_ms, acked_ms, status, defects, put_ms, clean_acked_ms, "
                      "due_ms, acked_after_due_ms, faults FROM segment_pipelines WHERE number = 52 AND pipeline = 'b'"),
            (Rows{{I(2), I(1), I(106000), I(106900), I(201), S(""), I(700), I(106900), I(106000), I(900), kNull}}));
  EXPECT_EQ(query(db, "SELECT puts, failed_puts, status, acked_ms, faults FROM segment_pipelines "
                      "WHERE number = 54 AND pipeline = 'b'"),
            (Rows{{I(2), I(1), I(201), I(110380), kNull}}));
  EXPECT_EQ(integer(db, "SELECT COUNT(*) FROM segment_pipelines"), 7);
  EXPECT_EQ(query(db, "SELECT stream, number, pipeline, defects, served_first_ms, served_last_ms, clean_pipeline, "
                      "clean_acked_ms, viewers FROM defective_with_clean_available"),
            (Rows{{S("video"), I(51), S("a"), S("missing-frames=3"), I(104100), I(104400), S("b"), I(104300), I(5)}}));
  EXPECT_EQ(query(db, "SELECT stream, first_number, last_number, segments, viewers FROM viewer_gaps"),
            (Rows{{S("video"), I(53), I(53), I(1), I(8)}}));
  // 10 and 56 were lost too, but are not counted segments.
  EXPECT_EQ(query(db, "SELECT stream, number, viewers FROM lost_segments"), (Rows{{S("video"), I(53), I(8)}}));
}

TEST_F(ResultsRun, RunMetrics) {
  Db db(path_);
  EXPECT_EQ(query(db, "SELECT defective_served_with_clean_available, viewer_missing_segments, failover_gap_segments, "
                      "origin_requests, origin_status_5xx, hold_wait_p99_ms, status FROM run_metrics WHERE run_id = 1"),
            (Rows{{I(1), I(2), I(1), I(12), I(4), 400.0, S("completed")}}));
  EXPECT_DOUBLE_EQ(real(db, "SELECT viewer_error_ratio FROM run_metrics"), 12.0 / 47);
  EXPECT_DOUBLE_EQ(real(db, "SELECT origin_requests_per_s FROM run_metrics"), 12 * 1000.0 / 14500);
  EXPECT_DOUBLE_EQ(real(db, "SELECT origin_requests_per_s_peak FROM run_metrics"), 4.0);
  EXPECT_DOUBLE_EQ(real(db, "SELECT shed_ratio FROM run_metrics"), 2.0 / 12);
  EXPECT_DOUBLE_EQ(real(db, "SELECT cache_hit_ratio FROM run_metrics"), 21.0 / 32);
  EXPECT_DOUBLE_EQ(real(db, "SELECT duration_s FROM run_metrics"), 14.5);
  EXPECT_NEAR(real(db, "SELECT origin_get_p99_ms FROM run_metrics"), 497, 1e-6);
  EXPECT_NEAR(real(db, "SELECT viewer_wait_p99_ms FROM run_metrics"), 1400, 1e-6);
  EXPECT_NEAR(real(db, "SELECT put_latency_p99_ms FROM run_metrics"), 694, 1e-6);
}

TEST_F(ResultsRun, DocumentedQueriesAnswer) {
  Db db(path_);
  // Every documented query runs.
  std::vector<std::string> queries = doc_queries();
  EXPECT_GE(queries.size(), 10u);
  for (const std::string& q : queries) query(db, q);

  EXPECT_EQ(query(db, doc_query("How many defective segments reached viewers while a clean one was available?")),
            (Rows{{I(1), I(5)}}));
  EXPECT_EQ(query(db, doc_query("The same, segment by segment, from the view.")).size(), 1u);

  Rows rps = query(db, doc_query("Requests per second reaching the origin"));
  ASSERT_EQ(rps.size(), 9u);
  EXPECT_EQ(rps[0], (Row{I(1), I(101000), S("other"), I(200), I(1), 1.0}));
  EXPECT_EQ(rps[1], (Row{I(2), I(102000), S("live"), I(200), I(2), 2.0}));
  EXPECT_EQ(rps[5], (Row{I(8), I(108000), S("dvr"), I(503), I(2), 2.0}));
  EXPECT_EQ(rps[8], (Row{I(14), I(114000), S("live"), I(200), I(1), 2.0}));

  EXPECT_EQ(query(db, doc_query("Cache hit ratio per CDN tier, over the whole run.")),
            (Rows{{S("edge"), I(32), I(19), I(1), I(2), 0.6667}, {S("shield"), I(2), I(1), I(0), I(0), 0.5}}));
  Rows over_time = query(db, doc_query("Cache hit ratio per CDN tier over time."));
  ASSERT_EQ(over_time.size(), 5u);  // edge 2, 4, 8; shield 2, 4
  EXPECT_EQ(over_time[0], (Row{I(2), S("edge"), 0.9}));
  EXPECT_EQ(over_time[4], (Row{I(8), S("edge"), 0.0}));

  Rows p99 = query(db, doc_query("p99 viewer wait by class, from the histogram"));
  ASSERT_EQ(p99.size(), 3u);
  EXPECT_EQ(p99[0][0], S("*"));
  EXPECT_NEAR(std::get<double>(p99[0][1]), 1400, 1e-6);
  EXPECT_EQ(p99[1][0], S("dvr"));
  EXPECT_NEAR(std::get<double>(p99[1][1]), 40, 1e-6);
  EXPECT_EQ(p99[2][0], S("live"));
  EXPECT_NEAR(std::get<double>(p99[2][1]), 1450, 1e-6);
  EXPECT_EQ(query(db, doc_query("The bucket bound instead, from the raw histogram table")),
            (Rows{{S("dvr"), I(50)}, {S("live"), I(2000)}}));

  Rows story = query(db, doc_query("The failover story"));
  ASSERT_EQ(story.size(), 7u);  // segments 10, 50 to 54, 56
  EXPECT_EQ(story[2], (Row{S("video"), I(51), I(104000), S("a:201[missing-frames=3] b:201"), S("a"),
                           S("missing-frames=3"), I(100), S("b"), I(1), I(7), I(5), I(0), kNull}));
  EXPECT_EQ(story[4][12], S("pipeline a outage, pipeline b outage"));

  EXPECT_EQ(query(db, doc_query("Segments no viewer received")), (Rows{{S("video"), I(53), I(53), I(1)}}));
  Rows put_latency = query(db, doc_query("PUT latency per pipeline"));
  ASSERT_EQ(put_latency.size(), 2u);
  EXPECT_EQ((Row{put_latency[0][0], put_latency[0][1], put_latency[0][3]}), (Row{S("a"), I(3), I(100)}));
  EXPECT_NEAR(std::get<double>(put_latency[0][2]), 200.0 / 3, 1e-9);
  EXPECT_EQ(put_latency[1], (Row{S("b"), I(4), 295.0, I(700)}));
  EXPECT_EQ(query(db, doc_query("Every gate metric of the latest run.")).size(), 1u);
}

TEST_F(ResultsRun, SecondRunAppendsWithId2) {
  Recorder second(1000);
  RunInfo info = run_info();
  info.scenario_name = "baseline";
  info.seed = 7;
  second.begin(info);
  second.request(req(kStart + 100, "origin", "live", 200, 5));
  second.viewer(viewer(50, "b", "", 200, 3));
  Result<int64_t> id = second.write(path_, kEnd, "failed: origin exited");
  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_EQ(*id, 2);

  Db db(path_);
  EXPECT_EQ(query(db, "SELECT id, scenario_name, seed, status FROM runs ORDER BY id"),
            (Rows{{I(1), S("failover"), I(42), S("completed")}, {I(2), S("baseline"), I(7), S("failed: origin exited")}}));
  EXPECT_EQ(integer(db, "SELECT COUNT(*) FROM schema_version"), results::kResultsSchemaVersion);  // created once
  EXPECT_EQ(integer(db, "SELECT origin_requests FROM run_metrics WHERE run_id = 2"), 5);
  EXPECT_EQ(integer(db, "SELECT origin_requests FROM run_metrics WHERE run_id = 1"), 12);
  EXPECT_EQ(integer(db, "SELECT defective_served_with_clean_available FROM run_metrics WHERE run_id = 2"), 0);
  EXPECT_EQ(integer(db, "SELECT COUNT(*) FROM segment_timeline WHERE run_id = 2"), 1);
  // The documented queries read the latest run.
  EXPECT_EQ(query(db, doc_query("How many defective segments reached viewers while a clean one was available?")),
            (Rows{{I(0), I(0)}}));
  // Deleting a run cascades.
  query(db, "PRAGMA foreign_keys = ON; DELETE FROM runs WHERE id = 1");
  EXPECT_EQ(integer(db, "SELECT COUNT(*) FROM intervals WHERE run_id = 1"), 0);
  EXPECT_EQ(integer(db, "SELECT COUNT(*) FROM segments WHERE run_id = 1"), 0);
  EXPECT_EQ(integer(db, "SELECT COUNT(*) FROM intervals WHERE run_id = 2"), 1);
}

TEST(ResultsDb, EmptyRunWritesZeroMetrics) {
  TempDir dir;
  Recorder rec(1000);
  RunInfo info;
  info.started_ms = 5000;
  rec.begin(info);
  Result<int64_t> id = rec.write(dir.file("empty.db"), 6000, "completed");
  ASSERT_TRUE(id.ok()) << id.error().message;
  Db db(dir.file("empty.db"));
  // Counts and ratios are 0 with nothing to count; latencies have no data (NULL).
  EXPECT_EQ(query(db, "SELECT defective_served_with_clean_available, viewer_missing_segments, failover_gap_segments, "
                      "origin_requests_per_s, origin_status_5xx, viewer_error_ratio, shed_ratio, origin_get_p99_ms "
                      "FROM run_metrics"),
            (Rows{{I(0), I(0), I(0), I(0), I(0), I(0), I(0), kNull}}));
}

TEST(ResultsDb, SegmentsOfAStreamWithoutTimelineAreCounted) {
  TempDir dir;
  Recorder rec(1000);
  RunInfo info;
  info.started_ms = 5000;
  rec.begin(info);
  rec.viewer(ViewerRecord{"audio", 3, "", "", 404, 2});
  ASSERT_TRUE(rec.write(dir.file("r.db"), 6000, "completed").ok());
  Db db(dir.file("r.db"));
  EXPECT_EQ(query(db, "SELECT due_ms, counted FROM segments"), (Rows{{kNull, I(1)}}));
  EXPECT_EQ(integer(db, "SELECT failover_gap_segments FROM run_metrics"), 1);
}

TEST(ResultsDb, NewerSchemaVersionIsRefused) {
  TempDir dir;
  std::string path = dir.file("future.db");
  Recorder rec(1000);
  rec.begin(run_info());
  ASSERT_TRUE(rec.write(path, kEnd, "completed").ok());
  {
    Db db(path);
    query(db, "INSERT INTO schema_version (version, applied_ms) VALUES (" + std::to_string(results::kResultsSchemaVersion + 1) +
                  ", 0)");
  }
  Result<int64_t> id = rec.write(path, kEnd, "completed");
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.error().message,
            "results database '" + path + "' has schema version " + std::to_string(results::kResultsSchemaVersion + 1) +
                ", newer than this liveorigin supports (" + std::to_string(results::kResultsSchemaVersion) +
                "): use a newer liveorigin or write to another database");
  Result<sqlite3*> opened = results::open_results_db(path);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.error().message.find("newer"), std::string::npos);
  // Nothing was written.
  Db db(path);
  EXPECT_EQ(integer(db, "SELECT COUNT(*) FROM runs"), 1);
}

TEST(ResultsDb, ForeignDatabaseIsRefused) {
  TempDir dir;
  std::string path = dir.file("other.db");
  {
    Db db(path);
    query(db, "CREATE TABLE segments (key TEXT)");
  }
  Result<sqlite3*> opened = results::open_results_db(path);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().message,
            "results database '" + path + "': not a liveorigin results database (it has tables but no schema_version)");
}

TEST(ResultsDb, UnwritablePathIsAnErrorNamingIt) {
  TempDir dir;
  std::string path = dir.file("no/such/directory/results.db");
  Recorder rec(1000);
  rec.begin(run_info());
  Result<int64_t> id = rec.write(path, kEnd, "completed");
  ASSERT_FALSE(id.ok());
  EXPECT_NE(id.error().message.find("'" + path + "'"), std::string::npos) << id.error().message;
  EXPECT_FALSE(fs::exists(path));
}

TEST(ResultsDb, NotADatabaseFileIsAnErrorNamingIt) {
  TempDir dir;
  std::string path = dir.file("notes.txt");
  std::ofstream(path) << "these are not the results you are looking for, not even close to a sqlite header\n";
  Result<sqlite3*> opened = results::open_results_db(path);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.error().message.find("'" + path + "'"), std::string::npos) << opened.error().message;
}

TEST(ResultsDb, OpenCreatesTheSchemaOnce) {
  TempDir dir;
  std::string path = dir.file("fresh.db");
  for (int i = 0; i < 2; ++i) {
    Result<sqlite3*> opened = results::open_results_db(path);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    EXPECT_EQ(integer(*opened, "SELECT COUNT(*) FROM schema_version"), results::kResultsSchemaVersion);  // one row per migration, once
    EXPECT_EQ(integer(*opened, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'view'"), 12);
    sqlite3_close(*opened);
  }
}

}  // namespace
}  // namespace liveorigin::sim
