// The origin core on a manual clock, no sockets. Delivery (delivery.h, selection.h): zones from metadata alone, selection, commit, the
// headers of a served candidate, plain objects.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/support/core_test_util.h"

namespace liveorigin::testing {
namespace {

struct SelectionRow {
  std::vector<std::pair<std::string, std::string>> candidates;  // pipeline, Segment-Defects
  std::string chosen;
  std::string defects_downstream;
};

TEST(CoreZones, AnsweredInTableOrderFromMetadataAlone) {
  H h(example_config());
  struct Row {
    std::string target;
    int status;
    std::string reject;
    int64_t ttl_ms;
  };
  const int64_t dvr = 1800;  // 3600 s / 2 s
  const std::vector<Row> rows = {
      {"/live/nope/video/1.m4s", 404, "unknown-event", 10000},
      {"/live/final/nope/1.m4s", 404, "unknown-stream", 10000},
      {seg(kEdge - dvr - 1), 410, "expired", 3600000},
      {seg(0), 410, "expired", 3600000},
      // edge+2 is due in 4 s: outside the 2 s hold window, the TTL lands the retry inside it.
      {seg(kEdge + 2), 404, "not-yet", 2000},
      {seg(kEdge + 10), 404, "not-yet", 18000},
      {seg(kEdge + 11), 404, "too-early", 20000},
      {seg(kEdge + 40), 404, "too-early", 60000},
      {seg(kEdge + 100000), 404, "too-early", 60000},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.target);
    Response r = h.get(row.target);
    EXPECT_EQ(r.status, row.status);
    EXPECT_EQ(H::header(r, "Live-Reject"), row.reject);
    EXPECT_EQ(H::header(r, "CDN-Cache-Control"),
              "max-age=" + std::to_string(row.ttl_ms / 1000) + ", max-age-ms=" + std::to_string(row.ttl_ms));
    EXPECT_EQ(H::header(r, "Cache-Control"), "max-age=" + std::to_string(row.ttl_ms / 1000));
  }
  EXPECT_EQ(h.store.gets, 0);
}

TEST(CoreZones, TtlOfNotYetCountsMilliseconds) {
  H h(example_config());
  h.clock.advance_ms(700);  // 1.3 s until edge+1, 3.3 s until edge+2
  Response r = h.get(seg(kEdge + 2));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(H::header(r, "CDN-Cache-Control"), "max-age=1, max-age-ms=1300");
}

TEST(CoreZones, OldestDvrSegmentIsStillServedAndOneBeforeIsExpired) {
  H h(example_config());
  const int64_t oldest = kEdge - 1800;
  EXPECT_EQ(h.get(seg(oldest)).status, 404);  // select zone: missing (no pipeline live)
  EXPECT_EQ(H::header(h.get(seg(oldest)), "Live-Reject"), "missing");
  EXPECT_EQ(h.get(seg(oldest - 1)).status, 410);
}

TEST(CoreZones, HoldWindowHoldsUntilAvailability) {
  H h(example_config());
  auto w = h.waiter();
  Outcome o = h.start(Method::get, seg(kEdge + 1), {}, w);
  ASSERT_TRUE(std::holds_alternative<Hold>(o));
  EXPECT_EQ(std::get<Hold>(o).wake_at_ms, avail(kEdge + 1));
  EXPECT_EQ(h.origin->held_requests(), 1);
  h.origin->cancel(w);
  EXPECT_EQ(h.origin->held_requests(), 0);
}

TEST(CoreZones, PublishLatencyAndStartNumberShiftTheTimeline) {
  // An ffmpeg-style stream: numbers from 1 at its own start, 300 ms publish latency.
  const int64_t start = H::kT0 - 10 * kD;
  H h(example_config("        start_number: 1\n        availability_start_ms: " + std::to_string(start) +
                     "\n        publish_latency_ms: 300\n"));
  // Segment 10 covers [start + 9 d, start + 10 d) and is due 300 ms after it ends.
  Response r = h.get("/live/final/video/9.m4s");  // the edge
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(H::header(r, "Live-Reject"), "missing");
  auto w = h.waiter();
  Outcome o = h.start(Method::get, "/live/final/video/10.m4s", {}, w);
  ASSERT_TRUE(std::holds_alternative<Hold>(o));
  EXPECT_EQ(std::get<Hold>(o).wake_at_ms, start + 10 * kD + 300);
  h.origin->cancel(w);
  Response next = h.get("/live/final/video/11.m4s");
  EXPECT_EQ(H::header(next, "Live-Reject"), "not-yet");
  EXPECT_EQ(H::header(next, "CDN-Cache-Control"), "max-age=0, max-age-ms=300");
  EXPECT_EQ(h.get("/live/final/video/0.m4s").status, 410);  // before start_number
}

TEST(CoreSelection, TableOfCandidateSetsGivesTheBestChoice) {
  const std::vector<SelectionRow> rows = {
      {{{"a", ""}, {"b", ""}}, "a", ""},
      {{{"b", ""}, {"a", ""}}, "a", ""},
      {{{"a", "missing-frames=1"}, {"b", ""}}, "b", ""},
      {{{"a", "corrupt"}, {"b", "discontinuity"}}, "b", "discontinuity"},
      {{{"a", "discontinuity"}, {"b", "short-ms=40"}}, "b", "short-ms=40"},
      {{{"a", "short-ms=100"}, {"b", "short-ms=50"}}, "b", "short-ms=50"},
      {{{"a", "missing-frames=1"}, {"b", "missing-samples=900"}}, "b", "missing-samples=900"},
      {{{"a", "missing-frames=2, missing-samples=1"}, {"b", "missing-frames=2"}}, "b", "missing-frames=2"},
      {{{"a", "missing-frames=2"}, {"b", "missing-frames=2"}}, "a", "missing-frames=2"},
      {{{"a", "missing-frames=3"}, {"b", "missing-frames=2"}, {"c", "missing-frames=2"}}, "b", "missing-frames=2"},
      {{{"c", ""}, {"a", "corrupt"}}, "c", ""},
      {{{"a", "corrupt, missing-frames=9"}, {"b", "corrupt"}}, "b", "corrupt"},
      {{{"c", "missing-samples=3"}}, "c", "missing-samples=3"},
      {{{"a", "x-unknown"}, {"b", "missing-frames=1"}}, "a", "x-unknown"},
  };
  for (const auto& row : rows) {
    std::string trace;
    for (const auto& [p, d] : row.candidates) trace += p + "{" + d + "} ";
    SCOPED_TRACE(trace);
    H h(example_config("", "", "[a, b, c]"));
    const int64_t n = kEdge;  // due, and only the pipelines of the row are live
    for (const auto& [p, d] : row.candidates) {
      ASSERT_EQ(h.put(seg(n), p, "bytes-from-" + p, d).status, 201);
    }
    Response r = h.get(seg(n));
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(H::header(r, "Live-Pipeline"), row.chosen);
    EXPECT_EQ(H::body(r), "bytes-from-" + row.chosen);
    EXPECT_EQ(H::header(r, "Segment-Defects"), row.defects_downstream);
  }
}

TEST(CoreSelection, DefectiveWaitsForAnotherLivePipelineWithinGrace) {
  H h(example_config());
  const int64_t n = kEdge + 1;
  ASSERT_EQ(h.put(seg(n - 1), "b", "prev-b").status, 201);  // b is live
  ASSERT_EQ(h.put(seg(n), "a", "defective-a", "missing-frames=4").status, 201);
  h.clock.set_ms(avail(n));
  auto w = h.waiter();
  Outcome o = h.start(Method::get, seg(n), {}, w);
  ASSERT_TRUE(std::holds_alternative<Hold>(o));
  EXPECT_EQ(std::get<Hold>(o).wake_at_ms, avail(n) + 500);

  h.clock.advance_ms(120);
  ASSERT_EQ(h.put(seg(n), "b", "clean-b").status, 201);
  EXPECT_EQ(w->wakes, 1);
  Outcome r = h.resume(w, seg(n));
  ASSERT_TRUE(std::holds_alternative<Response>(r));
  const Response& resp = std::get<Response>(r);
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(H::header(resp, "Live-Pipeline"), "b");
  EXPECT_EQ(H::header(resp, "Segment-Defects"), "");
  EXPECT_NE(H::header(resp, "CMSD-Static").find(",ht=120"), std::string::npos) << H::header(resp, "CMSD-Static");
  EXPECT_EQ(h.origin->held_requests(), 0);
}

TEST(CoreSelection, DefectiveIsServedWhenGraceEndsWithItsDefectsDownstream) {
  H h(example_config());
  const int64_t n = kEdge + 1;
  ASSERT_EQ(h.put(seg(n - 1), "b", "prev-b").status, 201);
  ASSERT_EQ(h.put(seg(n), "a", "defective-a", "missing-frames=4").status, 201);
  h.clock.set_ms(avail(n));
  auto w = h.waiter();
  ASSERT_TRUE(std::holds_alternative<Hold>(h.start(Method::get, seg(n), {}, w)));
  h.clock.set_ms(avail(n) + 500);
  Outcome o = h.resume(w, seg(n));
  ASSERT_TRUE(std::holds_alternative<Response>(o));
  const Response& r = std::get<Response>(o);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(H::header(r, "Live-Pipeline"), "a");
  EXPECT_EQ(H::header(r, "Segment-Defects"), "missing-frames=4");
  EXPECT_EQ(H::header(r, "CDN-Cache-Control"), "max-age=2, max-age-ms=2000");  // d for defective
  EXPECT_NE(h.metrics().find("liveorigin_defective_served_total 1"), std::string::npos);
}

TEST(CoreSelection, DefectiveIsServedAtOnceWhenNoOtherPipelineIsLive) {
  H h(example_config());
  const int64_t n = kEdge;
  ASSERT_EQ(h.put(seg(n), "a", "defective-a", "corrupt").status, 201);
  Response r = h.get(seg(n));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(H::header(r, "Segment-Defects"), "corrupt");
}

TEST(CoreSelection, NoCandidateHoldsWhileAPipelineIsLiveThenMissing) {
  H h(example_config());
  const int64_t n = kEdge + 1;
  ASSERT_EQ(h.put(seg(n - 1), "a", "prev").status, 201);
  h.clock.set_ms(avail(n) + 100);
  auto w = h.waiter();
  Outcome o = h.start(Method::get, seg(n), {}, w);
  ASSERT_TRUE(std::holds_alternative<Hold>(o));
  EXPECT_EQ(std::get<Hold>(o).wake_at_ms, avail(n) + 500);
  h.clock.set_ms(avail(n) + 500);
  o = h.resume(w, seg(n));
  ASSERT_TRUE(std::holds_alternative<Response>(o));
  const Response& r = std::get<Response>(o);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(H::header(r, "Live-Reject"), "missing");
  EXPECT_EQ(H::header(r, "Segment-Defects"), "missing");
  EXPECT_EQ(H::header(r, "CDN-Cache-Control"), "max-age=2, max-age-ms=2000");
}

TEST(CoreSelection, NoCandidateAndNoLivePipelineIsMissingAtOnce) {
  H h(example_config());
  Response r = h.get(seg(kEdge));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(H::header(r, "Live-Reject"), "missing");
}

TEST(CoreSelection, LivenessExpiresAfterPipelineLivenessMs) {
  H h(example_config());
  ASSERT_EQ(h.put(seg(kEdge), "a", "x").status, 201);
  const int64_t n = kEdge + 3;
  h.clock.set_ms(avail(n));  // 6 s after a's PUT: 3 d, a is no longer live
  Response r = h.get(seg(n));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(H::header(r, "Live-Reject"), "missing");
}

TEST(CoreCommit, CommittedCleanChoiceIsFinal) {
  H h(example_config());
  const int64_t n = kEdge;
  ASSERT_EQ(h.put(seg(n), "b", "clean-b").status, 201);
  Response first = h.get(seg(n));
  EXPECT_EQ(H::header(first, "Live-Pipeline"), "b");
  ASSERT_EQ(h.put(seg(n), "a", "clean-a").status, 201);  // higher rank, too late
  Response again = h.get(seg(n));
  EXPECT_EQ(H::header(again, "Live-Pipeline"), "b");
  EXPECT_EQ(H::header(again, "ETag"), H::header(first, "ETag"));
  EXPECT_EQ(H::header(again, "CDN-Cache-Control"), "max-age=3600, max-age-ms=3600000");

  Response audit = h.admin(Method::get, "/admin/events/final/streams/video/segments/" + std::to_string(n));
  ASSERT_EQ(audit.status, 200);
  const std::string a = H::body(audit);
  EXPECT_NE(a.find(R"("choice":{"pipeline":"b")"), std::string::npos) << a;
  EXPECT_NE(a.find(R"("reason":"clean")"), std::string::npos) << a;
  EXPECT_NE(a.find(R"("pipeline":"a","defects":"")"), std::string::npos) << a;
}

TEST(CoreCommit, HeadCommitsTooWithoutReadingTheStore) {
  H h(example_config());
  ASSERT_EQ(h.put(seg(kEdge), "b", "clean-b").status, 201);
  Response head = h.request(Method::head, seg(kEdge));
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body_length, 7u);
  EXPECT_EQ(h.store.gets, 0);
  ASSERT_EQ(h.put(seg(kEdge), "a", "clean-a").status, 201);
  EXPECT_EQ(H::header(h.get(seg(kEdge)), "Live-Pipeline"), "b");
}

TEST(CoreCommit, CommittedDefectiveChoiceIsUpgradedWithANewVersion) {
  H h(example_config());
  const int64_t n = kEdge;
  ASSERT_EQ(h.put(seg(n), "a", "defective-a", "missing-samples=10").status, 201);
  Response first = h.get(seg(n));
  ASSERT_EQ(H::header(first, "Live-Pipeline"), "a");
  EXPECT_EQ(H::header(first, "Live-Version"), "0");

  Response put = h.put(seg(n), "b", "clean-b");
  EXPECT_EQ(put.status, 201);
  EXPECT_EQ(H::header(put, "Live-Version"), "1");
  Response upgraded = h.get(seg(n));
  EXPECT_EQ(H::header(upgraded, "Live-Pipeline"), "b");
  EXPECT_EQ(H::header(upgraded, "Live-Version"), "1");
  EXPECT_NE(H::header(upgraded, "ETag"), H::header(first, "ETag"));
  EXPECT_EQ(H::header(upgraded, "Segment-Defects"), "");
  const std::string audit =
      H::body(h.admin(Method::get, "/admin/events/final/streams/video/segments/" + std::to_string(n)));
  EXPECT_NE(audit.find(R"("reason":"upgraded")"), std::string::npos) << audit;

  // Versions are one increasing integer per event.
  ASSERT_EQ(h.put(seg(n - 1), "a", "d2", "corrupt").status, 201);
  ASSERT_EQ(H::header(h.get(seg(n - 1)), "Live-Version"), "0");
  EXPECT_EQ(H::header(h.put(seg(n - 1), "b", "d3", "discontinuity"), "Live-Version"), "2");
}

TEST(CoreCommit, WorseOrEqualCandidateDoesNotChangeACommittedDefectiveChoice) {
  H h(example_config());
  ASSERT_EQ(h.put(seg(kEdge), "b", "def-b", "missing-frames=1").status, 201);
  ASSERT_EQ(H::header(h.get(seg(kEdge)), "Live-Pipeline"), "b");
  ASSERT_EQ(h.put(seg(kEdge), "a", "def-a", "missing-frames=1").status, 201);  // same quality, higher rank
  Response r = h.get(seg(kEdge));
  EXPECT_EQ(H::header(r, "Live-Pipeline"), "b");
  EXPECT_EQ(H::header(r, "Live-Version"), "0");
}

TEST(CoreHeaders, ServedSegmentCarriesCacheVersionPipelineAndCmsd) {
  H h(example_config());
  ASSERT_EQ(h.put(seg(kEdge), "a", "0123456789").status, 201);
  Response r = h.get(seg(kEdge));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(H::header(r, "Cache-Control"), "max-age=3600");
  EXPECT_EQ(H::header(r, "CDN-Cache-Control"), "max-age=3600, max-age-ms=3600000");
  EXPECT_EQ(H::header(r, "Live-Pipeline"), "a");
  EXPECT_EQ(H::header(r, "Live-Version"), "0");
  EXPECT_EQ(H::header(r, "CMSD-Static"), "at=" + std::to_string(H::kT0) + ",d=2000,ot=v,st=l");
  EXPECT_EQ(H::header(r, "Content-Type"), "video/mp4");
  const std::string etag = H::header(r, "ETag");
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(etag.front(), '"');

  ASSERT_EQ(h.put(seg(kEdge, "audio-en"), "a", "aaaa").status, 201);
  Response audio = h.get(seg(kEdge, "audio-en"));
  EXPECT_EQ(H::header(audio, "CMSD-Static"), "at=" + std::to_string(H::kT0) + ",d=2000,ot=a,st=l");
  EXPECT_EQ(H::header(audio, "Content-Type"), "audio/mp4");

  Response not_modified = h.get(seg(kEdge), Headers{.if_none_match = "\"other\", " + etag});
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_FALSE(not_modified.send_body);
  EXPECT_EQ(H::header(not_modified, "ETag"), etag);
  EXPECT_EQ(H::header(not_modified, "CDN-Cache-Control"), "max-age=3600, max-age-ms=3600000");
  EXPECT_EQ(h.get(seg(kEdge), Headers{.if_none_match = "W/" + etag}).status, 304);
  EXPECT_EQ(h.get(seg(kEdge), Headers{.if_none_match = "*"}).status, 304);
  EXPECT_EQ(h.get(seg(kEdge), Headers{.if_none_match = "\"nope\""}).status, 200);

  Response part = h.get(seg(kEdge), Headers{.range = "bytes=2-5"});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(H::body(part), "2345");
  EXPECT_EQ(H::header(part, "Content-Range"), "bytes 2-5/10");
  EXPECT_EQ(H::body(h.get(seg(kEdge), Headers{.range = "bytes=-3"})), "789");
  EXPECT_EQ(H::body(h.get(seg(kEdge), Headers{.range = "bytes=7-"})), "789");
  EXPECT_EQ(H::body(h.get(seg(kEdge), Headers{.range = "bytes=8-100"})), "89");
  Response unsat = h.get(seg(kEdge), Headers{.range = "bytes=10-"});
  EXPECT_EQ(unsat.status, 416);
  EXPECT_EQ(H::header(unsat, "Content-Range"), "bytes */10");
  EXPECT_EQ(h.get(seg(kEdge), Headers{.range = "bytes=0-1,4-5"}).status, 200);  // several: whole
  EXPECT_EQ(h.get(seg(kEdge), Headers{.range = "lines=1-2"}).status, 200);

  // Every response carries both cache headers, errors included.
  for (const auto& target : {std::string("/time"), std::string("/healthz"), std::string("/nope"),
                             std::string("/live/final/_timeline"), seg(kEdge + 5)}) {
    Response any = h.get(target);
    EXPECT_FALSE(H::header(any, "Cache-Control").empty()) << target;
    EXPECT_NE(H::header(any, "CDN-Cache-Control").find("max-age-ms="), std::string::npos) << target;
  }
}

TEST(CoreHeaders, CorsPreflightForPublicPathsOnly) {
  H h(example_config());
  Response pre = h.request(Method::options, seg(kEdge));
  EXPECT_EQ(pre.status, 204);
  EXPECT_EQ(H::header(pre, "Access-Control-Allow-Origin"), "*");
  EXPECT_NE(H::header(pre, "Access-Control-Allow-Headers").find("CMCD-Request"), std::string::npos);
  EXPECT_EQ(H::header(pre, "Access-Control-Allow-Methods"), "GET, HEAD, OPTIONS");
  EXPECT_EQ(h.request(Method::options, "/live/final/_timeline").status, 204);
  Response admin = h.request(Method::options, "/admin/events");  // not for the admin API
  EXPECT_NE(admin.status, 204);
  EXPECT_EQ(H::header(admin, "Access-Control-Allow-Origin"), "");
  ASSERT_EQ(h.put(seg(kEdge), "a", "x").status, 201);
  EXPECT_EQ(H::header(h.get(seg(kEdge)), "Access-Control-Allow-Origin"), "*");
}

TEST(CorePlainObjects, HighestRankLivePipelineThenHighestRankHolder) {
  H h(example_config());
  const std::string init = "/live/final/video/init.mp4";
  ASSERT_EQ(h.put(init, "b", "init-b").status, 201);
  ASSERT_EQ(h.put(init, "a", "init-a").status, 201);
  Response r = h.get(init);
  EXPECT_EQ(H::body(r), "init-a");
  EXPECT_EQ(H::header(r, "Live-Pipeline"), "a");
  EXPECT_EQ(H::header(r, "CMSD-Static"), "at=" + std::to_string(H::kT0) + ",ot=i,st=l");
  EXPECT_NE(h.metrics().find("liveorigin_init_mismatch_total{event=\"final\",stream=\"video\"} 1"),
            std::string::npos);
  EXPECT_EQ(h.log.size(), 1u);

  // a stops, b keeps publishing: b's copy.
  h.clock.advance_ms(5000);
  ASSERT_EQ(h.put(seg(live_edge(h.config.events[0].streams[0], h.clock.now_ms())), "b", "s").status, 201);
  h.clock.advance_ms(1100);  // a's last PUT was 6.1 s ago (> 3 d)
  EXPECT_EQ(H::body(h.get(init)), "init-b");
  // After the event nobody is live: the highest-rank copy.
  h.clock.advance_ms(60000);
  EXPECT_EQ(H::body(h.get(init)), "init-a");
  Response missing = h.get("/live/final/video/nothing.mp4");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(H::header(missing, "Live-Reject"), "not-found");
}

TEST(CorePlainObjects, ManifestReplacedOnEveryPut) {
  H h(example_config());
  const std::string mpd = "/live/final/video/manifest.mpd";
  ASSERT_EQ(h.put(mpd, "a", "<MPD v1/>").status, 201);
  Response v1 = h.get(mpd);
  EXPECT_EQ(H::header(v1, "Content-Type"), "application/dash+xml");
  EXPECT_EQ(H::header(v1, "CMSD-Static"), "at=" + std::to_string(H::kT0) + ",ot=m,st=l");
  EXPECT_EQ(H::header(v1, "CDN-Cache-Control"), "max-age=1, max-age-ms=1000");
  ASSERT_EQ(h.put(mpd, "a", "<MPD v2/>").status, 204);
  Response v2 = h.get(mpd);
  EXPECT_EQ(H::body(v2), "<MPD v2/>");
  EXPECT_NE(H::header(v2, "ETag"), H::header(v1, "ETag"));
  EXPECT_EQ(h.get(mpd, Headers{.if_none_match = H::header(v2, "ETag")}).status, 304);
  EXPECT_EQ(h.store.inner.objects(), 1u);
  // Manifests differ between pipelines by nature: not an init mismatch.
  ASSERT_EQ(h.put(mpd, "b", "<MPD b/>").status, 201);
  EXPECT_EQ(h.metrics().find("liveorigin_init_mismatch_total"), std::string::npos);
}

}  // namespace
}  // namespace liveorigin::testing
