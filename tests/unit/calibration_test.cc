// `liveorigin calibrate` (sim/calibration.h): the model's parameters from a bench
// results.json and a realtime run, written as a file a scenario can name, and the run
// that uses it saying so.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "sim/calibration.h"
#include "sim/runner.h"
#include "sim/scenario.h"

namespace liveorigin::sim {
namespace {

namespace fs = std::filesystem;

fs::path temp_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("liveorigin-cal-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

std::string column(const fs::path& db, const std::string& sql) {
  sqlite3* h = nullptr;
  sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  std::string v;
  if (sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
      sqlite3_column_type(st, 0) != SQLITE_NULL) {
    v = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
  return v;
}

// The shape scripts/bench writes (one worker pinned), with round figures so the
// derivations can be checked by hand.
const char* kBench = R"({
  "date": "2026-12-04T01:00:00Z", "commit": "abc1234", "machine": "2 CPUs, test box",
  "pinning": "pinned: each server 1 worker on CPU 1", "threads": 1,
  "cases": [
    {"case": "get16k", "liveorigin": {"rps": 40000, "mib_s": 625, "p50_ms": 1.5, "p99_ms": 6}},
    {"case": "get1536k", "liveorigin": {"rps": 1000, "mib_s": 1500, "p50_ms": 60, "p99_ms": 90}},
    {"case": "put1536k", "liveorigin": {"rps": 400, "mib_s": 600, "p50_ms": 20, "p99_ms": 40}}
  ],
  "stores": [
    {"store": "sqlite", "get16k": {"memory_rps": 40000, "store_rps": 38000, "store_p50_ms": 1.6, "store_p99_ms": 7,
                                   "memory_p50_ms": 1.5, "memory_p99_ms": 6},
                        "put1536k": {"memory_rps": 400, "store_rps": 120, "store_p50_ms": 65, "store_p99_ms": 140,
                                     "memory_p50_ms": 20, "memory_p99_ms": 40}},
    {"store": "redis", "get16k": {"memory_rps": 40000, "store_rps": 39000, "store_p50_ms": 1.5, "store_p99_ms": 6,
                                  "memory_p50_ms": 1.5, "memory_p99_ms": 6},
                       "put1536k": {"memory_rps": 400, "store_rps": 200, "store_p50_ms": 40, "store_p99_ms": 70,
                                    "memory_p50_ms": 20, "memory_p99_ms": 40}},
    {"store": "redis-nocache", "get16k": {"memory_rps": 40000, "store_rps": 16000, "store_p50_ms": 4, "store_p99_ms": 12,
                                          "memory_p50_ms": 1.5, "memory_p99_ms": 6},
                               "put1536k": {"memory_rps": 400, "store_rps": 190, "store_p50_ms": 42, "store_p99_ms": 75,
                                            "memory_p50_ms": 20, "memory_p99_ms": 40}}
  ]
})";

TEST(Calibrate, DerivesTheInstanceAndStoreModelFromTheBench) {
  auto text = calibration_text(kBench, "results.json", RunFigures{}, "");
  ASSERT_TRUE(text) << text.error().message;
  auto redis = parse_calibration(*text, "cal.yaml", OriginSpec::Store::redis);
  ASSERT_TRUE(redis) << redis.error().message;
  const OriginModel& m = *redis;
  EXPECT_EQ(m.calibration_name, "bench abc1234 2026-12-04");
  EXPECT_EQ(m.instance.workers, 1);
  // One worker did 40,000 small GETs a second: 0.025 ms each; the latency spread 6/1.5.
  EXPECT_EQ(m.instance.service_ms.kind, Distribution::Kind::lognormal);
  EXPECT_DOUBLE_EQ(m.instance.service_ms.a, 0.025);
  EXPECT_DOUBLE_EQ(m.instance.service_ms.b, 0.1);
  // 1,500 MiB/s = 12.58 Gb/s.
  EXPECT_NEAR(m.instance.egress_gbps, 1500 * 1048576.0 * 8 / 1e9, 0.01);
  // Redis reads from the no-hot-cache row: 4 - 1.5 ms added; its throughput 16,000/s.
  EXPECT_DOUBLE_EQ(m.store.read_ms.a, 2.5);
  EXPECT_DOUBLE_EQ(m.store.read_ms.b, 6);
  EXPECT_DOUBLE_EQ(m.store.ops_per_s, 16000);
  // Writes from the hot-cache row (the default deployment): 40 - 20 ms.
  EXPECT_DOUBLE_EQ(m.store.write_ms.a, 20);
  EXPECT_DOUBLE_EQ(m.store.hot_cache_hit_ratio, OriginModel::Store{}.hot_cache_hit_ratio);  // not measured
  EXPECT_NE(text->find("not measured (no --run with a hot cache)"), std::string::npos) << *text;
  // The journal's publication is not something the bench measures: the default, said so.
  EXPECT_DOUBLE_EQ(m.store.journal_ms.a, OriginModel::Store{}.journal_ms.a);
  EXPECT_NE(text->find("journal's publication to the other instances: not measured"), std::string::npos);

  auto sqlite = parse_calibration(*text, "cal.yaml", OriginSpec::Store::sqlite);
  ASSERT_TRUE(sqlite);
  EXPECT_DOUBLE_EQ(sqlite->store.write_ms.a, 45);  // 65 - 20
  EXPECT_EQ(sqlite->store.read_ms.a, OriginModel::Store{}.read_ms.a);  // its GETs never reach SQLite
  auto cluster = parse_calibration(*text, "cal.yaml", OriginSpec::Store::redis_cluster);
  ASSERT_TRUE(cluster);
  EXPECT_DOUBLE_EQ(cluster->store.ops_per_s, 16000);
  EXPECT_NE(text->find("not benchmarked (scripts/bench runs one Redis)"), std::string::npos);
}

TEST(Calibrate, RefusesWhatIsNotABenchResult) {
  auto not_json = calibration_text("name: x", "x.yaml", RunFigures{}, "n");
  ASSERT_FALSE(not_json);
  EXPECT_NE(not_json.error().message.find("x.yaml: not a scripts/bench results.json"), std::string::npos)
      << not_json.error().message;
  auto empty = calibration_text(R"({"cases": [{"case": "get16k", "liveorigin": {"rps": 0, "p50_ms": 1, "p99_ms": 2}},
                                               {"case": "get1536k", "liveorigin": {"mib_s": 10}}]})",
                                "r.json", RunFigures{}, "n");
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().message.find("r.json: liveorigin.rps is 0"), std::string::npos) << empty.error().message;
}

// A realtime run on the sqlite store (hot cache in front) gives the hot cache's hit
// ratio; a scenario naming the file runs on it, and the run records which calibration.
TEST(Calibrate, TakesTheHotCacheRatioFromARealtimeRunAndTheRunNamesTheCalibration) {
  const fs::path dir = temp_dir("run");
  const std::string rt = R"(
name: cal-realtime
seed: 5
duration_s: 6
event:
  id: cal
  streams:
    video: {segment_duration_ms: 500, bitrate_kbps: 200}
pipelines:
  a: {publish_latency_ms: 50}
cdn:
  features: {cache: false}
  tiers:
    edge: {nodes: 2}
viewers:
  live: {count: 20}
  dvr: {behaviour: dvr, count: 10, dvr_offset_s: {uniform: [1, 3]}}
origin:
  store: sqlite
)";
  auto s = parse_scenario(rt, (dir / "rt.yaml").string());
  ASSERT_TRUE(s) << s.error().message;
  RunOptions o;
  o.db_path = (dir / "rt.db").string();
  auto r = run_scenario(*s, o);
  ASSERT_TRUE(r) << r.error().message;

  auto figures = hot_cache_figures(o.db_path, 0);
  ASSERT_TRUE(figures) << figures.error().message;
  ASSERT_TRUE(figures->measured);
  EXPECT_GT(figures->hits, 0);
  // The ratio is the run's own: hits over all reads of its /metrics scrape.
  const double hits = std::stod(column(dir / "rt.db", "SELECT value FROM origin_metrics WHERE series = "
                                                       "'liveorigin_hot_cache_hits_total'"));
  const double misses = std::stod(column(dir / "rt.db", "SELECT value FROM origin_metrics WHERE series = "
                                                         "'liveorigin_hot_cache_misses_total'"));
  EXPECT_DOUBLE_EQ(figures->hot_cache_hit_ratio, hits / (hits + misses));

  std::ofstream(dir / "results.json") << kBench;
  CalibrateArgs args{(dir / "results.json").string(), o.db_path, 0, (dir / "box.yaml").string(), "test box"};
  std::ostringstream out, err;
  ASSERT_EQ(calibrate_command(args, out, err), 0) << err.str();
  std::ofstream(dir / "v.yaml") << R"(
name: cal-virtual
duration_s: 10
event:
  id: cal
pipelines:
  a: {}
viewers:
  live: {count: 100}
origin:
  store: redis
  instances: 2
  model: {calibration: box.yaml}
)";
  auto v = load_scenario((dir / "v.yaml").string());
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->origin.model.calibration_name, "test box");
  EXPECT_NEAR(v->origin.model.store.hot_cache_hit_ratio, hits / (hits + misses), 1e-3);
  RunOptions vo;
  vo.db_path = (dir / "v.db").string();
  vo.virtual_time = true;
  ASSERT_TRUE(run_scenario(*v, vo));
  const std::string params = column(dir / "v.db", "SELECT parameters_json FROM runs");
  EXPECT_NE(params.find(R"("calibration":"test box")"), std::string::npos) << params;
  EXPECT_NE(params.find("box.yaml"), std::string::npos) << params;

  // A virtual run is no measurement.
  CalibrateArgs from_virtual{(dir / "results.json").string(), vo.db_path, 0, (dir / "x.yaml").string(), ""};
  std::ostringstream out2, err2;
  EXPECT_EQ(calibrate_command(from_virtual, out2, err2), 2);
  EXPECT_NE(err2.str().find("is a virtual-time run: calibrate from a realtime run"), std::string::npos) << err2.str();
  EXPECT_FALSE(fs::exists(dir / "x.yaml"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace liveorigin::sim
