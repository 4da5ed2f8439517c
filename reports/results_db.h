// Read access to a results database (docs/results-schema.md) for reports and gates.
// Opens an existing file read-only; refuses a file that is not a liveorigin results
// database or has a newer schema, with the same messages `liveorigin run` gives.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "origin/core/result.h"

struct sqlite3;

namespace liveorigin::reports {

// One SQL value as read: NULL, integer, real or text.
class Value {
 public:
  Value() = default;
  explicit Value(int64_t v) : v_(v) {}
  explicit Value(double v) : v_(v) {}
  explicit Value(std::string v) : v_(std::move(v)) {}

  bool null() const { return v_.index() == 0; }
  // NULL reads as the fallback; text is parsed when it holds a number.
  double number(double fallback = 0) const;
  std::optional<double> maybe_number() const;
  int64_t integer(int64_t fallback = 0) const;
  std::string text() const;  // NULL: ""

 private:
  std::variant<std::monostate, int64_t, double, std::string> v_;
};

using Row = std::vector<Value>;
using Param = std::variant<int64_t, double, std::string>;

class ResultsDb {
 public:
  // Errors: "results.db: no such file", "results.db: not a liveorigin results database",
  // "results database 'x.db' has schema version 2, newer than ...".
  static Result<ResultsDb> open(const std::string& path);

  ResultsDb(ResultsDb&& other) noexcept;
  ResultsDb& operator=(ResultsDb&& other) noexcept;
  ResultsDb(const ResultsDb&) = delete;
  ResultsDb& operator=(const ResultsDb&) = delete;
  ~ResultsDb();

  const std::string& path() const { return path_; }

  // Runs `sql` with `params` bound to ?1, ?2, ... Throws std::runtime_error on an SQL
  // error (a bug: every query here is fixed text); the public report and gate functions
  // turn that into an Error.
  std::vector<Row> rows(std::string_view sql, std::initializer_list<Param> params = {}) const;
  std::vector<Row> rows(std::string_view sql, const std::vector<Param>& params) const;
  // The first column of the first row, nullopt when there is no row or it is NULL.
  std::optional<double> number(std::string_view sql, std::initializer_list<Param> params = {}) const;

  // Run ids in this file, ascending.
  std::vector<int64_t> run_ids() const;
  // `run` if it exists, or the latest run when `run` is 0; an error naming the runs there are.
  Result<int64_t> resolve_run(int64_t run) const;

 private:
  ResultsDb(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_ = nullptr;
  std::string path_;
};

}  // namespace liveorigin::reports
