// The origin core on a ManualClock with a MemoryStore, driven synchronously through
// the same driver adapter the server uses, for the fuzz harnesses that reach a parser
// through a request (admin bodies, request fields). No gtest: a harness aborts on a
// broken invariant and otherwise returns.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "origin/core/clock.h"
#include "origin/core/config.h"
#include "origin/core/origin.h"
#include "origin/driver/exchange.h"
#include "origin/store/memory_store.h"

namespace liveorigin::fuzz {

// 1'000'000'000 ms is a 2 s boundary: with d = 2000 the edge is 499'999.
inline constexpr int64_t kT0 = 1'000'000'000;
inline constexpr int64_t kEdge = kT0 / 2000 - 1;

// One event, two pipelines, two streams (one with ffmpeg's naming); `top` adds
// top-level keys, `stream_keys` keys to both streams (each line indented 8 spaces).
inline std::string config_yaml(const std::string& top = "", const std::string& stream_keys = "") {
  return top + R"(
auth:
  ingest_tokens: [ingest-secret]
  admin_tokens: [admin-secret]
events:
  - id: final
    pipelines: [a, b]
    dvr_window_s: 3600
    streams:
      - id: video
        segment_duration_ms: 2000
)" + stream_keys + R"(      - id: audio
        segment_duration_ms: 2000
        segment_template: "chunk-$Number%05d$.m4s"
)" + stream_keys;
}

[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "invariant broken: %s\n", what.c_str());
  std::abort();
}

struct Exchange final : CoreExchange {
  explicit Exchange(CoreDriver& d) : CoreExchange(d) {}
  std::optional<Response> answer;
  bool held = false;
  void respond(Response&& r) override { answer = std::move(r); }
  void hold_until(int64_t) override { held = true; }
  void run_here(std::function<void()> fn) override { fn(); }
  void wake() override {}
};

using Fields = std::vector<std::pair<std::string, std::string>>;

class CoreRig {
 public:
  CoreRig() : clock_(kT0) {
    auto parsed = parse_origin_config(config_yaml(), "fuzz.yaml");
    if (!parsed) fail(parsed.error().message);
    origin_ = std::make_unique<Origin>(clock_, *parsed, [](std::string_view) {});
    thread_ = origin_->make_thread();
    driver_ = std::make_unique<CoreDriver>(*origin_, store_, *thread_);
  }

  // One request to its answer; a held request is cancelled (nothing is resumed) and
  // answers nothing. `target` and `fields` must outlive the call only.
  std::optional<Response> request(Method m, const std::string& target, const Fields& fields,
                                  const std::string& body = "") {
    auto x = std::make_shared<Exchange>(*driver_);
    RequestHeadBuilder& b = x->head_builder();
    b.start(m, target);
    for (const auto& [name, value] : fields) b.field(name, value);
    if (x->is_ingest()) {
      b.content_length(body.size());
      if (auto rejected = x->begin_ingest()) return rejected;
      x->finish_ingest(std::make_shared<const std::string>(body));
    } else {
      x->run(body);
    }
    driver_->apply_effects();
    if (x->held) {
      x->cancel();
      return std::nullopt;
    }
    if (!x->answer) fail("no answer and no hold for " + target);
    return std::move(x->answer);
  }

  ManualClock& clock() { return clock_; }

 private:
  ManualClock clock_;
  MemoryStore store_;
  std::unique_ptr<Origin> origin_;
  std::unique_ptr<OriginThread> thread_;
  std::unique_ptr<CoreDriver> driver_;
};

// The input split at its first `sep` byte: (before, after); all of it is `before` when
// there is none.
inline std::pair<std::string_view, std::string_view> split(std::string_view in, char sep) {
  const size_t at = in.find(sep);
  if (at == std::string_view::npos) return {in, {}};
  return {in.substr(0, at), in.substr(at + 1)};
}

}  // namespace liveorigin::fuzz
