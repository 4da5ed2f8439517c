#include "reports/results_db.h"

#include <sqlite3.h>

#include <filesystem>
#include <stdexcept>

#include "results/schema.h"

namespace liveorigin::reports {

double Value::number(double fallback) const { return maybe_number().value_or(fallback); }

std::optional<double> Value::maybe_number() const {
  switch (v_.index()) {
    case 1: return static_cast<double>(std::get<1>(v_));
    case 2: return std::get<2>(v_);
    case 3: {
      try {
        size_t used = 0;
        const double d = std::stod(std::get<3>(v_), &used);
        if (used == std::get<3>(v_).size()) return d;
      } catch (const std::exception&) {
      }
      return std::nullopt;
    }
    default: return std::nullopt;
  }
}

int64_t Value::integer(int64_t fallback) const {
  if (v_.index() == 1) return std::get<1>(v_);
  if (auto d = maybe_number()) return static_cast<int64_t>(*d);
  return fallback;
}

std::string Value::text() const {
  switch (v_.index()) {
    case 1: return std::to_string(std::get<1>(v_));
    case 2: {
      std::string s = std::to_string(std::get<2>(v_));
      return s;
    }
    case 3: return std::get<3>(v_);
    default: return "";
  }
}

namespace {

std::vector<Row> run_query(sqlite3* db, std::string_view sql, const Param* params, size_t n) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &st, nullptr) != SQLITE_OK) {
    throw std::runtime_error(std::string("results query failed: ") + sqlite3_errmsg(db) + " in: " + std::string(sql));
  }
  for (size_t i = 0; i < n; ++i) {
    const int k = static_cast<int>(i + 1);
    const Param& p = params[i];
    if (const auto* v = std::get_if<int64_t>(&p)) {
      sqlite3_bind_int64(st, k, *v);
    } else if (const auto* d = std::get_if<double>(&p)) {
      sqlite3_bind_double(st, k, *d);
    } else {
      const auto& s = std::get<std::string>(p);
      sqlite3_bind_text(st, k, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    }
  }
  std::vector<Row> out;
  int rc = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    Row row;
    const int cols = sqlite3_column_count(st);
    row.reserve(static_cast<size_t>(cols));
    for (int c = 0; c < cols; ++c) {
      switch (sqlite3_column_type(st, c)) {
        case SQLITE_INTEGER: row.emplace_back(static_cast<int64_t>(sqlite3_column_int64(st, c))); break;
        case SQLITE_FLOAT: row.emplace_back(sqlite3_column_double(st, c)); break;
        case SQLITE_NULL: row.emplace_back(); break;
        default: {
          const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(st, c));
          row.emplace_back(std::string(t ? t : "", static_cast<size_t>(sqlite3_column_bytes(st, c))));
        }
      }
    }
    out.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) {
    const std::string msg = sqlite3_errmsg(db);
    sqlite3_finalize(st);
    throw std::runtime_error("results query failed: " + msg + " in: " + std::string(sql));
  }
  sqlite3_finalize(st);
  return out;
}

}  // namespace

Result<ResultsDb> ResultsDb::open(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return make_error(path + ": no such results database");
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    const std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return make_error(path + ": cannot open: " + msg);
  }
  sqlite3_busy_timeout(db, 10000);  // a run may be writing its results
  ResultsDb out(db, path);
  try {
    const auto tables = out.rows("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'");
    if (tables.empty()) return make_error(path + ": not a liveorigin results database");
    const auto v = out.number("SELECT MAX(version) FROM schema_version");
    const int64_t version = v ? static_cast<int64_t>(*v) : 0;
    if (version > results::kResultsSchemaVersion) {
      return make_error("results database '" + path + "' has schema version " + std::to_string(version) +
                        ", newer than this liveorigin supports (" + std::to_string(results::kResultsSchemaVersion) +
                        "): use a newer liveorigin");
    }
    if (version < results::kResultsSchemaVersion) {
      // Older: let the harness migrate it (migrations keep run data), then read it.
      auto migrated = results::open_results_db(path);
      if (!migrated) return migrated.error();
      sqlite3_close_v2(*migrated);
    }
  } catch (const std::exception& e) {
    return make_error(path + ": not a liveorigin results database (" + e.what() + ")");
  }
  return out;
}

ResultsDb::ResultsDb(ResultsDb&& other) noexcept : db_(other.db_), path_(std::move(other.path_)) {
  other.db_ = nullptr;
}

ResultsDb& ResultsDb::operator=(ResultsDb&& other) noexcept {
  if (this != &other) {
    sqlite3_close_v2(db_);
    db_ = other.db_;
    path_ = std::move(other.path_);
    other.db_ = nullptr;
  }
  return *this;
}

ResultsDb::~ResultsDb() { sqlite3_close_v2(db_); }

std::vector<Row> ResultsDb::rows(std::string_view sql, std::initializer_list<Param> params) const {
  return run_query(db_, sql, params.begin(), params.size());
}

std::vector<Row> ResultsDb::rows(std::string_view sql, const std::vector<Param>& params) const {
  return run_query(db_, sql, params.data(), params.size());
}

std::optional<double> ResultsDb::number(std::string_view sql, std::initializer_list<Param> params) const {
  const auto r = rows(sql, params);
  if (r.empty() || r[0].empty()) return std::nullopt;
  return r[0][0].maybe_number();
}

std::vector<int64_t> ResultsDb::run_ids() const {
  std::vector<int64_t> out;
  for (const auto& r : rows("SELECT id FROM runs ORDER BY id")) out.push_back(r[0].integer());
  return out;
}

Result<int64_t> ResultsDb::resolve_run(int64_t run) const {
  const auto ids = run_ids();
  if (ids.empty()) return make_error(path_ + ": no runs recorded yet");
  if (run == 0) return ids.back();
  for (int64_t id : ids) {
    if (id == run) return id;
  }
  std::string list;
  for (size_t i = 0; i < ids.size() && i < 20; ++i) list += (i ? ", " : "") + std::to_string(ids[i]);
  if (ids.size() > 20) list += ", ... " + std::to_string(ids.back());
  return make_error(path_ + ": no run " + std::to_string(run) + " (runs: " + list + ")");
}

}  // namespace liveorigin::reports
