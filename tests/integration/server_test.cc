// The real server on loopback, talked to over HTTP: every behaviour of
// docs/http-api.md §2-§7 and the operations the server needs, as a packager and a CDN see it.
#include <gtest/gtest.h>

#include <openssl/sha.h>

#include <future>
#include <random>
#include <regex>

#include "origin/core/base64.h"
#include "tests/support/core_harness.h"
#include "tests/support/server_fixture.h"

namespace liveorigin::testing {
namespace {

constexpr int64_t kD = 2000;
constexpr int64_t kEdge = RunningServer::kT0 / kD - 1;

std::string seg(int64_t n, const std::string& stream = "video") {
  return "/live/final/" + stream + "/" + std::to_string(n) + ".m4s";
}

std::string random_bytes(size_t n, uint32_t seed = 1) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

std::string sha256_b64(const std::string& body) {
  unsigned char md[32];
  SHA256(reinterpret_cast<const unsigned char*>(body.data()), body.size(), md);
  return base64_encode(std::string_view(reinterpret_cast<const char*>(md), 32));
}

std::string put_head(int64_t n, const std::string& pipeline, const std::string& extra = "") {
  return "PUT " + seg(n) + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ingest-secret\r\nLive-Pipeline: " +
         pipeline + "\r\n" + extra;
}

// --- time ------------------------------------------------------------------

TEST(ServerTime, TimeAndTimelineOverHttp) {
  RunningServer s(example_config());
  s.clock.advance_ms(1500);
  HttpResponse t = s.get("/time");
  EXPECT_EQ(t.status, 200);
  EXPECT_EQ(t.body, "1970-01-12T13:46:41.500Z");
  EXPECT_TRUE(std::regex_match(t.body, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
  HttpResponse tl = s.get("/live/final/_timeline");
  EXPECT_EQ(tl.status, 200);
  EXPECT_EQ(tl.header("Content-Type"), "application/json");
  EXPECT_NE(tl.body.find(R"("live_edge":499999)"), std::string::npos) << tl.body;
  EXPECT_EQ(s.get("/live/nope/_timeline").header("Live-Reject"), "unknown-event");
}

// --- ingest ----------------------------------------------------------------

TEST(ServerIngest, SizedAndChunkedBodiesAreStoredByteForByte) {
  RunningServer s(example_config());
  const std::string big = random_bytes(1536 * 1024, 7);
  EXPECT_EQ(s.put(seg(kEdge), "a", big, "", /*chunked=*/false).status, 201);
  EXPECT_EQ(s.put(seg(kEdge - 1), "a", big, "", /*chunked=*/true).status, 201);
  for (int64_t n : {kEdge, kEdge - 1}) {
    HttpResponse r = s.get(seg(n));
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body.size(), big.size());
    EXPECT_TRUE(r.body == big);
    EXPECT_EQ(r.header("Content-Length"), std::to_string(big.size()));
  }
}

TEST(ServerIngest, BodyReceivedInFullIsStoredEvenIfTheClientLeavesBeforeTheAnswer) {
  // ffmpeg with -http_persistent 0 closes right after the chunk terminator.
  RunningServer s(example_config());
  {
    HttpClient c(s.port);
    c.send_raw(put_head(kEdge, "a", "Transfer-Encoding: chunked\r\n\r\n") + "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    c.close();
  }
  EXPECT_TRUE(RunningServer::eventually([&] { return s.get(seg(kEdge)).status == 200; }));
  EXPECT_EQ(s.get(seg(kEdge)).body, "hello world");
}

TEST(ServerIngest, BodyCutShortIsDiscarded) {
  RunningServer s(example_config());
  {
    HttpClient c(s.port);
    c.send_raw(put_head(kEdge, "a", "Content-Length: 1000\r\n\r\n") + std::string(500, 'x'));
    c.close();
  }
  {
    HttpClient c(s.port);
    c.send_raw(put_head(kEdge, "b", "Transfer-Encoding: chunked\r\n\r\n") + "5\r\nhello\r\n");
    c.close();
  }
  // Wait until the server has seen both connections end, then check nothing was stored.
  EXPECT_TRUE(RunningServer::eventually([&] { return s.server->open_connections() == 0; }));
  HttpResponse audit = s.admin("GET", "/admin/events/final/streams/video/segments/" + std::to_string(kEdge));
  EXPECT_NE(audit.body.find(R"("candidates":[])"), std::string::npos) << audit.body;
  EXPECT_EQ(s.store.objects(), 0u);
  EXPECT_EQ(s.origin->stored_bytes(), 0);
}

TEST(ServerIngest, ExpectContinueIsAnsweredAndARejectionComesBeforeTheBody) {
  RunningServer s(example_config());
  HttpClient c(s.port);
  c.send_raw(put_head(kEdge, "a", "Content-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  EXPECT_EQ(c.read_raw(500ms), "HTTP/1.1 100 Continue\r\n\r\n");
  c.send_raw("hello");
  EXPECT_EQ(c.read_response().status, 201);

  HttpClient early(s.port);
  early.send_raw(put_head(kEdge + 50, "a", "Content-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  HttpResponse r = early.read_response();
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.header("Live-Reject"), "too-early");
  EXPECT_TRUE(early.closed_by_peer(2s));  // the unread body would desynchronise the stream
}

TEST(ServerIngest, EveryStatusOfThePutContract) {
  RunningServer s(example_config("", "body_limit_bytes: 65536\n"));
  HttpClient c(s.port);
  auto put = [&](const HeaderList& h, const std::string& body, int64_t n = kEdge, bool chunked = false) {
    HttpClient fresh(s.port);
    return fresh.request("PUT", seg(n), h, body, chunked);
  };
  const HeaderList a = {{"Authorization", "Bearer ingest-secret"}, {"Live-Pipeline", "a"}};
  HttpResponse no_token = put({{"Live-Pipeline", "a"}}, "x");
  EXPECT_EQ(no_token.status, 401);
  EXPECT_NE(no_token.header("WWW-Authenticate").find("Bearer"), std::string::npos);
  EXPECT_EQ(put({{"Authorization", "Bearer wrong"}, {"Live-Pipeline", "a"}}, "x").status, 401);
  EXPECT_EQ(put({{"Authorization", "Bearer only-b"}, {"Live-Pipeline", "a"}}, "x").status, 403);
  HttpResponse bad_defects = put({a[0], a[1], {"Segment-Defects", "missing-frames=x"}}, "x");
  EXPECT_EQ(bad_defects.status, 400);
  EXPECT_TRUE(bad_defects.body.starts_with("Segment-Defects: ")) << bad_defects.body;
  HttpResponse bad_digest = put({a[0], a[1], {"Repr-Digest", "sha-256=:" + sha256_b64("other") + ":"}}, "x");
  EXPECT_EQ(bad_digest.status, 400);
  EXPECT_NE(bad_digest.body.find("Repr-Digest"), std::string::npos);
  EXPECT_EQ(put({a[0], a[1], {"Repr-Digest", "sha-256=:" + sha256_b64("x") + ":"}}, "x").status, 201);
  EXPECT_EQ(put(a, "x").status, 204);
  s.get(seg(kEdge));  // commits a's clean copy
  EXPECT_EQ(put(a, "y").status, 409);
  EXPECT_EQ(put(a, std::string(65537, 'z'), kEdge - 1).status, 413);
  EXPECT_EQ(put(a, std::string(65537, 'z'), kEdge - 1, /*chunked=*/true).status, 413);
  EXPECT_EQ(put(a, "x", kEdge - 5000).status, 422);
  EXPECT_EQ(put(a, "x", kEdge + 3).status, 422);
  EXPECT_EQ(c.request("DELETE", seg(kEdge), a).status, 204);
  EXPECT_EQ(s.get(seg(kEdge)).body, "x");  // DELETE had no effect
  // Segment-Defects split over two field lines is one dictionary.
  EXPECT_EQ(put({a[0], a[1], {"Segment-Defects", "missing-frames=2"}, {"Segment-Defects", "corrupt"}}, "d",
                kEdge - 2)
                .status,
            201);
  EXPECT_EQ(s.get(seg(kEdge - 2)).header("Segment-Defects"), "missing-frames=2, corrupt");
}

TEST(ServerIngest, PathPrefixIngest) {
  RunningServer s(example_config());
  HttpClient c(s.port);
  EXPECT_EQ(c.request("PUT", "/ingest/b/ingest-secret/final/video/" + std::to_string(kEdge) + ".m4s", {}, "p").status,
            201);
  EXPECT_EQ(s.get(seg(kEdge)).header("Live-Pipeline"), "b");
}

// --- delivery --------------------------------------------------------------

TEST(ServerDelivery, ZonesWithLiveRejectAndTtl) {
  RunningServer s(example_config());
  struct Row {
    std::string target;
    int status;
    std::string reject;
    std::string cdn_cache;
  };
  const std::vector<Row> rows = {
      {"/live/nope/video/1.m4s", 404, "unknown-event", "max-age=10, max-age-ms=10000"},
      {"/live/final/nope/1.m4s", 404, "unknown-stream", "max-age=10, max-age-ms=10000"},
      {seg(1), 410, "expired", "max-age=3600, max-age-ms=3600000"},
      {seg(kEdge), 404, "missing", "max-age=2, max-age-ms=2000"},
      {seg(kEdge + 2), 404, "not-yet", "max-age=2, max-age-ms=2000"},
      {seg(kEdge + 11), 404, "too-early", "max-age=20, max-age-ms=20000"},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.target);
    HttpResponse r = s.get(row.target);
    EXPECT_EQ(r.status, row.status);
    EXPECT_EQ(r.header("Live-Reject"), row.reject);
    EXPECT_EQ(r.header("CDN-Cache-Control"), row.cdn_cache);
    EXPECT_FALSE(r.header("Cache-Control").empty());
  }
}

// Found by tests/fuzz/core_request: n * d overflowed (undefined behaviour) for a
// number of 16 digits. It is too early, like any number far ahead; the audit refuses it.
TEST(ServerDelivery, ANumberBeyondTheTimeMathIsTooEarly) {
  RunningServer s(example_config());
  for (const std::string n : {"8888888888899999", "999999999999999999"}) {
    HttpClient c(s.port);
    c.send_raw("GET /live/final/video/" + n + ".m4s HTTP/1.1\r\nHost: a\r\n\r\n");
    HttpResponse r = c.read_response();
    EXPECT_EQ(r.status, 404) << n;
    EXPECT_EQ(r.header("Live-Reject"), "too-early") << n;
    EXPECT_EQ(r.header("CDN-Cache-Control"), "max-age=60, max-age-ms=60000") << n;
    HttpResponse audit = s.admin("GET", "/admin/events/final/streams/video/segments/" + n);
    EXPECT_EQ(audit.status, 400) << n;
    EXPECT_NE(audit.body.find("segment number out of range"), std::string::npos) << audit.body;
  }
  EXPECT_EQ(s.admin("GET", "/admin/events/final/streams/video/segments/-9223372036854775807").status, 400);
}

TEST(ServerDelivery, SelectionFailsOverToTheCleanPipelineAndPassesDefectsDownstream) {
  RunningServer s(example_config());
  // a drops a frame in one segment, b is clean: b's copy.
  ASSERT_EQ(s.put(seg(kEdge - 1), "a", "a-1", "missing-frames=1").status, 201);
  ASSERT_EQ(s.put(seg(kEdge - 1), "b", "b-1").status, 201);
  // both broken: the lesser defect, with its defects downstream.
  ASSERT_EQ(s.put(seg(kEdge), "a", "a-2", "corrupt").status, 201);
  ASSERT_EQ(s.put(seg(kEdge), "b", "b-2", "short-ms=80").status, 201);
  HttpResponse r1 = s.get(seg(kEdge - 1));
  EXPECT_EQ(r1.header("Live-Pipeline"), "b");
  EXPECT_EQ(r1.body, "b-1");
  EXPECT_FALSE(r1.has("Segment-Defects"));
  HttpResponse r2 = s.get(seg(kEdge));
  EXPECT_EQ(r2.body, "b-2");
  EXPECT_EQ(r2.header("Segment-Defects"), "short-ms=80");
  EXPECT_EQ(s.metric("liveorigin_defective_served_total"), 1);
  EXPECT_EQ(s.metric(R"(liveorigin_selections_total{event="final",stream="video",pipeline="b",reason="clean"})"), 1);
}

TEST(ServerDelivery, HeadEqualsGetWithoutBodyAndConditionalAndRange) {
  RunningServer s(example_config());
  const std::string body = random_bytes(100000, 3);
  ASSERT_EQ(s.put(seg(kEdge), "a", body).status, 201);
  HttpClient c(s.port);
  HttpResponse get = c.request("GET", seg(kEdge));
  HttpResponse head = c.request("HEAD", seg(kEdge));
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  for (const char* h : {"Content-Length", "ETag", "Live-Version", "Live-Pipeline", "CMSD-Static", "Cache-Control",
                        "CDN-Cache-Control", "Content-Type"}) {
    EXPECT_EQ(head.header(h), get.header(h)) << h;
  }
  EXPECT_EQ(get.header("Content-Length"), "100000");
  HttpResponse nm = c.request("GET", seg(kEdge), {{"If-None-Match", get.header("ETag")}});
  EXPECT_EQ(nm.status, 304);
  EXPECT_TRUE(nm.body.empty());
  EXPECT_EQ(nm.header("ETag"), get.header("ETag"));
  HttpResponse part = c.request("GET", seg(kEdge), {{"Range", "bytes=1000-1999"}});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, body.substr(1000, 1000));
  EXPECT_EQ(part.header("Content-Range"), "bytes 1000-1999/100000");
  EXPECT_EQ(c.request("GET", seg(kEdge), {{"Range", "bytes=200000-"}}).status, 416);
  EXPECT_TRUE(c.connected());  // all on one keep-alive connection
}

TEST(ServerDelivery, PlainObjectsFromTheHighestRankLivePipeline) {
  RunningServer s(example_config());
  ASSERT_EQ(s.put("/live/final/video/init.mp4", "b", "init-b").status, 201);
  ASSERT_EQ(s.put("/live/final/video/init.mp4", "a", "init-a").status, 201);
  ASSERT_EQ(s.put("/live/final/video/manifest.mpd", "a", "<MPD/>", "", /*chunked=*/true).status, 201);
  HttpResponse init = s.get("/live/final/video/init.mp4");
  EXPECT_EQ(init.body, "init-a");
  EXPECT_EQ(init.header("CMSD-Static"), "at=1000000000,ot=i,st=l");
  EXPECT_EQ(s.metric(R"(liveorigin_init_mismatch_total{event="final",stream="video"})"), 1);
  ASSERT_EQ(s.put("/live/final/video/manifest.mpd", "a", "<MPD 2/>", "", true).status, 204);
  EXPECT_EQ(s.get("/live/final/video/manifest.mpd").body, "<MPD 2/>");
}

// --- holds -----------------------------------------------------------------

TEST(ServerHolds, HeldRequestsAreAnsweredTheMomentTheSegmentIsPublished) {
  RunningServer s(example_config());
  constexpr int kClients = 50;
  std::vector<std::unique_ptr<HttpClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<HttpClient>(s.port));
    clients.back()->send_raw("GET " + seg(kEdge + 1) + " HTTP/1.1\r\nHost: x\r\n\r\n");
  }
  ASSERT_TRUE(RunningServer::eventually([&] { return s.origin->held_requests() == kClients; }));
  EXPECT_EQ(s.metric("liveorigin_held_requests"), kClients);
  s.clock.advance_ms(250);
  const auto put_at = std::chrono::steady_clock::now();
  ASSERT_EQ(s.put(seg(kEdge + 1), "a", "published").status, 201);
  for (auto& c : clients) {
    HttpResponse r = c->read_response(5s);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "published");
    EXPECT_NE(r.header("CMSD-Static").find("ht=250"), std::string::npos) << r.header("CMSD-Static");
  }
  // Woken by the PUT, not by a timer (the clock stands still: no timer could answer them).
  EXPECT_LT(std::chrono::steady_clock::now() - put_at, 3s);
  EXPECT_EQ(s.origin->held_requests(), 0);
}

TEST(ServerHolds, AtTheBoundRequestsAreNotHeldAndADisconnectFreesItsSlot) {
  RunningServer s(example_config("", "hold_requests_max: 3\n"));
  std::vector<std::unique_ptr<HttpClient>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<HttpClient>(s.port));
    held.back()->send_raw("GET " + seg(kEdge + 1) + " HTTP/1.1\r\nHost: x\r\n\r\n");
  }
  ASSERT_TRUE(RunningServer::eventually([&] { return s.origin->held_requests() == 3; }));
  HttpResponse refused = s.get(seg(kEdge + 1));
  EXPECT_EQ(refused.status, 404);
  EXPECT_EQ(refused.header("Live-Reject"), "not-yet");
  held[0]->close();
  EXPECT_TRUE(RunningServer::eventually([&] { return s.origin->held_requests() == 2; }));
  HttpClient again(s.port);
  again.send_raw("GET " + seg(kEdge + 1) + " HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(RunningServer::eventually([&] { return s.origin->held_requests() == 3; }));
  ASSERT_EQ(s.put(seg(kEdge + 1), "a", "ok").status, 201);
  EXPECT_EQ(again.read_response().status, 200);
  EXPECT_EQ(held[1]->read_response().status, 200);
  EXPECT_EQ(s.metric("liveorigin_holds_refused_total"), 1);
}

TEST(ServerHolds, KeepAliveConnectionsAreHeldAgainForTheNextSegment) {
  RunningServer s(example_config());
  HttpClient c(s.port);
  for (int64_t n = kEdge + 1; n <= kEdge + 3; ++n) {
    s.clock.set_ms((n + 1) * kD - 1000);  // due in 1 s: inside the hold window
    c.send_raw("GET " + seg(n) + " HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(RunningServer::eventually([&] { return s.origin->held_requests() == 1; })) << n;
    s.clock.set_ms((n + 1) * kD - 50);
    ASSERT_EQ(s.put(seg(n), "a", "s" + std::to_string(n)).status, 201);
    HttpResponse r = c.read_response();
    EXPECT_EQ(r.status, 200) << n;
    EXPECT_EQ(r.body, "s" + std::to_string(n));
  }
  EXPECT_EQ(s.metric("liveorigin_hold_timeouts_total"), 0);
}

TEST(ServerHolds, HoldEndsAtHoldMsMaxWithNotYet) {
  RunningServer s(example_config("        hold_ms_max: 300\n"));
  HttpClient c(s.port);
  c.send_raw("GET " + seg(kEdge + 1) + " HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(RunningServer::eventually([&] { return s.origin->held_requests() == 1; }));
  s.clock.advance_ms(300);  // the server's timer re-checks against the origin clock
  HttpResponse r = c.read_response(5s);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.header("Live-Reject"), "not-yet");
  EXPECT_NE(r.header("CMSD-Static").find("ht=300"), std::string::npos);
  EXPECT_EQ(s.origin->held_requests(), 0);
}

TEST(ServerHolds, GraceHoldEndsWithTheDefectiveCopyWhenTheOtherPipelineNeverComes) {
  RunningServer s(example_config());
  ASSERT_EQ(s.put(seg(kEdge - 1), "b", "b-prev").status, 201);  // b is live
  ASSERT_EQ(s.put(seg(kEdge), "a", "a-bad", "discontinuity").status, 201);
  HttpClient c(s.port);
  c.send_raw("GET " + seg(kEdge) + " HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(RunningServer::eventually([&] { return s.origin->held_requests() == 1; }));
  s.clock.advance_ms(500);
  HttpResponse r = c.read_response(5s);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "a-bad");
  EXPECT_EQ(r.header("Segment-Defects"), "discontinuity");
}

// --- memory, operations ------------------------------------------------------

TEST(ServerMemory, StoreStaysWithinItsBudget) {
  RunningServer s(example_config("", "store:\n  budget_bytes: 2097152\n"));
  const std::string body = random_bytes(200 * 1024, 9);
  int64_t n = kEdge;
  for (int i = 0; i < 40; ++i, ++n) {
    ASSERT_EQ(s.put(seg(n), "a", body + std::to_string(i)).status, 201) << i;
    s.clock.advance_ms(kD);
  }
  EXPECT_LE(s.metric("liveorigin_store_bytes"), 2097152);
  EXPECT_LE(s.store.bytes(), 2097152);
  EXPECT_EQ(s.get(seg(kEdge)).header("Live-Reject"), "evicted");
  EXPECT_EQ(s.get(seg(n - 1)).status, 200);
}

TEST(ServerOperations, HealthzMetricsAndAudit) {
  RunningServer s(example_config());
  EXPECT_EQ(s.get("/healthz").status, 200);
  ASSERT_EQ(s.put(seg(kEdge), "a", "x", "missing-samples=3").status, 201);
  ASSERT_EQ(s.put(seg(kEdge), "b", "y").status, 201);
  s.get(seg(kEdge));
  HttpResponse audit = s.admin("GET", "/admin/events/final/streams/video/segments/" + std::to_string(kEdge));
  EXPECT_EQ(audit.status, 200);
  EXPECT_NE(audit.body.find(R"({"pipeline":"a","defects":"missing-samples=3","arrived_ms":1000000000,"bytes":1)"),
            std::string::npos)
      << audit.body;
  EXPECT_NE(audit.body.find(R"("choice":{"pipeline":"b","committed_ms":1000000000,"reason":"clean"})"),
            std::string::npos)
      << audit.body;
  HttpResponse m = s.get("/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.header("Content-Type").find("text/plain"), std::string::npos);
  EXPECT_EQ(s.metric(R"(liveorigin_requests_total{class="live",zone="select",status="200"})"), 1);
  EXPECT_EQ(s.metric(R"(liveorigin_puts_total{status="201"})"), 2);
  EXPECT_EQ(s.admin("GET", "/admin/events").status, 200);
  EXPECT_EQ(http_request(s.port, "GET", "/admin/events").status, 401);
}

TEST(ServerOperations, AdminEventsApiOverHttp) {
  RunningServer s(example_config());
  HttpResponse created = s.admin("PUT", "/admin/events/cup",
                                 R"({"pipelines":["a","b"],"streams":[{"id":"v","segment_duration_ms":2000}]})");
  EXPECT_EQ(created.status, 201);
  ASSERT_EQ(s.put("/live/cup/v/" + std::to_string(kEdge) + ".m4s", "a", "cup").status, 201);
  EXPECT_EQ(s.get("/live/cup/v/" + std::to_string(kEdge) + ".m4s").body, "cup");
  HttpResponse bad = s.admin("PUT", "/admin/events/cup", R"({"pipelines":["a"],"streams":[{"id":"v","bogus":1}]})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("streams[0].bogus: unknown key"), std::string::npos) << bad.body;
  EXPECT_EQ(s.admin("DELETE", "/admin/events/cup").status, 204);
  EXPECT_EQ(s.get("/live/cup/v/1.m4s").header("Live-Reject"), "unknown-event");
}

// --- bad input ---------------------------------------------------------------

TEST(ServerBadInput, MalformedRequestsGet4xxAndTheServerCarriesOn) {
  RunningServer s(example_config());
  ASSERT_EQ(s.put(seg(kEdge), "a", "kept").status, 201);
  {
    HttpClient c(s.port);
    c.send_raw("THIS IS NOT HTTP\r\n\r\n");
    HttpResponse r = c.read_response();
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.body.find("malformed request"), std::string::npos);
    EXPECT_TRUE(c.closed_by_peer(2s));
  }
  {
    HttpClient c(s.port);
    c.send_raw("GET / HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
    EXPECT_EQ(c.read_response().status, 431);
  }
  {
    HttpClient c(s.port);
    EXPECT_EQ(c.request("GET", "/live/final/video/%2e%2e").status, 400);
    EXPECT_EQ(c.request("GET", "/live/final/video/x/../../y").status, 400);
    EXPECT_EQ(c.request("POST", seg(kEdge)).status, 405);
    EXPECT_EQ(c.request("GET", "/nope").status, 404);
    HttpResponse json = c.request("PUT", "/admin/events/x", {{"Authorization", "Bearer admin-secret"}}, "{{{");
    EXPECT_EQ(json.status, 400);
  }
  {
    HttpClient c(s.port);
    c.send_raw("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /time HTTP/1.1\r\nHost: x\r\n\r\n");  // pipelined
    EXPECT_EQ(c.read_response().body, "ok\n");
    EXPECT_EQ(c.read_response().status, 200);
  }
  EXPECT_EQ(s.get(seg(kEdge)).body, "kept");
  EXPECT_EQ(s.metric(R"(liveorigin_requests_total{class="none",zone="bad-request",status="400"})") >= 1, true);
}

// Request smuggling: a request whose body length other hops could read differently is
// refused and its connection closed, so the bytes after its head never run as a
// request. Each case is sent as one write, as an attacker would.
TEST(ServerFraming, TransferEncodingOtherThanAFinalChunkedIsRefusedAndTheConnectionClosed) {
  RunningServer s(example_config());
  for (const std::string te : {"gzip", "identity", "chunked, identity", "chunked, chunked", "gzip, chunked"}) {
    HttpClient c(s.port);
    c.send_raw("GET /time HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: " + te +
               "\r\n\r\nGET /metrics HTTP/1.1\r\nHost: a\r\n\r\n");
    HttpResponse r = c.read_response();
    EXPECT_EQ(r.status, 400) << te;
    EXPECT_NE(r.body.find("Transfer-Encoding '" + te + "'"), std::string::npos) << r.body;
    EXPECT_TRUE(c.closed_by_peer(3s)) << te << ": the smuggled GET /metrics would be answered next";
  }
  // The same on ingest: nothing stored, and the PUT hidden in the body does not run.
  for (const std::string te : {"identity", "chunked, identity"}) {
    HttpClient c(s.port);
    c.send_raw(put_head(kEdge, "a", "Transfer-Encoding: " + te + "\r\n\r\n") +
               put_head(kEdge, "b", "Content-Length: 8\r\n\r\n") + "smuggled");
    EXPECT_EQ(c.read_response().status, 400) << te;
    EXPECT_TRUE(c.closed_by_peer(3s)) << te;
  }
  // Transfer-Encoding split over two field lines is one list: chunked not final there either.
  {
    HttpClient c(s.port);
    c.send_raw("GET /time HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n");
    EXPECT_EQ(c.read_response().status, 400);
    EXPECT_TRUE(c.closed_by_peer(3s));
  }
  EXPECT_EQ(s.store.objects(), 0u);
  // A final chunked is the framing every hop agrees on: accepted, the connection kept.
  HttpClient ok(s.port);
  ok.send_raw(put_head(kEdge, "a", "Transfer-Encoding: chunked\r\n\r\n") + "5\r\nhello\r\n0\r\n\r\n");
  EXPECT_EQ(ok.read_response().status, 201);
  EXPECT_EQ(ok.request("GET", "/healthz").status, 200);
  EXPECT_EQ(s.get(seg(kEdge)).body, "hello");
}

TEST(ServerFraming, ChunkedInHttp10IsFaultyFramingAndClosesTheConnection) {
  RunningServer s(example_config());
  HttpClient c(s.port);
  c.send_raw("POST /time HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"
             "0\r\n\r\nGET /metrics HTTP/1.1\r\nHost: a\r\n\r\n");
  HttpResponse r = c.read_response();
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("HTTP/1.0"), std::string::npos) << r.body;
  EXPECT_TRUE(c.closed_by_peer(3s));
}

TEST(ServerFraming, Http11NeedsExactlyOneHost) {
  RunningServer s(example_config());
  {
    HttpClient c(s.port);
    c.send_raw("GET /time HTTP/1.1\r\n\r\n");
    HttpResponse r = c.read_response();
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.body.find("missing Host"), std::string::npos) << r.body;
    EXPECT_TRUE(c.closed_by_peer(3s));
  }
  {
    HttpClient c(s.port);
    c.send_raw("GET /time HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
    HttpResponse r = c.read_response();
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.body.find("more than one Host"), std::string::npos) << r.body;
  }
  {
    HttpClient c(s.port);  // HTTP/1.0 has no Host requirement
    c.send_raw("GET /healthz HTTP/1.0\r\n\r\n");
    EXPECT_EQ(c.read_response().status, 200);
  }
}

// Sends `bytes` as one write on a fresh connection, expects a 400 whose body contains
// `named` and the connection closed: the bytes after a badly framed head never run.
void expect_refused(uint16_t port, const std::string& bytes, const std::string& named) {
  SCOPED_TRACE(bytes);
  HttpClient c(port);
  c.send_raw(bytes + "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n");
  HttpResponse r = c.read_response();
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find(named), std::string::npos) << r.body;
  EXPECT_TRUE(c.closed_by_peer(3s)) << "the GET /metrics after it would be answered next";
}

// RFC 9112 §5.2: Beast joins a folded line to the value with a space; a hop that
// does not would see another Transfer-Encoding than we do.
TEST(ServerFraming, ObsFoldIsRefused) {
  RunningServer s(example_config());
  expect_refused(s.port, "GET /time HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", "obs-fold) in field 'X-A'");
  expect_refused(s.port, "GET /time HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\tc\r\n\r\n", "obs-fold) in field 'X-A'");
  expect_refused(s.port, "POST /time HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n",
                 "obs-fold) in field 'Transfer-Encoding'");
  expect_refused(s.port, put_head(kEdge, "a", "Content-Length:\r\n 5\r\n\r\n") + "hello",
                 "obs-fold) in field 'Content-Length'");
  EXPECT_EQ(s.store.objects(), 0u);
  // Whitespace before the first field line is a fold of the request line: refused by Beast.
  expect_refused(s.port, "GET /time HTTP/1.1\r\n Host: a\r\n\r\n", "bad field");
}

// RFC 9112 §5.1: no whitespace between a field name and its colon (Beast refuses it).
TEST(ServerFraming, WhitespaceBeforeTheColonIsRefused) {
  RunningServer s(example_config());
  expect_refused(s.port, "GET /time HTTP/1.1\r\nHost : a\r\n\r\n", "bad field");
  expect_refused(s.port, "POST /time HTTP/1.1\r\nHost: a\r\nContent-Length : 3\r\n\r\nabc", "bad field");
  expect_refused(s.port, "POST /time HTTP/1.1\r\nHost: a\r\nTransfer-Encoding\t: chunked\r\n\r\n0\r\n\r\n",
                 "bad field");
}

// RFC 9112 §3.2: a Host whose value is not uri-host [":" port] is a 400.
TEST(ServerFraming, InvalidHostValueIsRefused) {
  RunningServer s(example_config());
  for (const std::string host : {"a b", "u@a", "a:xy", "a:1:2", "[::1", "a, b", "a/b"}) {
    expect_refused(s.port, "GET /time HTTP/1.1\r\nHost: " + host + "\r\n\r\n", "invalid Host field '" + host + "'");
  }
  for (const std::string host : {"", "a", "a:80", "[::1]:8080", "127.0.0.1", "xn--bcher-kva.example"}) {
    HttpClient c(s.port);
    c.send_raw("GET /healthz HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
    EXPECT_EQ(c.read_response().status, 200) << host;
  }
}

// RFC 9112 §3.2: a server must accept absolute-form; asterisk-form is for OPTIONS and
// authority-form for CONNECT, neither of which the origin serves.
TEST(ServerFraming, RequestTargetForms) {
  RunningServer s(example_config());
  HttpClient c(s.port);
  c.send_raw("PUT http://origin.example" + seg(kEdge) +
             " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ingest-secret\r\nLive-Pipeline: a\r\n"
             "Content-Length: 3\r\n\r\nabs");
  EXPECT_EQ(c.read_response().status, 201);
  EXPECT_EQ(s.get(seg(kEdge)).body, "abs");
  c.send_raw("GET HTTPS://origin.example/live/final/_timeline?x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(c.read_response().status, 200);
  c.send_raw("GET http://origin.example HTTP/1.1\r\nHost: x\r\n\r\n");  // the empty path is "/"
  EXPECT_EQ(c.read_response().status, 404);
  EXPECT_TRUE(c.connected());
  expect_refused(s.port, "GET http:///time HTTP/1.1\r\nHost: a\r\n\r\n", "absolute-form without a host");
  expect_refused(s.port, "GET ftp://a/time HTTP/1.1\r\nHost: a\r\n\r\n", "with scheme 'ftp', not http or https");
  // Found by tests/fuzz/request_target: Boost.URL reads the port as 8080 and "x/time" as the path.
  expect_refused(s.port, "GET http://a:8080x/time HTTP/1.1\r\nHost: a\r\n\r\n",
                 "absolute-form with a malformed authority");
  expect_refused(s.port, "GET * HTTP/1.1\r\nHost: a\r\n\r\n", "asterisk-form target '*' is only for OPTIONS");
  expect_refused(s.port, "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", "no server-wide OPTIONS here");
  expect_refused(s.port, "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", "authority-form is only for CONNECT");
  expect_refused(s.port, "GET time HTTP/1.1\r\nHost: a\r\n\r\n", "request target 'time': not origin-form");
  // Beast refuses what is not a request-target at all.
  expect_refused(s.port, "GET /ti\x01me HTTP/1.1\r\nHost: a\r\n\r\n", "bad target");
}

// RFC 9112 §6.3 (5): Content-Length is one decimal number (a list of equal ones is that
// number); anything else is unrecoverable framing. Beast refuses each of these.
TEST(ServerFraming, ContentLengthMustBeOneDecimalNumber) {
  RunningServer s(example_config());
  for (const std::string cl : {"+3", "-1", "0x3", "", "3abc", "1 2", "99999999999999999999999"}) {
    expect_refused(s.port, "POST /time HTTP/1.1\r\nHost: a\r\nContent-Length: " + cl + "\r\n\r\nabc",
                   "bad Content-Length");
  }
  expect_refused(s.port, "POST /time HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 4\r\n\r\nabcd",
                 "multiple Content-Length");
  expect_refused(s.port, "POST /time HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
                 "multiple Content-Length");
  expect_refused(s.port, "POST /time HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
                 "bad Transfer-Encoding");
  for (const std::string cl : {"3, 3", "3\r\nContent-Length: 3"}) {
    HttpClient c(s.port);
    c.send_raw("POST /time HTTP/1.1\r\nHost: a\r\nContent-Length: " + cl + "\r\n\r\nabcGET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_EQ(c.read_response().status, 405) << cl;
    EXPECT_EQ(c.read_response().body, "ok\n") << cl << ": the body was 3 bytes";
  }
}

// RFC 9112 §7.1: a chunk line that is not chunk-size [chunk-ext] CRLF, or chunk data not
// followed by CRLF, is a 400 (before, the connection was dropped without an answer).
TEST(ServerFraming, MalformedChunksAreAnswered400AndClose) {
  RunningServer s(example_config());
  const std::vector<std::pair<std::string, std::string>> bodies = {
      {"3;\r\nabc\r\n0\r\n\r\n", "bad chunk extension"},       {"3;=x\r\nabc\r\n0\r\n\r\n", "bad chunk extension"},
      {"3;f@o\r\nabc\r\n0\r\n\r\n", "bad chunk extension"},    {"3x\r\nabc\r\n0\r\n\r\n", "bad chunk"},
      {"0x3\r\nabc\r\n0\r\n\r\n", "bad chunk"},                {"-3\r\nabc\r\n0\r\n\r\n", "bad chunk"},
      {" 3\r\nabc\r\n0\r\n\r\n", "bad chunk"},                 {"fffffffffffffffff3\r\nabc\r\n0\r\n\r\n", "bad chunk"},
      {"\r\nabc\r\n0\r\n\r\n", "bad chunk"},                   {"3\r\nabcXX0\r\n\r\n", "bad chunk"},
      {"3\nabc\n0\n\n", "bad chunk"},                          {"3\r\nabc\r\n0\r\nX T: 1\r\n\r\n", "bad field"},
  };
  for (const auto& [body, named] : bodies) {
    expect_refused(s.port, "POST /time HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + body, named);
    expect_refused(s.port, put_head(kEdge, "a", "Transfer-Encoding: chunked\r\n\r\n") + body, named);
  }
  EXPECT_EQ(s.store.objects(), 0u);
  // Chunk extensions (with BWS and quoted values) and trailers are allowed, and ignored.
  HttpClient c(s.port);
  c.send_raw(put_head(kEdge, "a", "Transfer-Encoding: chunked\r\n\r\n") +
             "3;foo=bar\r\nabc\r\n2 ; q = \"x y\"\r\nde\r\n0\r\nX-T: 1\r\n\r\n");
  EXPECT_EQ(c.read_response().status, 201);
  EXPECT_EQ(s.get(seg(kEdge)).body, "abcde");
}

// Beast appends trailer fields to the head's; the core must not read them as header
// fields (RFC 9110 §6.5.1), so a token in a trailer authenticates nothing.
TEST(ServerFraming, TrailerFieldsAreNotHeaderFields) {
  RunningServer s(example_config());
  HttpClient c(s.port);
  c.send_raw("PUT /admin/events/cup HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
             "2\r\n{}\r\n0\r\nAuthorization: Bearer admin-secret\r\n\r\n");
  EXPECT_EQ(c.read_response().status, 401);
  EXPECT_EQ(s.get("/live/cup/_timeline").header("Live-Reject"), "unknown-event");
}

// RFC 9112 §2.2: empty lines before a request line are ignored.
TEST(ServerFraming, EmptyLinesBeforeARequestLineAreIgnored) {
  RunningServer s(example_config());
  HttpClient c(s.port);
  c.send_raw("\r\n\r\nGET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(c.read_response().body, "ok\n");
  c.send_raw("\r\n");
  c.send_raw("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(c.read_response().body, "ok\n");
}

// Field lines of one structured field are one value: a second Repr-Digest line that
// does not match the body is a mismatch, not ignored.
TEST(ServerFraming, EveryReprDigestLineIsChecked) {
  RunningServer s(example_config());
  const std::string good = "sha-256=:" + sha256_b64("body") + ":";
  const std::string bad = "sha-256=:" + sha256_b64("other") + ":";
  HttpClient c(s.port);
  c.send_raw(put_head(kEdge, "a", "Repr-Digest: " + good + "\r\nRepr-Digest: " + bad + "\r\nContent-Length: 4\r\n\r\n") +
             "body");
  HttpResponse r = c.read_response();
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("Repr-Digest"), std::string::npos) << r.body;
  EXPECT_EQ(s.store.objects(), 0u);
  // The other order too: the later line matching must not let the earlier one pass.
  HttpClient later(s.port);
  later.send_raw(put_head(kEdge, "a", "Repr-Digest: " + bad + "\r\nRepr-Digest: " + good +
                                          "\r\nContent-Length: 4\r\n\r\n") +
                 "body");
  EXPECT_EQ(later.read_response().status, 400);
  EXPECT_EQ(s.store.objects(), 0u);
  HttpClient both(s.port);
  both.send_raw(put_head(kEdge, "a", "Repr-Digest: " + good + "\r\nRepr-Digest: " + good +
                                         "\r\nContent-Length: 4\r\n\r\n") +
                "body");
  EXPECT_EQ(both.read_response().status, 201);
}

TEST(ServerBadInput, SlowAndSilentClientsAreCutOff) {
  RunningServer s(example_config("", "header_timeout_ms: 300\nbody_timeout_ms: 300\nidle_timeout_ms: 1500\n"));
  HttpClient slow_head(s.port);
  slow_head.send_raw("GET /time HTTP/1.1\r\nHost:");
  HttpClient slow_body(s.port);
  slow_body.send_raw(put_head(kEdge, "a", "Content-Length: 100\r\n\r\n") + "partial");
  HttpClient idle(s.port);
  EXPECT_EQ(idle.request("GET", "/healthz").status, 200);
  const auto start = std::chrono::steady_clock::now();
  // A head that started arriving must finish within header_timeout_ms, not idle_timeout_ms.
  EXPECT_TRUE(slow_head.closed_by_peer(3s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1200ms);
  EXPECT_TRUE(slow_body.closed_by_peer(3s));
  EXPECT_TRUE(idle.closed_by_peer(3s));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 1000ms);  // idle got its 1.5 s
  EXPECT_EQ(s.store.objects(), 0u);  // the partial body was not stored
  EXPECT_EQ(s.get("/healthz").status, 200);
}

TEST(ServerBadInput, AHugeAnnouncedBodyIsRefusedBeforeItIsRead) {
  RunningServer s(example_config());
  HttpClient c(s.port);
  c.send_raw("POST /time HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000000000\r\n\r\nabc");
  HttpResponse r = c.read_response();
  EXPECT_EQ(r.status, 413);
  HttpClient admin(s.port);
  admin.send_raw("PUT /admin/events/x HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer admin-secret\r\n"
                 "Content-Length: 2000000\r\n\r\n{");
  EXPECT_EQ(admin.read_response().status, 413);
  EXPECT_EQ(s.get("/healthz").status, 200);
}

// --- drain -------------------------------------------------------------------

TEST(ServerDrain, HealthzFailsIdleConnectionsCloseInFlightFinishes) {
  auto s = std::make_unique<RunningServer>(example_config());
  HttpClient idle(s->port);
  EXPECT_EQ(idle.request("GET", "/healthz").status, 200);
  HttpClient held(s->port);
  held.send_raw("GET " + seg(kEdge + 1) + " HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(RunningServer::eventually([&] { return s->origin->held_requests() == 1; }));

  s->server->drain();
  EXPECT_TRUE(idle.closed_by_peer(2s));
  EXPECT_TRUE(RunningServer::eventually([&] { return s->origin->draining(); }));
  auto t = s->origin->make_thread();
  Outcome health = s->origin->handle(*t, RequestHead{.method = Method::get, .target = "/healthz"}, "", nullptr);
  EXPECT_EQ(std::get<Response>(health).status, 503);
  EXPECT_TRUE(RunningServer::eventually([&] { return !HttpClient(s->port).connected(); }));  // not accepting

  // Publish through the core (the listener is closed): the held request is answered, then the server stops.
  IngestTicket ticket = std::get<IngestTicket>(s->origin->begin_put(
      *t, RequestHead{.method = Method::put, .target = seg(kEdge + 1), .authorization = "Bearer ingest-secret",
                      .live_pipeline = "a"}));
  BodyHasher hasher;
  hasher.update("late", 4);
  auto write = std::get<StoreWrite>(
      s->origin->finish_put(*t, std::move(ticket), std::make_shared<const std::string>("late"), hasher.finish()));
  s->store.put(write.key, write.bytes, [](bool) {});
  s->origin->complete_put(*t, std::move(write), true);
  for (auto& w : t->take_effects().wake) w->wake();
  HttpResponse r = held.read_response(3s);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "late");
  EXPECT_FALSE(r.keep_alive);
  auto waited = std::async(std::launch::async, [&] { s->server->wait(); });
  EXPECT_EQ(waited.wait_for(3s), std::future_status::ready);
}

TEST(ServerDrain, HeldRequestsAreAnsweredBeforeDrainMsMaxEnds) {
  RunningServer s(example_config("", "drain_ms_max: 400\n"));
  HttpClient held(s.port);
  held.send_raw("GET " + seg(kEdge + 1) + " HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(RunningServer::eventually([&] { return s.origin->held_requests() == 1; }));
  const auto start = std::chrono::steady_clock::now();
  s.server->drain();
  ASSERT_TRUE(RunningServer::eventually([&] { return s.origin->draining(); }));
  s.clock.advance_ms(400);  // the origin clock passes the drain deadline
  HttpResponse r = held.read_response(3s);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.header("Live-Reject"), "not-yet");
  EXPECT_FALSE(r.keep_alive);
  auto waited = std::async(std::launch::async, [&] { s.server->wait(); });
  ASSERT_EQ(waited.wait_for(3s), std::future_status::ready);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
}

}  // namespace
}  // namespace liveorigin::testing
