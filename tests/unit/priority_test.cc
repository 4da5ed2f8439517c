// The origin core on a manual clock, no sockets. Priority (priority.h): request classes, shedding under overload, suppression.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/support/core_test_util.h"

namespace liveorigin::testing {
namespace {

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
  RequestHead v2 = h.head(Method::get, seg(kEdge - 10));
  v2.cmcd_request = "bl=(500),br=(3200)";  // CMCD v2 sends inner lists: read as v1's bl=500
  run(v2);
  RequestHead v2_full = h.head(Method::get, seg(kEdge - 10));
  v2_full.cmcd_request = "bl=(9000)";
  run(v2_full);

  const std::string m = h.metrics();
  EXPECT_NE(m.find(R"(liveorigin_requests_total{class="live",zone="select",status="200"} 5)"), std::string::npos) << m;
  EXPECT_NE(m.find(R"(liveorigin_requests_total{class="dvr",zone="select",status="200"} 5)"), std::string::npos) << m;
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

}  // namespace
}  // namespace liveorigin::testing
