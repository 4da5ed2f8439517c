// Micro-benchmarks of the origin core (Google Benchmark). No sockets, no threads:
// the core is driven the way tests/support/core_harness.h drives it (ManualClock,
// MemoryStore, begin_put/finish_put/complete_put, handle + complete_fetch), which
// is the same sequence of calls the Beast server makes per request.
//
//   cmake --build build --target core_bench && ./build/core_bench
//
// What each family measures:
//   BM_Classify/<zone>       liveorigin::classify(): the zone check alone (pure time math).
//   BM_Reject/<kind>         Origin::handle() of a request the zones reject (far-future
//                            number, unknown event): target parsing, registry snapshot,
//                            template match, zone check and the 404 response. The core's
//                            share of scripts/bench case 3.
//   BM_SelectAmong/<N>       the first GET of a segment that has N uncommitted
//                            candidates: selection among them, commit, the response
//                            headers, the store read and complete_fetch(). Selection
//                            only runs on a segment's first GET (the choice is committed
//                            then), so each iteration GETs a different, freshly published
//                            segment; batches of them are published with the timer paused.
//   BM_GetCommitted/<N>      a GET of the same kind of segment once its choice is
//                            committed (no selection): the response-header building path
//                            of every later request. BM_SelectAmong minus this is the
//                            cost of selecting and committing.
//   BM_ParseDefects/<case>   parse_segment_defects() (RFC 8941 dictionary).
//   BM_TemplateMatch/<case>  SegmentTemplate::match().
//   BM_BodyHash              SHA-256 over a 1.5 MiB ingest body (BodyHasher): what every
//                            PUT pays besides copying the bytes (see docs/performance.md).
//
// Not reachable here: the transport's serialization of the status line and headers
// to bytes lives inside origin/http/server.cc (no public function); it is measured
// only end to end by scripts/bench.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "origin/core/clock.h"
#include "origin/core/config.h"
#include "origin/core/defects.h"
#include "origin/core/digest.h"
#include "origin/core/origin.h"
#include "origin/core/segment_template.h"
#include "origin/core/timing.h"
#include "origin/store/memory_store.h"

namespace {

using namespace liveorigin;

// A 2 s boundary: with d = 2000 the live edge is 499'999.
constexpr int64_t kT0 = 1'000'000'000;
constexpr int64_t kD = 2000;

const char* const kConfig = R"(
auth:
  ingest_tokens: [ingest-secret]
  admin_tokens: [admin-secret]
events:
  - id: final
    pipelines: [p0, p1, p2, p3, p4, p5, p6, p7]
    dvr_window_s: 3600
    streams:
      - id: video
        segment_duration_ms: 2000
)";

OriginConfig config() {
  auto parsed = parse_origin_config(kConfig, "core_bench.yaml");
  if (!parsed) throw std::runtime_error(parsed.error().message);
  return *parsed;
}

struct Waiter final : HeldRequest {
  void wake() override {}
};

// The core and a memory store, driven synchronously.
class Core {
 public:
  Core() : clock_(kT0), origin_(clock_, config()), thread_(origin_.make_thread()) {}

  int64_t edge() const { return live_edge(origin_.config().events[0].streams[0], clock_.now_ms()); }
  ManualClock& clock() { return clock_; }

  void apply() {
    Effects e = thread_->take_effects();
    for (auto& k : e.erase) store_.erase(k);
  }

  // Publishes `body` as pipeline `pipeline`'s candidate for `target`; returns the status.
  int put(const std::string& target, const std::string& pipeline, const SharedBytes& body,
          const std::string& defects) {
    RequestHead h;
    h.method = Method::put;
    h.target = target;
    h.authorization = "Bearer ingest-secret";
    h.live_pipeline = pipeline;
    h.segment_defects = defects;
    h.content_length = body->size();
    auto started = origin_.begin_put(*thread_, h);
    apply();
    if (auto* r = std::get_if<Response>(&started)) return r->status;
    auto ticket = std::get<IngestTicket>(std::move(started));
    BodyHasher hasher(ticket.want_sha512);
    hasher.update(body->data(), body->size());
    auto finished = origin_.finish_put(*thread_, std::move(ticket), body, hasher.finish());
    apply();
    if (auto* r = std::get_if<Response>(&finished)) return r->status;
    auto write = std::get<StoreWrite>(std::move(finished));
    bool ok = false;
    store_.put(write.key, write.bytes, [&](bool stored) { ok = stored; });
    const int status = std::get<Response>(origin_.complete_put(*thread_, std::move(write), ok)).status;
    apply();
    return status;
  }

  // One GET to completion (a Fetch is read from the store and completed), as the
  // server does it. Returns the status.
  int get(const std::string& target) {
    RequestHead h;
    h.method = Method::get;
    h.target = target;
    Outcome o = origin_.handle(*thread_, h, {}, waiter_);
    apply();
    if (auto* f = std::get_if<Fetch>(&o)) {
      auto bytes = store_.try_get(f->key);
      Response r = origin_.complete_fetch(*thread_, std::move(*f), bytes ? *bytes : nullptr);
      benchmark::DoNotOptimize(r.headers.data());
      return r.status;
    }
    if (auto* r = std::get_if<Response>(&o)) {
      benchmark::DoNotOptimize(r->headers.data());
      return r->status;
    }
    return 0;  // held
  }

  void tick() {
    origin_.tick(*thread_);
    apply();
  }

 private:
  ManualClock clock_;
  MemoryStore store_;
  Origin origin_;
  std::unique_ptr<OriginThread> thread_;
  std::shared_ptr<HeldRequest> waiter_ = std::make_shared<Waiter>();
};

std::string segment_target(int64_t n) { return "/live/final/video/" + std::to_string(n) + ".m4s"; }

// Candidate k of N: the last (lowest-rank) pipeline's copy is the only clean one, the
// others carry defects of different tiers, so selection compares every candidate.
const char* defects_of(int k, int n_candidates) {
  static const char* const kDefects[] = {"corrupt",           "discontinuity",       "short-ms=120",
                                         "missing-frames=12", "missing-samples=480", "missing-frames=3",
                                         "missing-samples=20"};
  if (k == n_candidates - 1) return "";
  return kDefects[k % 7];
}

// Publishes `count` consecutive segments just below the live edge, each with
// `n_candidates` candidates, and returns their targets. When the DVR window has no
// room left for them, time jumps ahead and the old ones expire first.
class SegmentBatches {
 public:
  SegmentBatches(Core& core, int n_candidates) : core_(core), n_candidates_(n_candidates) {
    // Small: the GET path does not depend on the size, and hashing big bodies would
    // make the (untimed) publishing dominate the run time.
    body_ = std::make_shared<const std::string>(256, 'x');
  }

  std::vector<std::string> next(int64_t count) {
    core_.clock().advance_ms(count * kD);  // a fresh range of numbers, all below the edge
    core_.tick();                          // expire what left the DVR window
    const int64_t edge = core_.edge();
    std::vector<std::string> targets;
    targets.reserve(static_cast<size_t>(count));
    for (int64_t n = edge - count; n < edge; ++n) {
      const std::string t = segment_target(n);
      for (int k = 0; k < n_candidates_; ++k) {
        const int status = core_.put(t, "p" + std::to_string(k), body_, defects_of(k, n_candidates_));
        if (status != 201) throw std::runtime_error("bench PUT answered " + std::to_string(status));
      }
      targets.push_back(t);
    }
    return targets;
  }

 private:
  Core& core_;
  int n_candidates_;
  SharedBytes body_;
};

// ---------------------------------------------------------------------------

void BM_Classify(benchmark::State& state) {
  const OriginConfig c = config();
  const EventConfig& e = c.events[0];
  const StreamConfig& s = e.streams[0];
  const int64_t now = kT0 + 700;  // 0.7 s into a segment
  const int64_t edge = live_edge(s, now);
  const int64_t offsets[] = {-5 /*select*/, 1 /*hold*/, 5 /*not-yet*/, 1000 /*too-early*/, -5000 /*expired*/};
  const char* labels[] = {"select", "hold", "not-yet", "too-early", "expired"};
  const int64_t n = edge + offsets[state.range(0)];
  int64_t t = now;
  for (auto _ : state) {
    benchmark::DoNotOptimize(t);
    ZoneDecision z = classify(e, s, n, t);
    benchmark::DoNotOptimize(z);
  }
  state.SetLabel(labels[state.range(0)]);
}
BENCHMARK(BM_Classify)->DenseRange(0, 4);

void BM_Reject(benchmark::State& state) {
  Core core;
  const std::string target = state.range(0) == 0 ? segment_target(core.edge() + 100000)  // too-early
                                                  : "/live/nope/x/1.m4s";              // unknown event
  for (auto _ : state) {
    if (core.get(target) != 404) state.SkipWithError("expected 404");
  }
  state.SetLabel(state.range(0) == 0 ? "too-early" : "unknown-event");
}
BENCHMARK(BM_Reject)->DenseRange(0, 1);

void BM_SelectAmong(benchmark::State& state) {
  Core core;
  const int candidates = static_cast<int>(state.range(0));
  SegmentBatches batches(core, candidates);
  constexpr int64_t kBatch = 1024;
  std::vector<std::string> targets;
  size_t i = 0;
  for (auto _ : state) {
    if (i == targets.size()) {
      state.PauseTiming();
      targets = batches.next(kBatch);
      i = 0;
      state.ResumeTiming();
    }
    if (core.get(targets[i++]) != 200) state.SkipWithError("expected 200");
  }
}
BENCHMARK(BM_SelectAmong)->Arg(2)->Arg(8);

void BM_GetCommitted(benchmark::State& state) {
  Core core;
  SegmentBatches batches(core, static_cast<int>(state.range(0)));
  const std::vector<std::string> targets = batches.next(64);
  for (const auto& t : targets) core.get(t);  // commits every choice
  size_t i = 0;
  for (auto _ : state) {
    if (core.get(targets[i]) != 200) state.SkipWithError("expected 200");
    if (++i == targets.size()) i = 0;
  }
}
BENCHMARK(BM_GetCommitted)->Arg(2)->Arg(8);

void BM_ParseDefects(benchmark::State& state) {
  static const char* const kCases[] = {"missing-frames=12", "missing-samples=480, short-ms=120, discontinuity",
                                       "corrupt", "missing-frames=12, future-key=?1"};
  static const char* const kLabels[] = {"one-key", "three-keys", "flag", "unknown-key"};
  const std::string_view value = kCases[state.range(0)];
  for (auto _ : state) {
    auto d = parse_segment_defects(value);
    if (!d) state.SkipWithError(d.error().message.c_str());
    benchmark::DoNotOptimize(d);
  }
  state.SetLabel(kLabels[state.range(0)]);
}
BENCHMARK(BM_ParseDefects)->DenseRange(0, 3);

void BM_TemplateMatch(benchmark::State& state) {
  struct Case {
    const char* tmpl;
    const char* object;
    const char* label;
  };
  static const Case kCases[] = {
      {"$Number$.m4s", "897801785.m4s", "number-match"},
      {"$Number$.m4s", "init.mp4", "plain-object"},
      {"chunk-stream$RepresentationID$-$Number%05d$.m4s", "chunk-stream0-00042.m4s", "ffmpeg-match"},
  };
  const Case& c = kCases[state.range(0)];
  auto t = SegmentTemplate::parse(c.tmpl, "0");
  if (!t) throw std::runtime_error(t.error().message);
  const std::string_view object = c.object;
  for (auto _ : state) {
    benchmark::DoNotOptimize(object);
    auto n = t->match(object);
    benchmark::DoNotOptimize(n);
  }
  state.SetLabel(c.label);
}
BENCHMARK(BM_TemplateMatch)->DenseRange(0, 2);

void BM_BodyHash(benchmark::State& state) {
  const std::string body(static_cast<size_t>(state.range(0)), 'x');
  for (auto _ : state) {
    BodyHasher h(false);
    h.update(body.data(), body.size());
    auto f = h.finish();
    benchmark::DoNotOptimize(f.sha256);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_BodyHash)->Arg(1572864);

}  // namespace

BENCHMARK_MAIN();
