// The origin core on a manual clock, no sockets. The admin API and reload (admin.h), the timeline (stream_endpoints.h).
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/support/core_test_util.h"

namespace liveorigin::testing {
namespace {

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

}  // namespace
}  // namespace liveorigin::testing
