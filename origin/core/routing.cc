#include "origin/core/routing.h"

#include "origin/core/manifests.h"

namespace liveorigin {

namespace {

Route route_of(Target&& target) {
  Route r;
  r.target = std::move(target);
  const Target& t = r.target;
  const std::string_view s0 = t[0];
  if (s0 == "live" && t.count == 4) {
    r.kind = Route::live_object;
    r.event = t[1];
    r.stream = t[2];
    r.object = t[3];
  } else if (s0 == "live" && t.count == 3 && t[2] == "_timeline") {
    r.kind = Route::timeline;
    r.event = t[1];
  } else if (s0 == "live" && t.count == 3 && t[2] == "_invalidations") {
    r.kind = Route::invalidations;
    r.event = t[1];
  } else if (s0 == "live" && t.count == 3 && t[2] == kDashManifestName) {
    r.kind = Route::dash_manifest;
    r.event = t[1];
  } else if (s0 == "live" && t.count == 3 && t[2] == kHlsMultivariantName) {
    r.kind = Route::hls_multivariant;
    r.event = t[1];
  } else if (s0 == "live" && t.count == 3 && !hls_media_stream(t[2]).empty()) {
    r.kind = Route::hls_media;
    r.event = t[1];
    r.stream = hls_media_stream(t[2]);
  } else if (s0 == "ingest" && t.count == 6) {
    r.kind = Route::ingest_prefix;
    r.pipeline = t[1];
    r.token = t[2];
    r.event = t[3];
    r.stream = t[4];
    r.object = t[5];
  } else if (t.count == 1 && s0 == "time") {
    r.kind = Route::time;
  } else if (t.count == 1 && s0 == "healthz") {
    r.kind = Route::healthz;
  } else if (t.count == 1 && s0 == "metrics") {
    r.kind = Route::metrics;
  } else if (s0 == "admin" && t.count == 2 && t[1] == "invalidate") {
    r.kind = Route::admin_invalidate;
  } else if (s0 == "admin" && t[1] == "events") {
    if ((t.count == 4 || t.count == 5) && t[3] == "markers") {
      r.kind = Route::admin_markers;
      r.event = t[2];
      r.marker = t[4];
    } else if (t.count == 2) {
      r.kind = Route::admin_events;
    } else if (t.count == 3) {
      r.kind = Route::admin_event;
      r.event = t[2];
    } else if (t.count == 7 && t[3] == "streams" && t[5] == "segments") {
      r.kind = Route::admin_segment;
      r.event = t[2];
      r.stream = t[4];
      r.number = t[6];
    }
  }
  return r;
}

}  // namespace

Result<Route> Route::of(std::string_view target) {
  auto parsed = parse_target(target);
  if (!parsed) return parsed.error();
  return route_of(std::move(*parsed));
}

std::string_view bearer_token(std::string_view authorization) {
  constexpr std::string_view kBearer = "bearer ";
  if (authorization.size() <= kBearer.size()) return {};
  for (size_t i = 0; i < kBearer.size(); ++i) {
    if ((authorization[i] | 0x20) != kBearer[i]) return {};
  }
  std::string_view token = authorization.substr(kBearer.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  return token;
}

bool is_ingest(const RequestHead& head) {
  if (head.method != Method::put) return false;
  return head.target.starts_with("/live/") || head.target.starts_with("/ingest/");
}

}  // namespace liveorigin
