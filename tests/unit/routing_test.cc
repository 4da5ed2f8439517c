// The origin core on a manual clock, no sockets. Routing (routing.h) and the façade: bad paths and methods.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/support/core_test_util.h"

namespace liveorigin::testing {
namespace {

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
