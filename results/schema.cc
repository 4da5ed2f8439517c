#include "results/schema.h"

#include <chrono>
#include <iterator>

#include "results/sqlite_util.h"

namespace liveorigin::results {

namespace {

// ---------------------------------------------------------------------------------------
// Schema. Migration i takes a database from version i to i + 1; version 0 is "empty".
// Changing anything a query can see (a table, column, meaning or view) adds a migration
// and bumps kResultsSchemaVersion (docs/results-schema.md, "Versioning").

constexpr const char* kSchemaV1 = R"SQL(
CREATE TABLE runs (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  scenario_name   TEXT NOT NULL,
  scenario_hash   TEXT NOT NULL,
  scenario_text   TEXT NOT NULL,
  seed            INTEGER NOT NULL,
  version         TEXT NOT NULL,
  mode            TEXT NOT NULL,
  origin_mode     TEXT NOT NULL,
  origin_url      TEXT NOT NULL,
  parameters_json TEXT NOT NULL,
  interval_ms     INTEGER NOT NULL,
  started_ms      INTEGER NOT NULL,
  ended_ms        INTEGER NOT NULL,
  status          TEXT NOT NULL,
  schema_version  INTEGER NOT NULL
);
CREATE INDEX runs_scenario ON runs (scenario_name, started_ms);

CREATE TABLE streams (
  run_id                INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  stream                TEXT NOT NULL,
  segment_duration_ms   INTEGER NOT NULL,
  availability_start_ms INTEGER NOT NULL,
  start_number          INTEGER NOT NULL,
  publish_latency_ms    INTEGER NOT NULL,
  PRIMARY KEY (run_id, stream)
);

CREATE TABLE segments (
  run_id   INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  stream   TEXT NOT NULL,
  number   INTEGER NOT NULL,
  due_ms   INTEGER,
  counted  INTEGER NOT NULL,
  PRIMARY KEY (run_id, stream, number)
);

CREATE TABLE puts (
  run_id              INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  stream              TEXT NOT NULL,
  number              INTEGER NOT NULL,
  pipeline            TEXT NOT NULL,
  attempt             INTEGER NOT NULL,
  sent_ms             INTEGER NOT NULL,
  answered_ms         INTEGER,
  status              INTEGER NOT NULL,
  defects             TEXT NOT NULL,
  transport_corrupted INTEGER NOT NULL,
  bytes               INTEGER NOT NULL
);
CREATE INDEX puts_segment ON puts (run_id, stream, number, pipeline);

CREATE TABLE serves (
  run_id    INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  stream    TEXT NOT NULL,
  number    INTEGER NOT NULL,
  seq       INTEGER NOT NULL,
  pipeline  TEXT NOT NULL,
  defects   TEXT NOT NULL,
  version   INTEGER,
  first_ms  INTEGER NOT NULL,
  last_ms   INTEGER NOT NULL,
  responses INTEGER NOT NULL,
  markers   TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (run_id, stream, number, seq)
);

CREATE TABLE viewer_segments (
  run_id   INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  stream   TEXT NOT NULL,
  number   INTEGER NOT NULL,
  class    TEXT NOT NULL,
  pipeline TEXT NOT NULL,
  defects  TEXT NOT NULL,
  status   INTEGER NOT NULL,
  viewers  INTEGER NOT NULL,
  PRIMARY KEY (run_id, stream, number, class, pipeline, defects, status)
);

CREATE TABLE intervals (
  run_id     INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  interval   INTEGER NOT NULL,
  tier       TEXT NOT NULL,
  class      TEXT NOT NULL,
  status     INTEGER NOT NULL,
  requests   INTEGER NOT NULL,
  bytes      INTEGER NOT NULL,
  cache_hits INTEGER NOT NULL,
  collapsed  INTEGER NOT NULL,
  filtered   INTEGER NOT NULL,
  held       INTEGER NOT NULL,
  shed       INTEGER NOT NULL,
  PRIMARY KEY (run_id, interval, tier, class, status)
);
CREATE INDEX intervals_tier ON intervals (run_id, tier, interval, class);

CREATE TABLE histograms (
  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  name   TEXT NOT NULL,
  class  TEXT NOT NULL,
  tier   TEXT NOT NULL,
  bucket INTEGER NOT NULL,
  le_ms  INTEGER,
  count  INTEGER NOT NULL,
  PRIMARY KEY (run_id, name, class, tier, bucket)
);

CREATE TABLE latencies (
  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  name   TEXT NOT NULL,
  class  TEXT NOT NULL,
  tier   TEXT NOT NULL,
  count  INTEGER NOT NULL,
  sum_ms INTEGER NOT NULL,
  min_ms INTEGER NOT NULL,
  max_ms INTEGER NOT NULL,
  PRIMARY KEY (run_id, name, class, tier)
);

CREATE TABLE faults (
  run_id   INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  target   TEXT NOT NULL,
  kind     TEXT NOT NULL,
  start_ms INTEGER NOT NULL,
  end_ms   INTEGER NOT NULL
);
CREATE INDEX faults_run ON faults (run_id, start_ms);

CREATE TABLE actions (
  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  at_ms  INTEGER NOT NULL,
  kind   TEXT NOT NULL,
  detail TEXT NOT NULL,
  status INTEGER NOT NULL
);
CREATE INDEX actions_run ON actions (run_id, at_ms);

CREATE TABLE origin_metrics (
  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  series TEXT NOT NULL,
  value  REAL NOT NULL
);
CREATE INDEX origin_metrics_run ON origin_metrics (run_id, series);

-- In the views, '*' in `class` means every request class but `other` (requests that are
-- not for media: `_timeline` and `_invalidations` polls), and '*' in `tier` every tier.

-- Requests per interval with the interval's time and rates (the last interval may be
-- shorter: it ends with the run).
CREATE VIEW interval_rates AS
SELECT *, requests * 1000.0 / duration_ms AS requests_per_s, bytes * 1000.0 / duration_ms AS bytes_per_s
FROM (
  SELECT i.run_id, i.interval,
         r.started_ms + i.interval * r.interval_ms AS start_ms,
         CASE WHEN r.ended_ms > r.started_ms + i.interval * r.interval_ms
                   AND r.ended_ms < r.started_ms + (i.interval + 1) * r.interval_ms
              THEN r.ended_ms - (r.started_ms + i.interval * r.interval_ms)
              ELSE r.interval_ms END AS duration_ms,
         i.tier, i.class, i.status, i.requests, i.bytes, i.cache_hits, i.collapsed, i.filtered,
         i.held, i.shed
  FROM intervals i JOIN runs r ON r.id = i.run_id
);

-- Whole-run totals per tier and class. One aggregate over `intervals`, so a WHERE on
-- run_id and tier reaches its index.
CREATE VIEW tier_totals AS
SELECT i.run_id, i.tier, CASE WHEN g.rollup THEN '*' ELSE i.class END AS class,
       SUM(i.requests) AS requests,
       SUM(i.bytes) AS bytes,
       SUM(i.cache_hits) AS cache_hits,
       SUM(i.collapsed) AS collapsed,
       SUM(i.filtered) AS filtered,
       SUM(i.held) AS held,
       SUM(i.shed) AS shed,
       SUM(CASE WHEN i.status BETWEEN 200 AND 299 THEN i.requests ELSE 0 END) AS status_2xx,
       SUM(CASE WHEN i.status BETWEEN 300 AND 399 THEN i.requests ELSE 0 END) AS status_3xx,
       SUM(CASE WHEN i.status BETWEEN 400 AND 499 THEN i.requests ELSE 0 END) AS status_4xx,
       SUM(CASE WHEN i.status BETWEEN 500 AND 599 THEN i.requests ELSE 0 END) AS status_5xx,
       SUM(CASE WHEN i.status = 0 THEN i.requests ELSE 0 END) AS transport_errors,
       COALESCE(CAST(SUM(i.cache_hits + i.collapsed) AS REAL)
                / NULLIF(SUM(i.requests) - SUM(i.filtered), 0), 0) AS cache_hit_ratio,
       COALESCE(CAST(SUM(i.shed) AS REAL) / NULLIF(SUM(i.requests), 0), 0) AS shed_ratio,
       COALESCE(CAST(SUM(CASE WHEN i.status = 0 OR i.status >= 400 THEN i.requests ELSE 0 END) AS REAL)
                / NULLIF(SUM(i.requests), 0), 0) AS error_ratio,
       SUM(i.requests) * 1000.0
         / (SELECT MAX(1, r.ended_ms - r.started_ms) FROM runs r WHERE r.id = i.run_id) AS mean_rps,
       (SELECT MAX(rps) FROM (
          SELECT SUM(x.requests) * 1000.0 / MAX(x.duration_ms) AS rps
          FROM interval_rates x
          WHERE x.run_id = i.run_id AND x.tier = i.tier
            AND ((g.rollup AND x.class <> 'other') OR x.class = i.class)
          GROUP BY x.interval)) AS peak_rps
FROM intervals i CROSS JOIN (SELECT 0 AS rollup UNION ALL SELECT 1) g
WHERE NOT (g.rollup AND i.class = 'other')
GROUP BY i.run_id, i.tier, 3;

-- Latency totals per (name, class, tier), with the '*' rows.
CREATE VIEW latency_stats AS
SELECT run_id, name, class, tier, count, sum_ms, min_ms, max_ms,
       CAST(sum_ms AS REAL) / NULLIF(count, 0) AS mean_ms
FROM (
  SELECT run_id, name, class, tier, count, sum_ms, min_ms, max_ms FROM latencies
  UNION ALL
  SELECT run_id, name, '*', tier, SUM(count), SUM(sum_ms), MIN(min_ms), MAX(max_ms)
  FROM latencies WHERE class <> 'other' GROUP BY run_id, name, tier
  UNION ALL
  SELECT run_id, name, class, '*', SUM(count), SUM(sum_ms), MIN(min_ms), MAX(max_ms)
  FROM latencies GROUP BY run_id, name, class
  UNION ALL
  SELECT run_id, name, '*', '*', SUM(count), SUM(sum_ms), MIN(min_ms), MAX(max_ms)
  FROM latencies WHERE class <> 'other' GROUP BY run_id, name
);

-- The cumulative distribution per histogram bucket, with the '*' rows. Each bucket spans
-- [lower_ms, upper_ms]: its bounds, narrowed to the smallest and largest value seen (so
-- the +Inf bucket ends at max_ms).
CREATE VIEW latency_cdf AS
WITH rolled AS (
  SELECT run_id, name, class, tier, bucket, le_ms, count FROM histograms
  UNION ALL
  SELECT run_id, name, '*', tier, bucket, le_ms, SUM(count)
  FROM histograms WHERE class <> 'other' GROUP BY run_id, name, tier, bucket
  UNION ALL
  SELECT run_id, name, class, '*', bucket, le_ms, SUM(count)
  FROM histograms GROUP BY run_id, name, class, bucket
  UNION ALL
  SELECT run_id, name, '*', '*', bucket, le_ms, SUM(count)
  FROM histograms WHERE class <> 'other' GROUP BY run_id, name, bucket
),
bounded AS (
  SELECT h.*, s.count AS total, s.min_ms, s.max_ms,
         COALESCE(LAG(h.le_ms) OVER (PARTITION BY h.run_id, h.name, h.class, h.tier ORDER BY h.bucket), 0)
           AS bucket_lower_ms,
         SUM(h.count) OVER (PARTITION BY h.run_id, h.name, h.class, h.tier ORDER BY h.bucket
                            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cumulative
  FROM rolled h
  JOIN latency_stats s ON s.run_id = h.run_id AND s.name = h.name AND s.class = h.class AND s.tier = h.tier
)
SELECT run_id, name, class, tier, bucket, le_ms,
       MIN(MAX(bucket_lower_ms, min_ms), upper_ms) AS lower_ms,
       upper_ms, count, cumulative, total,
       CAST(cumulative AS REAL) / NULLIF(total, 0) AS fraction
FROM (SELECT *, CASE WHEN le_ms IS NULL OR le_ms > max_ms THEN max_ms ELSE le_ms END AS upper_ms FROM bounded);

-- Percentiles, interpolated linearly within the bucket that holds them.
CREATE VIEW latency_percentiles AS
WITH pct (p) AS (VALUES (50), (90), (95), (99), (99.9)),
hit AS (
  SELECT c.run_id, c.name, c.class, c.tier, pct.p,
         c.lower_ms + (c.upper_ms - c.lower_ms) * (c.total * pct.p / 100.0 - (c.cumulative - c.count)) / c.count
           AS value_ms,
         ROW_NUMBER() OVER (PARTITION BY c.run_id, c.name, c.class, c.tier, pct.p ORDER BY c.bucket) AS k
  FROM latency_cdf c CROSS JOIN pct
  WHERE c.count > 0 AND c.cumulative >= c.total * pct.p / 100.0
)
SELECT s.run_id, s.name, s.class, s.tier, s.count, s.mean_ms, s.min_ms, s.max_ms,
       MAX(CASE WHEN h.p = 50 THEN h.value_ms END) AS p50_ms,
       MAX(CASE WHEN h.p = 90 THEN h.value_ms END) AS p90_ms,
       MAX(CASE WHEN h.p = 95 THEN h.value_ms END) AS p95_ms,
       MAX(CASE WHEN h.p = 99 THEN h.value_ms END) AS p99_ms,
       MAX(CASE WHEN h.p = 99.9 THEN h.value_ms END) AS p999_ms
FROM latency_stats s
LEFT JOIN hit h ON h.run_id = s.run_id AND h.name = s.name AND h.class = s.class AND h.tier = s.tier AND h.k = 1
GROUP BY s.run_id, s.name, s.class, s.tier;

-- One row per segment and pipeline that PUT it: the PUT that settled it (the first one
-- the origin acknowledged 2xx, else the last attempt), attempts and faults.
CREATE VIEW segment_pipelines AS
SELECT p.run_id, p.stream, p.number, p.pipeline,
       (SELECT COUNT(*) FROM puts q
        WHERE q.run_id = p.run_id AND q.stream = p.stream AND q.number = p.number
          AND q.pipeline = p.pipeline) AS puts,
       (SELECT COUNT(*) FROM puts q
        WHERE q.run_id = p.run_id AND q.stream = p.stream AND q.number = p.number
          AND q.pipeline = p.pipeline AND NOT (q.status BETWEEN 200 AND 299)) AS failed_puts,
       (SELECT MIN(q.sent_ms) FROM puts q
        WHERE q.run_id = p.run_id AND q.stream = p.stream AND q.number = p.number
          AND q.pipeline = p.pipeline) AS first_sent_ms,
       CASE WHEN p.status BETWEEN 200 AND 299 THEN p.answered_ms END AS acked_ms,
       p.status, p.defects, p.transport_corrupted, p.bytes,
       p.answered_ms - p.sent_ms AS put_ms,
       (SELECT MIN(q.answered_ms) FROM puts q
        WHERE q.run_id = p.run_id AND q.stream = p.stream AND q.number = p.number
          AND q.pipeline = p.pipeline AND q.status BETWEEN 200 AND 299 AND q.defects = ''
          AND q.transport_corrupted = 0) AS clean_acked_ms,
       s.due_ms,
       CASE WHEN p.status BETWEEN 200 AND 299 THEN p.answered_ms - s.due_ms END AS acked_after_due_ms,
       (SELECT group_concat(f.kind, ', ') FROM faults f
        WHERE f.run_id = p.run_id AND f.target = 'pipeline ' || p.pipeline
          AND f.start_ms <= COALESCE(s.due_ms, p.sent_ms)
          AND COALESCE(s.due_ms, p.sent_ms) < f.end_ms) AS faults
FROM puts p
LEFT JOIN segments s ON s.run_id = p.run_id AND s.stream = p.stream AND s.number = p.number
WHERE p.rowid = (SELECT q.rowid FROM puts q
                 WHERE q.run_id = p.run_id AND q.stream = p.stream AND q.number = p.number
                   AND q.pipeline = p.pipeline
                 ORDER BY (q.status BETWEEN 200 AND 299) DESC,
                          CASE WHEN q.status BETWEEN 200 AND 299 THEN q.answered_ms ELSE -q.sent_ms END,
                          q.attempt
                 LIMIT 1);

-- Defective copies that viewers got (200) of counted segments, which the origin sent
-- after it had acknowledged a clean candidate of the same segment: one row per such
-- served copy (serves row).
CREATE VIEW defective_with_clean_available AS
WITH d AS (
  SELECT sv.run_id, sv.stream, sv.number, sv.seq, sv.pipeline, sv.defects, sv.version,
         sv.first_ms AS served_first_ms, sv.last_ms AS served_last_ms, sv.responses,
         (SELECT MIN(p.answered_ms) FROM puts p
          WHERE p.run_id = sv.run_id AND p.stream = sv.stream AND p.number = sv.number
            AND p.status BETWEEN 200 AND 299 AND p.defects = '' AND p.transport_corrupted = 0)
           AS clean_acked_ms,
         (SELECT SUM(v.viewers) FROM viewer_segments v
          WHERE v.run_id = sv.run_id AND v.stream = sv.stream AND v.number = sv.number
            AND v.pipeline = sv.pipeline AND v.defects = sv.defects AND v.status = 200) AS viewers
  FROM serves sv
  JOIN segments s ON s.run_id = sv.run_id AND s.stream = sv.stream AND s.number = sv.number
  WHERE sv.defects <> '' AND s.counted = 1
)
SELECT d.run_id, d.stream, d.number, d.seq, d.pipeline, d.defects, d.version,
       d.served_first_ms, d.served_last_ms, d.responses,
       (SELECT p.pipeline FROM puts p
        WHERE p.run_id = d.run_id AND p.stream = d.stream AND p.number = d.number
          AND p.status BETWEEN 200 AND 299 AND p.defects = '' AND p.transport_corrupted = 0
        ORDER BY p.answered_ms, p.pipeline LIMIT 1) AS clean_pipeline,
       d.clean_acked_ms, d.viewers
FROM d
WHERE d.viewers > 0 AND d.clean_acked_ms < d.served_last_ms;

-- One row per segment: candidates, the origin's choice and its changes, what viewers
-- got, and the faults active when it was due.
CREATE VIEW segment_timeline AS
WITH base AS (
  SELECT s.run_id, s.stream, s.number, s.due_ms, s.counted,
         COALESCE(s.due_ms,
                  (SELECT MIN(p.sent_ms) FROM puts p
                   WHERE p.run_id = s.run_id AND p.stream = s.stream AND p.number = s.number),
                  (SELECT MIN(sv.first_ms) FROM serves sv
                   WHERE sv.run_id = s.run_id AND sv.stream = s.stream AND sv.number = s.number))
           AS ref_ms
  FROM segments s
)
SELECT b.run_id, b.stream, b.number, b.due_ms, b.counted,
       (SELECT group_concat(x, ' ') FROM (
          SELECT sp.pipeline || ':' || sp.status
                 || CASE WHEN sp.defects <> '' THEN '[' || sp.defects || ']' ELSE '' END AS x
          FROM segment_pipelines sp
          WHERE sp.run_id = b.run_id AND sp.stream = b.stream AND sp.number = b.number
          ORDER BY sp.pipeline)) AS candidates,
       (SELECT MIN(p.answered_ms) FROM puts p
        WHERE p.run_id = b.run_id AND p.stream = b.stream AND p.number = b.number
          AND p.status BETWEEN 200 AND 299) AS first_acked_ms,
       (SELECT MIN(p.answered_ms) FROM puts p
        WHERE p.run_id = b.run_id AND p.stream = b.stream AND p.number = b.number
          AND p.status BETWEEN 200 AND 299 AND p.defects = '' AND p.transport_corrupted = 0)
         AS clean_acked_ms,
       f.first_ms AS first_served_ms,
       f.pipeline AS chosen_pipeline,
       f.defects AS chosen_defects,
       f.version AS chosen_version,
       l.pipeline AS final_pipeline,
       l.defects AS final_defects,
       l.version AS final_version,
       l.seq AS changes,
       (SELECT COALESCE(SUM(v.viewers), 0) FROM viewer_segments v
        WHERE v.run_id = b.run_id AND v.stream = b.stream AND v.number = b.number
          AND v.status = 200 AND v.defects = '') AS viewers_clean,
       (SELECT COALESCE(SUM(v.viewers), 0) FROM viewer_segments v
        WHERE v.run_id = b.run_id AND v.stream = b.stream AND v.number = b.number
          AND v.status = 200 AND v.defects <> '') AS viewers_defective,
       (SELECT COALESCE(SUM(v.viewers), 0) FROM viewer_segments v
        WHERE v.run_id = b.run_id AND v.stream = b.stream AND v.number = b.number
          AND v.status <> 200) AS viewers_missing,
       (SELECT group_concat(ft.target || ' ' || ft.kind, ', ') FROM faults ft
        WHERE ft.run_id = b.run_id AND ft.start_ms <= b.ref_ms AND b.ref_ms < ft.end_ms) AS faults,
       EXISTS (SELECT 1 FROM defective_with_clean_available d
               WHERE d.run_id = b.run_id AND d.stream = b.stream AND d.number = b.number)
         AS defective_with_clean
FROM base b
LEFT JOIN serves f ON f.run_id = b.run_id AND f.stream = b.stream AND f.number = b.number AND f.seq = 0
LEFT JOIN serves l ON l.run_id = b.run_id AND l.stream = b.stream AND l.number = b.number
                  AND l.seq = (SELECT MAX(x.seq) FROM serves x
                               WHERE x.run_id = b.run_id AND x.stream = b.stream AND x.number = b.number);

-- Viewer outcomes per class ('*': every class): segment requests (weighted), how they
-- ended, and the counted segments some viewer asked for and did not get.
CREATE VIEW viewer_totals AS
SELECT v.run_id, CASE WHEN g.rollup THEN '*' ELSE v.class END AS class,
       SUM(v.viewers) AS requests,
       SUM(CASE WHEN v.status = 200 AND v.defects = '' THEN v.viewers ELSE 0 END) AS clean,
       SUM(CASE WHEN v.status = 200 AND v.defects <> '' THEN v.viewers ELSE 0 END) AS defective,
       SUM(CASE WHEN v.status <> 200 THEN v.viewers ELSE 0 END) AS failed,
       COALESCE(CAST(SUM(CASE WHEN v.status <> 200 THEN v.viewers ELSE 0 END) AS REAL)
                / NULLIF(SUM(v.viewers), 0), 0) AS error_ratio,
       COUNT(DISTINCT CASE WHEN v.status <> 200 AND v.viewers > 0
                                AND (SELECT s.counted FROM segments s
                                     WHERE s.run_id = v.run_id AND s.stream = v.stream AND s.number = v.number) = 1
                           THEN v.stream || '/' || v.number END) AS missing_segments
FROM viewer_segments v CROSS JOIN (SELECT 0 AS rollup UNION ALL SELECT 1) g
GROUP BY v.run_id, 2;

-- Counted segments that live viewers asked for and no viewer got (200).
CREATE VIEW lost_segments AS
SELECT v.run_id, v.stream, v.number, SUM(v.viewers) AS viewers
FROM viewer_segments v
JOIN segments s ON s.run_id = v.run_id AND s.stream = v.stream AND s.number = v.number
WHERE s.counted = 1
GROUP BY v.run_id, v.stream, v.number
HAVING SUM(CASE WHEN v.class = 'live' THEN v.viewers ELSE 0 END) > 0
   AND SUM(CASE WHEN v.status = 200 THEN v.viewers ELSE 0 END) = 0;

-- Runs of consecutive lost segments of one stream.
CREATE VIEW viewer_gaps AS
SELECT run_id, stream, MIN(number) AS first_number, MAX(number) AS last_number,
       COUNT(*) AS segments, SUM(viewers) AS viewers
FROM (SELECT run_id, stream, number, viewers,
             number - ROW_NUMBER() OVER (PARTITION BY run_id, stream ORDER BY number) AS island
      FROM lost_segments)
GROUP BY run_id, stream, island;

-- The gate metrics (docs/scenario-format.md §11) without class or tier, one row per run.
CREATE VIEW run_metrics AS
SELECT r.id AS run_id, r.scenario_name, r.status,
       (r.ended_ms - r.started_ms) / 1000.0 AS duration_s,
       (SELECT COUNT(*) FROM (SELECT DISTINCT d.stream, d.number FROM defective_with_clean_available d
                              WHERE d.run_id = r.id)) AS defective_served_with_clean_available,
       COALESCE((SELECT t.missing_segments FROM viewer_totals t WHERE t.run_id = r.id AND t.class = '*'), 0)
         AS viewer_missing_segments,
       COALESCE((SELECT t.error_ratio FROM viewer_totals t WHERE t.run_id = r.id AND t.class = '*'), 0)
         AS viewer_error_ratio,
       (SELECT COALESCE(MAX(n), 0) FROM (
          SELECT COUNT(*) AS n FROM (
            SELECT l.stream, l.number - ROW_NUMBER() OVER (PARTITION BY l.stream ORDER BY l.number) AS island
            FROM (SELECT v.stream, v.number
                  FROM viewer_segments v
                  JOIN segments s ON s.run_id = v.run_id AND s.stream = v.stream AND s.number = v.number
                  WHERE v.run_id = r.id AND s.counted = 1
                  GROUP BY v.stream, v.number
                  HAVING SUM(CASE WHEN v.class = 'live' THEN v.viewers ELSE 0 END) > 0
                     AND SUM(CASE WHEN v.status = 200 THEN v.viewers ELSE 0 END) = 0) l)
          GROUP BY stream, island)) AS failover_gap_segments,
       COALESCE(o.requests, 0) AS origin_requests,
       COALESCE(o.mean_rps, 0) AS origin_requests_per_s,
       COALESCE(o.peak_rps, 0) AS origin_requests_per_s_peak,
       (SELECT COALESCE(SUM(i.requests), 0) FROM intervals i
        WHERE i.run_id = r.id AND i.tier = 'origin' AND (i.status = 0 OR i.status BETWEEN 500 AND 599))
       + (SELECT COUNT(*) FROM puts p
          WHERE p.run_id = r.id AND (p.status = 0 OR p.status BETWEEN 500 AND 599)) AS origin_status_5xx,
       COALESCE(o.shed_ratio, 0) AS shed_ratio,
       (SELECT COALESCE(CAST(SUM(i.cache_hits + i.collapsed) AS REAL)
                        / NULLIF(SUM(i.requests) - SUM(i.filtered), 0), 0)
        FROM intervals i
        WHERE i.run_id = r.id AND i.tier NOT IN ('origin', 'viewer') AND i.class <> 'other') AS cache_hit_ratio,
       (SELECT p.p99_ms FROM latency_percentiles p WHERE p.run_id = r.id AND p.name = 'origin_get'
          AND p.class = '*' AND p.tier = '*') AS origin_get_p99_ms,
       (SELECT p.p99_ms FROM latency_percentiles p WHERE p.run_id = r.id AND p.name = 'viewer_wait'
          AND p.class = '*' AND p.tier = '*') AS viewer_wait_p99_ms,
       (SELECT p.p99_ms FROM latency_percentiles p WHERE p.run_id = r.id AND p.name = 'hold_wait'
          AND p.class = '*' AND p.tier = '*') AS hold_wait_p99_ms,
       (SELECT p.p99_ms FROM latency_percentiles p WHERE p.run_id = r.id AND p.name = 'put'
          AND p.class = '*' AND p.tier = '*') AS put_latency_p99_ms
FROM runs r
LEFT JOIN tier_totals o ON o.run_id = r.id AND o.tier = 'origin' AND o.class = '*';
)SQL";

// Version 2: answers per origin instance and interval (origin.instances).
constexpr const char* kSchemaV2 = R"SQL(
CREATE TABLE instance_intervals (
  run_id   INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  interval INTEGER NOT NULL,
  instance INTEGER NOT NULL,
  requests  INTEGER NOT NULL,  -- answered (any status)
  errors    INTEGER NOT NULL,  -- of those, 5xx
  no_answer INTEGER NOT NULL,  -- sent and not answered (the instance down): tried on the next
  PRIMARY KEY (run_id, instance, interval)
);
)SQL";

constexpr const char* kMigrations[] = {kSchemaV1, kSchemaV2};
static_assert(std::size(kMigrations) == kResultsSchemaVersion, "one migration per schema version");

int64_t now_epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// ---------------------------------------------------------------------------------------
// The database

Result<sqlite3*> open_results_db(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    Error e = db_error(path, db, "cannot open");
    sqlite3_close_v2(db);
    return e;
  }
  auto fail = [&](const std::string& what, bool rollback = false) -> Error {
    Error e = db_error(path, db, what);
    if (rollback) exec(db, "ROLLBACK");
    sqlite3_close_v2(db);
    return e;
  };
  sqlite3_busy_timeout(db, 10000);  // another run may be writing its results
  if (!exec(db, "PRAGMA foreign_keys = ON")) return fail("cannot open");
  // Takes the write lock at once, so two processes creating the schema take turns.
  if (!exec(db, "BEGIN IMMEDIATE")) return fail("cannot open for writing");

  int64_t version = 0;
  {
    Stmt has(db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'");
    Stmt any(db, "SELECT COUNT(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'");
    if (!has.ok() || !any.ok()) return fail("cannot read the schema", true);
    sqlite3_step(has.get());
    bool versioned = sqlite3_column_int64(has.get(), 0) > 0;
    sqlite3_step(any.get());
    bool empty = sqlite3_column_int64(any.get(), 0) == 0;
    if (!versioned && !empty) {
      Error e = make_error("results database '" + path +
                           "': not a liveorigin results database (it has tables but no schema_version)");
      exec(db, "ROLLBACK");
      sqlite3_close_v2(db);
      return e;
    }
    if (versioned) {
      Stmt v(db, "SELECT COALESCE(MAX(version), 0) FROM schema_version");
      if (!v.ok() || sqlite3_step(v.get()) != SQLITE_ROW) return fail("cannot read schema_version", true);
      version = sqlite3_column_int64(v.get(), 0);
    }
  }
  if (version > kResultsSchemaVersion) {
    Error e = make_error("results database '" + path + "' has schema version " + std::to_string(version) +
                         ", newer than this liveorigin supports (" + std::to_string(kResultsSchemaVersion) +
                         "): use a newer liveorigin or write to another database");
    exec(db, "ROLLBACK");
    sqlite3_close_v2(db);
    return e;
  }
  if (version == 0 &&
      !exec(db, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_ms INTEGER NOT NULL)")) {
    return fail("cannot create the schema", true);
  }
  for (int64_t v = version; v < kResultsSchemaVersion; ++v) {
    if (!exec(db, kMigrations[v])) return fail("cannot migrate the schema to version " + std::to_string(v + 1), true);
    Stmt mark(db, "INSERT INTO schema_version (version, applied_ms) VALUES (?, ?)");
    if (!mark.run(v + 1, now_epoch_ms())) return fail("cannot record the schema version", true);
  }
  if (!exec(db, "COMMIT")) return fail("cannot commit the schema", true);
  return db;
}

}  // namespace liveorigin::results
