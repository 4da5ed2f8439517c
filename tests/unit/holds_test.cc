// The origin core on a manual clock, no sockets. Held requests (holds.h): answered on the publishing PUT, bounded in number and time,
// ended by drain.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/support/core_test_util.h"

namespace liveorigin::testing {
namespace {

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
