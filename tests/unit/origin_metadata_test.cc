// DESIGN §2.4-§2.7 in the core on a manual clock: markers, invalidation, request
// classes and overload shedding, reload, metrics.
#include <gtest/gtest.h>

#include "tests/support/core_harness.h"

namespace liveorigin::testing {
namespace {

constexpr int64_t kD = 2000;
const int64_t kEdge = CoreHarness::kT0 / kD - 1;

std::string seg(int64_t n, const std::string& stream = "video") {
  return "/live/final/" + stream + "/" + std::to_string(n) + ".m4s";
}
int64_t ms_of(int64_t n) { return n * kD; }  // media start of n (epoch-locked, start_number 0)

using H = CoreHarness;

std::string marker_body(const std::string& id, int64_t start_ms, std::optional<int64_t> dur_ms = std::nullopt,
                        const std::string& data = "", const std::string& kind = "ad-break") {
  std::string b = R"({"id": ")" + id + R"(", "kind": ")" + kind + R"(", "start_ms": )" + std::to_string(start_ms);
  if (dur_ms) b += R"(, "duration_ms": )" + std::to_string(*dur_ms);
  if (!data.empty()) b += R"(, "data": ")" + data + R"(")";
  return b + "}";
}

// --- markers -----------------------------------------------------------------

TEST(CoreMarkers, CarriedOnEverySegmentWhoseMediaIntervalOverlaps) {
  H h(example_config());
  const int64_t n = kEdge - 10;
  for (int64_t k = n - 1; k <= n + 3; ++k) ASSERT_EQ(h.put(seg(k), "a", "s" + std::to_string(k)).status, 201);
  Response posted = h.admin(Method::post, "/admin/events/final/markers",
                            marker_body("ad1", ms_of(n) + 500, 4000, "/DAgAAAAAAAAAP/wFAUAAAABf+/+AAAAAH4AUmXAAAEAAAAAbeh4hQ=="));
  ASSERT_EQ(posted.status, 201) << H::body(posted);
  const std::string expected = "\"ad1\";kind=\"ad-break\";start=" + std::to_string(ms_of(n) + 500) +
                               ";dur=4000;data=:/DAgAAAAAAAAAP/wFAUAAAABf+/+AAAAAH4AUmXAAAEAAAAAbeh4hQ==:";
  EXPECT_EQ(H::header(h.get(seg(n - 1)), "Live-Markers"), "");
  EXPECT_EQ(H::header(h.get(seg(n)), "Live-Markers"), expected);      // [s, s+2000) overlaps [s+500, s+4500)
  EXPECT_EQ(H::header(h.get(seg(n + 1)), "Live-Markers"), expected);
  EXPECT_EQ(H::header(h.get(seg(n + 2)), "Live-Markers"), expected);  // starts at s+4000 < s+4500
  EXPECT_EQ(H::header(h.get(seg(n + 3)), "Live-Markers"), "");
  // Every stream of the event, audio included; HEAD and 304 too.
  ASSERT_EQ(h.put(seg(n, "audio-en"), "a", "au").status, 201);
  EXPECT_EQ(H::header(h.get(seg(n, "audio-en")), "Live-Markers"), expected);
  EXPECT_EQ(H::header(h.request(Method::head, seg(n)), "Live-Markers"), expected);
  const std::string etag = H::header(h.get(seg(n)), "ETag");
  EXPECT_EQ(H::header(h.get(seg(n), Headers{.if_none_match = etag}), "Live-Markers"), expected);
}

TEST(CoreMarkers, LiveViewerJoinerAndRewinderSeeTheSameMarkers) {
  H h(example_config());
  // The break starts in the segment after the edge and lasts 3 segments.
  const int64_t first = kEdge + 1;
  ASSERT_EQ(h.admin(Method::post, "/admin/events/final/markers",
                    R"({"id": "break-7", "kind": "ad-break", "start_segment": )" + std::to_string(first) +
                        R"(, "duration_ms": 6000, "data": "AAEC"})")
                .status,
            201);
  // The live viewer fetches each segment as it is published.
  std::vector<std::string> live;
  for (int64_t n = first; n < first + 3; ++n) {
    h.clock.set_ms((n + 1) * kD);
    ASSERT_EQ(h.put(seg(n), "a", "s").status, 201);
    live.push_back(H::header(h.get(seg(n)), "Live-Markers"));
    EXPECT_FALSE(live.back().empty());
  }
  // One joins mid-break (at the second segment), one rewinds into it a minute later.
  h.clock.advance_ms(60'000);
  EXPECT_EQ(H::header(h.get(seg(first + 1)), "Live-Markers"), live[1]);
  for (int k = 0; k < 3; ++k) EXPECT_EQ(H::header(h.get(seg(first + k)), "Live-Markers"), live[k]);
  EXPECT_EQ(live[0], "\"break-7\";kind=\"ad-break\";start=" + std::to_string(ms_of(first)) + ";dur=6000;data=:AAEC:");
}

TEST(CoreMarkers, PostingOverServedSegmentsBumpsTheirVersionAndSameIdReplaces) {
  H h(example_config());
  const int64_t n = kEdge - 5;
  ASSERT_EQ(h.put(seg(n), "a", "x").status, 201);
  ASSERT_EQ(h.put(seg(n + 3), "a", "y").status, 201);
  Response before = h.get(seg(n));
  EXPECT_EQ(H::header(before, "Live-Version"), "0");
  Response post = h.admin(Method::post, "/admin/events/final/markers", marker_body("m", ms_of(n), 2000));
  EXPECT_NE(H::body(post).find(R"("versions_bumped":1)"), std::string::npos) << H::body(post);
  Response after = h.get(seg(n));
  EXPECT_EQ(H::header(after, "Live-Version"), "1");
  EXPECT_NE(H::header(after, "ETag"), H::header(before, "ETag"));
  EXPECT_EQ(H::header(h.get(seg(n + 3)), "Live-Version"), "0");  // not covered, never served before: untouched

  // Same id: the marker moves; the segments it left and the ones it reaches get new versions.
  Response moved = h.admin(Method::post, "/admin/events/final/markers", marker_body("m", ms_of(n + 3), 2000));
  EXPECT_EQ(moved.status, 200);
  EXPECT_EQ(H::header(h.get(seg(n)), "Live-Markers"), "");
  EXPECT_EQ(H::header(h.get(seg(n)), "Live-Version"), "2");
  EXPECT_EQ(H::header(h.get(seg(n + 3)), "Live-Version"), "2");
  EXPECT_NE(H::header(h.get(seg(n + 3)), "Live-Markers").find("\"m\""), std::string::npos);
  const std::string list = H::body(h.admin(Method::get, "/admin/events/final/markers"));
  EXPECT_EQ(std::count(list.begin(), list.end(), '{'), 1) << list;

  EXPECT_EQ(h.admin(Method::del, "/admin/events/final/markers/m").status, 204);
  EXPECT_EQ(H::header(h.get(seg(n + 3)), "Live-Markers"), "");
  EXPECT_EQ(H::header(h.get(seg(n + 3)), "Live-Version"), "3");
  EXPECT_EQ(h.admin(Method::del, "/admin/events/final/markers/m").status, 404);
}

TEST(CoreMarkers, AtMostEightNewestAndFourKiB) {
  H h(example_config());
  const int64_t n = kEdge;
  ASSERT_EQ(h.put(seg(n), "a", "x").status, 201);
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(h.admin(Method::post, "/admin/events/final/markers", marker_body("m" + std::to_string(i), ms_of(n))).status,
              201);
  }
  std::string v = H::header(h.get(seg(n)), "Live-Markers");
  EXPECT_EQ(std::count(v.begin(), v.end(), '"') / 4, 8);  // id and kind are quoted: 4 quotes per marker
  EXPECT_EQ(v.find("\"m0\""), std::string::npos);
  EXPECT_EQ(v.find("\"m1\""), std::string::npos);
  EXPECT_NE(v.find("\"m9\""), std::string::npos);
  // Large payloads: at most 4 KiB of markers, still the newest.
  const std::string big(1500, 'A');  // 1500 base64 chars
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(h.admin(Method::post, "/admin/events/final/markers", marker_body("big" + std::to_string(i), ms_of(n),
                                                                                 std::nullopt, big))
                  .status,
              201);
  }
  v = H::header(h.get(seg(n)), "Live-Markers");
  EXPECT_LE(v.size(), 4096u);
  EXPECT_NE(v.find("\"big3\""), std::string::npos);
  EXPECT_NE(v.find("\"big2\""), std::string::npos);
  EXPECT_EQ(v.find("\"big0\""), std::string::npos);
  // Without a duration a marker stays in force from its start on.
  EXPECT_NE(H::header(h.put(seg(n + 1), "a", "z"), "Live-Version"), "");
  h.clock.advance_ms(kD);
  EXPECT_NE(H::header(h.get(seg(n + 1)), "Live-Markers").find("\"big3\""), std::string::npos);
}

TEST(CoreMarkers, BadMarkersAreRefusedWithTheKey) {
  H h(example_config());
  struct Row {
    std::string body;
    std::string message;
  };
  const std::vector<Row> rows = {
      {R"({"kind": "ad-break", "start_ms": 1})", "request body:1:1: id: required key is missing"},
      {R"({"id": "a", "kind": "k", "start_ms": 1, "start_segment": 2})", "give exactly one of start_ms and start_segment"},
      {R"({"id": "a", "kind": "k"})", "give exactly one of start_ms and start_segment"},
      {R"({"id": "a", "kind": "k", "start_ms": -5})", "start_ms: expected an integer in [0,"},
      {R"({"id": "a", "kind": "k", "start_ms": 1, "data": "not base64!"})", "data: expected base64"},
      {R"({"id": "a", "kind": "k", "start_ms": 1, "colour": "red"})", "colour: unknown key"},
      {R"({"id": "a", "kind": "k", "start_ms": 1, "duration_ms": 0})", "duration_ms: expected an integer in [1,"},
      {"{nope", "request body:"},
  };
  for (const auto& row : rows) {
    Response r = h.admin(Method::post, "/admin/events/final/markers", row.body);
    EXPECT_EQ(r.status, 400) << row.body;
    EXPECT_NE(H::body(r).find(row.message), std::string::npos) << row.body << " -> " << H::body(r);
  }
  EXPECT_EQ(h.admin(Method::post, "/admin/events/nope/markers", marker_body("a", 1)).status, 404);
}

TEST(CoreMarkers, StartSegmentNeedsOneTimeline) {
  std::string cfg = example_config();
  cfg.replace(cfg.rfind("segment_duration_ms: 2000"), 25, "segment_duration_ms: 1920");
  H h(cfg);
  Response r = h.admin(Method::post, "/admin/events/final/markers", R"({"id": "a", "kind": "k", "start_segment": 5})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(H::body(r).find("do not share one timeline"), std::string::npos) << H::body(r);
  EXPECT_EQ(h.admin(Method::post, "/admin/events/final/markers", marker_body("a", 10)).status, 201);
}

// --- invalidation --------------------------------------------------------------

TEST(CoreInvalidation, ServedFromAInvalidatedWithAExcludedThenServedFromBAndListedInTheFeed) {
  H h(example_config());
  const int64_t n = kEdge;
  ASSERT_EQ(h.put(seg(n), "a", "from-a").status, 201);
  ASSERT_EQ(h.put(seg(n), "b", "from-b").status, 201);
  Response first = h.get(seg(n));
  ASSERT_EQ(H::header(first, "Live-Pipeline"), "a");

  Response inv = h.admin(Method::post, "/admin/invalidate",
                         R"({"event": "final", "stream": "video", "from_segment": )" + std::to_string(n) +
                             R"(, "to_segment": )" + std::to_string(n) + R"(, "pipeline": "a", "exclude": true})");
  ASSERT_EQ(inv.status, 200) << H::body(inv);
  EXPECT_EQ(H::body(inv), "{\"version\":1,\"uncommitted\":1}\n");

  // A CDN revalidating its cached copy learns it changed.
  Response reval = h.get(seg(n), Headers{.if_none_match = H::header(first, "ETag")});
  EXPECT_EQ(reval.status, 200);
  EXPECT_EQ(H::header(reval, "Live-Pipeline"), "b");
  EXPECT_EQ(H::body(reval), "from-b");
  EXPECT_EQ(H::header(reval, "Live-Version"), "1");
  EXPECT_NE(H::header(reval, "ETag"), H::header(first, "ETag"));
  EXPECT_EQ(h.get(seg(n), Headers{.if_none_match = H::header(reval, "ETag")}).status, 304);

  Response feed = h.get("/live/final/_invalidations?since=0");
  EXPECT_EQ(feed.status, 200);
  EXPECT_EQ(H::body(feed), "[{\"version\":1,\"stream\":\"video\",\"from_segment\":" + std::to_string(n) +
                               ",\"to_segment\":" + std::to_string(n) + ",\"pipeline\":\"a\",\"exclude\":true}]\n");
  EXPECT_EQ(H::body(h.get("/live/final/_invalidations?since=1")), "[]\n");
  EXPECT_EQ(h.get("/live/final/_invalidations?since=0", Headers{.if_none_match = H::header(feed, "ETag")}).status,
            304);
  EXPECT_EQ(h.get("/live/final/_invalidations?since=x").status, 400);
  EXPECT_NE(h.metrics().find(R"(liveorigin_invalidations_total{event="final"} 1)"), std::string::npos);
}

TEST(CoreInvalidation, ExclusionKeepsAPipelineOutOfFutureSegmentsUntilLifted) {
  H h(example_config());
  ASSERT_EQ(h.admin(Method::post, "/admin/invalidate",
                    R"({"event": "final", "pipeline": "a", "exclude": true, "from_segment": )" +
                        std::to_string(kEdge) + "}")
                .status,
            200);
  ASSERT_EQ(h.put(seg(kEdge), "a", "a").status, 201);
  ASSERT_EQ(h.put(seg(kEdge), "b", "b", "missing-frames=3").status, 201);
  EXPECT_EQ(H::header(h.get(seg(kEdge)), "Live-Pipeline"), "b");  // a clean copy exists, but a is out
  // Only excluded candidates: missing.
  ASSERT_EQ(h.put(seg(kEdge - 2), "a", "a").status, 201);  // before the range: fine
  EXPECT_EQ(H::header(h.get(seg(kEdge - 2)), "Live-Pipeline"), "a");
  h.clock.advance_ms(kD);
  ASSERT_EQ(h.put(seg(kEdge + 1), "a", "a").status, 201);
  h.clock.advance_ms(600);  // past grace; b is live but never delivered
  Response only_excluded = h.get(seg(kEdge + 1));
  EXPECT_EQ(only_excluded.status, 404);
  EXPECT_EQ(H::header(only_excluded, "Live-Reject"), "missing");

  // Lifted: a is chosen again (for uncommitted segments).
  ASSERT_EQ(h.admin(Method::post, "/admin/invalidate", R"({"event": "final", "pipeline": "a", "exclude": false})").status,
            200);
  EXPECT_EQ(H::header(h.get(seg(kEdge + 1)), "Live-Pipeline"), "a");
  EXPECT_EQ(H::header(h.get(seg(kEdge)), "Live-Pipeline"), "b");  // committed before: stays
  const std::string feed = H::body(h.get("/live/final/_invalidations"));
  EXPECT_NE(feed.find(R"("version":2,"stream":null,"from_segment":null,"to_segment":null,"pipeline":"a","exclude":false)"),
            std::string::npos)
      << feed;
}

TEST(CoreInvalidation, RangeAndPipelineFiltersAndOneVersionPerInvalidation) {
  H h(example_config());
  for (int64_t n = kEdge - 4; n <= kEdge; ++n) {
    ASSERT_EQ(h.put(seg(n), (n % 2) ? "a" : "b", "x" + std::to_string(n)).status, 201);
    h.get(seg(n));
  }
  Response inv = h.admin(Method::post, "/admin/invalidate",
                         R"({"event": "final", "from_segment": )" + std::to_string(kEdge - 3) + R"(, "to_segment": )" +
                             std::to_string(kEdge - 1) + "}");
  EXPECT_EQ(H::body(inv), "{\"version\":1,\"uncommitted\":3}\n");
  EXPECT_EQ(H::header(h.get(seg(kEdge - 4)), "Live-Version"), "0");
  EXPECT_EQ(H::header(h.get(seg(kEdge - 2)), "Live-Version"), "1");
  EXPECT_EQ(H::header(h.get(seg(kEdge)), "Live-Version"), "0");
  const std::string only_a = R"({"event": "final", "pipeline": "a"})";
  Response inv2 = h.admin(Method::post, "/admin/invalidate", only_a);
  const int64_t a_segments = ((kEdge - 4) % 2 ? 1 : 0) + ((kEdge - 3) % 2 ? 1 : 0) + ((kEdge - 2) % 2 ? 1 : 0) +
                             ((kEdge - 1) % 2 ? 1 : 0) + (kEdge % 2 ? 1 : 0);
  EXPECT_EQ(H::body(inv2), "{\"version\":2,\"uncommitted\":" + std::to_string(a_segments) + "}\n");

  struct Bad {
    std::string body;
    int status;
  };
  for (const Bad& b : {Bad{R"({"stream": "video"})", 400}, Bad{R"({"event": "nope"})", 404},
                       Bad{R"({"event": "final", "stream": "nope"})", 404},
                       Bad{R"({"event": "final", "pipeline": "z"})", 400},
                       Bad{R"({"event": "final", "exclude": true})", 400},
                       Bad{R"({"event": "final", "from_segment": 5, "to_segment": 4})", 400}}) {
    EXPECT_EQ(h.admin(Method::post, "/admin/invalidate", b.body).status, b.status) << b.body;
  }
  EXPECT_EQ(h.admin(Method::get, "/admin/invalidate").status, 405);
}

// --- priority and overload -------------------------------------------------------

TEST(CorePriority, ClassesFromPositionRefinedByCmcdAndPrefetchMarkers) {
  H h(example_config());
  for (int64_t n = kEdge - 10; n <= kEdge; ++n) ASSERT_EQ(h.put(seg(n), "a", "x").status, 201);
  auto run = [&](const RequestHead& head) {
    Outcome o = h.origin->handle(*h.thread, head, "", nullptr);
    ASSERT_TRUE(std::holds_alternative<Fetch>(o));
    h.origin->complete_fetch(*h.thread, std::get<Fetch>(std::move(o)), std::make_shared<const std::string>("x"));
  };
  h.get(seg(kEdge));      // live
  h.get(seg(kEdge - 3));  // live window: edge - 3 .. edge
  h.get(seg(kEdge - 4));  // dvr
  RequestHead prefetch = h.head(Method::get, seg(kEdge));
  prefetch.sec_purpose = "prefetch;prerender";
  run(prefetch);
  RequestHead bg = h.head(Method::get, seg(kEdge));
  bg.live_priority = "background";
  run(bg);
  RequestHead vod = h.head(Method::get, seg(kEdge));
  vod.cmcd_session = "sid=\"x\",st=v";
  run(vod);
  RequestHead stalling = h.head(Method::get, seg(kEdge - 8));
  stalling.cmcd_request = "bl=800";  // less than a segment of buffer: urgent wherever it plays
  run(stalling);
  h.get(seg(kEdge - 9) + "?CMCD=bl%3D500%2Cbr%3D3200");  // CMCD as a query parameter
  h.get(seg(kEdge - 9) + "?CMCD=bl%3D9000");
  h.get(seg(kEdge - 9) + "?CMCD=not%20cmcd%3D%3D");  // malformed CMCD is ignored

  const std::string m = h.metrics();
  EXPECT_NE(m.find(R"(liveorigin_requests_total{class="live",zone="select",status="200"} 4)"), std::string::npos) << m;
  EXPECT_NE(m.find(R"(liveorigin_requests_total{class="dvr",zone="select",status="200"} 4)"), std::string::npos) << m;
  EXPECT_NE(m.find(R"(liveorigin_requests_total{class="background",zone="select",status="200"} 2)"),
            std::string::npos)
      << m;
}

TEST(CorePriority, BudgetShedsDvrWithCacheableAnswersAndLiveKeepsItsOks) {
  H h(example_config("", "server_id: origin-7\noverload:\n  dvr_budget_rps: 2\n  shed_ttl_ms: 5000\n"));
  for (int64_t n = kEdge - 20; n <= kEdge; ++n) ASSERT_EQ(h.put(seg(n), "a", "x").status, 201);
  EXPECT_EQ(h.get(seg(kEdge - 10)).status, 200);
  EXPECT_EQ(h.get(seg(kEdge - 11)).status, 200);
  Response shed = h.get(seg(kEdge - 12));
  EXPECT_EQ(shed.status, 503);
  EXPECT_EQ(H::header(shed, "Cache-Control"), "max-age=5");
  EXPECT_EQ(H::header(shed, "CDN-Cache-Control"), "max-age=5, max-age-ms=5000");
  EXPECT_EQ(H::header(shed, "CMSD-Dynamic"), "\"origin-7\";du");
  EXPECT_EQ(H::header(shed, "Retry-After"), "5");
  for (int i = 0; i < 20; ++i) EXPECT_EQ(h.get(seg(kEdge - (i % 4))).status, 200);  // live is never shed

  // Repeats inside the window come from the suppression cache: no work, no store read.
  const int gets = h.store.gets;
  h.clock.advance_ms(1200);  // a new budget second, but the repeat is still suppressed
  Response repeat = h.get(seg(kEdge - 12) + "?x=1");
  EXPECT_EQ(repeat.status, 503);
  EXPECT_EQ(H::header(repeat, "CDN-Cache-Control"), "max-age=3, max-age-ms=3800");
  EXPECT_EQ(H::header(repeat, "CMSD-Dynamic"), "\"origin-7\";du");
  EXPECT_EQ(h.store.gets, gets);
  // A player about to stall says so with CMCD: classified afresh, it is live and served.
  EXPECT_EQ(h.get(seg(kEdge - 12) + "?CMCD=bl%3D300").status, 200);
  EXPECT_EQ(h.get(seg(kEdge - 13)).status, 200);  // not a repeat, within the new second's budget
  h.clock.advance_ms(3800);
  EXPECT_EQ(h.get(seg(kEdge - 12)).status, 200);  // the window is over

  const std::string m = h.metrics();
  EXPECT_NE(m.find(R"(liveorigin_shed_total{class="dvr"} 1)"), std::string::npos) << m;
  EXPECT_NE(m.find("liveorigin_suppressed_total 1"), std::string::npos) << m;
  // Suppressed answers are requests too: 1 shed + 1 suppressed.
  EXPECT_NE(m.find(R"(liveorigin_requests_total{class="dvr",zone="select",status="503"} 2)"), std::string::npos) << m;
}

TEST(CorePriority, InFlightStoreReadsShedBackgroundFirstThenDvr) {
  H h(example_config("", "overload:\n  store_reads_max: 4\n"));
  for (int64_t n = kEdge - 20; n <= kEdge; ++n) ASSERT_EQ(h.put(seg(n), "a", "x").status, 201);
  // Start store reads and leave them in flight, as a slow store would.
  std::vector<Fetch> in_flight;
  auto start_read = [&](int64_t n) {
    Outcome o = h.origin->handle(*h.thread, h.head(Method::get, seg(n)), "", nullptr);
    ASSERT_TRUE(std::holds_alternative<Fetch>(o));
    in_flight.push_back(std::get<Fetch>(std::move(o)));
  };
  auto outcome_status = [&](RequestHead head) {
    Outcome o = h.origin->handle(*h.thread, head, "", nullptr);
    if (auto* f = std::get_if<Fetch>(&o)) {
      in_flight.push_back(std::move(*f));
      return 200;
    }
    return std::get<Response>(o).status;
  };
  for (int i = 0; i < 3; ++i) start_read(kEdge);
  RequestHead bg = h.head(Method::get, seg(kEdge - 15));
  bg.live_priority = "background";
  EXPECT_EQ(outcome_status(bg), 503);                                          // 3 > 4/2
  EXPECT_EQ(outcome_status(h.head(Method::get, seg(kEdge - 16))), 200);       // dvr: 3 <= 4, now 4
  EXPECT_EQ(outcome_status(h.head(Method::get, seg(kEdge - 17))), 200);       // 4 <= 4, now 5
  EXPECT_EQ(outcome_status(h.head(Method::get, seg(kEdge - 18))), 503);       // 5 > 4
  EXPECT_EQ(outcome_status(h.head(Method::get, seg(kEdge))), 200);            // live: never
  EXPECT_NE(h.metrics().find("liveorigin_store_reads_in_flight 6"), std::string::npos);
  for (auto& f : in_flight) h.origin->complete_fetch(*h.thread, std::move(f), std::make_shared<const std::string>("x"));
  in_flight.clear();
  EXPECT_EQ(outcome_status(h.head(Method::get, seg(kEdge - 19))), 200);
  const std::string m = h.metrics();
  EXPECT_NE(m.find(R"(liveorigin_shed_total{class="background"} 1)"), std::string::npos) << m;
  EXPECT_NE(m.find(R"(liveorigin_shed_total{class="dvr"} 1)"), std::string::npos) << m;
}

// --- operations ------------------------------------------------------------------

TEST(CoreReload, FileEventsAreAppliedAdminEventsKeptTokensReplaced) {
  H h(example_config());
  ASSERT_EQ(h.admin(Method::put, "/admin/events/adhoc",
                    R"({"pipelines": ["a"], "streams": [{"id": "v"}]})")
                .status,
            201);
  ASSERT_EQ(h.put(seg(kEdge), "a", "kept").status, 201);
  auto next = parse_origin_config(R"(
listen: 0.0.0.0:9999
auth:
  ingest_tokens: [rotated]
  admin_tokens: [admin-secret]
events:
  - id: final
    pipelines: [a, b]
    streams:
      - id: video
        segment_duration_ms: 2000
  - id: encore
    pipelines: [a]
    streams:
      - id: v
)",
                                  "reloaded.yaml");
  ASSERT_TRUE(next) << next.error().message;
  const std::string summary = h.origin->reload(*h.thread, *next);
  h.apply();
  EXPECT_EQ(summary,
            "config reloaded: 1 events created, 1 replaced, 0 deleted; tokens replaced; changed but applied only at "
            "restart: listen");
  EXPECT_EQ(H::body(h.get(seg(kEdge))), "kept");  // the replaced event kept its segments
  EXPECT_EQ(h.get(seg(kEdge, "audio-en")).status, 404);  // the stream it dropped is gone
  EXPECT_EQ(H::header(h.get("/live/encore/v/1.m4s"), "Live-Reject"), "expired");
  EXPECT_EQ(h.admin(Method::get, "/admin/events/adhoc").status, 200);  // admin-created: untouched
  EXPECT_EQ(h.put(seg(kEdge - 1), "a", "x").status, 401);              // the old token is gone
  EXPECT_EQ(h.put(seg(kEdge - 1), "a", "x", "", Headers{.authorization = "Bearer rotated"}).status, 201);

  // A file without the event deletes it.
  auto fewer = parse_origin_config("auth: {admin_tokens: [admin-secret]}\nevents: []\n", "empty.yaml");
  ASSERT_TRUE(fewer);
  EXPECT_NE(h.origin->reload(*h.thread, *fewer).find("0 events created, 0 replaced, 2 deleted"), std::string::npos);
  EXPECT_EQ(H::header(h.get(seg(kEdge)), "Live-Reject"), "unknown-event");
  EXPECT_EQ(h.admin(Method::get, "/admin/events/adhoc").status, 200);
  // Every restart-only setting that changed is named.
  auto tuned = parse_origin_config(
      "header_timeout_ms: 500\ndrain_ms_max: 100\noverload: {shed_ttl_ms: 1000}\nauth: {admin_tokens: [admin-secret]}\n"
      "events: [{id: final, pipelines: [a, b], streams: [{id: video}]}, {id: encore, pipelines: [a], streams: [{id: v}]}]\n",
      "tuned.yaml");
  ASSERT_TRUE(tuned) << tuned.error().message;
  EXPECT_NE(h.origin->reload(*h.thread, *tuned).find("restart: drain_ms_max header_timeout_ms overload.shed_ttl_ms"),
            std::string::npos);
}

TEST(CoreMetricsPart2, HistogramsMarkersAndHoldWakeLatency) {
  H h(example_config());
  auto w = h.waiter();
  ASSERT_TRUE(std::holds_alternative<Hold>(h.start(Method::get, seg(kEdge + 1), {}, w)));
  h.clock.advance_ms(300);
  ASSERT_EQ(h.put(seg(kEdge + 1), "a", "x").status, 201);  // wakes at T0 + 300
  h.clock.advance_ms(7);                                    // the held request runs 7 ms later
  ASSERT_TRUE(std::holds_alternative<Response>(h.resume(w, seg(kEdge + 1))));
  ASSERT_EQ(h.admin(Method::post, "/admin/events/final/markers", marker_body("m", 0)).status, 201);
  const std::string m = h.metrics();
  EXPECT_NE(m.find("# TYPE liveorigin_hold_wake_ms histogram"), std::string::npos);
  EXPECT_NE(m.find(R"(liveorigin_hold_wake_ms_bucket{le="5"} 0)"), std::string::npos) << m;
  EXPECT_NE(m.find(R"(liveorigin_hold_wake_ms_bucket{le="10"} 1)"), std::string::npos) << m;
  EXPECT_NE(m.find("liveorigin_hold_wake_ms_sum 7"), std::string::npos) << m;
  EXPECT_NE(m.find("liveorigin_hold_wake_ms_count 1"), std::string::npos) << m;
  EXPECT_NE(m.find(R"(liveorigin_put_ms_bucket{le="+Inf"} 1)"), std::string::npos) << m;
  EXPECT_NE(m.find(R"(liveorigin_markers{event="final"} 1)"), std::string::npos) << m;
  EXPECT_NE(m.find(R"(liveorigin_marker_changes_total{event="final",op="create"} 1)"), std::string::npos) << m;
}

}  // namespace
}  // namespace liveorigin::testing

namespace liveorigin::testing {
namespace {

// --- review fixes ----------------------------------------------------------------

TEST(CoreIngestEdges, EmptyBodiesAreRefusedAndAChangedVerdictIsANewCandidate) {
  H h(example_config());
  Response empty = h.put(seg(kEdge), "a", "");
  EXPECT_EQ(empty.status, 400);
  EXPECT_EQ(H::body(empty), "empty body: nothing to store\n");
  ASSERT_EQ(h.put(seg(kEdge), "a", "same", "missing-frames=2").status, 201);
  // The packager re-inspects the same bytes and finds them clean: replaced (not yet served).
  EXPECT_EQ(h.put(seg(kEdge), "a", "same").status, 204);
  Response r = h.get(seg(kEdge));
  EXPECT_EQ(H::header(r, "Segment-Defects"), "");
  // Committed clean: a new verdict is a change like different bytes.
  EXPECT_EQ(h.put(seg(kEdge), "a", "same", "corrupt").status, 409);
  EXPECT_EQ(h.put(seg(kEdge), "a", "same").status, 204);
}

TEST(CoreIngestEdges, UnknownDigestAlgorithmsAreIgnored) {
  H h(example_config());
  EXPECT_EQ(h.put(seg(kEdge), "a", "hello", "", Headers{.digest = "md5=\"whatever\", sha-999=:AAAA:"}).status, 201);
  EXPECT_EQ(h.put(seg(kEdge - 1), "a", "hello", "", Headers{.digest = "sha-256=\"not bytes\""}).status, 400);
}

TEST(CoreIngestEdges, PlainObjectsPerStreamAreBounded) {
  H h(example_config("", "store:\n  budget_bytes: 8388608\n"));
  for (int i = 0; i < 256; ++i) ASSERT_EQ(h.put("/live/final/video/o" + std::to_string(i) + ".mp4", "a", "x").status, 201);
  Response full = h.put("/live/final/video/one-more.mp4", "a", "x");
  EXPECT_EQ(full.status, 507);
  EXPECT_EQ(h.put("/live/final/video/o1.mp4", "a", "y").status, 204);  // existing names still update
  EXPECT_EQ(h.put("/live/final/audio-en/o1.mp4", "a", "x").status, 201);  // per stream
  // A name whose first upload failed is free again.
  h.store.fail_puts = true;
  EXPECT_EQ(h.put("/live/final/audio-en/failed.mp4", "a", "x").status, 503);
  h.store.fail_puts = false;
  for (int i = 0; i < 255; ++i) {
    ASSERT_EQ(h.put("/live/final/audio-en/p" + std::to_string(i) + ".mp4", "a", "x").status, 201) << i;
  }
  EXPECT_EQ(h.put("/live/final/audio-en/p255.mp4", "a", "x").status, 507);
}

TEST(CoreInvalidationFeed, TruncationIsFlaggedOnlyWhenEntriesWereDropped) {
  H h(example_config("", "invalidations_max: 2\n"));
  ASSERT_EQ(h.put(seg(kEdge), "a", "def", "corrupt").status, 201);
  h.get(seg(kEdge));
  ASSERT_EQ(h.put(seg(kEdge), "b", "clean").status, 201);  // an upgrade takes version 1
  for (int i = 0; i < 2; ++i) ASSERT_EQ(h.admin(Method::post, "/admin/invalidate", R"({"event": "final"})").status, 200);
  // Versions 2 and 3 are in the feed; nothing was dropped, though version 1 is not an entry.
  EXPECT_EQ(H::header(h.get("/live/final/_invalidations?since=0"), "Live-Feed-Truncated"), "");
  ASSERT_EQ(h.admin(Method::post, "/admin/invalidate", R"({"event": "final"})").status, 200);  // drops v2
  EXPECT_EQ(H::header(h.get("/live/final/_invalidations?since=0"), "Live-Feed-Truncated"), "?1");
  EXPECT_EQ(H::header(h.get("/live/final/_invalidations?since=2"), "Live-Feed-Truncated"), "");
  EXPECT_EQ(H::body(h.get("/live/final/_invalidations?since=2")).find("\"version\":2"), std::string::npos);
}

TEST(CoreMarkersApi, OneMarkerByIdAndDeleteNeedsAnId) {
  H h(example_config());
  ASSERT_EQ(h.admin(Method::post, "/admin/events/final/markers", marker_body("m1", 1000, 500)).status, 201);
  Response one = h.admin(Method::get, "/admin/events/final/markers/m1");
  EXPECT_EQ(one.status, 200);
  EXPECT_EQ(H::body(one), R"({"id":"m1","kind":"ad-break","start_ms":1000,"duration_ms":500,"data":""})"
                          "\n");
  EXPECT_EQ(h.admin(Method::get, "/admin/events/final/markers/nope").status, 404);
  Response del = h.admin(Method::del, "/admin/events/final/markers");
  EXPECT_EQ(del.status, 405);
  EXPECT_EQ(H::header(del, "Allow"), "GET, HEAD, POST");
}

TEST(CoreDrain, NoNewHoldsAndHeldRequestsEndByTheDrainDeadline) {
  H h(example_config());
  auto w = h.waiter();
  ASSERT_TRUE(std::holds_alternative<Hold>(h.start(Method::get, seg(kEdge + 1), {}, w)));
  h.origin->set_draining(H::kT0 + 300);
  Outcome o = h.resume(w, seg(kEdge + 1));  // the server re-evaluates held requests at drain
  ASSERT_TRUE(std::holds_alternative<Hold>(o));
  EXPECT_EQ(std::get<Hold>(o).wake_at_ms, H::kT0 + 300);
  Response fresh = h.get(seg(kEdge + 1));
  EXPECT_EQ(fresh.status, 404);
  EXPECT_EQ(H::body(fresh), "not yet (draining)\n");
  h.clock.advance_ms(300);
  o = h.resume(w, seg(kEdge + 1));
  ASSERT_TRUE(std::holds_alternative<Response>(o));
  EXPECT_EQ(H::header(std::get<Response>(o), "Live-Reject"), "not-yet");
  EXPECT_EQ(H::body(std::get<Response>(o)), "not yet (draining)\n");
  EXPECT_NE(h.metrics().find("liveorigin_hold_timeouts_total 0"), std::string::npos);
  EXPECT_EQ(h.get("/healthz").status, 503);
  EXPECT_EQ(h.origin->held_requests(), 0);
}

}  // namespace
}  // namespace liveorigin::testing
