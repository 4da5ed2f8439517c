// Every scenario in scenarios/ does what its story promises, checked from the recorded
// results with SQL. Each runs at full length in virtual time (deterministic, under a
// second) and the stories that depend on real sockets also run shortened in real time:
// against the in-process origin, against a separately started `liveorigin serve`
// (origin.mode: external), and against nginx with WebDAV, the DIY origin.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fcntl.h>
#include <fstream>
#include <regex>
#include <thread>

#include "origin/core/defects.h"
#include "sim/runner.h"
#include "sim/scenario.h"
#include "tests/support/processes.h"

extern char** environ;

namespace liveorigin::sim {
namespace {

namespace fs = std::filesystem;

const fs::path kScenarios = fs::path(LIVEORIGIN_SOURCE_DIR) / "scenarios";

class Db {
 public:
  explicit Db(const fs::path& path) { sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr); }
  ~Db() { sqlite3_close(db_); }
  std::vector<std::vector<std::string>> rows(const std::string& sql) {
    std::vector<std::vector<std::string>> out;
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sqlite3_errmsg(db_) << " in " << sql;
      return out;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int i = 0; i < sqlite3_column_count(st); ++i) {
        const auto* t = sqlite3_column_text(st, i);
        row.emplace_back(t ? reinterpret_cast<const char*>(t) : "");
      }
      out.push_back(std::move(row));
    }
    sqlite3_finalize(st);
    return out;
  }
  double number(const std::string& sql) {
    auto r = rows(sql);
    if (r.empty() || r[0].empty() || r[0][0].empty()) return -1;
    return std::stod(r[0][0]);
  }

 private:
  sqlite3* db_ = nullptr;
};

struct RunResult {
  fs::path db;
  int64_t id = 0;
  std::string r;  // "run_id = N" for SQL
  double metric(const std::string& column) {
    Db q(db);
    return q.number("SELECT " + column + " FROM run_metrics WHERE " + r);
  }
};

Scenario load(const std::string& name) {
  auto s = load_scenario((kScenarios / (name + ".yaml")).string());
  if (!s) throw std::runtime_error(s.error().message);
  return *s;
}

RunResult run(const Scenario& s, bool virtual_time, const std::string& tag) {
  RunResult out;
  out.db = fs::temp_directory_path() / ("liveorigin-story-" + tag + "-" + std::to_string(::getpid()) + ".db");
  fs::remove(out.db);
  RunOptions o;
  o.db_path = out.db.string();
  o.virtual_time = virtual_time;
  o.settle_s = virtual_time ? 5 : 2;
  o.liveorigin_binary = LIVEORIGIN_BINARY;
  auto result = run_scenario(s, o);
  if (!result) throw std::runtime_error(result.error().message);
  std::printf("%s\n", result->text.c_str());
  out.id = result->run_id;
  out.r = "run_id = " + std::to_string(out.id);
  return out;
}

// Segments whose first serve came while `pipeline` had sent nothing for them.
std::string served_without(const RunResult& run, const std::string& pipeline, const std::string& what) {
  return "SELECT " + what + " FROM serves s WHERE s." + run.r +
         " AND s.seq = 0 AND NOT EXISTS (SELECT 1 FROM puts p WHERE p.run_id = s.run_id AND p.stream = s.stream AND "
         "p.number = s.number AND p.pipeline = '" + pipeline + "')";
}

// Real time, shortened: every time in the scenario scaled by `f`, segments of
// 2000 * f ms. The story is the same, told faster.
Scenario shortened(Scenario s, double f) {
  auto scale_s = [f](int64_t v) { return static_cast<int64_t>(std::llround(static_cast<double>(v) * f)); };
  auto scale_d = [f](Distribution& d) {
    d.a *= f;
    if (d.kind != Distribution::Kind::exponential) d.b *= f;
  };
  s.duration_s = std::max<int64_t>(8, scale_s(s.duration_s));
  s.interval_ms = 500;
  s.event.backfill_s = scale_s(s.event.backfill_s);
  for (auto& st : s.event.streams) st.segment_duration_ms = static_cast<int64_t>(st.segment_duration_ms * f);
  for (auto& p : s.pipelines) {
    scale_d(p.publish_latency_ms);
    for (auto& fault : p.faults) {
      fault.at_s = scale_s(fault.at_s);
      fault.duration_s = std::max<int64_t>(1, scale_s(fault.duration_s));
    }
  }
  for (auto& v : s.viewers) {
    v.join_at_s = scale_s(v.join_at_s);
    v.join_ramp_s = scale_s(v.join_ramp_s);
    if (v.leave_at_s >= 0) v.leave_at_s = scale_s(v.leave_at_s);
    scale_d(v.clock_skew_ms);
    scale_d(v.dvr_offset_s);
  }
  for (auto& m : s.markers) {
    m.at_s = scale_s(m.at_s);
    m.start_offset_ms = static_cast<int64_t>(m.start_offset_ms * f);
    if (m.duration_ms) *m.duration_ms = static_cast<int64_t>(*m.duration_ms * f);
  }
  for (auto& i : s.invalidations) i.at_s = scale_s(i.at_s);
  for (auto& sf : s.origin.faults) {
    sf.at_s = scale_s(sf.at_s);
    sf.duration_s = std::max<int64_t>(1, scale_s(sf.duration_s));
  }
  s.cdn.features.feed_interval_ms = std::max<int64_t>(100, static_cast<int64_t>(s.cdn.features.feed_interval_ms * f));
  s.cdn.features.timeline_interval_ms =
      std::max<int64_t>(200, static_cast<int64_t>(s.cdn.features.timeline_interval_ms * f));
  return s;
}

// One line of the side-by-side in docs/harness.md.
void print_outcome(const std::string& origin, RunResult& r) {
  std::printf("| %s | %.0f | %.0f | %.4f | %.1f | %.0f | %.0f |\n", origin.c_str(),
              r.metric("defective_served_with_clean_available"), r.metric("viewer_missing_segments"),
              r.metric("viewer_error_ratio"), r.metric("origin_requests_per_s"), r.metric("viewer_wait_p99_ms"),
              r.metric("origin_get_p99_ms"));
}

// --- the stories, in virtual time --------------------------------------------------

TEST(Stories, BaselineServesEverySegmentCleanFromTheHigherRankPipeline) {
  RunResult r = run(load("baseline"), true, "baseline");
  Db q(r.db);
  EXPECT_EQ(r.metric("viewer_missing_segments"), 0);
  EXPECT_EQ(r.metric("defective_served_with_clean_available"), 0);
  EXPECT_EQ(r.metric("viewer_error_ratio"), 0);
  EXPECT_EQ(r.metric("origin_status_5xx"), 0);
  // A held request is answered by the first clean copy to arrive: mostly a's (it publishes
  // sooner), b's when b is faster. Rank breaks ties between copies already there.
  const double from_a = q.number("SELECT COUNT(*) FROM serves WHERE " + r.r + " AND seq = 0 AND pipeline = 'a'");
  const double all = q.number("SELECT COUNT(*) FROM serves WHERE " + r.r + " AND seq = 0");
  EXPECT_GT(from_a / all, 0.5);
  EXPECT_EQ(q.number("SELECT COUNT(*) FROM serves WHERE " + r.r + " AND defects != ''"), 0);
}

TEST(Stories, PipelineAOutageIsServedFromBWithoutGapsOrDefects) {
  RunResult r = run(load("pipeline-a-outage"), true, "outage");
  Db q(r.db);
  const double during = q.number(served_without(r, "a", "COUNT(*)"));
  EXPECT_GE(during, 2 * 25);  // 60 s of outage, 2 streams of 2 s segments
  EXPECT_EQ(q.number(served_without(r, "a", "COUNT(*)") + " AND s.pipeline != 'b'"), 0);
  EXPECT_EQ(r.metric("defective_served_with_clean_available"), 0);
  EXPECT_EQ(r.metric("failover_gap_segments"), 0);
  EXPECT_EQ(r.metric("viewer_missing_segments"), 0);
  // Before and after the outage a (the higher rank) is served again.
  EXPECT_GT(q.number("SELECT COUNT(*) FROM serves WHERE " + r.r + " AND seq = 0 AND pipeline = 'a'"), 20);
}

TEST(Stories, BothPipelinesDefectiveServesTheLeastDefectiveWithDefectsDownstream) {
  RunResult r = run(load("both-pipelines-defective"), true, "both");
  Db q(r.db);
  EXPECT_EQ(r.metric("defective_served_with_clean_available"), 0);
  EXPECT_EQ(r.metric("viewer_missing_segments"), 0);
  // Where both copies were defective, the one served was the lesser defect, and viewers
  // were told (its Segment-Defects went downstream).
  const auto both = q.rows(
      "SELECT s.stream, s.number, s.defects, pa.defects, pb.defects FROM serves s "
      "JOIN puts pa ON pa.run_id = s.run_id AND pa.stream = s.stream AND pa.number = s.number AND pa.pipeline = 'a' "
      "JOIN puts pb ON pb.run_id = s.run_id AND pb.stream = s.stream AND pb.number = s.number AND pb.pipeline = 'b' "
      "WHERE s." + r.r + " AND s.seq = 0 AND pa.defects != '' AND pb.defects != ''");
  ASSERT_GT(both.size(), 5u);
  for (const auto& row : both) {
    auto served = parse_segment_defects(row[2]);
    auto a = parse_segment_defects(row[3]);
    auto b = parse_segment_defects(row[4]);
    ASSERT_TRUE(served && a && b);
    EXPECT_FALSE(served->clean()) << row[1];
    EXPECT_FALSE(better_defects(*a, *served) || better_defects(*b, *served)) << row[1] << ": " << row[2];
  }
  EXPECT_GT(q.number("SELECT SUM(viewers) FROM viewer_segments WHERE " + r.r + " AND status = 200 AND defects != ''"), 0);
}

TEST(Stories, EarlyRequestStormIsAbsorbedByFilteringAndHolds) {
  Scenario s = load("early-request-storm");
  RunResult r = run(s, true, "early");
  Db q(r.db);
  EXPECT_EQ(r.metric("viewer_missing_segments"), 0);
  EXPECT_EQ(r.metric("origin_status_5xx"), 0);
  // The fast clocks ask 2-5 segments ahead: the edges answer from the timeline.
  EXPECT_GT(q.number("SELECT SUM(filtered) FROM intervals WHERE " + r.r + " AND tier = 'edge'"), 1000);
  // Origin load for segments stays one request per segment per shield, storm or not.
  const double per_s = q.number(
      "SELECT SUM(requests) * 1000.0 / (SELECT ended_ms - started_ms FROM runs WHERE id = " + std::to_string(r.id) +
      ") FROM intervals WHERE " + r.r + " AND tier = 'origin' AND class = 'live'");
  EXPECT_LT(per_s, 5.0);  // 2 streams x 2 shields / 2 s = 2/s, plus init segments
  EXPECT_EQ(q.number("SELECT COALESCE(SUM(requests), 0) FROM intervals WHERE " + r.r +
                     " AND tier = 'origin' AND class = 'live' AND status = 404"),
            0);
  // Without filtering the storm reaches the origin, which answers it with not-yet TTLs
  // that the CDN caches: more origin traffic, still bounded.
  s.cdn.features.filtering = false;
  s.cdn.features.hold = false;
  RunResult unfiltered = run(s, true, "early-unfiltered");
  Db q2(unfiltered.db);
  const std::string live = " AND tier = 'origin' AND class = 'live'";
  EXPECT_GT(q2.number("SELECT SUM(requests) FROM intervals WHERE " + unfiltered.r + live + " AND status = 404"), 50);
  EXPECT_GT(q2.number("SELECT SUM(requests) FROM intervals WHERE " + unfiltered.r + live),
            1.3 * q.number("SELECT SUM(requests) FROM intervals WHERE " + r.r + live));
}

TEST(Stories, DvrSurgeUnderLoadShedsDvrAndLiveKeepsItsOks) {
  RunResult r = run(load("dvr-surge-under-load"), true, "dvr");
  Db q(r.db);
  EXPECT_GT(q.number("SELECT SUM(shed) FROM intervals WHERE " + r.r + " AND tier = 'origin' AND class = 'dvr'"), 100);
  EXPECT_EQ(q.number("SELECT COALESCE(SUM(shed), 0) FROM intervals WHERE " + r.r + " AND tier = 'origin' AND class = 'live'"), 0);
  EXPECT_EQ(q.number("SELECT COALESCE(SUM(requests), 0) FROM intervals WHERE " + r.r +
                     " AND tier = 'viewer' AND class = 'live' AND status != 200"),
            0);
  EXPECT_GT(q.number("SELECT SUM(requests) FROM intervals WHERE " + r.r + " AND tier = 'viewer' AND class = 'dvr' AND status = 200"),
            0);
}

TEST(Stories, InvalidRequestStormNeverReachesTheStore) {
  RunResult r = run(load("invalid-request-storm"), true, "invalid");
  Db q(r.db);
  const std::string m = "SELECT COALESCE(SUM(value), 0) FROM origin_metrics WHERE " + r.r + " AND ";
  const double rejected = q.number(m + "series LIKE 'liveorigin_requests_total{%' AND (series LIKE '%zone=\"too-early\"%' "
                                       "OR series LIKE '%zone=\"unknown-event\"%')");
  const double bodies = q.number(m + "series LIKE 'liveorigin_requests_total{%' AND series LIKE '%status=\"200\"%' AND "
                                     "(series LIKE '%zone=\"select\"%' OR series LIKE '%zone=\"plain-object\"%')");
  const double reads = q.number(m + "series = 'liveorigin_store_reads_total'");
  EXPECT_GT(rejected, 5000);
  EXPECT_EQ(reads, bodies);  // one read per body served; none for the storm
  EXPECT_EQ(r.metric("viewer_missing_segments"), 0);
  EXPECT_EQ(r.metric("origin_status_5xx"), 0);
}

TEST(Stories, AdBreakMarkersReachLiveJoiningAndRewindingViewersAlike) {
  RunResult r = run(load("ad-break-markers"), true, "markers");
  Db q(r.db);
  // Segments carrying ad1 were served with it in every copy served after the marker was
  // posted, live or rewound: no serve row of such a segment lacks it later.
  const double with_ad1 =
      q.number("SELECT COUNT(DISTINCT stream || number) FROM serves WHERE " + r.r + " AND markers LIKE '%\"ad1\"%'");
  EXPECT_GE(with_ad1, 2 * 15);  // 30 s of break, 2 streams of 2 s segments
  EXPECT_EQ(q.number("SELECT COUNT(*) FROM serves s WHERE s." + r.r +
                     " AND s.markers NOT LIKE '%\"ad1\"%' AND EXISTS (SELECT 1 FROM serves e WHERE e.run_id = s.run_id "
                     "AND e.stream = s.stream AND e.number = s.number AND e.markers LIKE '%\"ad1\"%' AND e.seq < s.seq)"),
            0);
  // The rewinders (joining at 60 s) fetched break segments again after the live viewers:
  // the same markers.
  EXPECT_GT(q.number("SELECT COUNT(*) FROM serves WHERE " + r.r + " AND markers LIKE '%\"ad1\"%' AND responses > 1"), 0);
  EXPECT_EQ(q.number("SELECT COUNT(*) FROM actions WHERE " + r.r + " AND kind = 'marker' AND status = 201"), 2);
  EXPECT_EQ(r.metric("viewer_missing_segments"), 0);
}

TEST(Stories, InvalidationMidEventMovesServingToBAndCdnsFollowTheFeed) {
  RunResult r = run(load("invalidation-mid-event"), true, "invalidation");
  Db q(r.db);
  // Segments of a that were served before the invalidation are served again, from b,
  // with a new version, after it.
  const double changed = q.number("SELECT COUNT(*) FROM serves s WHERE s." + r.r +
                                  " AND s.seq > 0 AND s.pipeline = 'b' AND EXISTS (SELECT 1 FROM serves f WHERE "
                                  "f.run_id = s.run_id AND f.stream = s.stream AND f.number = s.number AND f.seq = 0 "
                                  "AND f.pipeline = 'a' AND f.version < s.version)");
  EXPECT_GE(changed, 2);
  EXPECT_EQ(q.number("SELECT COUNT(*) FROM actions WHERE " + r.r + " AND kind = 'invalidation' AND status = 200"), 2);
  // While a was excluded (40 s to 80 s) every new segment came from b.
  const auto window = q.rows("SELECT MIN(at_ms), MAX(at_ms) FROM actions WHERE " + r.r + " AND kind = 'invalidation'");
  ASSERT_EQ(window.size(), 1u);
  EXPECT_EQ(q.number("SELECT COUNT(*) FROM serves WHERE " + r.r + " AND seq = 0 AND pipeline = 'a' AND first_ms > " +
                     window[0][0] + " + 3000 AND first_ms < " + window[0][1]),
            0);
  EXPECT_EQ(r.metric("viewer_missing_segments"), 0);
}

TEST(Stories, RegionFailoverFlappingFollowsEveryFlapWithoutGaps) {
  RunResult r = run(load("region-failover-flapping"), true, "flapping");
  Db q(r.db);
  EXPECT_EQ(r.metric("failover_gap_segments"), 0);
  EXPECT_EQ(r.metric("viewer_missing_segments"), 0);
  EXPECT_EQ(q.number(served_without(r, "a", "COUNT(*)") + " AND s.pipeline != 'b'"), 0);
  EXPECT_GE(q.number(served_without(r, "a", "COUNT(*)")), 4 * 2 * 4);  // 4 flaps of 10 s, 2 streams
  // Each time a came back, selection went back to it.
  EXPECT_GT(q.number("SELECT COUNT(*) FROM serves WHERE " + r.r + " AND seq = 0 AND pipeline = 'a'"), 40);
}

// --- real time, real sockets ---------------------------------------------------------

TEST(StoriesRealtime, PipelineAOutageOverRealSockets) {
  Scenario s = shortened(load("pipeline-a-outage"), 0.2);  // 24 s, 400 ms segments
  RunResult r = run(s, false, "rt-outage");
  Db q(r.db);
  EXPECT_GE(q.number(served_without(r, "a", "COUNT(*)")), 10);
  EXPECT_EQ(q.number(served_without(r, "a", "COUNT(*)") + " AND s.pipeline != 'b'"), 0);
  EXPECT_EQ(r.metric("defective_served_with_clean_available"), 0);
  EXPECT_EQ(r.metric("origin_status_5xx"), 0);
  EXPECT_LT(r.metric("viewer_error_ratio"), 0.05);  // real time on a shared machine: a stall can cost a segment
  print_outcome("liveorigin (in-process)", r);
}

TEST(StoriesRealtime, DvrSurgeOverRealSocketsKeepsLiveEdgeOks) {
  Scenario s = shortened(load("dvr-surge-under-load"), 0.25);  // 30 s, 500 ms segments
  RunResult r = run(s, false, "rt-dvr");
  Db q(r.db);
  EXPECT_GT(q.number("SELECT SUM(shed) FROM intervals WHERE " + r.r + " AND tier = 'origin' AND class = 'dvr'"), 0);
  EXPECT_EQ(q.number("SELECT COALESCE(SUM(shed), 0) FROM intervals WHERE " + r.r + " AND tier = 'origin' AND class = 'live'"), 0);
  EXPECT_LT(r.metric("viewer_error_ratio"), 0.05);
  EXPECT_EQ(q.number("SELECT COALESCE(SUM(requests), 0) FROM intervals WHERE " + r.r +
                     " AND tier = 'origin' AND class = 'live' AND status = 503"),
            0);
}

TEST(StoriesRealtime, ThreeInstancesOverRedisClusterLoseNothingWhenOneDies) {
  // Three `liveorigin serve` processes over a real Redis Cluster (3 primaries, a
  // replica each); instance 2 is killed and started again, then the store slows down.
  Scenario s = shortened(load("three-instances-redis"), 0.4);  // 28 s, 800 ms segments
  RunResult r = run(s, false, "rt-three");
  Db q(r.db);
  EXPECT_EQ(r.metric("viewer_missing_segments"), 0);
  EXPECT_LT(r.metric("viewer_error_ratio"), 0.01);
  EXPECT_EQ(r.metric("defective_served_with_clean_available"), 0);
  // Every acknowledged segment was served, from the first to the last one viewers reached.
  EXPECT_EQ(q.number("SELECT COUNT(DISTINCT p.stream || p.number) FROM puts p WHERE p." + r.r +
                     " AND p.status = 201 AND p.number BETWEEN (SELECT MIN(number) FROM serves v WHERE v.run_id = "
                     "p.run_id AND v.stream = p.stream) AND (SELECT MAX(number) FROM serves v WHERE v.run_id = p.run_id "
                     "AND v.stream = p.stream) AND NOT EXISTS (SELECT 1 FROM serves v WHERE v.run_id = p.run_id AND "
                     "v.stream = p.stream AND v.number = p.number)"),
            0);
  EXPECT_GT(q.number("SELECT COUNT(*) FROM puts WHERE " + r.r + " AND status = 201"), 40);
  // Instance 2 answers nothing while it is down, the others carry its traffic, and it
  // takes traffic again within two seconds of its restart.
  const std::string kill = "(SELECT (f.start_ms - u.started_ms) / u.interval_ms FROM faults f, runs u WHERE f." + r.r +
                           " AND u.id = f.run_id AND f.kind = 'origin-kill')";
  const std::string back = "(SELECT (f.end_ms - u.started_ms) / u.interval_ms FROM faults f, runs u WHERE f." + r.r +
                           " AND u.id = f.run_id AND f.kind = 'origin-kill')";
  auto answered = [&](int instance, const std::string& from, const std::string& to) {
    return q.number("SELECT COALESCE(SUM(requests), 0) FROM instance_intervals WHERE " + r.r +
                    " AND instance = " + std::to_string(instance) + " AND interval >= " + from + " AND interval < " + to);
  };
  EXPECT_GT(answered(2, "0", kill), 0);
  EXPECT_EQ(answered(2, kill + " + 1", back), 0);
  EXPECT_GT(answered(1, kill + " + 1", back) + answered(3, kill + " + 1", back), 0);
  EXPECT_GT(answered(2, back, back + " + 4"), 0);  // 4 intervals of 500 ms
  EXPECT_GT(q.number("SELECT SUM(no_answer) FROM instance_intervals WHERE " + r.r + " AND instance = 2"), 0);
  EXPECT_EQ(q.number("SELECT SUM(errors) FROM instance_intervals WHERE " + r.r), 0);
}

TEST(StoriesRealtime, ThreeInstancesWithAKillRecordTheOriginCountersAtTheEnd) {
  // The three instances over a Redis Cluster, instance 2 killed at 4 s for 2 s, the store
  // slow from 9 s; then the scrape of /metrics after the settle. Shaped so that nothing
  // is left to do at the end, as at the end of the full 70 s scenario: 10 s long, a whole
  // number of the 10 s progress ticks, and no CDN timeline or feed polls (whose next
  // poll, already scheduled, would fall after the end). The harness's io_context then
  // runs out of work before the scrape, which must still be answered: it used to stop
  // for good there, and the scrape was sent and silently never answered.
  Scenario s = shortened(load("three-instances-redis"), 0.2);  // 400 ms segments
  s.duration_s = 10;
  s.cdn.features.filtering = false;  // no timeline polls (nor edge holds)
  s.cdn.features.hold = false;
  s.cdn.features.invalidation_feed = false;  // no feed polls
  RunResult r = run(s, false, "rt-three-metrics");
  Db q(r.db);
  EXPECT_GT(q.number("SELECT SUM(no_answer) FROM instance_intervals WHERE " + r.r + " AND instance = 2"), 0);
  EXPECT_GT(q.number("SELECT COUNT(*) FROM origin_metrics WHERE " + r.r), 10);
  EXPECT_GT(q.number("SELECT value FROM origin_metrics WHERE " + r.r +
                     " AND series = 'liveorigin_hot_cache_hits_total'"),
            0);
}

uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

bool wait_listening(uint16_t port) {
  for (int i = 0; i < 500; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    if (ok) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST(StoriesRealtime, ExternalOriginGivesTheSameVerdicts) {
  // A `liveorigin serve` started on its own, knowing nothing of the scenario: the
  // harness creates the event through the admin API, as against any deployed origin.
  const fs::path dir = fs::temp_directory_path() / ("liveorigin-external-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const uint16_t port = free_port();
  std::ofstream(dir / "origin.yaml") << "listen: 127.0.0.1:" << port
                                     << "\nthreads: 1\nauth:\n  ingest_tokens: [ingest-secret]\n  admin_tokens: [admin-secret]\n";
  testing::Process origin({LIVEORIGIN_BINARY, "serve", "--config", (dir / "origin.yaml").string()}, dir / "origin.log");
  ASSERT_TRUE(wait_listening(port));
  Scenario s = shortened(load("pipeline-a-outage"), 0.2);
  s.origin.mode = OriginSpec::Mode::external;
  s.origin.url = "http://127.0.0.1:" + std::to_string(port);
  s.origin.create_event = true;
  RunResult r = run(s, false, "rt-external");
  Db q(r.db);
  EXPECT_EQ(q.number("SELECT status FROM actions WHERE " + r.r + " AND kind = 'create-event'"), 201);
  EXPECT_GE(q.number(served_without(r, "a", "COUNT(*)")), 10);
  EXPECT_EQ(q.number(served_without(r, "a", "COUNT(*)") + " AND s.pipeline != 'b'"), 0);
  EXPECT_EQ(r.metric("defective_served_with_clean_available"), 0);
  EXPECT_EQ(r.metric("origin_status_5xx"), 0);
  EXPECT_GT(q.number("SELECT COUNT(*) FROM origin_metrics WHERE " + r.r), 10);  // it is a liveorigin
  fs::remove_all(dir);
}

TEST(StoriesRealtime, NginxWithWebdavAsTheDiyOrigin) {
  // What a DIY origin does with two pipelines: both PUT to the same path, the last one
  // wins; there is no selection, no hold, no TTL. Recorded for the side-by-side in the docs.
  const fs::path dir = fs::temp_directory_path() / ("liveorigin-nginx-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "www");
  fs::create_directories(dir / "body");
  const uint16_t port = free_port();
  std::ifstream in(fs::path(LIVEORIGIN_SOURCE_DIR) / "bench" / "nginx.conf");
  std::string conf((std::istreambuf_iterator<char>(in)), {});
  conf = std::regex_replace(conf, std::regex("@PORT@"), std::to_string(port));
  conf = std::regex_replace(conf, std::regex("@WORKERS@"), "1");
  std::ofstream(dir / "nginx.conf") << conf;
  const std::string nginx = fs::exists("/usr/sbin/nginx") ? "/usr/sbin/nginx" : testing::find_program("nginx");
  testing::Process server({nginx, "-p", dir.string(), "-c", "nginx.conf", "-e", (dir / "error.log").string()}, dir / "stderr.log");
  ASSERT_TRUE(wait_listening(port)) << "nginx did not start (is it installed? scripts/setup installs nginx-light)";
  Scenario s = shortened(load("pipeline-a-outage"), 0.2);
  s.origin.mode = OriginSpec::Mode::external;
  s.origin.url = "http://127.0.0.1:" + std::to_string(port);
  s.origin.create_event = false;
  RunResult r = run(s, false, "rt-nginx");
  Db q(r.db);
  // Viewers got segments: the copy of whichever pipeline wrote last.
  EXPECT_GT(q.number("SELECT COUNT(*) FROM serves WHERE " + r.r), 10);
  const double defective = r.metric("defective_served_with_clean_available");
  const double missing = r.metric("viewer_missing_segments");
  const double errors = r.metric("viewer_error_ratio");
  std::printf("nginx (DIY origin): defective served while clean available %.0f, missing segments %.0f, viewer error "
              "ratio %.4f\n",
              defective, missing, errors);
  print_outcome("nginx WebDAV", r);
  EXPECT_EQ(q.number("SELECT COUNT(*) FROM origin_metrics WHERE " + r.r), 0);  // not a liveorigin
  fs::remove_all(dir);
}

}  // namespace
}  // namespace liveorigin::sim
