#include "origin/core/stream_endpoints.h"

#include <algorithm>
#include <limits>

#include <boost/json.hpp>

#include "origin/core/manifests.h"
#include "origin/core/origin_thread.h"
#include "origin/core/representation.h"
#include "origin/core/selection.h"
#include "origin/core/timing.h"

namespace liveorigin {

Response StreamEndpoints::timeline(OriginThread& t, const Route& route) {
  const Registry& reg = ledger_.view(t.registry_view);
  const auto eit = reg.events.find(route.event);
  if (eit == reg.events.end()) return text_response(404, "unknown event", kUnknownTtlMs, "unknown-event");
  const EventConfig& ec = *eit->second->config;
  const int64_t now = core_.clock.now_ms();
  boost::json::array streams;
  int64_t ttl = std::numeric_limits<int64_t>::max();
  for (const auto& s : ec.streams) {
    const int64_t edge = live_edge(s, now);
    ttl = std::min(ttl, avail_ms(s, edge + 1) - now);
    streams.push_back(boost::json::object{
        {"id", s.id},
        {"segment_template", s.segment_template},
        {"segment_duration_ms", s.segment_duration_ms},
        {"start_number", s.start_number},
        {"availability_start_ms", s.availability_start_ms},
        {"publish_latency_ms", s.publish_latency_ms},
        {"hold_window_ms", s.hold_window_ms},
        {"lookahead_segments", s.lookahead_segments},
        {"dvr_segments", ec.dvr_segments(s)},
        {"live_edge", edge},
        {"live_edge_avail_ms", avail_ms(s, edge)},
        {"oldest", dvr_floor(ec, s, edge)},
    });
  }
  boost::json::object body{{"event", ec.id}, {"now_ms", now}, {"streams", std::move(streams)}};
  // Cacheable until the next edge moves: a CDN filtering from it stays exact.
  return json_response(200, body, ttl == std::numeric_limits<int64_t>::max() ? 0 : ttl);
}

namespace {

// What the manifests need of one stream, read under its mutex.
void describe_stream(const EventConfig& ec, const StreamConfig& sc, StreamState& ss, int64_t now, bool media,
                     ManifestStream& m, int64_t& largest) EXCLUDES(ss.mu) {
  const int64_t edge = live_edge(sc, now);
  MutexLock lock(ss.mu);
  // The init segment: the configured name, else the first plain object (by name)
  // whose served copy parsed as one.
  if (!sc.init_object.empty()) {
    m.init_object = sc.init_object;
    if (auto it = ss.objects.find(sc.init_object); it != ss.objects.end()) {
      if (CandidatePtr c = served_copy(ec, sc, ss, it->second, now); c && c->init) m.init = *c->init;
    }
  } else {
    for (const auto& [name, obj] : ss.objects) {
      if (CandidatePtr c = served_copy(ec, sc, ss, obj, now); c && c->init) {
        m.init_object = name;
        m.init = *c->init;
        break;
      }
    }
  }
  // Bandwidth estimate: the largest copy among the newest five published segments.
  int seen = 0;
  for (auto it = ss.segments.rbegin(); it != ss.segments.rend() && seen < 5; ++it) {
    if (it->first > edge || it->second.candidates.empty()) continue;
    ++seen;
    for (const auto& c : it->second.candidates) largest = std::max(largest, c->bytes);
  }
  if (!media) return;
  for (const auto& [n, seg] : ss.segments) {
    if (!seg.candidates.empty()) {
      m.first_stored =
          std::max(n, ss.evicted_through == std::numeric_limits<int64_t>::min() ? n : ss.evicted_through + 1);
      break;
    }
  }
  if (m.first_stored < 0) return;
  // Numbers past their selection grace that no pipeline delivered: EXT-X-GAP.
  const int64_t from = std::max(m.first_stored, dvr_floor(ec, sc, edge));
  auto it = ss.segments.lower_bound(from);
  for (int64_t n = from; n <= edge && avail_ms(sc, n) + sc.selection_grace_ms <= now; ++n) {
    while (it != ss.segments.end() && it->first < n) ++it;
    if (it == ss.segments.end() || it->first != n || it->second.candidates.empty()) m.gaps.push_back(n);
  }
}

}  // namespace

Response StreamEndpoints::manifest(OriginThread& t, const RequestHead& head, const Route& route) {
  const Registry& reg = ledger_.view(t.registry_view);
  const auto eit = reg.events.find(route.event);
  if (eit == reg.events.end()) return text_response(404, "unknown event", kUnknownTtlMs, "unknown-event");
  const EventState& event = *eit->second;
  const EventConfig& ec = *event.config;
  int media = -1;
  if (route.kind == Route::hls_media) {
    media = event.find_stream(route.stream);
    if (media < 0) return text_response(404, "unknown stream", kUnknownTtlMs, "unknown-stream");
  }
  const int64_t now = core_.clock.now_ms();
  ManifestInput in;
  in.event = &ec;
  in.now_ms = now;
  int64_t d_min = std::numeric_limits<int64_t>::max();
  for (size_t i = 0; i < ec.streams.size(); ++i) {
    const StreamConfig& sc = ec.streams[i];
    d_min = std::min(d_min, sc.segment_duration_ms);
    ManifestStream m;
    m.config = &sc;
    int64_t largest = 0;
    describe_stream(ec, sc, *event.streams[i], now, media == static_cast<int>(i), m, largest);
    m.bandwidth_bps = estimate_bandwidth_bps(sc, largest);
    in.streams.push_back(std::move(m));
  }

  std::string body;
  std::string_view type = "application/vnd.apple.mpegurl";
  int64_t ttl = d_min / 2;
  if (route.kind == Route::hls_media) {
    const StreamConfig& sc = ec.streams[media];
    body = build_hls_media(in, static_cast<size_t>(media));
    ttl = avail_ms(sc, live_edge(sc, now) + 1) - now;  // until the next segment is listed
  } else {
    if (std::none_of(in.streams.begin(), in.streams.end(), [](const ManifestStream& m) { return m.describable(); })) {
      return text_response(404, "no stream of this event has an init segment or codecs yet", ttl, "not-found");
    }
    if (route.kind == Route::dash_manifest) {
      body = build_dash_mpd(in);
      type = "application/dash+xml";
    } else {
      body = build_hls_multivariant(in);
    }
  }
  BodyHasher hasher;
  hasher.update(body.data(), body.size());
  const Sha256 sha = hasher.finish().sha256;
  const std::string etag = "\"m-" + to_hex(sha.data(), 8) + "\"";
  Response r;
  if (!head.if_none_match.empty() && if_none_match_hits(head.if_none_match, etag)) {
    r.status = 304;
    r.send_body = false;
    r.set("Content-Type", std::string(type));
  } else {
    r.set_text(std::move(body), type);
  }
  set_cache_ttl(r, ttl);
  r.set("ETag", etag);
  r.set("CMSD-Static", "ot=m,st=l");
  return r;
}

}  // namespace liveorigin
