// The origin core on a manual clock, no sockets: zones, selection, commit, holds,
// ingest rules, plain objects, memory bounds, admin API, metrics (DESIGN §2.1-§2.3, §2.7).
#include <gtest/gtest.h>

#include <algorithm>

#include "origin/core/base64.h"
#include "tests/support/core_harness.h"

namespace liveorigin::testing {
namespace {

constexpr int64_t kD = 2000;
const int64_t kEdge = CoreHarness::kT0 / kD - 1;  // 499'999

std::string seg(int64_t n, const std::string& stream = "video") {
  return "/live/final/" + stream + "/" + std::to_string(n) + ".m4s";
}

int64_t avail(int64_t n) { return (n + 1) * kD; }

using H = CoreHarness;

std::string replaced(std::string s, std::string_view from, std::string_view to) {
  const size_t at = s.find(from);
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

// --- zones -----------------------------------------------------------------

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

// --- selection -------------------------------------------------------------

struct SelectionRow {
  std::vector<std::pair<std::string, std::string>> candidates;  // pipeline, Segment-Defects
  std::string chosen;
  std::string defects_downstream;
};

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

// --- commit ----------------------------------------------------------------

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

// --- ingest ----------------------------------------------------------------

TEST(CoreIngest, RePutRules) {
  H h(example_config());
  const int64_t n = kEdge;
  EXPECT_EQ(h.put(seg(n), "a", "one").status, 201);
  EXPECT_EQ(h.put(seg(n), "a", "one").status, 204);  // retry of the same bytes
  EXPECT_EQ(h.put(seg(n), "a", "two").status, 204);  // uncommitted: replaced
  EXPECT_EQ(H::body(h.get(seg(n))), "two");          // commits a's clean copy
  Response conflict = h.put(seg(n), "a", "three");
  EXPECT_EQ(conflict.status, 409);
  EXPECT_NE(H::body(conflict).find("invalidation"), std::string::npos);
  EXPECT_EQ(H::body(h.get(seg(n))), "two");
  EXPECT_EQ(h.put(seg(n), "a", "two").status, 204);  // the same bytes are still fine

  // A committed defective candidate may be replaced, and upgrades the choice.
  ASSERT_EQ(h.put(seg(n - 1), "a", "broken", "corrupt").status, 201);
  ASSERT_EQ(H::body(h.get(seg(n - 1))), "broken");
  Response fixed = h.put(seg(n - 1), "a", "fixed");
  EXPECT_EQ(fixed.status, 204);
  EXPECT_EQ(H::header(fixed, "Live-Version"), "1");
  Response r = h.get(seg(n - 1));
  EXPECT_EQ(H::body(r), "fixed");
  EXPECT_EQ(H::header(r, "Segment-Defects"), "");
  // The replaced bytes left the store.
  EXPECT_EQ(h.store.inner.objects(), 2u);
}

TEST(CoreIngest, StatusesOfThePutContract) {
  H h(example_config("", "body_limit_bytes: 4096\n"));
  const std::string t = seg(kEdge);
  Headers none;
  none.authorization = "";
  Response r = h.put(t, "a", "x", "", none);
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(H::header(r, "WWW-Authenticate").find("Bearer"), std::string::npos);
  Headers wrong;
  wrong.authorization = "Bearer nope";
  EXPECT_EQ(h.put(t, "a", "x", "", wrong).status, 401);
  Headers only_b;
  only_b.authorization = "Bearer only-b";
  EXPECT_EQ(h.put(t, "a", "x", "", only_b).status, 403);
  EXPECT_EQ(h.put(t, "b", "x", "", only_b).status, 201);
  Headers other_event;
  other_event.authorization = "Bearer other-event";
  EXPECT_EQ(h.put(t, "a", "x", "", other_event).status, 403);
  EXPECT_EQ(h.put(t, "z", "x").status, 403);  // pipeline not configured
  Response no_pipeline = h.put(t, "", "x");
  EXPECT_EQ(no_pipeline.status, 400);
  EXPECT_NE(H::body(no_pipeline).find("Live-Pipeline"), std::string::npos);
  EXPECT_EQ(h.put("/live/nope/video/1.m4s", "a", "x").status, 404);
  EXPECT_EQ(h.put("/live/final/nope/1.m4s", "a", "x").status, 404);

  Response bad_defects = h.put(t, "a", "x", "missing-frames=-1");
  EXPECT_EQ(bad_defects.status, 400);
  EXPECT_TRUE(H::body(bad_defects).starts_with("Segment-Defects: ")) << H::body(bad_defects);
  Response bad_syntax = h.put(t, "a", "x", "missing-frames=1;;");
  EXPECT_EQ(bad_syntax.status, 400);
  EXPECT_TRUE(H::body(bad_syntax).starts_with("Segment-Defects: ")) << H::body(bad_syntax);

  Response too_old = h.put(seg(kEdge - 1801), "a", "x");
  EXPECT_EQ(too_old.status, 422);
  EXPECT_EQ(H::header(too_old, "Live-Reject"), "expired");
  EXPECT_EQ(h.put(seg(kEdge - 1800), "a", "x").status, 201);
  EXPECT_EQ(h.put(seg(kEdge + 2), "a", "x").status, 201);
  Response too_new = h.put(seg(kEdge + 3), "a", "x");
  EXPECT_EQ(too_new.status, 422);
  EXPECT_EQ(H::header(too_new, "Live-Reject"), "too-early");

  RequestHead big = h.head(Method::put, t, Headers{.pipeline = "a"});
  big.content_length = 4097;
  auto started = h.origin->begin_put(*h.thread, big);
  ASSERT_TRUE(std::holds_alternative<Response>(started));
  EXPECT_EQ(std::get<Response>(started).status, 413);

  EXPECT_EQ(h.request(Method::del, t).status, 204);  // ffmpeg's DELETE: no effect
  EXPECT_EQ(h.get(t).status, 200);
  EXPECT_NE(h.metrics().find(R"(liveorigin_puts_total{status="422"} 2)"), std::string::npos);
}

TEST(CoreIngest, ReprDigestIsVerifiedAndAMismatchStoresNothing) {
  H h(example_config());
  const std::string body = "hello";
  // sha-256("hello")
  const std::string good = "sha-256=:LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=:";
  const std::string bad = "sha-256=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:";
  Response r = h.put(seg(kEdge), "a", body, "", Headers{.digest = bad});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(H::body(r), "Repr-Digest: sha-256 does not match the body\n");
  EXPECT_EQ(h.store.puts, 0);
  EXPECT_EQ(h.put(seg(kEdge), "a", body, "", Headers{.digest = "sha-256=:bm90IGEgZGlnZXN0:"}).status, 400);
  EXPECT_EQ(h.put(seg(kEdge), "a", body, "", Headers{.digest = good}).status, 201);
  EXPECT_EQ(H::body(h.get(seg(kEdge))), "hello");
}

TEST(CoreIngest, NumberOffsetRealignsARestartedPipeline) {
  H h(example_config("", "", "[a, {id: b, number_offset: 1000}]"));
  ASSERT_EQ(h.put(seg(kEdge - 1000), "b", "from-b").status, 201);  // b's 498999 is our 499999
  Response r = h.get(seg(kEdge));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(H::body(r), "from-b");
}

TEST(CoreIngest, PathPrefixIngestForPackagersWithoutHeaders) {
  H h(example_config());
  Headers none;
  none.authorization = "";
  EXPECT_EQ(h.put("/ingest/b/ingest-secret/final/video/" + std::to_string(kEdge) + ".m4s", "", "px", "", none).status,
            201);
  EXPECT_EQ(h.put("/ingest/b/wrong/final/video/" + std::to_string(kEdge) + ".m4s", "", "px", "", none).status, 401);
  EXPECT_EQ(H::header(h.get(seg(kEdge)), "Live-Pipeline"), "b");
}

TEST(CoreIngest, FailedStoreWriteIsNotAcknowledged) {
  H h(example_config());
  h.store.fail_puts = true;
  EXPECT_EQ(h.put(seg(kEdge), "a", "x").status, 503);
  h.store.fail_puts = false;
  EXPECT_EQ(h.put(seg(kEdge), "a", "x").status, 201);
  EXPECT_EQ(h.origin->stored_bytes(), 1);
}

// --- holds -----------------------------------------------------------------

TEST(CoreHolds, HeldRequestIsAnsweredTheMomentTheSegmentIsPublished) {
  H h(example_config());
  const int64_t n = kEdge + 1;
  std::vector<std::shared_ptr<Waiter>> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.push_back(h.waiter());
    ASSERT_TRUE(std::holds_alternative<Hold>(h.start(Method::get, seg(n), {}, waiters.back())));
  }
  EXPECT_EQ(h.origin->held_requests(), 3);
  h.clock.advance_ms(1500);  // published 500 ms early: clean copies are served at once
  ASSERT_EQ(h.put(seg(n), "a", "early").status, 201);
  for (auto& w : waiters) {
    EXPECT_EQ(w->wakes, 1);
    Outcome o = h.resume(w, seg(n));
    ASSERT_TRUE(std::holds_alternative<Response>(o));
    const Response& r = std::get<Response>(o);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(H::body(r), "early");
    EXPECT_NE(H::header(r, "CMSD-Static").find("ht=1500"), std::string::npos);
  }
  EXPECT_EQ(h.origin->held_requests(), 0);
  EXPECT_NE(h.metrics().find("liveorigin_holds_total 3"), std::string::npos);
}

TEST(CoreHolds, AWaiterReusedForTheNextRequestStartsAfresh) {
  // The server's waiter is its connection: keep-alive requests reuse it.
  H h(example_config());
  auto w = h.waiter();
  ASSERT_TRUE(std::holds_alternative<Hold>(h.start(Method::get, seg(kEdge + 1), {}, w)));
  h.clock.advance_ms(300);
  ASSERT_EQ(h.put(seg(kEdge + 1), "a", "x").status, 201);
  ASSERT_TRUE(std::holds_alternative<Response>(h.resume(w, seg(kEdge + 1))));
  // Much later, the same connection asks for the next segment: held like any new request.
  h.clock.advance_ms(2000);
  Outcome next = h.start(Method::get, seg(kEdge + 2), {}, w);
  ASSERT_TRUE(std::holds_alternative<Hold>(next));
  EXPECT_EQ(std::get<Hold>(next).wake_at_ms, avail(kEdge + 2));
  h.clock.set_ms(avail(kEdge + 2) - 100);
  ASSERT_EQ(h.put(seg(kEdge + 2), "a", "y").status, 201);
  Outcome o = h.resume(w, seg(kEdge + 2));
  ASSERT_TRUE(std::holds_alternative<Response>(o));
  EXPECT_EQ(std::get<Response>(o).status, 200);
  EXPECT_NE(H::header(std::get<Response>(o), "CMSD-Static").find("ht=1600"), std::string::npos)
      << H::header(std::get<Response>(o), "CMSD-Static");
  EXPECT_EQ(h.metrics().find("liveorigin_hold_timeouts_total 1"), std::string::npos);
}

TEST(CoreHolds, DefectiveEarlyCopyKeepsTheRequestHeldUntilDue) {
  H h(example_config());
  const int64_t n = kEdge + 1;
  auto w = h.waiter();
  ASSERT_TRUE(std::holds_alternative<Hold>(h.start(Method::get, seg(n), {}, w)));
  ASSERT_EQ(h.put(seg(n), "a", "bad", "missing-frames=1").status, 201);
  EXPECT_EQ(w->wakes, 1);
  Outcome o = h.resume(w, seg(n));
  ASSERT_TRUE(std::holds_alternative<Hold>(o));
  EXPECT_EQ(std::get<Hold>(o).wake_at_ms, avail(n));
  h.origin->cancel(w);
}

TEST(CoreHolds, AtMostHoldRequestsMaxAreHeld) {
  H h(example_config("", "hold_requests_max: 2\n"));
  const int64_t n = kEdge + 1;
  auto w1 = h.waiter();
  auto w2 = h.waiter();
  auto w3 = h.waiter();
  ASSERT_TRUE(std::holds_alternative<Hold>(h.start(Method::get, seg(n), {}, w1)));
  ASSERT_TRUE(std::holds_alternative<Hold>(h.start(Method::get, seg(n), {}, w2)));
  Outcome third = h.start(Method::get, seg(n), {}, w3);
  ASSERT_TRUE(std::holds_alternative<Response>(third));
  const Response& r = std::get<Response>(third);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(H::header(r, "Live-Reject"), "not-yet");
  // Inside the hold window the hint is 0: retry now, a slot may be free.
  EXPECT_EQ(H::header(r, "CDN-Cache-Control"), "max-age=0, max-age-ms=0");
  h.origin->cancel(w1);  // a client that disconnects frees its slot
  EXPECT_EQ(h.origin->held_requests(), 1);
  auto w4 = h.waiter();
  EXPECT_TRUE(std::holds_alternative<Hold>(h.start(Method::get, seg(n), {}, w4)));
  ASSERT_EQ(h.put(seg(n), "a", "x").status, 201);
  EXPECT_EQ(w1->wakes, 0);  // cancelled: not woken
  EXPECT_EQ(w2->wakes, 1);
  EXPECT_EQ(w4->wakes, 1);
  EXPECT_NE(h.metrics().find("liveorigin_holds_refused_total 1"), std::string::npos);
  h.origin->cancel(w2);
  h.origin->cancel(w4);
  EXPECT_EQ(h.origin->held_requests(), 0);
}

TEST(CoreHolds, NoRequestIsHeldLongerThanHoldMsMax) {
  // hold_ms_max below the wait that selection would want: the bound wins.
  H h(example_config("        hold_ms_max: 700\n"));
  const int64_t n = kEdge + 1;
  auto w = h.waiter();
  Outcome o = h.start(Method::get, seg(n), {}, w);
  ASSERT_TRUE(std::holds_alternative<Hold>(o));
  EXPECT_EQ(std::get<Hold>(o).wake_at_ms, H::kT0 + 700);
  h.clock.advance_ms(699);
  o = h.resume(w, seg(n));
  ASSERT_TRUE(std::holds_alternative<Hold>(o));
  h.clock.advance_ms(1);
  o = h.resume(w, seg(n));
  ASSERT_TRUE(std::holds_alternative<Response>(o));
  const Response& r = std::get<Response>(o);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(H::header(r, "Live-Reject"), "not-yet");
  EXPECT_NE(H::header(r, "CMSD-Static").find("ht=700"), std::string::npos);
  EXPECT_EQ(h.origin->held_requests(), 0);
  EXPECT_NE(h.metrics().find("liveorigin_hold_timeouts_total 1"), std::string::npos);
}

TEST(CoreHolds, DefaultHoldBoundCoversHoldWindowPlusGrace) {
  // Held at the start of the hold window, a request can wait d + grace, inside 2 d.
  H h(example_config());
  const int64_t n = kEdge + 1;
  ASSERT_EQ(h.put(seg(kEdge), "a", "x").status, 201);
  auto w = h.waiter();
  ASSERT_TRUE(std::holds_alternative<Hold>(h.start(Method::get, seg(n), {}, w)));
  h.clock.set_ms(avail(n));
  Outcome o = h.resume(w, seg(n));
  ASSERT_TRUE(std::holds_alternative<Hold>(o));
  EXPECT_EQ(std::get<Hold>(o).wake_at_ms, avail(n) + 500);
  h.clock.set_ms(avail(n) + 500);
  o = h.resume(w, seg(n));
  ASSERT_TRUE(std::holds_alternative<Response>(o));
  EXPECT_EQ(H::header(std::get<Response>(o), "Live-Reject"), "missing");
}

// --- headers ---------------------------------------------------------------

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

// --- plain objects ---------------------------------------------------------

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

// --- memory ----------------------------------------------------------------

TEST(CoreMemory, SegmentsLeavingTheDvrWindowAreDropped) {
  H h(replaced(example_config(), "dvr_window_s: 3600", "dvr_window_s: 10"));
  ASSERT_EQ(h.config.events[0].dvr_window_s, 10);
  const std::string body(1000, 'x');
  for (int i = 0; i < 50; ++i) {
    const int64_t n = live_edge(h.config.events[0].streams[0], h.clock.now_ms());
    ASSERT_EQ(h.put(seg(n), "a", body + std::to_string(i)).status, 201);
    ASSERT_EQ(h.put(seg(n), "b", body + std::to_string(i)).status, 201);
    h.clock.advance_ms(kD);
  }
  // 10 s of DVR = 5 segments back from the edge, plus the edge: 6 numbers, 2 pipelines.
  EXPECT_LE(h.store.inner.objects(), 12u);
  EXPECT_LE(h.origin->stored_bytes(), 12 * 1002);
  const int64_t edge = live_edge(h.config.events[0].streams[0], h.clock.now_ms());
  EXPECT_EQ(h.get(seg(edge - 6)).status, 410);
  EXPECT_EQ(h.get(seg(edge - 5)).status, 200);
}

TEST(CoreMemory, ByteBudgetEvictsOldestAndNeverTheLiveWindow) {
  H h(example_config("", "store:\n  budget_bytes: 1048576\n"));
  const std::string body(100 * 1024, 'x');  // 10 fit in the 1 MiB budget
  int64_t first = live_edge(h.config.events[0].streams[0], h.clock.now_ms());
  for (int i = 0; i < 30; ++i) {
    const int64_t n = first + i;
    ASSERT_EQ(h.put(seg(n), "a", body + std::to_string(i)).status, 201) << i;
    ASSERT_LE(h.origin->stored_bytes(), 1048576);
    ASSERT_LE(h.store.inner.bytes(), 1048576);
    h.clock.advance_ms(kD);
  }
  EXPECT_LE(h.store.inner.objects(), 10u);
  Response evicted = h.get(seg(first));
  EXPECT_EQ(evicted.status, 410);
  EXPECT_EQ(H::header(evicted, "Live-Reject"), "evicted");
  EXPECT_EQ(h.get(seg(first + 29)).status, 200);
  EXPECT_NE(h.metrics().find("liveorigin_evicted_segments_total"), std::string::npos);

  // A budget that cannot hold the live window refuses the PUT rather than evicting live segments.
  const int64_t n = live_edge(h.config.events[0].streams[0], h.clock.now_ms());
  Response big = h.put(seg(n, "audio-en"), "a", std::string(1000 * 1024, 'y'));
  EXPECT_EQ(big.status, 507);
  EXPECT_EQ(h.get(seg(first + 29)).status, 200);
}

// --- admin -----------------------------------------------------------------

TEST(CoreAdmin, EventsAreCreatedReadChangedAndDeleted) {
  H h(example_config());
  EXPECT_EQ(h.request(Method::get, "/admin/events").status, 401);  // ingest token is not an admin token
  Headers none;
  none.authorization = "";
  Response unauth = h.request(Method::get, "/admin/events", none);
  EXPECT_EQ(unauth.status, 401);
  EXPECT_NE(H::header(unauth, "WWW-Authenticate").find("Bearer"), std::string::npos);

  const std::string body =
      R"({"pipelines": ["a", "b"], "dvr_window_s": 60, "streams": [{"id": "v", "segment_duration_ms": 1000}]})";
  Response created = h.admin(Method::put, "/admin/events/semi", body);
  EXPECT_EQ(created.status, 201);
  EXPECT_NE(H::body(created).find(R"("hold_window_ms":1000)"), std::string::npos) << H::body(created);
  EXPECT_EQ(h.get("/live/semi/v/1.m4s").status, 410);
  const int64_t n = H::kT0 / 1000 - 1;
  ASSERT_EQ(h.put("/live/semi/v/" + std::to_string(n) + ".m4s", "a", "semi").status, 201);

  Response read = h.admin(Method::get, "/admin/events/semi");
  EXPECT_EQ(read.status, 200);
  EXPECT_NE(H::body(read).find(R"("dvr_window_s":60)"), std::string::npos);

  // Changing the event keeps the state of streams that remain.
  Response changed = h.admin(Method::put, "/admin/events/semi",
                             R"({"id": "semi", "pipelines": ["b", "a"], "dvr_window_s": 120,
                                 "streams": [{"id": "v", "segment_duration_ms": 1000}]})");
  EXPECT_EQ(changed.status, 200);
  EXPECT_EQ(H::body(h.get("/live/semi/v/" + std::to_string(n) + ".m4s")), "semi");

  Response bad = h.admin(Method::put, "/admin/events/semi", R"({"pipelines": [], "streams": []})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_TRUE(H::body(bad).starts_with("request body:1:")) << H::body(bad);
  EXPECT_EQ(h.admin(Method::put, "/admin/events/semi", "{not json").status, 400);
  Response mismatch = h.admin(Method::put, "/admin/events/semi", R"({"id": "other", "pipelines": ["a"],
                                  "streams": [{"id": "v"}]})");
  EXPECT_EQ(mismatch.status, 400);
  EXPECT_NE(H::body(mismatch).find("does not match"), std::string::npos);

  EXPECT_EQ(h.admin(Method::del, "/admin/events/semi").status, 204);
  Response gone = h.get("/live/semi/v/" + std::to_string(n) + ".m4s");
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(H::header(gone, "Live-Reject"), "unknown-event");
  EXPECT_EQ(h.admin(Method::del, "/admin/events/semi").status, 404);
  EXPECT_EQ(h.store.inner.objects(), 0u);  // its bytes left the store
  EXPECT_EQ(h.origin->stored_bytes(), 0);
  EXPECT_EQ(h.admin(Method::post, "/admin/events/final").status, 405);
}

TEST(CoreAdmin, DeletingAnEventAnswersItsHeldRequests) {
  H h(example_config());
  auto w = h.waiter();
  ASSERT_TRUE(std::holds_alternative<Hold>(h.start(Method::get, seg(kEdge + 1), {}, w)));
  EXPECT_EQ(h.admin(Method::del, "/admin/events/final").status, 204);
  EXPECT_EQ(w->wakes, 1);
  Outcome o = h.resume(w, seg(kEdge + 1));
  ASSERT_TRUE(std::holds_alternative<Response>(o));
  EXPECT_EQ(H::header(std::get<Response>(o), "Live-Reject"), "unknown-event");
  EXPECT_EQ(h.origin->held_requests(), 0);
}

TEST(CoreAdmin, TimelineAndTime) {
  H h(example_config());
  h.clock.advance_ms(1234);
  Response tl = h.get("/live/final/_timeline");
  EXPECT_EQ(tl.status, 200);
  const std::string b = H::body(tl);
  EXPECT_NE(b.find(R"("live_edge":499999)"), std::string::npos) << b;
  EXPECT_NE(b.find(R"("segment_template":"$Number$.m4s")"), std::string::npos) << b;
  EXPECT_NE(b.find(R"("dvr_segments":1800)"), std::string::npos) << b;
  EXPECT_EQ(H::header(tl, "CDN-Cache-Control"), "max-age=0, max-age-ms=766");  // until the edge moves
  Response time = h.get("/time");
  EXPECT_EQ(H::body(time), "1970-01-12T13:46:41.234Z");
}

TEST(CoreMetrics, CountsRequestsByZoneAndStatusAndSelectionsByPipeline) {
  H h(example_config());
  ASSERT_EQ(h.put(seg(kEdge), "b", "x").status, 201);
  h.get(seg(kEdge));
  h.get(seg(kEdge));
  h.get(seg(kEdge + 50));
  h.get(seg(1));
  const std::string m = h.metrics();
  EXPECT_NE(m.find(R"(liveorigin_requests_total{class="live",zone="select",status="200"} 2)"), std::string::npos) << m;
  EXPECT_NE(m.find(R"(liveorigin_requests_total{class="live",zone="too-early",status="404"} 1)"), std::string::npos) << m;
  EXPECT_NE(m.find(R"(liveorigin_requests_total{class="dvr",zone="expired",status="410"} 1)"), std::string::npos) << m;
  EXPECT_NE(m.find(R"(liveorigin_selections_total{event="final",stream="video",pipeline="b",reason="clean"} 1)"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find(R"(liveorigin_puts_total{status="201"} 1)"), std::string::npos) << m;
  EXPECT_NE(m.find("liveorigin_held_requests 0"), std::string::npos) << m;
  EXPECT_NE(m.find("# TYPE liveorigin_requests_total counter"), std::string::npos);
}

TEST(CoreBadInput, BadPathsAndMethodsGetTheirAnswers) {
  H h(example_config());
  EXPECT_EQ(h.get("/live/final/video/../x").status, 400);
  EXPECT_EQ(h.get("/live//video/1.m4s").status, 400);
  EXPECT_EQ(h.get("not-a-path").status, 400);
  EXPECT_EQ(h.get("/live/final/video/1.m4s/extra").status, 404);
  EXPECT_EQ(h.get("/admin/events/final/streams/video/segments/abc", Headers{.authorization = "Bearer admin-secret"})
                .status,
            400);
  EXPECT_EQ(h.request(Method::post, seg(kEdge)).status, 405);
  // Non-canonical numbers are plain objects, never a segment.
  EXPECT_EQ(H::header(h.get("/live/final/video/0499999.m4s"), "Live-Reject"), "not-found");
  EXPECT_EQ(H::header(h.get("/live/final/video/99999999999999999999999.m4s"), "Live-Reject"), "not-found");
  EXPECT_EQ(h.store.gets, 0);
}

}  // namespace
}  // namespace liveorigin::testing
