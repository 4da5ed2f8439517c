// The stores that outlive a process and are shared by instances, over real servers:
// `liveorigin serve` child processes on loopback, SQLite files, and redis-server
// processes (one server, or a cluster of 3 primaries with a replica each) on free
// ports. What a user checks: what was acknowledged survives kill -9, every instance
// serves the same choice and bytes, a PUT on one wakes holds on another, admin changes
// reach all, a primary failover loses nothing acknowledged, and the store's troubles
// are shown and survived.
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "origin/core/digest.h"
#include "origin/store/redis_store.h"
#include "sim/fault_proxy.h"
#include "sim/redis_deployment.h"
#include "tests/support/http_client.h"
#include "tests/support/core_harness.h"
#include "tests/support/processes.h"
#include "tests/support/server_fixture.h"

namespace liveorigin::testing {
namespace {

std::string event_yaml(int64_t d = 2000, int64_t dvr_window_s = 3600) {
  return "auth: {ingest_tokens: [ingest-secret], admin_tokens: [admin-secret]}\n"
         "events:\n"
         "  - id: final\n"
         "    pipelines: [a, b]\n"
         "    dvr_window_s: " + std::to_string(dvr_window_s) + "\n"
         "    streams:\n"
         "      - {id: video, segment_duration_ms: " + std::to_string(d) + "}\n";
}

std::string config(const std::string& url, int64_t d = 2000, int64_t dvr_window_s = 3600,
                   const std::string& extra = "") {
  return "store: {url: \"" + url + "\", timeout_ms: 5000}\n" + extra + event_yaml(d, dvr_window_s);
}

int64_t edge_now(int64_t d = 2000) { return wall_ms() / d - 1; }
std::string seg(int64_t n) { return "/live/final/video/" + std::to_string(n) + ".m4s"; }

HttpResponse put(uint16_t port, const std::string& target, const std::string& pipeline, const std::string& body,
                 const std::string& defects = "") {
  HeaderList h = {{"Authorization", "Bearer ingest-secret"}, {"Live-Pipeline", pipeline}};
  if (!defects.empty()) h.emplace_back("Segment-Defects", defects);
  HttpClient c(port);
  return c.request("PUT", target, h, body);
}

HttpResponse admin(uint16_t port, const std::string& method, const std::string& target, const std::string& body = "") {
  HttpClient c(port);
  return c.request(method, target, {{"Authorization", "Bearer admin-secret"}}, body);
}

std::string sha(const std::string& bytes) {
  BodyHasher h;
  h.update(bytes.data(), bytes.size());
  const Sha256 d = h.finish().sha256;
  return to_hex(d.data(), d.size());
}

std::string sqlite_scalar(const fs::path& db, const std::string& sql) {
  std::string out;
  sim::run_program({sim::find_on_path("sqlite3"), db.string(), sql}, out, std::chrono::seconds(10));
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// Polls until `pred` holds or `limit` passes.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

std::unique_ptr<sim::RedisDeployment> start_redis(const TempDir& dir, bool cluster, bool proxied = false) {
  sim::RedisDeployment::Options o;
  o.dir = dir.path().string();
  o.cluster = cluster;
  o.proxied = proxied;
  auto r = sim::RedisDeployment::start(o);
  if (!r) {
    ADD_FAILURE() << r.error().message;
    return nullptr;
  }
  return std::move(*r);
}

// --- sqlite -------------------------------------------------------------------------

TEST(StoreSqlite, AcknowledgedSegmentsChoicesAndAdminStateSurviveKill9) {
  TempDir dir("sqlite-kill");
  const std::string yaml = config("sqlite:" + (dir / "origin.db").string());
  auto first = std::make_unique<OriginProcess>(dir, yaml, "first");
  ASSERT_NE(first->port, 0);
  const int64_t n = edge_now();
  ASSERT_EQ(put(first->port, seg(n), "a", "aaaa", "missing-frames=3").status, 201);
  ASSERT_EQ(put(first->port, seg(n), "b", "bbbb").status, 201);
  ASSERT_EQ(put(first->port, seg(n - 1), "a", "older").status, 201);
  ASSERT_EQ(http_request(first->port, "GET", seg(n - 1)).status, 200);
  const HttpResponse inv = admin(first->port, "POST", "/admin/invalidate",
                                 R"({"event": "final", "from_segment": )" + std::to_string(n - 1) +
                                     R"(, "to_segment": )" + std::to_string(n - 1) + "}");
  ASSERT_EQ(inv.status, 200) << inv.body;
  ASSERT_EQ(admin(first->port, "POST", "/admin/events/final/markers",
                  R"({"id": "ad1", "kind": "ad-break", "start_ms": )" + std::to_string(n * 2000) +
                      R"(, "duration_ms": 4000})")
                .status,
            201);
  ASSERT_EQ(admin(first->port, "PUT", "/admin/events/encore",
                  R"({"pipelines": ["a"], "streams": [{"id": "v", "segment_duration_ms": 1000}]})")
                .status,
            201);
  const HttpResponse before = http_request(first->port, "GET", seg(n));
  const HttpResponse before_older = http_request(first->port, "GET", seg(n - 1));
  ASSERT_EQ(before.status, 200);
  ASSERT_EQ(before.body, "bbbb");
  ASSERT_EQ(before_older.status, 200);
  ASSERT_FALSE(before.header("Live-Markers").empty());

  first->process().kill(SIGKILL);
  OriginProcess second(dir, yaml, "second");
  ASSERT_NE(second.port, 0) << second.log();
  const HttpResponse after = http_request(second.port, "GET", seg(n));
  EXPECT_EQ(after.status, 200);
  EXPECT_EQ(after.body, "bbbb");
  EXPECT_EQ(after.header("ETag"), before.header("ETag"));
  EXPECT_EQ(after.header("Live-Version"), before.header("Live-Version"));
  EXPECT_EQ(after.header("Live-Pipeline"), "b");
  EXPECT_EQ(after.header("Live-Markers"), before.header("Live-Markers"));
  const HttpResponse after_older = http_request(second.port, "GET", seg(n - 1));
  EXPECT_EQ(after_older.header("ETag"), before_older.header("ETag"));
  EXPECT_EQ(after_older.header("Live-Version"), before_older.header("Live-Version"));
  EXPECT_EQ(admin(second.port, "GET", "/admin/events/encore").status, 200);
  EXPECT_NE(http_request(second.port, "GET", "/live/final/_invalidations?since=0").body.find(
                "\"from_segment\":" + std::to_string(n - 1)),
            std::string::npos);
  const HttpResponse audit = admin(second.port, "GET", "/admin/events/final/streams/video/segments/" + std::to_string(n));
  EXPECT_NE(audit.body.find(R"("choice":{"pipeline":"b")"), std::string::npos) << audit.body;
  EXPECT_NE(audit.body.find(R"("defects":"missing-frames=3")"), std::string::npos) << audit.body;
  EXPECT_NE(second.log().find("journal entries applied"), std::string::npos);
}

TEST(StoreSqlite, TenMebibyteObjectRoundTripsInChunksAcrossARestart) {
  TempDir dir("sqlite-big");
  const fs::path db = dir / "origin.db";
  const std::string yaml = config("sqlite:" + db.string());
  std::string body(10 << 20, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>((i * 2654435761u) >> 24);
  const int64_t n = edge_now();
  {
    OriginProcess o(dir, yaml, "first");
    ASSERT_EQ(put(o.port, seg(n), "a", body).status, 201);
    o.process().kill(SIGKILL);
  }
  // 10 MiB in 256 KiB chunks.
  EXPECT_EQ(sqlite_scalar(db, "SELECT chunks FROM objects WHERE size = 10485760"), "40");
  OriginProcess o(dir, yaml, "second");
  const HttpResponse r = http_request(o.port, "GET", seg(n));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body.size(), body.size());
  EXPECT_EQ(sha(r.body), sha(body));
}

TEST(StoreSqlite, SegmentsLeavingTheDvrWindowAreDeleted) {
  TempDir dir("sqlite-dvr");
  const fs::path db = dir / "origin.db";
  // 200 ms segments, a 1 s window, a short body timeout (the journal's margin).
  OriginProcess o(dir, config("sqlite:" + db.string(), 200, 1, "body_timeout_ms: 200\n"));
  const int64_t until = wall_ms() + 4000;
  int64_t last = -1;
  int64_t puts = 0;
  while (wall_ms() < until) {
    const int64_t n = edge_now(200) + 1;
    if (n != last) {
      ASSERT_EQ(put(o.port, seg(n), "a", std::string(1000, 'x')).status, 201);
      last = n;
      ++puts;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Window (5) + margin (4) + a late tick's second (5) at most — not the 20 segments PUT
  // so far (a busy machine delays the tick, hence no tighter bound).
  const int64_t kept = std::stoll(sqlite_scalar(db, "SELECT COUNT(*) FROM objects"));
  EXPECT_LE(kept, 15) << puts << " PUT";
  EXPECT_LT(kept, puts);
  EXPECT_GE(kept, 1);
  EXPECT_TRUE(eventually([&] { return sqlite_scalar(db, "SELECT COUNT(*) FROM objects") == "0"; },
                         std::chrono::seconds(6)));
}

TEST(StoreSqlite, UnopenableDatabaseIsAClearErrorNamingTheUrl) {
  TempDir dir("sqlite-bad");
  Process p({LIVEORIGIN_BINARY, "serve", "--listen", "127.0.0.1:0", "--store", "sqlite:/nonexistent/dir/o.db"},
            dir / "log");
  EXPECT_EQ(p.wait_exit(std::chrono::seconds(10)), 1);
  EXPECT_NE(p.log().find("store sqlite:/nonexistent/dir/o.db: cannot open"), std::string::npos) << p.log();
}

// --- redis --------------------------------------------------------------------------

TEST(StoreRedis, UnreachableOrMisconfiguredStoreIsAClearErrorNamingTheUrl) {
  TempDir dir("redis-bad");
  const uint16_t nobody = sim::free_port();
  Process refused({LIVEORIGIN_BINARY, "serve", "--listen", "127.0.0.1:0", "--store",
                   "redis://127.0.0.1:" + std::to_string(nobody)},
                  dir / "refused.log");
  EXPECT_EQ(refused.wait_exit(std::chrono::seconds(15)), 1);
  EXPECT_NE(refused.log().find("store redis://127.0.0.1:" + std::to_string(nobody) + ": cannot reach"),
            std::string::npos)
      << refused.log();
  auto redis = start_redis(dir, false);
  ASSERT_TRUE(redis);
  const std::string single = redis->url();
  const std::string as_cluster = "redis-cluster://" + single.substr(std::string("redis://").size());
  Process not_cluster({LIVEORIGIN_BINARY, "serve", "--listen", "127.0.0.1:0", "--store", as_cluster},
                      dir / "not-cluster.log");
  EXPECT_EQ(not_cluster.wait_exit(std::chrono::seconds(15)), 1);
  EXPECT_NE(not_cluster.log().find("store " + as_cluster + ": not a cluster node"), std::string::npos)
      << not_cluster.log();
}

TEST(StoreRedis, APutOnOneInstanceWakesRequestsHeldOnAnotherAndBothServeTheSameBytes) {
  TempDir dir("redis-wake");
  auto redis = start_redis(dir, false);
  ASSERT_TRUE(redis);
  OriginProcess a(dir, config(redis->url()), "a");
  OriginProcess b(dir, config(redis->url()), "b");
  ASSERT_NE(a.port, 0);
  ASSERT_NE(b.port, 0);
  // Early in a segment, so the next one is due within the hold window.
  sleep_until_ms((wall_ms() / 2000 + 1) * 2000 + 100);
  const int64_t next = edge_now() + 1;
  HttpResponse held;
  std::thread waiter([&] { held = http_request(b.port, "GET", seg(next)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(put(a.port, seg(next), "a", "published-on-a").status, 201);
  waiter.join();
  EXPECT_EQ(held.status, 200);
  EXPECT_EQ(held.body, "published-on-a");
  EXPECT_FALSE(held.header("CMSD-Static").empty());
  const HttpResponse from_a = http_request(a.port, "GET", seg(next));
  EXPECT_EQ(from_a.header("ETag"), held.header("ETag"));
  EXPECT_EQ(from_a.body, held.body);
}

TEST(StoreRedis, ConcurrentPutsOnTwoInstancesGiveOneSelectionEverywhere) {
  TempDir dir("redis-race");
  auto redis = start_redis(dir, false);
  ASSERT_TRUE(redis);
  OriginProcess a(dir, config(redis->url()), "a");
  OriginProcess b(dir, config(redis->url()), "b");
  const int64_t first = edge_now() - 20;
  constexpr int kSegments = 12;
  // Both pipelines' clean copies of each segment race in through different instances,
  // while readers on both instances ask for them: every answer names one choice.
  std::mutex mu;
  std::map<int64_t, std::set<std::string>> seen;  // n -> pipeline|ETag
  std::atomic<bool> done{false};
  auto reader = [&](uint16_t port) {
    HttpClient c(port);
    while (!done.load()) {
      for (int i = 0; i < kSegments; ++i) {
        const HttpResponse r = c.request("GET", seg(first + i));
        if (r.status == 200) {
          std::lock_guard lock(mu);
          seen[first + i].insert(r.header("Live-Pipeline") + "|" + r.header("ETag"));
        }
      }
    }
  };
  std::thread ra(reader, a.port), rb(reader, b.port);
  std::thread pa([&] {
    for (int i = 0; i < kSegments; ++i) EXPECT_EQ(put(a.port, seg(first + i), "a", "a-" + std::to_string(i)).status, 201);
  });
  std::thread pb([&] {
    for (int i = 0; i < kSegments; ++i) EXPECT_EQ(put(b.port, seg(first + i), "b", "b-" + std::to_string(i)).status, 201);
  });
  pa.join();
  pb.join();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  done = true;
  ra.join();
  rb.join();
  for (int i = 0; i < kSegments; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(seen[first + i].size(), 1u);
    const HttpResponse x = http_request(a.port, "GET", seg(first + i));
    const HttpResponse y = http_request(b.port, "GET", seg(first + i));
    EXPECT_EQ(x.header("ETag"), y.header("ETag"));
    EXPECT_EQ(x.body, y.body);
  }
}

TEST(StoreRedis, AdminChangesOnOneInstanceTakeEffectOnAll) {
  TempDir dir("redis-admin");
  auto redis = start_redis(dir, false);
  ASSERT_TRUE(redis);
  OriginProcess a(dir, config(redis->url()), "a");
  OriginProcess b(dir, config(redis->url()), "b");
  ASSERT_EQ(admin(a.port, "PUT", "/admin/events/encore",
                  R"({"pipelines": ["a"], "streams": [{"id": "v", "segment_duration_ms": 1000}]})")
                .status,
            201);
  EXPECT_TRUE(eventually([&] { return http_request(b.port, "GET", "/live/encore/_timeline").status == 200; }));
  const int64_t n = edge_now();
  ASSERT_EQ(put(a.port, seg(n), "a", "x").status, 201);
  ASSERT_EQ(http_request(a.port, "GET", seg(n)).status, 200);
  ASSERT_EQ(admin(b.port, "POST", "/admin/events/final/markers",
                  R"({"id": "ad1", "kind": "ad-break", "start_ms": )" + std::to_string(n * 2000) + "}")
                .status,
            201);
  EXPECT_TRUE(eventually([&] { return !http_request(a.port, "GET", seg(n)).header("Live-Markers").empty(); }));
  const HttpResponse inv = admin(a.port, "POST", "/admin/invalidate",
                                 R"({"event": "final", "pipeline": "a", "exclude": true, "from_segment": )" +
                                     std::to_string(n) + "}");
  ASSERT_EQ(inv.status, 200) << inv.body;
  EXPECT_TRUE(eventually([&] {
    return http_request(b.port, "GET", "/live/final/_invalidations?since=0").body.find("\"exclude\":true") !=
           std::string::npos;
  }));
  // Only the excluded pipeline's copy: missing, on both.
  EXPECT_EQ(http_request(b.port, "GET", seg(n)).header("Live-Reject"), "missing");
  EXPECT_EQ(http_request(a.port, "GET", seg(n)).header("Live-Reject"), "missing");
  EXPECT_EQ(admin(b.port, "DELETE", "/admin/events/encore").status, 204);
  EXPECT_TRUE(eventually([&] { return http_request(a.port, "GET", "/live/encore/_timeline").status == 404; }));
}

TEST(StoreRedis, AnInstanceKilledAndRestartedServesTheSameBytesAndEtag) {
  TempDir dir("redis-restart");
  auto redis = start_redis(dir, false);
  ASSERT_TRUE(redis);
  auto a = std::make_unique<OriginProcess>(dir, config(redis->url()), "a1");
  const int64_t n = edge_now();
  ASSERT_EQ(put(a->port, seg(n), "a", "kept-in-redis", "short-ms=80").status, 201);
  const HttpResponse before = http_request(a->port, "GET", seg(n));
  ASSERT_EQ(before.status, 200);
  a->process().kill(SIGKILL);
  OriginProcess again(dir, config(redis->url()), "a2");
  const HttpResponse after = http_request(again.port, "GET", seg(n));
  EXPECT_EQ(after.status, 200);
  EXPECT_EQ(after.body, "kept-in-redis");
  EXPECT_EQ(after.header("ETag"), before.header("ETag"));
  EXPECT_EQ(after.header("Segment-Defects"), "short-ms=80");
}

TEST(StoreRedis, SegmentsLeavingTheDvrWindowLeaveRedis) {
  TempDir dir("redis-dvr");
  auto redis = start_redis(dir, false);
  ASSERT_TRUE(redis);
  OriginProcess o(dir, config(redis->url(), 200, 1, "body_timeout_ms: 200\n"));
  auto objects = [&] {
    auto out = redis->cli(0, {"--scan", "--pattern", "lo:o:{final/*"});  // segments, not snapshots
    if (!out) return -1;
    return static_cast<int>(std::count(out->begin(), out->end(), '\n'));
  };
  const int64_t until = wall_ms() + 3000;
  int64_t last = -1;
  while (wall_ms() < until) {
    const int64_t n = edge_now(200) + 1;
    if (n != last) {
      ASSERT_EQ(put(o.port, seg(n), "a", std::string(1000, 'x')).status, 201);
      last = n;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_LE(objects(), 13);
  EXPECT_TRUE(eventually([&] { return objects() == 0; }, std::chrono::seconds(6)));
}

// A chunk write that fails is written again on its own, and a reader never sees part of
// the object: the store's guarantee, checked on RedisStore with a connection cut in the
// middle of a 10 MiB write.
TEST(StoreRedis, AChunkWriteCutShortIsRetriedWithoutAVisiblePartialObject) {
  TempDir dir("redis-chunks");
  auto redis = start_redis(dir, false);
  ASSERT_TRUE(redis);
  const uint16_t port = static_cast<uint16_t>(std::stoi(redis->url().substr(redis->url().rfind(':') + 1)));
  sim::FaultProxy proxy("127.0.0.1", port);
  StoreConfig sc;
  sc.url = "redis://127.0.0.1:" + std::to_string(proxy.port());
  sc.timeout_ms = 5000;
  auto url = StoreUrl::parse(sc.url);
  auto store = RedisStore::open(*url, sc);
  ASSERT_TRUE(store) << store.error().message;
  std::string body(10 << 20, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i * 7 + (i >> 13));
  auto bytes = std::make_shared<const std::string>(body);
  proxy.drop_after_bytes(3 << 20);  // cut while the 12th chunk or so is on its way
  std::atomic<int> stored{-1};
  (*store)->put("final/video/1/a/1", bytes, 0, [&](bool ok) { stored = ok ? 1 : 0; });
  int partial = 0, absent = 0, whole = 0;
  while (stored.load() < 0) {
    std::promise<SharedBytes> got;
    (*store)->get("final/video/1/a/1", [&](SharedBytes b) { got.set_value(std::move(b)); });
    SharedBytes b = got.get_future().get();
    if (!b) {
      ++absent;
    } else if (*b == body) {
      ++whole;
    } else {
      ++partial;
    }
  }
  EXPECT_EQ(stored.load(), 1);
  EXPECT_EQ(partial, 0);
  EXPECT_GT(absent, 0);
  EXPECT_GE(proxy.drops(), 1);
  std::promise<SharedBytes> got;
  (*store)->get("final/video/1/a/1", [&](SharedBytes b) { got.set_value(std::move(b)); });
  const SharedBytes back = got.get_future().get();
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, body);
  const std::string metrics = (*store)->metrics_text();
  EXPECT_EQ(metrics.find("liveorigin_redis_chunk_retries_total 0\n"), std::string::npos) << metrics;
}

TEST(StoreRedis, StoreTroubleIsShownAndSurvivedAndTheOriginRecovers) {
  TempDir dir("redis-trouble");
  auto redis = start_redis(dir, false, true);
  ASSERT_TRUE(redis);
  OriginProcess o(dir, "store: {url: \"" + redis->url() + "\", timeout_ms: 1000}\n" + event_yaml(), "o");
  const int64_t n = edge_now();
  for (int64_t k = n - 10; k <= n; ++k) ASSERT_EQ(put(o.port, seg(k), "a", "seg-" + std::to_string(k)).status, 201);
  // A slow store: answers take longer, nothing fails.
  redis->set_delay_ms(150);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(put(o.port, seg(n + 1), "a", "slow").status, 201);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(150));
  redis->set_delay_ms(0);
  // The live edge now, committed and in the hot cache.
  const int64_t live = edge_now();
  if (live > n + 1) ASSERT_EQ(put(o.port, seg(live), "a", "seg-" + std::to_string(live)).status, 201);
  ASSERT_EQ(http_request(o.port, "GET", seg(live)).status, 200);
  // Then no store at all.
  redis->set_down(true);
  const HttpResponse served = http_request(o.port, "GET", seg(live));
  EXPECT_EQ(served.status, 200) << served.body;  // from the hot cache
  const HttpResponse refused = put(o.port, seg(live + 1), "a", "nowhere");
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_TRUE(eventually([&] { return http_request(o.port, "GET", "/healthz").header("Live-Store") == "down"; }));
  const HttpResponse dvr = http_request(o.port, "GET", seg(n - 9));  // DVR, never read: not in the cache
  EXPECT_EQ(dvr.status, 503);
  EXPECT_EQ(dvr.header("Cache-Control"), "max-age=5");
  const std::string metrics = http_request(o.port, "GET", "/metrics").body;
  EXPECT_NE(metrics.find("liveorigin_store_up 0"), std::string::npos);
  // Back: it recovers by itself.
  redis->set_down(false);
  EXPECT_TRUE(eventually([&] { return put(o.port, seg(edge_now() + 1), "a", "back").status == 201; }));
  EXPECT_TRUE(eventually([&] { return http_request(o.port, "GET", seg(n - 9)).status == 200; }));
  EXPECT_NE(http_request(o.port, "GET", "/metrics").body.find("liveorigin_store_up 1"), std::string::npos);
  const std::string log = o.log();
  const size_t failing = log.find(": failing:");
  EXPECT_NE(failing, std::string::npos) << log;
  EXPECT_EQ(log.find(": failing:", failing + 1), std::string::npos) << "logged once per transition:\n" << log;
  EXPECT_NE(log.find(": answering again"), std::string::npos) << log;
}

// --- faults by wrapping ---------------------------------------------------------------

TEST(StoreFaults, AnErrorRateAnswersPutsWith503AndWhatIsRetriedIsStored) {
  RunningServer s(example_config(), RunningServer::kT0, 2, true);
  const int64_t n = RunningServer::kT0 / 2000 - 1;
  s.fault->set_error_rate(1.0);
  EXPECT_EQ(s.put(seg(n - 30), "a", "never").status, 503);
  EXPECT_EQ(s.get(seg(n - 30)).header("Live-Reject"), "missing");  // nothing acknowledged, nothing served
  s.fault->set_error_rate(0.5, 7);
  int refused = 0;
  for (int64_t k = n - 19; k <= n; ++k) {
    int status = 0;
    for (int attempt = 0; attempt < 50 && status != 201; ++attempt) {
      status = s.put(seg(k), "a", "seg-" + std::to_string(k)).status;
      if (status == 503) ++refused;
    }
    ASSERT_EQ(status, 201);
  }
  EXPECT_GT(refused, 0);
  s.fault->set_error_rate(0);
  for (int64_t k = n - 19; k <= n; ++k) EXPECT_EQ(s.get(seg(k)).body, "seg-" + std::to_string(k));
  s.fault->set_put_delay_ms(200);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(s.put(seg(n + 1), "a", "late").status, 201);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(200));
}

// --- redis cluster ------------------------------------------------------------------

TEST(StoreRedisCluster, APrimaryKilledMidIngestLosesNothingAcknowledged) {
  TempDir dir("cluster-kill");
  auto redis = start_redis(dir, true);
  ASSERT_TRUE(redis);
  const std::string yaml = config(redis->url(), 500);
  OriginProcess a(dir, yaml, "a");
  OriginProcess b(dir, yaml, "b");
  ASSERT_NE(a.port, 0) << a.log();
  ASSERT_NE(b.port, 0) << b.log();
  auto journal_primary = redis->primary_of("lo:j:{final}");
  ASSERT_TRUE(journal_primary) << journal_primary.error().message;

  // A packager: each segment as it is due, alternately through each instance, tried
  // again until acknowledged (as packagers do); 300 KB bodies are two chunks.
  std::map<int64_t, std::string> acked;
  int refused = 0;
  int64_t slowest_ms = 0;  // the failover stalls the PUTs in flight
  const int64_t start = wall_ms();
  bool killed = false;
  size_t acked_before_kill = 0;
  int64_t last = -1;
  // How long the failover takes depends on the machine's load, so the run goes on until
  // ingest has been acknowledged again for a while (bounded), not for a fixed time.
  auto enough = [&] { return killed && acked.size() >= acked_before_kill + 6; };
  while (!enough() && wall_ms() < start + 45'000) {
    if (!killed && wall_ms() > start + 3000) {
      redis->kill(*journal_primary);
      killed = true;
      acked_before_kill = acked.size();
    }
    const int64_t n = edge_now(500) + 1;
    if (n == last) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    last = n;
    const std::string body = "segment " + std::to_string(n) + std::string(300'000, static_cast<char>('a' + n % 26));
    const uint16_t port = n % 2 ? a.port : b.port;
    for (int attempt = 0; attempt < 40 && wall_ms() < start + 45'000; ++attempt) {
      const int64_t t0 = wall_ms();
      const int status = put(port, seg(n), "a", body).status;
      slowest_ms = std::max(slowest_ms, wall_ms() - t0);
      if (status == 201 || status == 204) {
        acked[n] = body;
        break;
      }
      ++refused;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  ASSERT_TRUE(killed);
  ASSERT_TRUE(redis->wait_healthy(std::chrono::seconds(30)));
  std::cout << acked_before_kill << " segments acknowledged before the kill, " << acked.size() - acked_before_kill
            << " after, " << refused << " PUTs refused, slowest PUT " << slowest_ms << " ms, "
            << (wall_ms() - start) / 1000.0 << " s\n";
  EXPECT_GE(acked_before_kill, 4u);
  EXPECT_TRUE(enough()) << "ingest was not acknowledged again within 45 s of the start";
  EXPECT_GE(slowest_ms, 500) << "the primary's failover did not reach the ingest";
  for (const auto& [n, body] : acked) {
    SCOPED_TRACE(n);
    const HttpResponse x = http_request(a.port, "GET", seg(n));
    const HttpResponse y = http_request(b.port, "GET", seg(n));
    EXPECT_EQ(x.status, 200) << x.body.substr(0, 200) << "\n" << a.log();
    EXPECT_EQ(y.status, 200) << y.body.substr(0, 200);
    EXPECT_TRUE(x.body == body) << x.body.size() << " bytes from a, " << body.size() << " acknowledged";
    EXPECT_TRUE(y.body == body) << y.body.size() << " bytes from b, " << body.size() << " acknowledged";
    EXPECT_EQ(x.header("ETag"), y.header("ETag"));
  }
}

}  // namespace
}  // namespace liveorigin::testing
