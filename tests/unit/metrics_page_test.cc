// The origin core on a manual clock, no sockets. GET /metrics (metrics_page.h): counters, histograms and gauges.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/support/core_test_util.h"

namespace liveorigin::testing {
namespace {

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
