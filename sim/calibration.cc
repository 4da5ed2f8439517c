#include "sim/calibration.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

#include <sqlite3.h>

#include <boost/json.hpp>

#include "sim/scenario.h"

namespace liveorigin::sim {

namespace json = boost::json;

namespace {

std::string num(double v) {
  // Four significant digits: more would claim a precision the bench does not have.
  std::ostringstream o;
  o.precision(4);
  o << v;
  return o.str();
}

std::string quoted(std::string_view s) { return json::serialize(json::string(s)); }  // valid YAML too

// A field of results.json; `what` names it in errors.
const json::value* at_path(const json::value& root, std::initializer_list<std::string_view> path) {
  const json::value* v = &root;
  for (std::string_view key : path) {
    const json::object* o = v->if_object();
    if (!o) return nullptr;
    v = o->if_contains(key);
    if (!v) return nullptr;
  }
  return v;
}

std::optional<double> number_at(const json::value& root, std::initializer_list<std::string_view> path) {
  const json::value* v = at_path(root, path);
  if (!v) return std::nullopt;
  if (v->is_double()) return v->as_double();
  if (v->is_int64()) return static_cast<double>(v->as_int64());
  if (v->is_uint64()) return static_cast<double>(v->as_uint64());
  return std::nullopt;
}

std::string text_at(const json::value& root, std::string_view key) {
  const json::value* v = at_path(root, {key});
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

const json::value* find_row(const json::value& root, std::string_view array, std::string_view field,
                            std::string_view value) {
  const json::value* a = at_path(root, {array});
  if (!a || !a->is_array()) return nullptr;
  for (const auto& row : a->as_array()) {
    const json::value* f = at_path(row, {field});
    if (f && f->is_string() && f->as_string() == value) return &row;
  }
  return nullptr;
}

std::string lognormal(double median, double p99) {
  return "{lognormal: {median: " + num(median) + ", p99: " + num(std::max(p99, median * 1.01)) + "}}";
}

// The time a store adds to a request at the bench's concurrency: its latency minus the
// memory store's in the same round, never below `floor_ms`.
struct Added {
  double p50 = 0, p99 = 0;
};
std::optional<Added> added_latency(const json::value& row, std::string_view c, double floor_ms) {
  auto s50 = number_at(row, {c, "store_p50_ms"});
  auto s99 = number_at(row, {c, "store_p99_ms"});
  auto m50 = number_at(row, {c, "memory_p50_ms"});
  auto m99 = number_at(row, {c, "memory_p99_ms"});
  if (!s50 || !s99 || !m50 || !m99) return std::nullopt;
  Added a;
  a.p50 = std::max(floor_ms, *s50 - *m50);
  a.p99 = std::max(a.p50 * 2, *s99 - *m99);
  return a;
}

}  // namespace

Result<std::string> calibration_text(std::string_view bench_json, std::string_view bench_source, const RunFigures& run,
                                     const std::string& name) {
  boost::system::error_code ec;
  const json::value root = json::parse(bench_json, ec);
  const std::string src(bench_source);
  if (ec || !root.is_object()) return make_error(src + ": not a scripts/bench results.json: " + ec.message());
  auto need = [&](std::initializer_list<std::string_view> path, const json::value& from) -> Result<double> {
    auto v = number_at(from, path);
    std::string key;
    for (auto k : path) key += (key.empty() ? "" : ".") + std::string(k);
    if (!v) return make_error(src + ": " + key + " is missing or not a number (is this a scripts/bench results.json?)");
    if (!(*v > 0)) return make_error(src + ": " + key + " is " + num(*v) + ": no measurement to calibrate from");
    return *v;
  };
  const json::value* get16k = find_row(root, "cases", "case", "get16k");
  const json::value* get1536k = find_row(root, "cases", "case", "get1536k");
  if (!get16k || !get1536k) return make_error(src + ": cases get16k and get1536k are missing");

  // Worker threads the bench ran liveorigin with (older results: from the pinning text).
  double workers = number_at(root, {"threads"}).value_or(0);
  if (workers <= 0) workers = text_at(root, "pinning").find(" 1 worker") != std::string::npos ? 1 : 2;
  auto rps16 = need({"liveorigin", "rps"}, *get16k);
  auto p50 = need({"liveorigin", "p50_ms"}, *get16k);
  auto p99 = need({"liveorigin", "p99_ms"}, *get16k);
  auto mib = need({"liveorigin", "mib_s"}, *get1536k);
  for (const auto* r : {&rps16, &p50, &p99, &mib}) {
    if (!*r) return r->error();
  }
  // A worker is busy 1/rps per request of the small GET; the spread of the closed-loop
  // latency (p99/p50) stands for the spread of the service time.
  const double service_median = workers * 1000.0 / *rps16;
  const double spread = std::clamp(*p99 / *p50, 2.0, 50.0);
  const double egress_gbps = *mib * 1048576.0 * 8 / 1e9;

  const std::string commit = text_at(root, "commit");
  const std::string date = text_at(root, "date");
  const std::string machine = text_at(root, "machine");
  const std::string the_name = name.empty() ? "bench " + commit + " " + date.substr(0, 10) : name;

  std::ostringstream y;
  y << "# Written by `liveorigin calibrate` (docs/simulation.md#calibration): the origin model's\n"
    << "# parameters from measured runs. Name it in a scenario as origin.model.calibration;\n"
    << "# the scenario's own origin.model keys override what is here.\n"
    << "name: " << quoted(the_name) << "\n"
    << "source: " << quoted(src + " (scripts/bench, commit " + commit + ", " + date + ", " +
                            text_at(root, "pinning") + ")" + (run.source.empty() ? "" : "; " + run.source))
    << "\n"
    << "measured_on: " << quoted(machine) << "\n"
    << "instance:\n"
    << "  # liveorigin's worker threads in the bench\n"
    << "  workers: " << num(workers) << "\n"
    << "  # GET 16 KiB: " << num(*rps16) << " req/s on " << num(workers) << " workers = " << num(service_median)
    << " ms of a worker per request; p99 = median x " << num(spread) << " (the latency's p99/p50 "
    << num(*p99) << "/" << num(*p50) << " ms, within [2, 50])\n"
    << "  service_ms: " << lognormal(service_median, service_median * spread) << "\n"
    << "  # GET 1.5 MiB: " << num(*mib) << " MiB/s over loopback; a host's NIC may be less: set it here\n"
    << "  egress_gbps: " << num(egress_gbps) << "\n";

  // Stores. scripts/bench measures, per store, GETs of a 16 KiB segment and PUTs of
  // 1.5 MiB ones against the memory store in the same rounds.
  const OriginModel::Store defaults;
  const double hot = run.measured ? run.hot_cache_hit_ratio : defaults.hot_cache_hit_ratio;
  const std::string hot_note =
      run.measured ? "# hot cache: " + std::to_string(run.hits) + " hits, " + std::to_string(run.misses) +
                         " misses in " + run.source
                   : "# hot cache: not measured (no --run with a hot cache): the model's default";
  auto dist_default = [](const Distribution& d) { return lognormal(d.a, d.b); };
  y << "stores:\n"
    << "  # the instance's own memory: no store to wait for\n"
    << "  memory: {read_ms: {fixed: 0}, write_ms: {fixed: 0}, ops_per_s: 1000000000, hot_cache_hit_ratio: 1}\n";
  const json::value* redis_cold = find_row(root, "stores", "store", "redis-nocache");
  const json::value* redis = find_row(root, "stores", "store", "redis");
  const json::value* sqlite = find_row(root, "stores", "store", "sqlite");
  auto write_row = [&](const char* kind, const json::value* put_row, const json::value* read_row, const char* note) {
    y << "  " << kind << ":\n";
    if (note[0] != '\0') y << "    # " << note << "\n";
    std::optional<Added> read = read_row ? added_latency(*read_row, "get16k", 0.01) : std::nullopt;
    const double read_rps = read_row ? number_at(*read_row, {"get16k", "store_rps"}).value_or(0) : 0;
    if (read) {
      y << "    # GET 16 KiB without the hot cache: p50/p99 over the memory store's in the same rounds\n"
        << "    read_ms: " << lognormal(read->p50, read->p99) << "\n";
    } else {
      y << "    # reads: not measured (the bench's GET is answered by the hot cache): the model's default\n"
        << "    read_ms: " << dist_default(defaults.read_ms) << "\n";
    }
    std::optional<Added> write = put_row ? added_latency(*put_row, "put1536k", 0.01) : std::nullopt;
    if (write) {
      y << "    # PUT 1.5 MiB: p50/p99 over the memory store's in the same rounds\n"
        << "    write_ms: " << lognormal(write->p50, write->p99) << "\n";
    } else {
      y << "    # writes: not measured: the model's default\n"
        << "    write_ms: " << dist_default(defaults.write_ms) << "\n";
    }
    if (read_rps > 0) {
      y << "    # GET 16 KiB without the hot cache: every request one store read\n"
        << "    ops_per_s: " << num(read_rps) << "\n";
    } else {
      y << "    # throughput: not measured: the model's default\n"
        << "    ops_per_s: " << num(defaults.ops_per_s) << "\n";
    }
    y << "    # the journal's publication to the other instances: not measured by scripts/bench; the\n"
      << "    # model's default (docs/storage.md: milliseconds)\n"
      << "    journal_ms: " << dist_default(defaults.journal_ms) << "\n";
    y << "    " << hot_note << "\n"
      << "    hot_cache_hit_ratio: " << num(hot) << "\n";
  };
  write_row("sqlite", sqlite, nullptr, "");
  write_row("redis", redis, redis_cold, "");
  write_row("redis-cluster", redis, redis_cold, "not benchmarked (scripts/bench runs one Redis): redis's figures");

  std::string text = y.str();
  // What is written must be what a scenario can read: every store's section is checked.
  for (auto kind : {OriginSpec::Store::memory, OriginSpec::Store::sqlite, OriginSpec::Store::redis,
                    OriginSpec::Store::redis_cluster}) {
    auto back = parse_calibration(text, "calibration", kind);
    if (!back) return make_error("liveorigin calibrate: wrote an unreadable calibration (a bug): " + back.error().message);
  }
  return text;
}

Result<RunFigures> hot_cache_figures(const std::string& db_path, int64_t run_id) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    std::string m = db ? sqlite3_errmsg(db) : "cannot open";
    sqlite3_close(db);
    return make_error(db_path + ": " + m);
  }
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> guard(db, sqlite3_close);
  auto query = [&](const std::string& sql, auto&& row) -> std::optional<std::string> {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      return std::string(sqlite3_errmsg(db)) + " (is this a liveorigin results database?)";
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) row(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return std::string(sqlite3_errmsg(db));
    return std::nullopt;
  };
  int64_t id = 0;
  std::string scenario, mode;
  const std::string which = run_id > 0 ? "WHERE id = " + std::to_string(run_id) : "ORDER BY id DESC LIMIT 1";
  if (auto e = query("SELECT id, scenario_name, mode FROM runs " + which, [&](sqlite3_stmt* st) {
        id = sqlite3_column_int64(st, 0);
        scenario = reinterpret_cast<const char*>(sqlite3_column_text(st, 1));
        mode = reinterpret_cast<const char*>(sqlite3_column_text(st, 2));
      })) {
    return make_error(db_path + ": " + *e);
  }
  if (id == 0) return make_error(db_path + ": " + (run_id > 0 ? "no run " + std::to_string(run_id) : "no runs"));
  if (mode != "realtime") {
    return make_error(db_path + ": run " + std::to_string(id) + " is a " + mode +
                      "-time run: calibrate from a realtime run (virtual time measures only the model)");
  }
  RunFigures f;
  f.source = db_path + " run " + std::to_string(id) + " (scenario " + scenario + ", realtime)";
  bool hits = false, misses = false;
  if (auto e = query("SELECT series, value FROM origin_metrics WHERE run_id = " + std::to_string(id) +
                         " AND series IN ('liveorigin_hot_cache_hits_total', 'liveorigin_hot_cache_misses_total')",
                     [&](sqlite3_stmt* st) {
                       const std::string series = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
                       const auto v = static_cast<int64_t>(sqlite3_column_double(st, 1));
                       if (series == "liveorigin_hot_cache_hits_total") {
                         f.hits = v;
                         hits = true;
                       } else {
                         f.misses = v;
                         misses = true;
                       }
                     })) {
    return make_error(db_path + ": " + *e);
  }
  f.measured = hits && misses && f.hits + f.misses > 0;
  if (f.measured) f.hot_cache_hit_ratio = static_cast<double>(f.hits) / static_cast<double>(f.hits + f.misses);
  return f;
}

int calibrate_command(const CalibrateArgs& args, std::ostream& out, std::ostream& err) {
  std::ifstream in(args.bench, std::ios::binary);
  if (!in) {
    err << "liveorigin calibrate: " << args.bench << ": cannot read\n";
    return 2;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  RunFigures run;
  if (!args.run_db.empty()) {
    auto f = hot_cache_figures(args.run_db, args.run_id);
    if (!f) {
      err << "liveorigin calibrate: " << f.error().message << "\n";
      return 2;
    }
    run = *f;
    if (!run.measured) {
      err << "liveorigin calibrate: " << run.source
          << " has no hot cache figures (its origin ran without a hot cache): the hot cache ratio stays the default\n";
    }
  }
  auto text = calibration_text(ss.str(), args.bench, run, args.name);
  if (!text) {
    err << "liveorigin calibrate: " << text.error().message << "\n";
    return 2;
  }
  std::ofstream o(args.out, std::ios::binary | std::ios::trunc);
  o << *text;
  o.close();
  if (!o) {
    err << "liveorigin calibrate: " << args.out << ": cannot write\n";
    return 2;
  }
  out << "calibration written to " << args.out << "\n" << *text;
  return 0;
}

}  // namespace liveorigin::sim
