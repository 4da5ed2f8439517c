// The origin core on a manual clock, no sockets. Ingest (ingest.h): the PUT contract, re-PUT rules, digests, DVR expiry and the byte
// budget.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/support/core_test_util.h"

namespace liveorigin::testing {
namespace {

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

}  // namespace
}  // namespace liveorigin::testing
