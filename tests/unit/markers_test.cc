// The origin core on a manual clock, no sockets. Markers (markers.h): Live-Markers on the segments they overlap, the markers API.
#include <gtest/gtest.h>

#include <algorithm>

#include "origin/core/base64.h"
#include "tests/support/core_test_util.h"

namespace liveorigin::testing {
namespace {

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

}  // namespace
}  // namespace liveorigin::testing
