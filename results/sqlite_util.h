// Small helpers over SQLite's C API shared by the results writers: a prepared
// statement bound by position, statements without results, and errors that name the
// database.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>

#include "origin/core/result.h"

namespace liveorigin::results {

// A prepared statement: bind by position (1-based), run, reset.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  bool ok() const { return rc_ == SQLITE_OK; }
  sqlite3_stmt* get() const { return s_; }

  template <typename... Args>
  bool run(const Args&... args) {
    if (!ok()) return false;
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
    int i = 0;
    bool bound = (bind(++i, args) && ...);
    if (!bound) return false;
    rc_ = sqlite3_step(s_);
    bool done = rc_ == SQLITE_DONE || rc_ == SQLITE_ROW;
    if (done) rc_ = SQLITE_OK;
    sqlite3_reset(s_);
    return done;
  }

 private:
  bool check(int rc) {
    if (rc != SQLITE_OK) rc_ = rc;
    return rc == SQLITE_OK;
  }
  bool bind(int i, int64_t v) { return check(sqlite3_bind_int64(s_, i, v)); }
  bool bind(int i, int v) { return check(sqlite3_bind_int64(s_, i, v)); }
  bool bind(int i, bool v) { return check(sqlite3_bind_int64(s_, i, v ? 1 : 0)); }
  bool bind(int i, double v) { return check(sqlite3_bind_double(s_, i, v)); }
  bool bind(int i, const std::string& v) {
    return check(sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  bool bind(int i, const std::optional<int64_t>& v) {
    return v ? bind(i, *v) : check(sqlite3_bind_null(s_, i));
  }

  sqlite3_stmt* s_ = nullptr;
  int rc_ = SQLITE_OK;
};

inline Error db_error(const std::string& path, sqlite3* db, const std::string& what) {
  std::string msg = "results database '" + path + "': " + what;
  if (db != nullptr) msg += ": " + std::string(sqlite3_errmsg(db));
  return make_error(std::move(msg));
}

inline bool exec(sqlite3* db, const char* sql) { return sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK; }

}  // namespace liveorigin::results
