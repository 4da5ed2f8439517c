// The harness's actors (packagers, CDN tiers, viewers) against the in-process origin
// core on a virtual clock: no sockets, deterministic. Outcomes are read back from the
// results database with SQL, as a user would.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "sim/runner.h"
#include "sim/scenario.h"

namespace liveorigin::sim {
namespace {

namespace fs = std::filesystem;

class Db {
 public:
  explicit Db(const std::string& path) { sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr); }
  ~Db() { sqlite3_close(db_); }
  // The first column of the first row as text ("" when no row).
  std::string text(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sqlite3_errmsg(db_) << " in " << sql;
      return "";
    }
    std::string out;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    return out;
  }
  int64_t number(const std::string& sql) {
    const std::string t = text(sql);
    return t.empty() ? -1 : std::stoll(t);
  }
  // Every row of every table, each value quoted by SQLite, in a fixed order: the whole
  // results file as text (schema_version only records when the file was created).
  std::map<std::string, std::string> tables() {
    std::map<std::string, std::string> out;
    for (const std::string& t : column("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                                       "'sqlite_%' AND name <> 'schema_version'")) {
      std::string all;
      for (const std::string& row : column("SELECT " + quoted_row(t) + " AS r FROM " + t + " ORDER BY r")) {
        all += row + "\n";
      }
      out[t] = all;
    }
    return out;
  }

 private:
  std::vector<std::string> column(const std::string& sql) {
    std::vector<std::string> out;
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sqlite3_errmsg(db_) << " in " << sql;
      return out;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
      const unsigned char* v = sqlite3_column_text(st, 0);
      out.emplace_back(v ? reinterpret_cast<const char*>(v) : "");
    }
    sqlite3_finalize(st);
    return out;
  }
  // quote(a) || '|' || quote(b) ... for the table's columns.
  std::string quoted_row(const std::string& table) {
    std::string expr;
    for (const std::string& c : column("SELECT name FROM pragma_table_info('" + table + "')")) {
      expr += (expr.empty() ? "" : " || '|' || ") + std::string("quote(\"") + c + "\")";
    }
    return expr;
  }

  sqlite3* db_ = nullptr;
};

fs::path temp_db(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("liveorigin-" + name + "-" + std::to_string(::getpid()) + ".db");
  fs::remove(p);
  return p;
}

const char* kOutage = R"(
name: outage-virtual
seed: 11
duration_s: 40
event:
  id: final
  streams:
    video: {segment_duration_ms: 2000, bitrate_kbps: 400}
pipelines:
  a:
    publish_latency_ms: {uniform: [100, 300]}
    defects: {missing_frames: 0.2}
    faults:
      - {kind: outage, at_s: 10, duration_s: 16}
  b:
    publish_latency_ms: {uniform: [150, 400]}
cdn:
  tiers:
    shield: {nodes: 2}
    edge: {nodes: 4, parent: shield}
viewers:
  live: {count: 400, clock_skew_ms: {normal: {mean: 0, stddev: 150}}}
)";

Result<RunSummary> run_virtual(const std::string& yaml, const fs::path& db) {
  auto s = parse_scenario(yaml, "test.yaml");
  if (!s) return s.error();
  RunOptions o;
  o.db_path = db.string();
  o.virtual_time = true;
  return run_scenario(*s, o);
}

TEST(SimVirtual, PipelineOutageIsServedFromTheOtherPipelineWithoutGaps) {
  const fs::path db = temp_db("outage");
  auto run = run_virtual(kOutage, db);
  ASSERT_TRUE(run) << run.error().message;
  Db q(db.string());
  const std::string r = " run_id = " + std::to_string(run->run_id);
  // Segments published entirely inside a's outage (a sent nothing for them) came from b.
  const int64_t during = q.number(
      "SELECT COUNT(*) FROM serves s WHERE" + r + " AND s.seq = 0 AND NOT EXISTS (SELECT 1 FROM puts p WHERE p.run_id = "
      "s.run_id AND p.stream = s.stream AND p.number = s.number AND p.pipeline = 'a')");
  const int64_t during_from_b = q.number(
      "SELECT COUNT(*) FROM serves s WHERE" + r + " AND s.seq = 0 AND s.pipeline = 'b' AND NOT EXISTS (SELECT 1 FROM "
      "puts p WHERE p.run_id = s.run_id AND p.stream = s.stream AND p.number = s.number AND p.pipeline = 'a')");
  EXPECT_GE(during, 6);  // 16 s of outage, 2 s segments
  EXPECT_EQ(during_from_b, during);
  // a is the higher rank: outside the outage its clean copies win.
  EXPECT_GT(q.number("SELECT COUNT(*) FROM serves WHERE" + r + " AND seq = 0 AND pipeline = 'a'"), 5);
  // a drops frames in 20 % of its segments, b is clean: no viewer got a defective copy.
  EXPECT_EQ(q.number("SELECT defective_served_with_clean_available FROM run_metrics WHERE" + r), 0);
  EXPECT_EQ(q.number("SELECT COUNT(*) FROM serves WHERE" + r + " AND defects != ''"), 0);
  EXPECT_EQ(q.number("SELECT failover_gap_segments FROM run_metrics WHERE" + r), 0);
  fs::remove(db);
}

TEST(SimVirtual, SameSeedSameResultsToTheByte) {
  const fs::path db1 = temp_db("det1");
  const fs::path db2 = temp_db("det2");
  auto a = run_virtual(kOutage, db1);
  auto b = run_virtual(kOutage, db2);
  ASSERT_TRUE(a && b);
  // Every table, every column, times included: a virtual run is a function of the
  // scenario, the seed and the version alone.
  const auto first = Db(db1.string()).tables();
  const auto second = Db(db2.string()).tables();
  ASSERT_EQ(first.size(), second.size());
  EXPECT_GE(first.size(), 10u);
  for (const auto& [table, rows] : first) {
    EXPECT_TRUE(rows == second.at(table)) << "table " << table << " differs between two runs of one scenario";
  }
  EXPECT_GT(std::count(first.at("serves").begin(), first.at("serves").end(), '\n'), 10);
  fs::remove(db1);
  fs::remove(db2);
}

TEST(SimVirtual, CachingAndCollapsingKeepOriginLoadToOneRequestPerSegmentPerShield) {
  std::string off = kOutage;
  off.replace(off.find("cdn:"), 4, "cdn:\n  features: {cache: false, collapsing: false}");
  const fs::path db_on = temp_db("cdn-on");
  const fs::path db_off = temp_db("cdn-off");
  auto on = run_virtual(kOutage, db_on);
  auto no = run_virtual(off, db_off);
  ASSERT_TRUE(on) << on.error().message;
  ASSERT_TRUE(no) << no.error().message;
  const std::string live_at_origin =
      "SELECT SUM(requests) FROM intervals WHERE tier = 'origin' AND class = 'live' AND status IN (200, 404)";
  Db q_on(db_on.string());
  Db q_off(db_off.string());
  const int64_t with = q_on.number(live_at_origin);
  const int64_t without = q_off.number(live_at_origin);
  // ~20 segments x 2 shields (plus init segments) with caching; one per viewer group without.
  EXPECT_LE(with, 20 * 2 + 10);
  EXPECT_GT(without, 10 * with);
  fs::remove(db_on);
  fs::remove(db_off);
}

// A fleet simulated node by node, and the same fleet with alike nodes simulated as
// groups (multiplicity): what the records say about it agrees within 2 %.
TEST(SimVirtual, AlikeNodesSimulatedAsGroupsRecordTheSameFiguresWithinTwoPercent) {
  const std::string expanded = R"(
name: fleet
seed: 5
duration_s: 60
event:
  id: final
  streams:
    video: {segment_duration_ms: 2000, bitrate_kbps: 800}
    audio: {segment_duration_ms: 2000, bitrate_kbps: 96}
pipelines:
  a:
    publish_latency_ms: {uniform: [100, 300]}
    defects: {missing_frames: 0.1}
    faults:
      - {kind: outage, at_s: 20, duration_s: 16}
  b:
    publish_latency_ms: {uniform: [150, 400]}
cdn:
  tiers:
    shield: {nodes: 8}
    edge: {nodes: 64, parent: shield}
viewers:
  live: {count: 6400, clock_skew_ms: {normal: {mean: 0, stddev: 300}}}
  dvr: {behaviour: dvr, count: 640, dvr_offset_s: {uniform: [20, 200]}}
)";
  std::string grouped = expanded;
  grouped.replace(grouped.find("shield: {nodes: 8}"), 18, "shield: {nodes: 8, multiplicity: 4}");
  grouped.replace(grouped.find("edge: {nodes: 64,"), 17, "edge: {nodes: 64, multiplicity: 8,");
  const fs::path db_e = temp_db("fleet-expanded");
  const fs::path db_g = temp_db("fleet-grouped");
  auto e = run_virtual(expanded, db_e);
  auto g = run_virtual(grouped, db_g);
  ASSERT_TRUE(e) << e.error().message;
  ASSERT_TRUE(g) << g.error().message;
  Db qe(db_e.string());
  Db qg(db_g.string());
  auto agree = [&](const std::string& what, const std::string& sql) {
    const double a = std::stod("0" + qe.text(sql));
    const double b = std::stod("0" + qg.text(sql));
    EXPECT_GT(a, 0) << what;
    EXPECT_LE(std::abs(a - b), 0.02 * std::max(a, b)) << what << ": node by node " << a << ", grouped " << b;
  };
  for (const char* tier : {"viewer", "edge", "shield", "origin"}) {
    for (const char* cls : {"live", "dvr"}) {
      const std::string where = std::string(" FROM intervals WHERE tier = '") + tier + "' AND class = '" + cls + "'";
      agree(std::string(tier) + " " + cls + " requests", "SELECT SUM(requests)" + where);
      agree(std::string(tier) + " " + cls + " bytes", "SELECT SUM(bytes)" + where);
      if (std::string(tier) == "edge" || std::string(tier) == "shield") {
        agree(std::string(tier) + " " + cls + " cache hit ratio",
              "SELECT CAST(SUM(cache_hits + collapsed) AS REAL) / (SUM(requests) - SUM(filtered))" + where);
      }
    }
  }
  agree("viewer segments served", "SELECT SUM(viewers) FROM viewer_segments WHERE status = 200");
  if (!std::getenv("KEEP")) {
    fs::remove(db_e);
    fs::remove(db_g);
  }
}

}  // namespace
}  // namespace liveorigin::sim
