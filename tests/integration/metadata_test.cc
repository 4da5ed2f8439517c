// docs/http-api.md §7.8-§12 over real sockets: markers, invalidation, overload with real
// concurrent clients, the ingest listener, SIGHUP reload.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/support/core_harness.h"
#include "tests/support/server_fixture.h"

namespace liveorigin::testing {
namespace {

constexpr int64_t kD = 2000;
constexpr int64_t kEdge = RunningServer::kT0 / kD - 1;

std::string seg(int64_t n, const std::string& stream = "video") {
  return "/live/final/" + stream + "/" + std::to_string(n) + ".m4s";
}

TEST(ServerMarkers, CarriedOnLiveAndDvrResponsesAndAChangeIsVisibleToRevalidation) {
  RunningServer s(example_config());
  for (int64_t n = kEdge - 3; n <= kEdge; ++n) ASSERT_EQ(s.put(seg(n), "a", "s" + std::to_string(n)).status, 201);
  HttpResponse before = s.get(seg(kEdge - 2));
  EXPECT_FALSE(before.has("Live-Markers"));
  HttpResponse post = s.admin("POST", "/admin/events/final/markers",
                              R"({"id": "ad1", "kind": "ad-break", "start_segment": )" + std::to_string(kEdge - 2) +
                                  R"(, "duration_ms": 4000, "data": "/DA="})");
  ASSERT_EQ(post.status, 201) << post.body;
  const std::string expected = "\"ad1\";kind=\"ad-break\";start=" + std::to_string((kEdge - 2) * kD) +
                               ";dur=4000;data=:/DA=:";
  // The CDN's revalidation of its cached copy: the marker changed the segment.
  HttpResponse reval = s.get(seg(kEdge - 2), {{"If-None-Match", before.header("ETag")}});
  EXPECT_EQ(reval.status, 200);
  EXPECT_EQ(reval.header("Live-Markers"), expected);
  EXPECT_EQ(reval.header("Live-Version"), "1");
  EXPECT_EQ(s.get(seg(kEdge - 1)).header("Live-Markers"), expected);
  EXPECT_FALSE(s.get(seg(kEdge)).has("Live-Markers"));
  EXPECT_FALSE(s.get(seg(kEdge - 3)).has("Live-Markers"));
  HttpResponse list = s.admin("GET", "/admin/events/final/markers");
  EXPECT_NE(list.body.find(R"("id":"ad1","kind":"ad-break")"), std::string::npos) << list.body;
}

TEST(ServerInvalidation, ServedFromAInvalidatedWithAExcludedThenFromBWithANewEtagAndInTheFeed) {
  RunningServer s(example_config());
  ASSERT_EQ(s.put(seg(kEdge), "a", "from-a").status, 201);
  ASSERT_EQ(s.put(seg(kEdge), "b", "from-b").status, 201);
  HttpResponse first = s.get(seg(kEdge));
  ASSERT_EQ(first.header("Live-Pipeline"), "a");
  HttpResponse feed0 = s.get("/live/final/_invalidations?since=0");
  EXPECT_EQ(feed0.body, "[]\n");

  HttpResponse inv = s.admin("POST", "/admin/invalidate",
                             R"({"event":"final","stream":"video","from_segment":)" + std::to_string(kEdge) +
                                 R"(,"to_segment":)" + std::to_string(kEdge) + R"(,"pipeline":"a","exclude":true})");
  ASSERT_EQ(inv.status, 200) << inv.body;
  HttpResponse feed = s.get("/live/final/_invalidations?since=0", {{"If-None-Match", feed0.header("ETag")}});
  EXPECT_EQ(feed.status, 200);
  EXPECT_NE(feed.body.find(R"("pipeline":"a","exclude":true)"), std::string::npos) << feed.body;
  HttpResponse after = s.get(seg(kEdge), {{"If-None-Match", first.header("ETag")}});
  EXPECT_EQ(after.status, 200);
  EXPECT_EQ(after.body, "from-b");
  EXPECT_EQ(after.header("Live-Pipeline"), "b");
  EXPECT_NE(after.header("ETag"), first.header("ETag"));
  EXPECT_EQ(s.get(seg(kEdge), {{"If-None-Match", after.header("ETag")}}).status, 304);
  EXPECT_EQ(s.get("/live/final/_invalidations?since=0", {{"If-None-Match", feed.header("ETag")}}).status, 304);
  HttpResponse audit = s.admin("GET", "/admin/events/final/streams/video/segments/" + std::to_string(kEdge));
  EXPECT_NE(audit.body.find(R"("choice":{"pipeline":"b")"), std::string::npos) << audit.body;
}

TEST(ServerOverload, LiveEdgeKeepsItsOksWhileDvrIsShedAndRepeatsAreSuppressed) {
  // A slow store (150 ms a read) and room for 4 reads in flight: DVR traffic piles up.
  RunningServer s(example_config("", "overload:\n  store_reads_max: 4\n"), RunningServer::kT0, 2, /*faulty=*/true);
  for (int64_t n = kEdge - 40; n <= kEdge; ++n) ASSERT_EQ(s.put(seg(n), "a", std::string(20000, 'x')).status, 201);
  s.fault->set_get_delay_ms(150);

  std::atomic<int> live_ok{0}, live_other{0}, dvr_ok{0}, dvr_shed{0}, dvr_other{0};
  std::atomic<bool> bad_shed_headers{false};
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
  std::vector<std::thread> clients;
  for (int c = 0; c < 16; ++c) {
    clients.emplace_back([&, c] {
      HttpClient client(s.port);
      int64_t n = kEdge - 10 - c;  // a DVR viewer, each on its own segment
      while (std::chrono::steady_clock::now() < until) {
        if (!client.connected()) client = HttpClient(s.port);
        HttpResponse r = client.request("GET", seg(n));
        if (r.status == 200) {
          ++dvr_ok;
        } else if (r.status == 503) {
          ++dvr_shed;
          if (r.header("Cache-Control") == "" || r.header("CMSD-Dynamic").find(";du") == std::string::npos) {
            bad_shed_headers = true;
          }
          continue;  // a repeat of the shed request, at once (a CDN that ignores the TTL)
        } else {
          ++dvr_other;
        }
        n = n > kEdge - 40 ? n - 1 : kEdge - 10;
      }
    });
  }
  for (int c = 0; c < 2; ++c) {
    clients.emplace_back([&] {
      HttpClient client(s.port);
      while (std::chrono::steady_clock::now() < until) {
        HttpResponse r = client.request("GET", seg(kEdge));
        (r.status == 200 ? live_ok : live_other)++;
      }
    });
  }
  for (auto& t : clients) t.join();

  EXPECT_GT(live_ok.load(), 10);
  EXPECT_EQ(live_other.load(), 0);
  EXPECT_GT(dvr_shed.load(), 0);
  EXPECT_GT(dvr_ok.load(), 0);
  EXPECT_EQ(dvr_other.load(), 0);
  EXPECT_FALSE(bad_shed_headers.load());
  EXPECT_EQ(s.metric(R"(liveorigin_requests_total{class="live",zone="select",status="503"})"), -1);
  EXPECT_GT(s.metric(R"(liveorigin_shed_total{class="dvr"})"), 0);
  // Most repeats never reached the shedding logic: answered from the suppression cache.
  EXPECT_GT(s.metric("liveorigin_suppressed_total"), s.metric(R"(liveorigin_shed_total{class="dvr"})"));
  std::printf("live 200: %d, dvr 200: %d, dvr 503: %d (shed %lld, suppressed %lld)\n", live_ok.load(), dvr_ok.load(),
              dvr_shed.load(), static_cast<long long>(s.metric(R"(liveorigin_shed_total{class="dvr"})")),
              static_cast<long long>(s.metric("liveorigin_suppressed_total")));
}

TEST(ServerIngestListener, PackagersHaveTheirOwnListener) {
  RunningServer s(example_config("", "ingest_listen: 127.0.0.1:0\n"));
  ASSERT_NE(s.server->ingest_port(), 0);
  ASSERT_NE(s.server->ingest_port(), s.port);
  HttpClient ingest(s.server->ingest_port());
  HttpResponse put = ingest.request("PUT", seg(kEdge), {{"Authorization", "Bearer ingest-secret"}, {"Live-Pipeline", "a"}},
                                    "via-ingest-listener");
  EXPECT_EQ(put.status, 201);
  EXPECT_EQ(s.get(seg(kEdge)).body, "via-ingest-listener");
}

}  // namespace
}  // namespace liveorigin::testing

namespace liveorigin::testing {
namespace {

TEST(ServerHttp10, KeepAliveIsAnnouncedAndHonoured) {
  RunningServer s(example_config());
  HttpClient c(s.port);
  c.send_raw("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  HttpResponse r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Connection"), "keep-alive");
  c.send_raw("GET /time HTTP/1.0\r\n\r\n");  // no keep-alive: answered, then closed
  HttpResponse last = c.read_response();
  EXPECT_EQ(last.status, 200);
  EXPECT_TRUE(c.closed_by_peer(std::chrono::seconds(2)));
}

TEST(ServerMetricsLabels, OversizedHeadsAndIngestedBytes) {
  RunningServer s(example_config());
  HttpClient c(s.port);
  c.send_raw("GET / HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
  EXPECT_EQ(c.read_response().status, 431);
  ASSERT_EQ(s.put(seg(kEdge), "a", std::string(1000, 'x')).status, 201);
  EXPECT_EQ(s.put(seg(kEdge + 50), "a", std::string(500, 'y')).status, 422);
  EXPECT_EQ(s.metric(R"(liveorigin_requests_total{class="none",zone="bad-request",status="431"})"), 1);
  EXPECT_EQ(s.metric("liveorigin_ingested_bytes_total"), 1000);  // the refused PUT is not counted
}

}  // namespace
}  // namespace liveorigin::testing
