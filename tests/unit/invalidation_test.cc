// The origin core on a manual clock, no sockets. Invalidation (invalidation.h): un-commit, exclusions, versions and the feed.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/support/core_test_util.h"

namespace liveorigin::testing {
namespace {

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

}  // namespace
}  // namespace liveorigin::testing
