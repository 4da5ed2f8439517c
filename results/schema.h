// The results database (docs/results-schema.md): its schema, its version, and opening
// it. Written by the harness's Recorder (sim/results.h), read by the reports
// (reports/results_db.h); neither includes the other.
#pragma once

#include <cstdint>
#include <string>

#include "origin/core/result.h"

struct sqlite3;

namespace liveorigin::results {

inline constexpr int kResultsSchemaVersion = 2;

// Latency histogram buckets (upper bounds, ms); the last bucket is +Inf.
inline constexpr int64_t kLatencyBucketsMs[] = {1,   2,   5,    10,   20,   50,    100,   200,
                                                500, 1000, 2000, 5000, 10000, 30000, 60000};

// Opens (creating and migrating if needed) a results database. Errors name the path:
// a database with a newer schema_version, or one with tables but no schema_version
// (not a results database), is refused. The caller closes it with sqlite3_close().
Result<sqlite3*> open_results_db(const std::string& path);

}  // namespace liveorigin::results
