// Drives the origin core synchronously on a ManualClock with a real MemoryStore:
// no sockets, no threads. Through the same driver adapter the Beast server and
// CoreLink use, so what passes here is what the server does.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <utility>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "origin/core/clock.h"
#include "origin/core/config.h"
#include "origin/core/origin.h"
#include "origin/core/timing.h"
#include "origin/driver/exchange.h"
#include "origin/store/memory_store.h"

namespace liveorigin::testing {

// Counts reads, to prove rejected requests never reach the store.
class CountingStore final : public Store {
 public:
  using Store::put;
  void put(std::string key, SharedBytes bytes, int64_t expires_at_ms, std::function<void(bool)> done) override {
    ++puts;
    if (fail_puts) return done(false);
    inner.put(std::move(key), std::move(bytes), expires_at_ms, std::move(done));
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

// The tests' driver: the adapter of origin/driver/exchange.h, carried out
// synchronously (store calls complete inline), recording each woken request.
class HarnessDriver final : public CoreDriver {
 public:
  using CoreDriver::CoreDriver;
  std::vector<std::shared_ptr<HeldRequest>> woken;

 protected:
  void on_woken(const std::shared_ptr<HeldRequest>& w) override { woken.push_back(w); }
};

struct Headers {
  std::string authorization = "Bearer ingest-secret";
  std::string pipeline;
  std::string defects;
  std::string digest;
  std::string if_none_match;
  std::string range;
};

// One request of a test (and its hold): the answer, or the Hold, is kept for the test.
struct Waiter final : CoreExchange {
  explicit Waiter(CoreDriver& driver) : CoreExchange(driver) {}

  int wakes = 0;
  std::optional<Outcome> outcome;
  // The request, which the head's views point into.
  std::string target;
  Headers headers;

  void wake() override { ++wakes; }
  void respond(Response&& r) override { outcome = std::move(r); }
  void hold_until(int64_t wake_at_ms) override { outcome = Hold{wake_at_ms}; }
  void run_here(std::function<void()> fn) override { fn(); }

  Outcome take() {
    if (!outcome) {
      ADD_FAILURE() << "no answer and no hold";
      return Response{};
    }
    return *std::exchange(outcome, std::nullopt);
  }
};

class CoreHarness {
 public:
  // 1'000'000'000 ms is a 2 s boundary: with d = 2000 the edge is 499'999.
  static constexpr int64_t kT0 = 1'000'000'000;

  // `shared`: the store of the deployment, when instances share one (default: its own).
  explicit CoreHarness(const std::string& yaml, int64_t t0 = kT0, CountingStore* shared = nullptr)
      : clock(t0), store(shared ? *shared : own_store_) {
    auto parsed = parse_origin_config(yaml, "test.yaml");
    if (!parsed) throw std::runtime_error(parsed.error().message);
    config = *parsed;
    origin = std::make_unique<Origin>(clock, config, [this](std::string_view m) { log.emplace_back(m); });
    thread = origin->make_thread();
    driver = std::make_unique<HarnessDriver>(*origin, store, *thread);
  }

  // A bare RequestHead, for tests that call the core directly; valid until the next
  // head() call.
  RequestHead head(Method m, const std::string& target, const Headers& h = {}) {
    bare_ = waiter();
    begin(*bare_, m, target, h);
    return bare_->head();
  }

  // Appends go to `journal` from now on (a journaled store's config: store.url).
  void use_journal(Journal* journal) { driver = std::make_unique<HarnessDriver>(*origin, store, *thread, journal); }

  // A request's waiter: pass it to start() and resume() to hold and resume it.
  std::shared_ptr<Waiter> waiter() { return std::make_shared<Waiter>(*driver); }

  // A request to completion; a Hold is returned as-is for the test to resume.
  Outcome start(Method m, const std::string& target, const Headers& h = {}, std::shared_ptr<Waiter> held = nullptr,
                const std::string& body = "") {
    if (!held) held = waiter();
    begin(*held, m, target, h);
    held->run(body);
    return held->take();
  }

  Response request(Method m, const std::string& target, const Headers& h = {}, const std::string& body = "") {
    Outcome o = start(m, target, h, waiter(), body);
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
    auto w = waiter();
    begin(*w, Method::put, target, h);
    w->head_builder().content_length(body.size());
    if (auto rejected = w->begin_ingest()) return *rejected;
    w->finish_ingest(std::make_shared<const std::string>(body));
    Outcome o = w->take();
    if (!std::holds_alternative<Response>(o)) {
      ADD_FAILURE() << target << ": the PUT was not answered";
      return Response{};
    }
    return std::get<Response>(o);
  }

  // Resumes a held request (after wake() or at its wake time); the waiter keeps its
  // request, so `target` and `h` only say which one it is.
  Outcome resume(const std::shared_ptr<Waiter>& held, const std::string& target, const Headers& h = {}) {
    held->resume();
    return held->take();
  }

  // Carries out effects left by calls made on `thread` directly.
  void apply() { driver->apply_effects(); }

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

 private:
  CountingStore own_store_;

 public:
  CountingStore& store;
  std::unique_ptr<Origin> origin;
  std::unique_ptr<OriginThread> thread;
  std::unique_ptr<HarnessDriver> driver;
  std::vector<std::shared_ptr<HeldRequest>>& woken() { return driver->woken; }
  std::vector<std::string> log;

 private:
  // The request's head, from header field lines as a transport would see them.
  std::shared_ptr<Waiter> bare_;

  static void begin(Waiter& w, Method m, const std::string& target, const Headers& h) {
    w.target = target;
    w.headers = h;
    RequestHeadBuilder& b = w.head_builder();
    b.start(m, w.target);
    const Headers& f = w.headers;
    const std::pair<const char*, const std::string*> fields[] = {
        {"Authorization", &f.authorization}, {"Live-Pipeline", &f.pipeline}, {"Segment-Defects", &f.defects},
        {"Repr-Digest", &f.digest},          {"If-None-Match", &f.if_none_match}, {"Range", &f.range}};
    for (const auto& [name, value] : fields) {
      if (!value->empty()) b.field(name, *value);
    }
  }
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
