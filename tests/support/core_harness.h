// Drives the origin core synchronously on a ManualClock with a real MemoryStore:
// no sockets, no threads. The same calls the Beast server makes, in the same order,
// so what passes here is what the server does.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "origin/core/clock.h"
#include "origin/core/config.h"
#include "origin/core/origin.h"
#include "origin/core/timing.h"
#include "origin/store/memory_store.h"

namespace liveorigin::testing {

// Counts reads, to prove rejected requests never reach the store.
class CountingStore final : public Store {
 public:
  void put(std::string key, SharedBytes bytes, std::function<void(bool)> done) override {
    ++puts;
    if (fail_puts) return done(false);
    inner.put(std::move(key), std::move(bytes), std::move(done));
  }
  void get(std::string key, std::function<void(SharedBytes)> done) override {
    ++gets;
    inner.get(std::move(key), std::move(done));
  }
  std::optional<SharedBytes> try_get(std::string_view key) override {
    ++gets;
    return inner.try_get(key);
  }
  void erase(std::string_view key) override { inner.erase(key); }
  std::string_view name() const override { return "counting"; }

  MemoryStore inner;
  int gets = 0;
  int puts = 0;
  bool fail_puts = false;
};

struct Waiter final : HeldRequest {
  int wakes = 0;
  void wake() override { ++wakes; }
};

struct Headers {
  std::string authorization = "Bearer ingest-secret";
  std::string pipeline;
  std::string defects;
  std::string digest;
  std::string if_none_match;
  std::string range;
};

class CoreHarness {
 public:
  // 1'000'000'000 ms is a 2 s boundary: with d = 2000 the edge is 499'999.
  static constexpr int64_t kT0 = 1'000'000'000;

  explicit CoreHarness(const std::string& yaml, int64_t t0 = kT0) : clock(t0) {
    auto parsed = parse_origin_config(yaml, "test.yaml");
    if (!parsed) throw std::runtime_error(parsed.error().message);
    config = *parsed;
    origin = std::make_unique<Origin>(clock, config, [this](std::string_view m) { log.emplace_back(m); });
    thread = origin->make_thread();
  }

  RequestHead head(Method m, const std::string& target, const Headers& h = {}) {
    target_ = target;
    h_ = h;
    RequestHead r;
    r.method = m;
    r.target = target_;
    r.authorization = h_.authorization;
    r.live_pipeline = h_.pipeline;
    r.segment_defects = h_.defects;
    r.repr_digest = h_.digest;
    r.if_none_match = h_.if_none_match;
    r.range = h_.range;
    return r;
  }

  // A request to completion; a Hold is returned as-is for the test to resume.
  Outcome start(Method m, const std::string& target, const Headers& h = {},
                std::shared_ptr<HeldRequest> held = nullptr, const std::string& body = "") {
    Outcome o = origin->handle(*thread, head(m, target, h), body, held);
    apply();
    if (auto* f = std::get_if<Fetch>(&o)) {
      auto bytes = store.try_get(f->key);
      return origin->complete_fetch(*thread, std::move(*f), bytes ? *bytes : nullptr);
    }
    return o;
  }

  Response request(Method m, const std::string& target, const Headers& h = {}, const std::string& body = "") {
    Outcome o = start(m, target, h, std::make_shared<Waiter>(), body);
    if (!std::holds_alternative<Response>(o)) {
      ADD_FAILURE() << target << " was held, expected an answer";
      return Response{};
    }
    return std::get<Response>(o);
  }
  Response get(const std::string& target, const Headers& h = {}) { return request(Method::get, target, h); }

  Response admin(Method m, const std::string& target, const std::string& body = "") {
    Headers h;
    h.authorization = "Bearer admin-secret";
    return request(m, target, h, body);
  }

  Response put(const std::string& target, const std::string& pipeline, const std::string& body,
               const std::string& defects = "", Headers h = {}) {
    h.pipeline = pipeline;
    h.defects = defects;
    RequestHead rh = head(Method::put, target, h);
    rh.content_length = body.size();
    auto started = origin->begin_put(*thread, rh);
    apply();
    if (auto* r = std::get_if<Response>(&started)) return *r;
    auto ticket = std::get<IngestTicket>(std::move(started));
    BodyHasher hasher(ticket.want_sha512);
    hasher.update(body.data(), body.size());
    auto finished = origin->finish_put(*thread, std::move(ticket), std::make_shared<const std::string>(body),
                                       hasher.finish());
    apply();
    if (auto* r = std::get_if<Response>(&finished)) return *r;
    auto write = std::get<StoreWrite>(std::move(finished));
    bool ok = false;
    store.put(write.key, write.bytes, [&](bool stored) { ok = stored; });
    Response r = origin->complete_put(*thread, std::move(write), ok);
    apply();
    return r;
  }

  // Resumes a held request (after wake() or at its wake time).
  Outcome resume(const std::shared_ptr<HeldRequest>& held, const std::string& target, const Headers& h = {}) {
    return start(Method::get, target, h, held);
  }

  void apply() {
    Effects e = thread->take_effects();
    for (auto& w : e.wake) {
      w->wake();
      woken.push_back(w);
    }
    for (auto& k : e.erase) store.erase(k);
  }

  std::string metrics() { return body(get("/metrics")); }

  static std::string body(const Response& r) {
    if (!r.body) return "";
    return r.body->substr(r.body_offset, r.body_length);
  }
  static std::string header(const Response& r, std::string_view name) {
    const std::string* v = r.find(name);
    return v ? *v : std::string();
  }

  ManualClock clock;
  OriginConfig config;
  CountingStore store;
  std::unique_ptr<Origin> origin;
  std::unique_ptr<OriginThread> thread;
  std::vector<std::string> log;
  std::vector<std::shared_ptr<HeldRequest>> woken;

 private:
  std::string target_;
  Headers h_;
};

// The README example with short, test-friendly knobs left at their defaults.
inline std::string example_config(const std::string& extra_stream_keys = "", const std::string& top = "",
                                  const std::string& pipelines = "[a, b]") {
  return top + R"(
auth:
  ingest_tokens:
    - ingest-secret
    - {token: only-b, pipelines: [b]}
    - {token: other-event, events: [other]}
  admin_tokens: [admin-secret]
events:
  - id: final
    pipelines: )" + pipelines + R"(
    dvr_window_s: 3600
    streams:
      - id: video
        segment_duration_ms: 2000
)" + extra_stream_keys + R"(
      - id: audio-en
        segment_duration_ms: 2000
)";
}

}  // namespace liveorigin::testing
