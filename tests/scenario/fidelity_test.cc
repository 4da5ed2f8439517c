// Virtual time is a prediction of real time: one small event (tests/data/scenarios/
// fidelity.yaml) run in both, in-process origin, real sockets in real time, and the
// figures docs/simulation.md "Fidelity" tabulates compared within 10 %.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "sim/runner.h"
#include "sim/scenario.h"

namespace liveorigin::sim {
namespace {

namespace fs = std::filesystem;

double number(const fs::path& db, const std::string& sql) {
  sqlite3* h = nullptr;
  sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  double v = 0;
  if (sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sqlite3_errmsg(h) << " in " << sql;
  } else if (sqlite3_step(st) == SQLITE_ROW) {
    v = sqlite3_column_double(st, 0);
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
  return v;
}

struct Figure {
  std::string name;
  std::string sql;  // :run is the run id
};

// Requests/s over the scenario's duration (both runs record the same settling time
// after it, which tier_totals.mean_rps would count).
const std::string kScenarioSeconds =
    "(SELECT json_extract(parameters_json, '$.duration_s') FROM runs WHERE id = :run)";

// What the two time models must agree on. Failovers: counted segments whose copy the
// viewers got came from b (a was out or its copy defective); defective: segments a
// viewer got with defects.
const std::vector<Figure> kFigures = {
    {"origin requests/s, live", "SELECT requests * 1.0 / " + kScenarioSeconds + " FROM tier_totals WHERE run_id = :run AND tier = 'origin' AND class = 'live'"},
    {"origin requests/s, dvr", "SELECT requests * 1.0 / " + kScenarioSeconds + " FROM tier_totals WHERE run_id = :run AND tier = 'origin' AND class = 'dvr'"},
    {"origin requests/s, other (polls)",
     "SELECT requests * 1.0 / " + kScenarioSeconds + " FROM tier_totals WHERE run_id = :run AND tier = 'origin' AND class = 'other'"},
    {"hit ratio, edge", "SELECT cache_hit_ratio FROM tier_totals WHERE run_id = :run AND tier = 'edge' AND class = '*'"},
    {"hit ratio, shield",
     "SELECT cache_hit_ratio FROM tier_totals WHERE run_id = :run AND tier = 'shield' AND class = '*'"},
    {"segments served from b (failovers)",
     "SELECT COUNT(*) FROM (SELECT DISTINCT v.stream, v.number FROM viewer_segments v JOIN segments s ON "
     "s.run_id = v.run_id AND s.stream = v.stream AND s.number = v.number WHERE v.run_id = :run AND s.counted = 1 "
     "AND v.status = 200 AND v.pipeline = 'b')"},
    {"defective segments served",
     "SELECT COUNT(*) FROM (SELECT DISTINCT v.stream, v.number FROM viewer_segments v JOIN segments s ON "
     "s.run_id = v.run_id AND s.stream = v.stream AND s.number = v.number WHERE v.run_id = :run AND s.counted = 1 "
     "AND v.status = 200 AND v.defects <> '')"},
    {"defective served with a clean copy available",
     "SELECT defective_served_with_clean_available FROM run_metrics WHERE run_id = :run"},
};

std::string with_run(std::string sql, int64_t id) {
  const std::string key = ":run";
  for (size_t at; (at = sql.find(key)) != std::string::npos;) sql.replace(at, key.size(), std::to_string(id));
  return sql;
}

TEST(FidelityRealtime, VirtualAndRealTimeAgreeWithinTenPercent) {
  const fs::path file = fs::path(LIVEORIGIN_SOURCE_DIR) / "tests/data/scenarios/fidelity.yaml";
  auto s = load_scenario(file.string());
  ASSERT_TRUE(s) << s.error().message;
  const fs::path db = fs::temp_directory_path() / ("liveorigin-fidelity-" + std::to_string(::getpid()) + ".db");
  fs::remove(db);
  std::map<bool, int64_t> run;
  for (bool virtual_time : {true, false}) {
    RunOptions o;
    o.db_path = db.string();
    o.virtual_time = virtual_time;
    auto r = run_scenario(*s, o);
    ASSERT_TRUE(r) << r.error().message;
    run[virtual_time] = r->run_id;
  }
  for (bool v : {true, false}) {
    std::printf("%s: recorded duration %.2f s\n", v ? "virtual" : "real time",
                number(db, with_run("SELECT (ended_ms - started_ms) / 1000.0 FROM runs WHERE id = :run", run[v])));
  }
  std::printf("| figure | virtual | real time | difference |\n|---|---:|---:|---:|\n");
  for (const auto& f : kFigures) {
    const double v = number(db, with_run(f.sql, run[true]));
    const double rt = number(db, with_run(f.sql, run[false]));
    const double diff = std::max(std::abs(v), std::abs(rt)) > 0 ? (v - rt) / std::max(std::abs(v), std::abs(rt)) : 0;
    std::printf("| %s | %.4g | %.4g | %+.1f %% |\n", f.name.c_str(), v, rt, diff * 100);
    // Counts of a few segments move by one at a window's edge: allow one segment.
    const bool count = f.name.find("segments") != std::string::npos || f.name.find("defective") != std::string::npos;
    EXPECT_LE(std::abs(v - rt), std::max(0.10 * std::max(std::abs(v), std::abs(rt)), count ? 1.0 : 0.0))
        << f.name << ": virtual " << v << ", real time " << rt;
  }
  // Each side did what the story says: b covered a's outage and a's defective copies.
  EXPECT_GT(number(db, with_run(kFigures[5].sql, run[false])), 30);
  fs::remove(db);
}

}  // namespace
}  // namespace liveorigin::sim
