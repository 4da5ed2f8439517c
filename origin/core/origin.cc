#include "origin/core/origin.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cstring>
#include <limits>
#include <deque>
#include <map>

#include <boost/json.hpp>

#include "origin/core/base64.h"
#include "origin/core/manifests.h"
#include "origin/core/structured_fields.h"
#include "origin/core/target.h"
#include "origin/core/yaml_reader.h"
#include "origin/core/timing.h"

namespace liveorigin {

// ---------------------------------------------------------------------------
// State

namespace {

// One pipeline's copy of a segment or plain object. Immutable once stored: a
// replacement is a new Candidate, so responses built from a shared_ptr copy taken
// under the stream lock need no lock afterwards.
struct Candidate {
  std::string pipeline;
  Defects defects;
  int64_t arrived_ms = 0;
  int64_t bytes = 0;
  Sha256 sha256{};
  std::string key;  // store key
  // Plain objects that parse as an ISO-BMFF init segment: what it says, for the
  // generated manifests (read once at PUT; the bytes stay in the store only).
  std::shared_ptr<const InitInfo> init;
};
using CandidatePtr = std::shared_ptr<const Candidate>;

struct SegmentState {
  std::vector<CandidatePtr> candidates;  // stored, at most one per pipeline
  std::vector<std::string> pending;      // pipelines with a store write in flight
  std::string committed;                 // pipeline of the committed choice; empty: none
  int64_t committed_ms = -1;
  std::string reason;
  int64_t version = 0;
  int64_t first_served_ms = -1;
  std::vector<std::shared_ptr<HeldRequest>> waiters;
  int64_t indexed_avail_ms = -1;  // key in Origin::by_age_ when >= 0
};

struct PlainObjectState {
  std::vector<CandidatePtr> copies;
  std::vector<std::string> pending;
};

// Init segments and manifests are few per stream; a packager writing endless distinct
// names (a misconfigured template) must not fill the store with objects never expired.
constexpr size_t kPlainObjectsMax = 256;
// Plain objects up to this size are read as possible init segments (manifests.h).
constexpr size_t kInitBytesMax = 256 * 1024;

const CandidatePtr* find_candidate(const std::vector<CandidatePtr>& v, std::string_view pipeline) {
  for (const auto& c : v) {
    if (c->pipeline == pipeline) return &c;
  }
  return nullptr;
}

bool erase_string(std::vector<std::string>& v, std::string_view s) {
  auto it = std::find(v.begin(), v.end(), s);
  if (it == v.end()) return false;
  v.erase(it);
  return true;
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

struct StreamState {
  std::mutex mu;
  std::map<int64_t, SegmentState> segments;
  std::map<std::string, PlainObjectState, std::less<>> objects;
  std::vector<std::pair<std::string, int64_t>> last_put_ms;  // pipeline -> last accepted PUT
  // Numbers up to this one were evicted to stay within the byte budget.
  int64_t evicted_through = std::numeric_limits<int64_t>::min();
  // A segment is protected from budget eviction while avail(n) + this > now.
  int64_t live_protect_ms = 0;

  bool live(std::string_view pipeline, int64_t now_ms, int64_t liveness_ms) const {
    for (const auto& [p, t] : last_put_ms) {
      if (p == pipeline) return now_ms - t < liveness_ms;
    }
    return false;
  }
  void mark_live(std::string_view pipeline, int64_t now_ms) {
    for (auto& [p, t] : last_put_ms) {
      if (p == pipeline) {
        t = std::max(t, now_ms);
        return;
      }
    }
    last_put_ms.emplace_back(std::string(pipeline), now_ms);
  }
};

// Stream metadata carried in Live-Markers (DESIGN §2.4).
struct Marker {
  std::string id;
  std::string kind;
  int64_t start_ms = 0;
  std::optional<int64_t> duration_ms;  // none: in force from start_ms on
  std::string data_b64;                // as posted
  uint64_t seq = 0;                    // posting order: the newest are kept when capped
  std::string item;                    // the RFC 8941 list member, serialized once

  int64_t end_ms() const {
    return duration_ms ? start_ms + *duration_ms : std::numeric_limits<int64_t>::max();
  }
  bool overlaps(int64_t from_ms, int64_t to_ms) const { return start_ms < to_ms && from_ms < end_ms(); }
};

// A pipeline kept out of a range of segments by invalidation (DESIGN §2.5).
struct Exclusion {
  std::string pipeline;
  std::string stream;  // empty: every stream of the event
  int64_t from = std::numeric_limits<int64_t>::min();
  int64_t to = std::numeric_limits<int64_t>::max();

  bool covers(std::string_view p, std::string_view s, int64_t n) const {
    return p == pipeline && (stream.empty() || stream == s) && from <= n && n <= to;
  }
};

struct InvalidationEntry {
  int64_t version = 0;
  std::string stream;
  std::optional<int64_t> from, to;
  std::string pipeline;
  std::optional<bool> exclude;
};

// Per-event state that survives a config replacement through the admin API.
struct EventRuntime {
  std::atomic<int64_t> version{0};  // one increasing integer per event
  std::mutex feed_mu;
  std::deque<InvalidationEntry> feed;  // newest last, at most invalidations_max
  int64_t feed_dropped_through = 0;     // version of the newest entry dropped from the feed
  uint64_t marker_seq = 0;             // guarded by Origin::ingest_mu_
};

// Immutable once published in a Registry; changed by publishing a new EventState.
struct EventState {
  std::shared_ptr<const EventConfig> config;
  std::vector<std::shared_ptr<StreamState>> streams;  // parallel to config->streams
  std::shared_ptr<EventRuntime> runtime;
  std::vector<Marker> markers;
  std::vector<Exclusion> exclusions;
  bool from_file = false;  // defined by the config file (SIGHUP reload manages it)

  bool excluded(std::string_view pipeline, std::string_view stream, int64_t n) const {
    for (const auto& x : exclusions) {
      if (x.covers(pipeline, stream, n)) return true;
    }
    return false;
  }

  int find_stream(std::string_view id) const {
    for (size_t i = 0; i < config->streams.size(); ++i) {
      if (config->streams[i].id == id) return static_cast<int>(i);
    }
    return -1;
  }
};

namespace {
// A plain object's upload failed: if it was the name's first, the name is free again.
// Caller holds the stream's mutex.
// Holds create entries for segments not yet published; one nobody waits for and nobody
// published is dropped again. Caller holds the stream's mutex.
void drop_if_unused(StreamState& ss, std::map<int64_t, SegmentState>::iterator it) {
  const SegmentState& seg = it->second;
  if (seg.candidates.empty() && seg.pending.empty() && seg.waiters.empty() && seg.committed.empty() &&
      seg.indexed_avail_ms < 0) {
    ss.segments.erase(it);
  }
}

// An upload that will not be stored (budget, failed write): it is no longer pending, and
// a plain object's name whose first upload it was is free again. Caller holds the
// stream's mutex.
void abandon_upload(StreamState& ss, const IngestTicket& ticket) {
  if (ticket.number) {
    erase_string(ss.segments[*ticket.number].pending, ticket.pipeline);
    return;
  }
  auto it = ss.objects.find(ticket.object);
  if (it == ss.objects.end()) return;
  erase_string(it->second.pending, ticket.pipeline);
  if (it->second.pending.empty() && it->second.copies.empty()) ss.objects.erase(it);
}
}  // namespace

struct Registry {
  std::map<std::string, std::shared_ptr<EventState>, std::less<>> events;
  std::shared_ptr<const AuthConfig> auth;
};

namespace {

int64_t live_protect_ms(const StreamConfig& s) {
  return (s.live_window_segments + 1) * s.segment_duration_ms;
}

std::shared_ptr<EventState> make_event_state(const EventConfig& config,
                                             const EventState* previous) {
  auto e = std::make_shared<EventState>();
  e->config = std::make_shared<const EventConfig>(config);
  e->runtime = previous ? previous->runtime : std::make_shared<EventRuntime>();
  if (previous) {
    e->markers = previous->markers;
    e->exclusions = previous->exclusions;
    e->from_file = previous->from_file;
  }
  for (const auto& s : config.streams) {
    std::shared_ptr<StreamState> state;
    if (previous) {
      const int i = previous->find_stream(s.id);
      if (i >= 0) state = previous->streams[i];
    }
    if (!state) state = std::make_shared<StreamState>();
    {
      std::lock_guard lock(state->mu);
      state->live_protect_ms = live_protect_ms(s);
    }
    e->streams.push_back(std::move(state));
  }
  return e;
}

std::string_view header_token(std::string_view authorization) {
  // "Bearer <token>", scheme case-insensitive (RFC 9110 §11.1).
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

bool ends_with_ci(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  for (size_t i = 0; i < suffix.size(); ++i) {
    if ((s[s.size() - suffix.size() + i] | 0x20) != suffix[i]) return false;
  }
  return true;
}

bool is_manifest(std::string_view object) {
  return ends_with_ci(object, ".mpd") || ends_with_ci(object, ".m3u8");
}

std::string content_type_of(std::string_view object, ContentType type) {
  if (ends_with_ci(object, ".mpd")) return "application/dash+xml";
  if (ends_with_ci(object, ".m3u8")) return "application/vnd.apple.mpegurl";
  if (ends_with_ci(object, ".m4s") || ends_with_ci(object, ".mp4") || ends_with_ci(object, ".cmfv") ||
      ends_with_ci(object, ".cmfa") || ends_with_ci(object, ".m4v") || ends_with_ci(object, ".m4a")) {
    return type == ContentType::audio ? "audio/mp4" : "video/mp4";
  }
  if (ends_with_ci(object, ".ts")) return "video/mp2t";
  if (ends_with_ci(object, ".vtt")) return "text/vtt";
  return "application/octet-stream";
}

std::string etag_of(const Candidate& c, int64_t version) {
  return "\"" + std::to_string(version) + "-" + to_hex(c.sha256.data(), 8) + "\"";
}

// RFC 9110 §13.1.2: weak comparison, a list of entity-tags or "*".
bool if_none_match_hits(std::string_view field, std::string_view etag) {
  size_t i = 0;
  while (i < field.size()) {
    while (i < field.size() && (field[i] == ' ' || field[i] == ',' || field[i] == '\t')) ++i;
    if (i >= field.size()) break;
    if (field[i] == '*') return true;
    if (field.substr(i).starts_with("W/")) i += 2;
    if (i >= field.size() || field[i] != '"') return false;
    const size_t close = field.find('"', i + 1);
    if (close == std::string_view::npos) return false;
    if (field.substr(i, close - i + 1) == etag) return true;
    i = close + 1;
  }
  return false;
}

struct ByteRange {
  int64_t first;
  int64_t last;
};
enum class RangeResult { none, ok, unsatisfiable };

// A single "bytes=" range (RFC 9110 §14.1.2). Anything else, including several ranges,
// is ignored and the whole object served, which the RFC allows.
RangeResult parse_range(std::string_view field, int64_t size, ByteRange& out) {
  if (!field.starts_with("bytes=")) return RangeResult::none;
  std::string_view spec = field.substr(6);
  if (spec.find(',') != std::string_view::npos) return RangeResult::none;
  const size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return RangeResult::none;
  const std::string_view a = spec.substr(0, dash);
  const std::string_view b = spec.substr(dash + 1);
  auto num = [](std::string_view s, int64_t& v) {
    if (s.empty() || s.size() > 18) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && p == s.data() + s.size() && v >= 0;
  };
  int64_t first = 0;
  int64_t last = 0;
  if (a.empty()) {  // suffix: the last N bytes
    if (!num(b, last)) return RangeResult::none;
    if (last == 0 || size == 0) return RangeResult::unsatisfiable;
    out = {std::max<int64_t>(0, size - last), size - 1};
    return RangeResult::ok;
  }
  if (!num(a, first)) return RangeResult::none;
  if (b.empty()) {
    last = size - 1;
  } else if (!num(b, last) || last < first) {
    return RangeResult::none;
  }
  if (first >= size) return RangeResult::unsatisfiable;
  out = {first, std::min(last, size - 1)};
  return RangeResult::ok;
}

void append_ht(Response& r, int64_t held_ms) {
  for (auto& h : r.headers) {
    if (h.name == "CMSD-Static") {
      h.value += ",ht=" + std::to_string(held_ms);
      return;
    }
  }
  r.set("CMSD-Static", "ht=" + std::to_string(held_ms));
}

void count(OriginThread& t, ZoneLabel zone, int status, size_t class_label = 3) {
  t.counters().requests[class_label][static_cast<size_t>(zone)][status_index(status)].add();
}

ZoneLabel label_of(Zone z) {
  switch (z) {
    case Zone::expired: return ZoneLabel::expired;
    case Zone::select: return ZoneLabel::select;
    case Zone::hold: return ZoneLabel::hold;
    case Zone::not_yet: return ZoneLabel::not_yet;
    case Zone::too_early: return ZoneLabel::too_early;
  }
  return ZoneLabel::select;
}

// CORS (Fetch standard): players run in web pages of other origins and read the
// origin's headers. Sent on every answer to GET and HEAD of the public paths (/live/...,
// /time), refusals included, so a page sees the real status.
constexpr std::string_view kCorsExposed =
    "Date, ETag, Content-Range, Live-Pipeline, Live-Version, Live-Reject, Live-Markers, CMSD-Static, "
    "CMSD-Dynamic, Segment-Defects, Retry-After, CDN-Cache-Control";

void add_cors(Response& r) {
  r.set("Access-Control-Allow-Origin", "*");
  r.set("Access-Control-Expose-Headers", std::string(kCorsExposed));
}

Outcome with_cors(Outcome o) {
  if (auto* r = std::get_if<Response>(&o)) add_cors(*r);
  if (auto* f = std::get_if<Fetch>(&o)) add_cors(f->response);
  return o;
}

Response json_response(int status, const boost::json::value& v, int64_t ttl_ms = 0) {
  Response r;
  r.status = status;
  r.set_text(boost::json::serialize(v) + "\n", "application/json");
  set_cache_ttl(r, ttl_ms);
  return r;
}

boost::json::value candidate_json(const Candidate& c) {
  return boost::json::object{{"pipeline", c.pipeline},
                             {"defects", c.defects.header},
                             {"arrived_ms", c.arrived_ms},
                             {"bytes", c.bytes},
                             {"sha256", to_hex(c.sha256.data(), c.sha256.size())}};
}

}  // namespace

// ---------------------------------------------------------------------------
// Routing

struct Origin::Route {
  enum Kind {
    live_object,    // /live/{event}/{stream}/{object}
    timeline,       // /live/{event}/_timeline
    invalidations,  // /live/{event}/_invalidations?since=V
    dash_manifest,     // /live/{event}/_dash.mpd
    hls_multivariant,  // /live/{event}/_hls.m3u8
    hls_media,         // /live/{event}/_hls_{stream}.m3u8
    ingest_prefix,  // /ingest/{pipeline}/{token}/{event}/{stream}/{object}
    time,
    healthz,
    metrics,
    admin_events,   // /admin/events
    admin_event,    // /admin/events/{event}
    admin_segment,  // /admin/events/{event}/streams/{stream}/segments/{n}
    admin_markers,  // /admin/events/{event}/markers[/{id}]
    admin_invalidate,  // /admin/invalidate
    not_found,
  };
  Kind kind = not_found;
  std::string_view event, stream, object, pipeline, token, number, marker;
  Target target;

  static Route of(Target&& target) {
    Route r;
    r.target = std::move(target);
    const Target& t = r.target;
    const std::string_view s0 = t[0];
    if (s0 == "live" && t.count == 4) {
      r.kind = live_object;
      r.event = t[1];
      r.stream = t[2];
      r.object = t[3];
    } else if (s0 == "live" && t.count == 3 && t[2] == "_timeline") {
      r.kind = timeline;
      r.event = t[1];
    } else if (s0 == "live" && t.count == 3 && t[2] == "_invalidations") {
      r.kind = invalidations;
      r.event = t[1];
    } else if (s0 == "live" && t.count == 3 && t[2] == kDashManifestName) {
      r.kind = dash_manifest;
      r.event = t[1];
    } else if (s0 == "live" && t.count == 3 && t[2] == kHlsMultivariantName) {
      r.kind = hls_multivariant;
      r.event = t[1];
    } else if (s0 == "live" && t.count == 3 && !hls_media_stream(t[2]).empty()) {
      r.kind = hls_media;
      r.event = t[1];
      r.stream = hls_media_stream(t[2]);
    } else if (s0 == "ingest" && t.count == 6) {
      r.kind = ingest_prefix;
      r.pipeline = t[1];
      r.token = t[2];
      r.event = t[3];
      r.stream = t[4];
      r.object = t[5];
    } else if (t.count == 1 && s0 == "time") {
      r.kind = time;
    } else if (t.count == 1 && s0 == "healthz") {
      r.kind = healthz;
    } else if (t.count == 1 && s0 == "metrics") {
      r.kind = metrics;
    } else if (s0 == "admin" && t.count == 2 && t[1] == "invalidate") {
      r.kind = admin_invalidate;
    } else if (s0 == "admin" && t[1] == "events") {
      if ((t.count == 4 || t.count == 5) && t[3] == "markers") {
        r.kind = admin_markers;
        r.event = t[2];
        r.marker = t[4];
      } else if (t.count == 2) {
        r.kind = admin_events;
      } else if (t.count == 3) {
        r.kind = admin_event;
        r.event = t[2];
      } else if (t.count == 7 && t[3] == "streams" && t[5] == "segments") {
        r.kind = admin_segment;
        r.event = t[2];
        r.stream = t[4];
        r.number = t[6];
      }
    }
    return r;
  }
};

// ---------------------------------------------------------------------------
// Construction, registry

OriginThread::~OriginThread() = default;

Origin::Origin(const Clock& clock, OriginConfig config, Logger log)
    : clock_(clock), config_(std::move(config)), log_(std::move(log)) {
  auto reg = std::make_shared<Registry>();
  for (const auto& e : config_.events) {
    auto state = make_event_state(e, nullptr);
    state->from_file = true;
    reg->events.emplace(e.id, std::move(state));
  }
  reg->auth = std::make_shared<const AuthConfig>(config_.auth);
  registry_ = std::move(reg);
}

Origin::~Origin() = default;

std::unique_ptr<OriginThread> Origin::make_thread() {
  std::unique_ptr<OriginThread> t(new OriginThread());
  t->counters_ = std::make_shared<ThreadCounters>();
  std::lock_guard lock(threads_mu_);
  thread_counters_.push_back(t->counters_);
  const size_t i = counters_view_size_.load(std::memory_order_relaxed);
  if (i < kMaxThreads) {
    counters_view_[i].store(t->counters_.get(), std::memory_order_relaxed);
    counters_view_size_.store(i + 1, std::memory_order_release);
  }
  return t;
}

const Registry& Origin::registry(OriginThread& t) {
  const uint64_t gen = registry_gen_.load(std::memory_order_acquire);
  if (gen != t.registry_gen_) {
    std::lock_guard lock(registry_mu_);
    t.registry_ = registry_;
    t.registry_gen_ = gen;
  }
  return *t.registry_;
}

void Origin::publish_registry(std::shared_ptr<const Registry> next) {
  std::lock_guard lock(registry_mu_);
  registry_ = std::move(next);
  registry_gen_.fetch_add(1, std::memory_order_release);
}

int64_t Origin::stored_bytes() const {
  std::lock_guard lock(ingest_mu_);
  return stored_bytes_;
}

void Origin::count_transport_reject(OriginThread& t, int status) {
  count(t, ZoneLabel::bad_request, status);
}

void Origin::count_put_reject(OriginThread& t, int status) { t.counters().puts[status_index(status)].add(); }

void Origin::set_draining(int64_t hold_until_ms) {
  drain_hold_until_ms_.store(hold_until_ms, std::memory_order_relaxed);
  draining_.store(true, std::memory_order_release);
}

bool Origin::is_ingest(const RequestHead& head) const {
  if (head.method != Method::put) return false;
  return head.target.starts_with("/live/") || head.target.starts_with("/ingest/");
}

// ---------------------------------------------------------------------------
// Delivery

Outcome Origin::handle(OriginThread& t, const RequestHead& head, std::string_view body,
                       const std::shared_ptr<HeldRequest>& held) {
  // A repeat of a request shed moments ago gets the same answer without any work.
  // (A request with a CMCD buffer hint is classified afresh: it may be about to stall.)
  if (t.suppress_active_until_ms_ > 0 && (head.method == Method::get || head.method == Method::head) &&
      (!held || held->held_since_ms_ < 0) && head.cmcd_request.empty() && head.cmcd_session.empty() &&
      head.target.find("CMCD=") == std::string_view::npos) {
    if (auto r = suppressed(t, head.target, clock_.now_ms())) return with_cors(std::move(*r));
  }
  auto target = parse_target(head.target);
  if (!target) {
    Response r = text_response(400, "bad request: " + target.error().message, 0);
    count(t, ZoneLabel::bad_request, 400);
    return r;
  }
  const Route route = Route::of(std::move(*target));
  const bool get_like = head.method == Method::get || head.method == Method::head;

  auto simple = [&](ZoneLabel zone, Response r) -> Outcome {
    count(t, zone, r.status);
    return r;
  };
  auto not_allowed = [&](ZoneLabel zone, std::string_view allow) -> Outcome {
    Response r = text_response(405, "method not allowed", 0);
    r.set("Allow", std::string(allow));
    return simple(zone, std::move(r));
  };

  // A CORS preflight for the public paths: a page may send CMCD and range headers.
  if (head.method == Method::options && route.kind != Route::not_found && route.kind != Route::ingest_prefix &&
      route.kind != Route::admin_events && route.kind != Route::admin_event && route.kind != Route::admin_segment &&
      route.kind != Route::admin_markers && route.kind != Route::admin_invalidate) {
    Response r = empty_response(204, 86'400'000);
    r.set("Allow", "GET, HEAD, OPTIONS");
    r.set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
    r.set("Access-Control-Allow-Headers",
          "CMCD-Request, CMCD-Object, CMCD-Status, CMCD-Session, Range, If-None-Match, If-Range, Sec-Purpose, "
          "Live-Priority");
    r.set("Access-Control-Max-Age", "86400");
    add_cors(r);
    return simple(ZoneLabel::api, std::move(r));
  }

  switch (route.kind) {
    case Route::live_object:
      if (get_like) return with_cors(handle_live_get(t, head, route, held));
      if (head.method == Method::del) {  // ffmpeg deletes old segments: accepted, ignored
        return simple(ZoneLabel::ingest, empty_response(204, 0));
      }
      return not_allowed(ZoneLabel::bad_request, "GET, HEAD, PUT, DELETE");
    case Route::ingest_prefix:
      if (head.method == Method::del) return simple(ZoneLabel::ingest, empty_response(204, 0));
      return not_allowed(ZoneLabel::bad_request, "PUT, DELETE");
    case Route::timeline:
      if (!get_like) return not_allowed(ZoneLabel::api, "GET, HEAD");
      return with_cors(simple(ZoneLabel::api, timeline(t, route)));
    case Route::invalidations:
      if (!get_like) return not_allowed(ZoneLabel::api, "GET, HEAD");
      return with_cors(simple(ZoneLabel::api, invalidations_feed(t, head, route)));
    case Route::dash_manifest:
    case Route::hls_multivariant:
    case Route::hls_media:
      if (!get_like) return not_allowed(ZoneLabel::api, "GET, HEAD");
      return with_cors(simple(ZoneLabel::api, manifest(t, head, route)));
    case Route::time: {
      if (!get_like) return not_allowed(ZoneLabel::api, "GET, HEAD");
      Response r;
      r.set_text(format_iso8601_ms(clock_.now_ms()));
      set_cache_ttl(r, 0);
      return with_cors(simple(ZoneLabel::api, std::move(r)));
    }
    case Route::healthz:
      if (!get_like) return not_allowed(ZoneLabel::api, "GET, HEAD");
      return simple(ZoneLabel::api, draining() ? text_response(503, "draining", 0)
                                               : text_response(200, "ok", 0));
    case Route::metrics:
      if (!get_like) return not_allowed(ZoneLabel::api, "GET, HEAD");
      return simple(ZoneLabel::api, metrics_text(t));
    case Route::admin_events:
    case Route::admin_event:
    case Route::admin_segment:
    case Route::admin_markers:
    case Route::admin_invalidate:
      return simple(ZoneLabel::admin, handle_admin(t, head, route, body));
    case Route::not_found:
      break;
  }
  return simple(ZoneLabel::bad_request, text_response(404, "no such path", 0));
}

Outcome Origin::handle_live_get(OriginThread& t, const RequestHead& head, const Route& route,
                                const std::shared_ptr<HeldRequest>& held) {
  const Registry& reg = registry(t);
  const auto eit = reg.events.find(route.event);
  if (eit == reg.events.end()) {
    return finish(t, ZoneLabel::unknown_event,
                  text_response(404, "unknown event", kUnknownTtlMs, "unknown-event"), held);
  }
  EventState& event = *eit->second;
  const int si = event.find_stream(route.stream);
  if (si < 0) {
    return finish(t, ZoneLabel::unknown_stream,
                  text_response(404, "unknown stream", kUnknownTtlMs, "unknown-stream"), held);
  }
  const StreamConfig& sc = event.config->streams[si];
  if (auto n = sc.parsed_template.match(route.object)) {
    return evaluate_segment(t, head, event, static_cast<size_t>(si), *n, held);
  }
  return serve_plain_object(t, head, event, static_cast<size_t>(si), route.object);
}

namespace {

// What a response serving a candidate needs, copied out of the stream lock.
struct Serve {
  CandidatePtr candidate;
  int64_t version = 0;
  int64_t ttl_ms = 0;
  bool segment = true;
  std::string markers;  // Live-Markers value; empty: none in force
};

constexpr size_t kLiveMarkersMax = 8;
constexpr size_t kLiveMarkersBytesMax = 4096;

// Live-Markers for segment n: the markers whose interval overlaps the segment's media
// interval, at most 8 and 4 KiB (the most recently posted are kept), in start order.
std::string live_markers(const EventState& event, const StreamConfig& sc, int64_t n) {
  if (event.markers.empty()) return {};
  const int64_t from = media_start_ms(sc, n);
  const int64_t to = from + sc.segment_duration_ms;
  std::vector<const Marker*> in_force;
  for (const auto& m : event.markers) {
    if (m.overlaps(from, to)) in_force.push_back(&m);
  }
  if (in_force.empty()) return {};
  std::sort(in_force.begin(), in_force.end(), [](const Marker* a, const Marker* b) { return a->seq > b->seq; });
  if (in_force.size() > kLiveMarkersMax) in_force.resize(kLiveMarkersMax);
  auto total = [&] {
    size_t bytes = 0;
    for (const Marker* m : in_force) bytes += m->item.size() + 2;
    return bytes;
  };
  while (!in_force.empty() && total() > kLiveMarkersBytesMax) in_force.pop_back();
  std::sort(in_force.begin(), in_force.end(), [](const Marker* a, const Marker* b) {
    return a->start_ms != b->start_ms ? a->start_ms < b->start_ms : a->seq < b->seq;
  });
  std::string out;
  for (const Marker* m : in_force) {
    if (!out.empty()) out += ", ";
    out += m->item;
  }
  return out;
}

Outcome build_serve(const RequestHead& head, const StreamConfig& sc, std::string_view object,
                    const Serve& s, ZoneLabel zone) {
  const Candidate& c = *s.candidate;
  Response r;
  const std::string etag = etag_of(c, s.version);
  set_cache_ttl(r, s.ttl_ms);
  r.set("ETag", etag);
  r.set("Live-Version", std::to_string(s.version));
  r.set("Live-Pipeline", c.pipeline);
  std::string cmsd = "at=" + std::to_string(c.arrived_ms);
  if (s.segment) {
    cmsd += ",d=" + std::to_string(sc.segment_duration_ms);
    cmsd += sc.content_type == ContentType::audio ? ",ot=a" : ",ot=v";
  } else {
    cmsd += is_manifest(object) ? ",ot=m" : ",ot=i";
  }
  cmsd += ",st=l";
  r.set("CMSD-Static", std::move(cmsd));
  if (!c.defects.clean()) r.set("Segment-Defects", c.defects.header);
  if (!s.markers.empty()) r.set("Live-Markers", s.markers);
  r.set("Accept-Ranges", "bytes");
  r.set("Content-Type", content_type_of(object, sc.content_type));

  if (!head.if_none_match.empty() && if_none_match_hits(head.if_none_match, etag)) {
    r.status = 304;
    r.send_body = false;
    r.body_length = 0;
    return r;
  }
  r.body_offset = 0;
  r.body_length = static_cast<size_t>(c.bytes);
  const bool if_range_ok = head.if_range.empty() || head.if_range == etag;
  ByteRange range{};
  const RangeResult rr =
      head.range.empty() || !if_range_ok ? RangeResult::none : parse_range(head.range, c.bytes, range);
  if (rr == RangeResult::unsatisfiable) {
    Response e = text_response(416, "range not satisfiable", 0);
    e.set("Content-Range", "bytes */" + std::to_string(c.bytes));
    return e;
  }
  if (rr == RangeResult::ok) {
    r.status = 206;
    r.body_offset = static_cast<size_t>(range.first);
    r.body_length = static_cast<size_t>(range.last - range.first + 1);
    r.set("Content-Range", "bytes " + std::to_string(range.first) + "-" + std::to_string(range.last) +
                               "/" + std::to_string(c.bytes));
  }
  if (head.method == Method::head) return r;  // Content-Length only: no store read
  return Fetch{c.key, std::move(r), zone};
}

// The best candidate by (tier, magnitude, other keys, rank); rank is the pipeline's
// position in the event config (pipelines no longer configured are skipped).
CandidatePtr best_candidate(const EventState& event, std::string_view stream, int64_t n,
                            const SegmentState& seg) {
  const EventConfig& ec = *event.config;
  CandidatePtr best;
  int best_rank = 0;
  for (const auto& c : seg.candidates) {
    const int rank = ec.pipeline_index(c->pipeline);
    if (rank < 0 || event.excluded(c->pipeline, stream, n)) continue;
    if (!best || better_defects(c->defects, best->defects) ||
        (same_quality(c->defects, best->defects) && rank < best_rank)) {
      best = c;
      best_rank = rank;
    }
  }
  return best;
}

}  // namespace

Outcome Origin::evaluate_segment(OriginThread& t, const RequestHead& head, EventState& event,
                                 size_t si, int64_t n, const std::shared_ptr<HeldRequest>& held) {
  const int64_t now = clock_.now_ms();
  const EventConfig& ec = *event.config;
  const StreamConfig& sc = ec.streams[si];
  StreamState& ss = *event.streams[si];
  const bool resumed = held && held->held_since_ms_ >= 0;
  const ZoneDecision z = classify(ec, sc, n, now);
  const ZoneLabel label = resumed ? held->zone_ : label_of(z.zone);
  const RequestClass cls = resumed ? held->class_ : request_class(head, sc, n, z.edge);
  const size_t cl = static_cast<size_t>(cls);

  switch (z.zone) {
    case Zone::expired:
      return finish(t, label, text_response(410, "expired", z.ttl_ms, "expired"), held, cl);
    case Zone::not_yet:
      return finish(t, label, text_response(404, "not yet", z.ttl_ms, "not-yet"), held, cl);
    case Zone::too_early:
      return finish(t, label, text_response(404, "too early", z.ttl_ms, "too-early"), held, cl);
    case Zone::select:
    case Zone::hold:
      break;
  }
  // Shed before any work: no lock, no selection, no store read.
  if (!resumed && z.zone == Zone::select && overloaded(cls, now)) {
    t.counters().shed[cl].add();
    remember_shed(t, head.target, now, cls);
    return finish(t, label, shed_response(), held, cl);
  }

  std::unique_lock lock(ss.mu);
  if (held && held->registered_) {
    auto it = ss.segments.find(n);
    if (it != ss.segments.end()) {
      auto& w = it->second.waiters;
      w.erase(std::remove(w.begin(), w.end(), held), w.end());
      drop_if_unused(ss, it);
    }
    held->registered_ = false;
  }
  if (n <= ss.evicted_through) {
    lock.unlock();
    return finish(t, label, text_response(410, "evicted (store budget)", kExpiredTtlMs, "evicted"), held, cl);
  }
  auto it = ss.segments.find(n);
  SegmentState* seg = it == ss.segments.end() ? nullptr : &it->second;

  auto serve = [&](CandidatePtr c, const char* reason) -> Outcome {
    if (seg->committed.empty()) {
      seg->committed = c->pipeline;
      seg->committed_ms = now;
      seg->reason = reason;
      shared_metrics_.count("liveorigin_selections_total",
                            "event=" + prom_label(ec.id) + ",stream=" + prom_label(sc.id) +
                                ",pipeline=" + prom_label(c->pipeline) + ",reason=" + prom_label(reason));
    }
    if (seg->first_served_ms < 0) seg->first_served_ms = now;
    Serve s{std::move(c), seg->version, 0, true};
    lock.unlock();
    s.ttl_ms = s.candidate->defects.clean() ? ec.dvr_window_s * 1000 : sc.segment_duration_ms;
    s.markers = live_markers(event, sc, n);
    if (!s.candidate->defects.clean()) t.counters().defective_served.add();
    Outcome o = build_serve(head, sc, sc.segment_template, s, label);
    if (auto* f = std::get_if<Fetch>(&o)) {
      f->class_label = cl;
      t.counters().store_reads.fetch_add(1, std::memory_order_relaxed);
    }
    return finish(t, label, std::move(o), held, cl);
  };

  if (seg && !seg->committed.empty()) {
    if (const CandidatePtr* c = find_candidate(seg->candidates, seg->committed)) return serve(*c, "");
  }
  CandidatePtr best = seg ? best_candidate(event, sc.id, n, *seg) : nullptr;
  if (best && best->defects.clean()) return serve(best, "clean");

  const int64_t avail = avail_ms(sc, n);
  if (z.zone == Zone::hold) {
    // Not yet due: only a clean copy is served early; anything else waits for avail(n).
    return hold_or_refuse(t, event, si, n, avail, held, label, cls, lock);
  }
  const int64_t grace_end = avail + sc.selection_grace_ms;
  const bool in_grace = now < grace_end;
  bool other_live = false;  // a live, not excluded pipeline that has not delivered n yet
  bool any_live = false;
  for (const auto& p : ec.pipelines) {
    if (!ss.live(p.id, now, sc.pipeline_liveness_ms) || event.excluded(p.id, sc.id, n)) continue;
    any_live = true;
    if (!seg || !find_candidate(seg->candidates, p.id)) other_live = true;
  }
  if (best) {
    if (in_grace && other_live) return hold_or_refuse(t, event, si, n, grace_end, held, label, cls, lock);
    return serve(best, "least-defective");
  }
  if (in_grace && any_live) return hold_or_refuse(t, event, si, n, grace_end, held, label, cls, lock);
  lock.unlock();
  Response r = text_response(404, "missing", sc.segment_duration_ms, "missing");
  r.set("Segment-Defects", "missing");
  return finish(t, label, std::move(r), held, cl);
}

Outcome Origin::hold_or_refuse(OriginThread& t, EventState& event, size_t si, int64_t n,
                               int64_t wake_at_ms, const std::shared_ptr<HeldRequest>& held,
                               ZoneLabel zone, RequestClass cls, std::unique_lock<std::mutex>& lock) {
  const StreamConfig& sc = event.config->streams[si];
  const int64_t now = clock_.now_ms();
  auto refuse = [&](const char* why) -> Outcome {
    lock.unlock();
    Response r = text_response(404, why, not_yet_ttl_ms(sc, n, now), "not-yet");
    return finish(t, zone, std::move(r), held, static_cast<size_t>(cls));
  };
  if (!held || sc.hold_ms_max == 0) return refuse("not yet");
  const bool drain = draining();
  if (drain && held->held_since_ms_ < 0) return refuse("not yet (draining)");
  if (held->held_since_ms_ < 0) {
    // A new hold takes a slot, if one is free; the count is only a bound, so a
    // relaxed increment that may briefly overshoot by a thread is acceptable.
    if (held_count_.fetch_add(1, std::memory_order_relaxed) >= config_.hold_requests_max) {
      held_count_.fetch_sub(1, std::memory_order_relaxed);
      t.counters().holds_refused.add();
      return refuse("not yet (hold capacity reached)");
    }
    held->held_since_ms_ = now;
    held->counted_ = true;
    held->zone_ = zone;
    held->class_ = cls;
    held->woken_ms_ = -1;
    held->stream_ = event.streams[si];
    held->number_ = n;
    t.counters().holds.add();
  }
  const int64_t hold_deadline = held->held_since_ms_ + sc.hold_ms_max;
  const int64_t drain_deadline = drain ? drain_hold_until_ms_.load(std::memory_order_relaxed) : hold_deadline;
  const int64_t deadline = std::min(hold_deadline, drain_deadline);
  if (now >= deadline) {
    if (now < hold_deadline) return refuse("not yet (draining)");
    t.counters().hold_timeouts.add();
    return refuse("not yet (held for hold_ms_max)");
  }
  event.streams[si]->segments[n].waiters.push_back(held);
  held->registered_ = true;
  return Hold{std::min(wake_at_ms, deadline)};
}

Outcome Origin::finish(OriginThread& t, ZoneLabel zone, Outcome outcome,
                       const std::shared_ptr<HeldRequest>& held, size_t class_label) {
  if (std::holds_alternative<Hold>(outcome)) return outcome;
  Response* r = std::get_if<Response>(&outcome);
  if (r == nullptr) r = &std::get<Fetch>(outcome).response;
  if (held && held->counted_) {
    const int64_t now = clock_.now_ms();
    append_ht(*r, now - held->held_since_ms_);
    if (held->woken_ms_ >= 0) t.counters().hold_wake_ms.observe(now - held->woken_ms_);
    release_hold(held);
  }
  if (std::holds_alternative<Response>(outcome)) count(t, zone, r->status, class_label);
  return outcome;
}

void Origin::release_hold(const std::shared_ptr<HeldRequest>& held) {
  if (held->counted_) {
    held->counted_ = false;
    held_count_.fetch_sub(1, std::memory_order_relaxed);
  }
  // The request is over: a driver may reuse the same waiter for the connection's next
  // request, which must start as a new request, not as this one resumed.
  held->held_since_ms_ = -1;
  held->woken_ms_ = -1;
}

void Origin::cancel(const std::shared_ptr<HeldRequest>& held) {
  if (auto stream = held->stream_.lock()) {
    std::lock_guard lock(stream->mu);
    if (held->registered_) {
      auto it = stream->segments.find(held->number_);
      if (it != stream->segments.end()) {
        auto& w = it->second.waiters;
        w.erase(std::remove(w.begin(), w.end(), held), w.end());
        drop_if_unused(*stream, it);
      }
      held->registered_ = false;
    }
  }
  release_hold(held);
}

Response Origin::complete_fetch(OriginThread& t, Fetch&& fetch, SharedBytes bytes) {
  if (fetch.class_label < kRequestClasses) t.counters().store_reads.fetch_sub(1, std::memory_order_relaxed);
  t.counters().store_reads_done.add();
  Response r = std::move(fetch.response);
  if (!bytes || bytes->size() < r.body_offset + r.body_length) {
    r = text_response(503, "object not in store, retry", 0, "store-miss");
    add_cors(r);  // fetches serve /live/ objects only
  } else {
    r.body = std::move(bytes);
    t.counters().bytes_served.add(r.body_length);
  }
  count(t, fetch.zone, r.status, fetch.class_label);
  return r;
}

namespace {

// The copy of a plain object that is served: the highest-rank live pipeline's; after
// the event, the highest-rank copy. Caller holds the stream's mutex.
CandidatePtr served_copy(const EventConfig& ec, const StreamConfig& sc, const StreamState& ss,
                         const PlainObjectState& obj, int64_t now) {
  CandidatePtr any;
  for (const auto& p : ec.pipelines) {
    const CandidatePtr* c = find_candidate(obj.copies, p.id);
    if (!c) continue;
    if (!any) any = *c;
    if (ss.live(p.id, now, sc.pipeline_liveness_ms)) return *c;
  }
  return any;
}

}  // namespace

Outcome Origin::serve_plain_object(OriginThread& t, const RequestHead& head, EventState& event,
                                   size_t si, std::string_view object) {
  const int64_t now = clock_.now_ms();
  const EventConfig& ec = *event.config;
  const StreamConfig& sc = ec.streams[si];
  StreamState& ss = *event.streams[si];
  const int64_t ttl = sc.segment_duration_ms / 2;
  CandidatePtr chosen;
  {
    std::lock_guard lock(ss.mu);
    auto it = ss.objects.find(object);
    if (it != ss.objects.end()) chosen = served_copy(ec, sc, ss, it->second, now);
  }
  if (!chosen) {
    Response r = text_response(404, "not found", ttl, "not-found");
    count(t, ZoneLabel::plain_object, 404);
    return r;
  }
  if (!chosen->defects.clean()) t.counters().defective_served.add();
  Serve s{std::move(chosen), 0, ttl, false};
  Outcome o = build_serve(head, sc, object, s, ZoneLabel::plain_object);
  if (auto* r = std::get_if<Response>(&o)) count(t, ZoneLabel::plain_object, r->status);
  return o;
}

// ---------------------------------------------------------------------------
// Ingest

Response Origin::reject_put(OriginThread& t, Response r) {
  t.counters().puts[status_index(r.status)].add();
  return r;
}

std::variant<Response, IngestTicket> Origin::begin_put(OriginThread& t, const RequestHead& head) {
  auto target = parse_target(head.target);
  if (!target) return reject_put(t, text_response(400, "bad request: " + target.error().message, 0));
  const Route route = Route::of(std::move(*target));
  std::string_view token;
  std::string_view pipeline;
  if (route.kind == Route::live_object) {
    token = header_token(head.authorization);
    pipeline = head.live_pipeline;
  } else if (route.kind == Route::ingest_prefix) {
    token = route.token;
    pipeline = route.pipeline;
  } else {
    return reject_put(t, text_response(404, "no such ingest path", 0));
  }

  if (token.empty()) {
    Response r = text_response(401, "ingest token required", 0);
    r.set("WWW-Authenticate", "Bearer realm=\"liveorigin-ingest\"");
    return reject_put(t, std::move(r));
  }
  const Registry& reg = registry(t);
  const IngestToken* tok = nullptr;
  for (const auto& it : reg.auth->ingest_tokens) {
    if (it.token == token) tok = &it;
  }
  if (!tok) {
    Response r = text_response(401, "unknown ingest token", 0);
    r.set("WWW-Authenticate", "Bearer realm=\"liveorigin-ingest\", error=\"invalid_token\"");
    return reject_put(t, std::move(r));
  }
  if (pipeline.empty()) return reject_put(t, text_response(400, "Live-Pipeline header required", 0));

  const auto eit = reg.events.find(route.event);
  if (eit == reg.events.end()) {
    return reject_put(t, text_response(404, "unknown event", 0, "unknown-event"));
  }
  const std::shared_ptr<EventState>& event = eit->second;
  const EventConfig& ec = *event->config;
  const int si = event->find_stream(route.stream);
  if (si < 0) return reject_put(t, text_response(404, "unknown stream", 0, "unknown-stream"));
  const StreamConfig& sc = ec.streams[si];
  const int pi = ec.pipeline_index(pipeline);
  if (pi < 0) {
    return reject_put(t, text_response(403, "pipeline '" + std::string(pipeline) +
                                                 "' is not configured for this event", 0));
  }
  if ((!tok->events.empty() && !contains(tok->events, ec.id)) ||
      (!tok->pipelines.empty() && !contains(tok->pipelines, pipeline))) {
    return reject_put(t, text_response(403, "token not allowed for this event or pipeline", 0));
  }
  if (head.content_length && *head.content_length > static_cast<uint64_t>(config_.body_limit_bytes)) {
    return reject_put(t, text_response(413, "body larger than body_limit_bytes (" +
                                                std::to_string(config_.body_limit_bytes) + ")", 0));
  }

  IngestTicket ticket;
  if (!head.segment_defects.empty()) {
    auto d = parse_segment_defects(head.segment_defects);
    if (!d) return reject_put(t, text_response(400, d.error().message, 0));
    ticket.defects = std::move(*d);
  }
  if (!head.repr_digest.empty()) {
    auto d = parse_repr_digest(head.repr_digest);
    if (!d) return reject_put(t, text_response(400, d.error().message, 0));
    ticket.expected = std::move(*d);
  }

  const int64_t now = clock_.now_ms();
  StreamState& ss = *event->streams[si];
  if (auto raw = sc.parsed_template.match(route.object)) {
    const int64_t n = *raw + ec.pipelines[pi].number_offset;
    const int64_t edge = live_edge(sc, now);
    const int64_t floor = dvr_floor(ec, sc, edge);
    if (n < floor) {
      return reject_put(t, text_response(422, "segment " + std::to_string(n) +
                                                  " is older than the DVR window (oldest " +
                                                  std::to_string(floor) + ")", 0, "expired"));
    }
    if (n > edge + sc.ingest_ahead_segments) {
      return reject_put(t, text_response(422, "segment " + std::to_string(n) + " is more than " +
                                                  std::to_string(sc.ingest_ahead_segments) +
                                                  " ahead of the live edge (" + std::to_string(edge) + ")",
                                              0, "too-early"));
    }
    ticket.number = n;
  } else {
    ticket.object = std::string(route.object);
  }
  {
    std::lock_guard lock(ss.mu);
    if (ticket.number && *ticket.number <= ss.evicted_through) {
      return reject_put(t, text_response(422, "segment was evicted for the store budget", 0, "evicted"));
    }
    ss.mark_live(pipeline, now);
  }
  ticket.event = event;
  ticket.stream = event->streams[si];
  ticket.pipeline = std::string(pipeline);
  ticket.want_sha512 = !ticket.expected.sha512.empty();
  ticket.body_limit = config_.body_limit_bytes;
  ticket.started_ms = now;
  return ticket;
}

std::string Origin::next_key(const IngestTicket& ticket) {
  const EventConfig& ec = *ticket.event->config;
  std::string stream_id;
  for (size_t i = 0; i < ticket.event->streams.size(); ++i) {
    if (ticket.event->streams[i] == ticket.stream) stream_id = ec.streams[i].id;
  }
  std::string key = ec.id + "/" + stream_id + "/";
  key += ticket.number ? std::to_string(*ticket.number) : "o/" + ticket.object;
  key += "/" + ticket.pipeline + "/" + std::to_string(++key_counter_);
  return key;
}

std::variant<Response, StoreWrite> Origin::finish_put(OriginThread& t, IngestTicket&& ticket,
                                                      SharedBytes body,
                                                      const BodyHasher::Final& hashes) {
  assert(body);
  const std::string mismatch = verify_digest(ticket.expected, hashes);
  if (!mismatch.empty()) return reject_put(t, text_response(400, mismatch, 0));
  if (static_cast<int64_t>(body->size()) > ticket.body_limit) {
    return reject_put(t, text_response(413, "body larger than body_limit_bytes", 0));
  }
  const int64_t size = static_cast<int64_t>(body->size());
  if (size == 0) return reject_put(t, text_response(400, "empty body: nothing to store", 0));
  const int64_t now = clock_.now_ms();

  std::lock_guard ingest(ingest_mu_);
  StreamState& ss = *ticket.stream;
  bool replaces = false;
  {
    std::lock_guard lock(ss.mu);
    std::vector<CandidatePtr>* copies;
    std::vector<std::string>* pending;
    const std::string* committed = nullptr;
    if (ticket.number) {
      if (*ticket.number <= ss.evicted_through) {
        return reject_put(t, text_response(422, "segment was evicted for the store budget", 0, "evicted"));
      }
      SegmentState& seg = ss.segments[*ticket.number];
      copies = &seg.candidates;
      pending = &seg.pending;
      committed = &seg.committed;
    } else {
      if (!ss.objects.contains(ticket.object) && ss.objects.size() >= kPlainObjectsMax) {
        return reject_put(t, text_response(507, "stream already holds " + std::to_string(kPlainObjectsMax) +
                                                    " plain objects (names not matching segment_template)", 0));
      }
      PlainObjectState& obj = ss.objects[ticket.object];
      copies = &obj.copies;
      pending = &obj.pending;
    }
    if (contains(*pending, ticket.pipeline)) {
      return reject_put(t, text_response(409, "an upload of this object from pipeline '" +
                                                  ticket.pipeline + "' is in progress", 0));
    }
    if (const CandidatePtr* existing = find_candidate(*copies, ticket.pipeline)) {
      // The same bytes with the same inspection verdict: a retry of what we hold. (A
      // changed verdict on the same bytes is a new candidate, like different bytes.)
      if ((*existing)->sha256 == hashes.sha256 && (*existing)->defects.header == ticket.defects.header) {
        ss.mark_live(ticket.pipeline, now);
        return reject_put(t, empty_response(204, 0));
      }
      if (committed && *committed == ticket.pipeline && (*existing)->defects.clean()) {
        return reject_put(t, text_response(409, "different bytes or defects for a committed clean segment; "
                                                "change it through invalidation", 0));
      }
      replaces = true;
    }
    pending->push_back(ticket.pipeline);
  }
  if (!reserve_locked(t, size, now)) {
    std::lock_guard lock(ss.mu);
    abandon_upload(ss, ticket);
    return reject_put(t, text_response(507, "store budget exhausted (store.budget_bytes)", 0));
  }
  StoreWrite w;
  w.key = next_key(ticket);
  w.ticket = std::move(ticket);
  w.bytes = std::move(body);
  w.sha256 = hashes.sha256;
  w.replaces = replaces;
  w.reserved_bytes = size;
  return w;
}

bool Origin::reserve_locked(OriginThread& t, int64_t bytes, int64_t now_ms) {
  if (bytes > config_.store.budget_bytes) return false;
  while (stored_bytes_ + bytes > config_.store.budget_bytes && !by_age_.empty()) {
    const auto [avail, stream, n] = *by_age_.begin();
    std::lock_guard lock(stream->mu);
    if (avail + stream->live_protect_ms > now_ms) return false;  // never evict the live window
    auto it = stream->segments.find(n);
    if (it != stream->segments.end() && !it->second.pending.empty()) return false;  // mid-write
    by_age_.erase(by_age_.begin());
    if (it == stream->segments.end()) continue;
    for (const auto& c : it->second.candidates) {
      stored_bytes_ -= c->bytes;
      t.effects_.erase.push_back(c->key);
    }
    for (auto& w : it->second.waiters) {
      w->registered_ = false;
      t.effects_.wake.push_back(std::move(w));
    }
    stream->segments.erase(it);
    stream->evicted_through = std::max(stream->evicted_through, n);
    shared_metrics_.count("liveorigin_evicted_segments_total", "");
  }
  if (stored_bytes_ + bytes > config_.store.budget_bytes) return false;
  stored_bytes_ += bytes;
  return true;
}

Response Origin::complete_put(OriginThread& t, StoreWrite&& w, bool stored) {
  const IngestTicket& ticket = w.ticket;
  const int64_t now = clock_.now_ms();
  const EventConfig& ec = *ticket.event->config;
  StreamState& ss = *ticket.stream;
  std::string stream_id;
  const StreamConfig* sc = nullptr;
  for (size_t i = 0; i < ticket.event->streams.size(); ++i) {
    if (ticket.event->streams[i] == ticket.stream) sc = &ec.streams[i];
  }
  assert(sc);

  std::lock_guard ingest(ingest_mu_);
  if (!stored) {
    stored_bytes_ -= w.reserved_bytes;
    std::lock_guard lock(ss.mu);
    abandon_upload(ss, ticket);
    return reject_put(t, text_response(503, "store write failed; retry", 0));
  }

  // Exclusions may have changed since the PUT began: decide with the current event.
  const EventState* current = ticket.event.get();
  {
    const Registry& reg = registry(t);
    auto it = reg.events.find(ec.id);
    if (it != reg.events.end() && it->second->runtime == ticket.event->runtime) current = it->second.get();
  }

  auto fresh = std::make_shared<Candidate>();
  fresh->pipeline = ticket.pipeline;
  fresh->defects = ticket.defects;
  fresh->arrived_ms = now;
  fresh->bytes = w.reserved_bytes;
  fresh->sha256 = w.sha256;
  fresh->key = w.key;
  // Init segments are small; what the manifests need of one is read now, once.
  if (!ticket.number && !is_manifest(ticket.object) && w.bytes && w.bytes->size() <= kInitBytesMax) {
    if (auto info = parse_init_segment(*w.bytes)) fresh->init = std::make_shared<const InitInfo>(std::move(*info));
  }

  int64_t version = 0;
  {
    std::lock_guard lock(ss.mu);
    ss.mark_live(ticket.pipeline, now);
    std::vector<CandidatePtr>* copies;
    if (ticket.number) {
      const int64_t n = *ticket.number;
      SegmentState& seg = ss.segments[n];
      erase_string(seg.pending, ticket.pipeline);
      copies = &seg.candidates;
      bool replaced_committed = false;
      if (CandidatePtr* old = const_cast<CandidatePtr*>(find_candidate(*copies, ticket.pipeline))) {
        stored_bytes_ -= (*old)->bytes;
        t.effects_.erase.push_back((*old)->key);
        replaced_committed = seg.committed == ticket.pipeline;
        *old = fresh;
      } else {
        copies->push_back(fresh);
      }
      if (seg.indexed_avail_ms < 0) {
        seg.indexed_avail_ms = avail_ms(*sc, n);
        by_age_.emplace(seg.indexed_avail_ms, &ss, n);
      }
      // A committed defective choice moves to a strictly better candidate; a replaced
      // committed candidate is re-chosen. Either way the bytes served change: new version.
      if (!seg.committed.empty()) {
        const CandidatePtr* cur = find_candidate(seg.candidates, seg.committed);
        const CandidatePtr best = best_candidate(*current, sc->id, n, seg);
        const bool upgrade = cur && !replaced_committed && !(*cur)->defects.clean() && best &&
                             better_defects(best->defects, (*cur)->defects);
        if ((upgrade || replaced_committed) && best) {
          seg.committed = best->pipeline;
          seg.committed_ms = now;
          seg.reason = upgrade ? "upgraded" : "replaced";
          seg.version = ticket.event->runtime->version.fetch_add(1) + 1;
          shared_metrics_.count("liveorigin_selections_total",
                                "event=" + prom_label(ec.id) + ",stream=" + prom_label(sc->id) +
                                    ",pipeline=" + prom_label(best->pipeline) +
                                    ",reason=" + prom_label(seg.reason));
        }
      }
      version = seg.version;
      for (auto& h : seg.waiters) {
        h->registered_ = false;
        h->woken_ms_ = now;
        t.effects_.wake.push_back(std::move(h));
      }
      seg.waiters.clear();
    } else {
      PlainObjectState& obj = ss.objects[ticket.object];
      erase_string(obj.pending, ticket.pipeline);
      if (CandidatePtr* old = const_cast<CandidatePtr*>(find_candidate(obj.copies, ticket.pipeline))) {
        stored_bytes_ -= (*old)->bytes;
        t.effects_.erase.push_back((*old)->key);
        *old = fresh;
      } else {
        obj.copies.push_back(fresh);
      }
      // Epoch-locked pipelines should produce identical init segments.
      if (!is_manifest(ticket.object)) {
        for (const auto& c : obj.copies) {
          if (c->pipeline != ticket.pipeline && c->sha256 != fresh->sha256) {
            shared_metrics_.count("liveorigin_init_mismatch_total",
                                  "event=" + prom_label(ec.id) + ",stream=" + prom_label(sc->id));
            if (log_) {
              log_("init mismatch: " + ec.id + "/" + sc->id + "/" + ticket.object + " from pipeline " +
                   ticket.pipeline + " differs from pipeline " + c->pipeline);
            }
            break;
          }
        }
      }
    }
  }
  expire_locked(t, *ticket.event, now);

  Response r = w.replaces ? empty_response(204, 0) : text_response(201, "created", 0);
  if (ticket.number) r.set("Live-Version", std::to_string(version));
  t.counters().puts[status_index(r.status)].add();
  t.counters().put_ms.observe(now - ticket.started_ms);
  t.counters().bytes_ingested.add(static_cast<uint64_t>(w.reserved_bytes));
  return r;
}

void Origin::expire_locked(OriginThread& t, EventState& event, int64_t now_ms) {
  const EventConfig& ec = *event.config;
  for (size_t i = 0; i < ec.streams.size(); ++i) {
    const StreamConfig& sc = ec.streams[i];
    StreamState& ss = *event.streams[i];
    const int64_t floor = dvr_floor(ec, sc, live_edge(sc, now_ms));
    std::lock_guard lock(ss.mu);
    while (!ss.segments.empty() && ss.segments.begin()->first < floor) {
      SegmentState& seg = ss.segments.begin()->second;
      if (!seg.pending.empty()) break;  // its store write completes first
      for (const auto& c : seg.candidates) {
        stored_bytes_ -= c->bytes;
        t.effects_.erase.push_back(c->key);
      }
      if (seg.indexed_avail_ms >= 0) by_age_.erase({seg.indexed_avail_ms, &ss, ss.segments.begin()->first});
      for (auto& w : seg.waiters) {
        w->registered_ = false;
        t.effects_.wake.push_back(std::move(w));
      }
      ss.segments.erase(ss.segments.begin());
    }
  }
}

void Origin::tick(OriginThread& t) {
  const Registry& reg = registry(t);
  const int64_t now = clock_.now_ms();
  std::lock_guard ingest(ingest_mu_);
  for (const auto& [id, event] : reg.events) expire_locked(t, *event, now);
}

void Origin::drop_stream_locked(OriginThread& t, StreamState& ss) {
  std::lock_guard lock(ss.mu);
  for (auto& [n, seg] : ss.segments) {
    for (const auto& c : seg.candidates) {
      stored_bytes_ -= c->bytes;
      t.effects_.erase.push_back(c->key);
    }
    if (seg.indexed_avail_ms >= 0) by_age_.erase({seg.indexed_avail_ms, &ss, n});
    for (auto& w : seg.waiters) {
      w->registered_ = false;
      t.effects_.wake.push_back(std::move(w));
    }
  }
  for (auto& [name, obj] : ss.objects) {
    for (const auto& c : obj.copies) {
      stored_bytes_ -= c->bytes;
      t.effects_.erase.push_back(c->key);
    }
  }
  ss.segments.clear();
  ss.objects.clear();
}

// ---------------------------------------------------------------------------
// Timeline, admin, metrics

Response Origin::timeline(OriginThread& t, const Route& route) {
  const Registry& reg = registry(t);
  const auto eit = reg.events.find(route.event);
  if (eit == reg.events.end()) return text_response(404, "unknown event", kUnknownTtlMs, "unknown-event");
  const EventConfig& ec = *eit->second->config;
  const int64_t now = clock_.now_ms();
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

Response Origin::manifest(OriginThread& t, const RequestHead& head, const Route& route) {
  const Registry& reg = registry(t);
  const auto eit = reg.events.find(route.event);
  if (eit == reg.events.end()) return text_response(404, "unknown event", kUnknownTtlMs, "unknown-event");
  const EventState& event = *eit->second;
  const EventConfig& ec = *event.config;
  int media = -1;
  if (route.kind == Route::hls_media) {
    media = event.find_stream(route.stream);
    if (media < 0) return text_response(404, "unknown stream", kUnknownTtlMs, "unknown-stream");
  }
  const int64_t now = clock_.now_ms();
  ManifestInput in;
  in.event = &ec;
  in.now_ms = now;
  int64_t d_min = std::numeric_limits<int64_t>::max();
  for (size_t i = 0; i < ec.streams.size(); ++i) {
    const StreamConfig& sc = ec.streams[i];
    StreamState& ss = *event.streams[i];
    d_min = std::min(d_min, sc.segment_duration_ms);
    const int64_t edge = live_edge(sc, now);
    ManifestStream m;
    m.config = &sc;
    int64_t largest = 0;
    {
      std::lock_guard lock(ss.mu);
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
      if (media == static_cast<int>(i)) {
        for (const auto& [n, seg] : ss.segments) {
          if (!seg.candidates.empty()) {
            m.first_stored = std::max(n, ss.evicted_through == std::numeric_limits<int64_t>::min()
                                             ? n
                                             : ss.evicted_through + 1);
            break;
          }
        }
        if (m.first_stored >= 0) {
          // Numbers past their selection grace that no pipeline delivered: EXT-X-GAP.
          const int64_t from = std::max(m.first_stored, dvr_floor(ec, sc, edge));
          auto it = ss.segments.lower_bound(from);
          for (int64_t n = from; n <= edge && avail_ms(sc, n) + sc.selection_grace_ms <= now; ++n) {
            while (it != ss.segments.end() && it->first < n) ++it;
            if (it == ss.segments.end() || it->first != n || it->second.candidates.empty()) m.gaps.push_back(n);
          }
        }
      }
    }
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

Response Origin::handle_admin(OriginThread& t, const RequestHead& head, const Route& route,
                              std::string_view body) {
  const Registry& reg = registry(t);
  const std::string_view token = header_token(head.authorization);
  if (token.empty() || !contains(reg.auth->admin_tokens, token)) {
    Response r = text_response(401, token.empty() ? "admin token required" : "unknown admin token", 0);
    r.set("WWW-Authenticate", "Bearer realm=\"liveorigin-admin\"");
    return r;
  }
  auto not_allowed = [](std::string_view allow) {
    Response r = text_response(405, "method not allowed", 0);
    r.set("Allow", std::string(allow));
    return r;
  };
  switch (route.kind) {
    case Route::admin_markers:
      return admin_markers(t, head, route, body);
    case Route::admin_invalidate:
      if (head.method != Method::post) return not_allowed("POST");
      return admin_invalidate(t, body);
    case Route::admin_events: {
      if (head.method != Method::get && head.method != Method::head) return not_allowed("GET, HEAD");
      boost::json::array events;
      for (const auto& [id, e] : reg.events) events.push_back(to_json(*e->config));
      return json_response(200, events);
    }
    case Route::admin_event:
      switch (head.method) {
        case Method::get:
        case Method::head: {
          const auto it = reg.events.find(route.event);
          if (it == reg.events.end()) return text_response(404, "unknown event", 0, "unknown-event");
          return json_response(200, to_json(*it->second->config));
        }
        case Method::put: return admin_put_event(t, route.event, body);
        case Method::del: return admin_delete_event(t, route.event);
        default: return not_allowed("GET, HEAD, PUT, DELETE");
      }
    case Route::admin_segment:
      if (head.method != Method::get && head.method != Method::head) return not_allowed("GET, HEAD");
      return admin_segment_audit(t, route);
    default:
      return text_response(404, "no such path", 0);
  }
}

Response Origin::admin_put_event(OriginThread& t, std::string_view id, std::string_view body) {
  if (!is_valid_id(id)) return text_response(400, "invalid event id", 0);
  auto parsed = parse_event_config(body, "request body", id);
  if (!parsed) return text_response(400, parsed.error().message, 0);
  std::lock_guard ingest(ingest_mu_);
  auto next = std::make_shared<Registry>();
  bool existed = false;
  {
    std::lock_guard lock(registry_mu_);
    *next = *registry_;
  }
  std::shared_ptr<EventState> previous;
  if (auto it = next->events.find(id); it != next->events.end()) {
    previous = it->second;
    existed = true;
  }
  auto state = make_event_state(*parsed, previous.get());
  if (previous) {
    for (size_t i = 0; i < previous->streams.size(); ++i) {
      if (state->find_stream(previous->config->streams[i].id) < 0) {
        drop_stream_locked(t, *previous->streams[i]);
      }
    }
  }
  next->events[std::string(id)] = state;
  publish_registry(std::move(next));
  if (log_) log_(std::string(existed ? "event replaced: " : "event created: ") + std::string(id));
  return json_response(existed ? 200 : 201, to_json(*state->config));
}

Response Origin::admin_delete_event(OriginThread& t, std::string_view id) {
  std::lock_guard ingest(ingest_mu_);
  auto next = std::make_shared<Registry>();
  {
    std::lock_guard lock(registry_mu_);
    *next = *registry_;
  }
  auto it = next->events.find(id);
  if (it == next->events.end()) return text_response(404, "unknown event", 0, "unknown-event");
  for (const auto& s : it->second->streams) drop_stream_locked(t, *s);
  next->events.erase(it);
  publish_registry(std::move(next));
  if (log_) log_("event deleted: " + std::string(id));
  return empty_response(204, 0);
}

Response Origin::admin_segment_audit(OriginThread& t, const Route& route) {
  const Registry& reg = registry(t);
  const auto eit = reg.events.find(route.event);
  if (eit == reg.events.end()) return text_response(404, "unknown event", 0, "unknown-event");
  EventState& event = *eit->second;
  const int si = event.find_stream(route.stream);
  if (si < 0) return text_response(404, "unknown stream", 0, "unknown-stream");
  int64_t n = 0;
  auto [p, ec] = std::from_chars(route.number.data(), route.number.data() + route.number.size(), n);
  if (ec != std::errc() || p != route.number.data() + route.number.size()) {
    return text_response(400, "segment number must be an integer", 0);
  }
  const StreamConfig& sc = event.config->streams[si];
  StreamState& ss = *event.streams[si];
  const int64_t now = clock_.now_ms();
  boost::json::array candidates;
  boost::json::value choice = nullptr;
  boost::json::array pending;
  int64_t version = 0;
  int64_t first_served = -1;
  size_t waiting = 0;
  {
    std::lock_guard lock(ss.mu);
    auto it = ss.segments.find(n);
    if (it != ss.segments.end()) {
      const SegmentState& seg = it->second;
      for (const auto& c : seg.candidates) {
        boost::json::value v = candidate_json(*c);
        v.as_object()["excluded"] = event.excluded(c->pipeline, sc.id, n);
        candidates.push_back(std::move(v));
      }
      for (const auto& p : seg.pending) pending.push_back(boost::json::value(p));
      if (!seg.committed.empty()) {
        choice = boost::json::object{{"pipeline", seg.committed},
                                     {"committed_ms", seg.committed_ms},
                                     {"reason", seg.reason}};
      }
      version = seg.version;
      first_served = seg.first_served_ms;
      waiting = seg.waiters.size();
    }
  }
  const ZoneDecision z = classify(*event.config, sc, n, now);
  static constexpr const char* kZones[] = {"expired", "select", "hold", "not-yet", "too-early"};
  boost::json::object body{
      {"event", event.config->id},
      {"stream", sc.id},
      {"number", n},
      {"object", n < 0 ? boost::json::value(nullptr) : boost::json::value(sc.parsed_template.format(n))},
      {"media_start_ms", media_start_ms(sc, n)},
      {"avail_ms", avail_ms(sc, n)},
      {"zone", kZones[static_cast<int>(z.zone)]},
      {"live_edge", z.edge},
      {"version", version},
      {"candidates", std::move(candidates)},
      {"pending", std::move(pending)},
      {"choice", std::move(choice)},
      {"first_served_ms", first_served},
      {"held_requests", waiting},
      {"markers", live_markers(event, sc, n)},
  };
  return json_response(200, body);
}

// ---------------------------------------------------------------------------
// Priority and overload (DESIGN §2.6)

namespace {

// A CMCD dictionary from a header or the CMCD query parameter; empty on any error
// (CMCD is a hint: a malformed one is ignored, never a 400).
sf::Dictionary cmcd_dictionary(std::string_view header) {
  if (header.empty()) return {};
  auto d = sf::parse_dictionary(header);
  return d ? std::move(*d) : sf::Dictionary{};
}

const sf::BareItem* cmcd_value(const sf::Dictionary& d, std::string_view key) {
  for (const auto& [k, m] : d) {
    if (k == key) {
      if (const auto* item = std::get_if<sf::Item>(&m)) return &item->value;
    }
  }
  return nullptr;
}

bool contains_token_ci(std::string_view field, std::string_view token) {
  for (size_t i = 0; i + token.size() <= field.size(); ++i) {
    bool eq = true;
    for (size_t k = 0; k < token.size() && eq; ++k) eq = (field[i + k] | 0x20) == token[k];
    if (eq) return true;
  }
  return false;
}

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

uint64_t path_hash(std::string_view target) {
  // Never 0: 0 marks an empty suppression slot.
  return std::hash<std::string_view>{}(path_of(target)) | 1;
}

}  // namespace

RequestClass Origin::request_class(const RequestHead& head, const StreamConfig& sc, int64_t n,
                                   int64_t edge) const {
  if (contains_token_ci(head.sec_purpose, "prefetch") || contains_token_ci(head.live_priority, "background")) {
    return RequestClass::background;
  }
  RequestClass c = n >= edge - sc.live_window_segments ? RequestClass::live : RequestClass::dvr;
  // CMCD refines it: a VOD-type session is not at the live edge; a player whose buffer
  // holds less than one segment is about to stall wherever it plays.
  std::string query_cmcd;
  if (const size_t q = head.target.find('?'); q != std::string_view::npos) {
    if (auto v = query_param(head.target.substr(q + 1), "CMCD")) query_cmcd = std::move(*v);
  }
  for (std::string_view field : {head.cmcd_session, head.cmcd_request, std::string_view(query_cmcd)}) {
    const sf::Dictionary d = cmcd_dictionary(field);
    if (const auto* st = cmcd_value(d, "st")) {
      if (const auto* tok = std::get_if<sf::Token>(st); tok && tok->value == "v") c = RequestClass::dvr;
    }
    if (const auto* bl = cmcd_value(d, "bl")) {
      if (const auto* ms = std::get_if<int64_t>(bl); ms && *ms < sc.segment_duration_ms) {
        return RequestClass::live;
      }
    }
  }
  return c;
}

bool Origin::overloaded(RequestClass c, int64_t now_ms) {
  if (c == RequestClass::live) return false;
  const OverloadConfig& o = config_.overload;
  if (o.store_reads_max > 0) {
    int64_t reads = 0;
    const size_t n = counters_view_size_.load(std::memory_order_acquire);
    for (size_t i = 0; i < n; ++i) {
      reads += counters_view_[i].load(std::memory_order_relaxed)->store_reads.load(std::memory_order_relaxed);
    }
    // background goes first, at half the limit; dvr at the limit.
    const int64_t limit = c == RequestClass::background ? o.store_reads_max / 2 : o.store_reads_max;
    if (reads > limit) return true;
  }
  const int64_t budget = c == RequestClass::dvr ? o.dvr_budget_rps : o.background_budget_rps;
  if (budget > 0) {
    Budget& b = budgets_[static_cast<size_t>(c)];
    const int64_t second = now_ms / 1000;
    int64_t window = b.window_s.load(std::memory_order_relaxed);
    if (window != second && b.window_s.compare_exchange_strong(window, second)) {
      b.used.store(0, std::memory_order_relaxed);
    }
    if (b.used.fetch_add(1, std::memory_order_relaxed) >= budget) return true;
  }
  return false;
}

Response Origin::shed_response() const {
  Response r = text_response(503, "overloaded: live-edge requests first, retry later",
                             config_.overload.shed_ttl_ms, "overload");
  r.set("Retry-After", std::to_string((config_.overload.shed_ttl_ms + 999) / 1000));
  std::string id;
  sf::append_bare_item(id, std::string(config_.server_id));
  r.set("CMSD-Dynamic", id + ";du");
  return r;
}

std::optional<Response> Origin::suppressed(OriginThread& t, std::string_view target, int64_t now_ms) {
  if (now_ms >= t.suppress_active_until_ms_ || t.suppressed_.empty()) return std::nullopt;
  const uint64_t h = path_hash(target);
  const auto& slot = t.suppressed_[h % OriginThread::kSuppressSlots];
  if (slot.path_hash != h || slot.until_ms <= now_ms) return std::nullopt;
  t.counters().suppressed.add();
  count(t, ZoneLabel::select, 503, slot.class_label);
  Response r = shed_response();
  // The cached answer is what a CDN would have cached: the remaining window.
  for (auto& hdr : r.headers) {
    if (hdr.name == "Cache-Control" || hdr.name == "CDN-Cache-Control") hdr.value.clear();
  }
  r.headers.erase(std::remove_if(r.headers.begin(), r.headers.end(), [](const Header& x) { return x.value.empty(); }),
                  r.headers.end());
  set_cache_ttl(r, slot.until_ms - now_ms);
  return r;
}

void Origin::remember_shed(OriginThread& t, std::string_view target, int64_t now_ms, RequestClass cls) {
  if (t.suppressed_.empty()) t.suppressed_.resize(OriginThread::kSuppressSlots);
  const uint64_t h = path_hash(target);
  const int64_t until = now_ms + config_.overload.shed_ttl_ms;
  t.suppressed_[h % OriginThread::kSuppressSlots] = {h, until, static_cast<uint8_t>(cls)};
  t.suppress_active_until_ms_ = std::max(t.suppress_active_until_ms_, until);
}

// ---------------------------------------------------------------------------
// Markers and invalidation (DESIGN §2.4, §2.5)

void Origin::replace_event_locked(const std::string& id, std::shared_ptr<EventState> next) {
  auto reg = std::make_shared<Registry>();
  {
    std::lock_guard lock(registry_mu_);
    *reg = *registry_;
  }
  reg->events[id] = std::move(next);
  publish_registry(std::move(reg));
}

int64_t Origin::bump_served_locked(EventState& event, int64_t from_ms, int64_t to_ms, int64_t& version) {
  const EventConfig& ec = *event.config;
  int64_t bumped = 0;
  for (size_t i = 0; i < ec.streams.size(); ++i) {
    const StreamConfig& sc = ec.streams[i];
    StreamState& ss = *event.streams[i];
    // Segments whose media interval [ms(n), ms(n) + d) overlaps [from_ms, to_ms).
    const int64_t first = floor_div(from_ms - sc.availability_start_ms, sc.segment_duration_ms) + sc.start_number;
    const int64_t last = to_ms == std::numeric_limits<int64_t>::max()
                             ? std::numeric_limits<int64_t>::max()
                             : floor_div(to_ms - 1 - sc.availability_start_ms, sc.segment_duration_ms) +
                                   sc.start_number;
    std::lock_guard lock(ss.mu);
    for (auto it = ss.segments.lower_bound(first); it != ss.segments.end() && it->first <= last; ++it) {
      if (it->second.first_served_ms < 0) continue;
      if (version == 0) version = event.runtime->version.fetch_add(1) + 1;
      it->second.version = version;
      ++bumped;
    }
  }
  return bumped;
}

Response Origin::admin_markers(OriginThread& t, const RequestHead& head, const Route& route,
                               std::string_view body) {
  const Registry& reg = registry(t);
  const auto eit = reg.events.find(route.event);
  if (eit == reg.events.end()) return text_response(404, "unknown event", 0, "unknown-event");
  auto marker_json = [](const Marker& m) {
    boost::json::object o{{"id", m.id}, {"kind", m.kind}, {"start_ms", m.start_ms}};
    o["duration_ms"] = m.duration_ms ? boost::json::value(*m.duration_ms) : boost::json::value(nullptr);
    o["data"] = m.data_b64;
    return o;
  };
  if (head.method == Method::get || head.method == Method::head) {
    if (!route.marker.empty()) {
      for (const auto& m : eit->second->markers) {
        if (m.id == route.marker) return json_response(200, marker_json(m));
      }
      return text_response(404, "unknown marker", 0);
    }
    boost::json::array list;
    for (const auto& m : eit->second->markers) list.push_back(marker_json(m));
    return json_response(200, list);
  }
  if (head.method == Method::del) {
    if (route.marker.empty()) {
      Response r = text_response(405, "DELETE needs a marker id in the path", 0);
      r.set("Allow", "GET, HEAD, POST");
      return r;
    }
    std::lock_guard ingest(ingest_mu_);
    const auto current = registry_->events.find(route.event);
    if (current == registry_->events.end()) return text_response(404, "unknown event", 0, "unknown-event");
    auto next = std::make_shared<EventState>(*current->second);
    auto it = std::find_if(next->markers.begin(), next->markers.end(),
                           [&](const Marker& m) { return m.id == route.marker; });
    if (it == next->markers.end()) return text_response(404, "unknown marker", 0);
    const Marker gone = *it;
    next->markers.erase(it);
    int64_t version = 0;
    bump_served_locked(*next, gone.start_ms, gone.end_ms(), version);
    replace_event_locked(std::string(route.event), std::move(next));
    shared_metrics_.count("liveorigin_marker_changes_total", "event=" + prom_label(route.event) + ",op=\"delete\"");
    return empty_response(204, 0);
  }
  if (head.method != Method::post || !route.marker.empty()) {
    Response r = text_response(405, "method not allowed", 0);
    r.set("Allow", route.marker.empty() ? "GET, HEAD, POST" : "GET, HEAD, DELETE");
    return r;
  }

  // Parse: {"id", "kind", "start_ms" | "start_segment", "duration_ms"?, "data"?}
  const EventConfig& ec = *eit->second->config;
  auto parsed = yaml::parse_document<Marker>([&] {
    const YAML::Node root = yaml::load(body, "request body");
    yaml::MapReader r(root, yaml::Location{"request body", ""});
    Marker m;
    m.id = r.string("id");
    if (m.id.empty() || m.id.size() > 256) yaml::fail(r.node("id"), r.child("id"), "expected 1 to 256 characters");
    m.kind = r.string("kind");
    if (m.kind.empty() || m.kind.size() > 64) {
      yaml::fail(r.node("kind"), r.child("kind"), "expected 1 to 64 characters");
    }
    for (const std::string* text : {&m.id, &m.kind}) {
      for (char c : *text) {
        if (c < 0x20 || c > 0x7e) yaml::fail(r.self(), r.where(), "id and kind must be printable ASCII");
      }
    }
    const bool by_ms = r.has("start_ms");
    const bool by_segment = r.has("start_segment");
    if (by_ms == by_segment) yaml::fail(root, r.where(), "give exactly one of start_ms and start_segment");
    if (by_ms) {
      m.start_ms = r.integer("start_ms", std::nullopt, 0, int64_t{1} << 50);
    } else {
      const int64_t n = r.integer("start_segment", std::nullopt, 0, int64_t{1} << 50);
      const StreamConfig& s0 = ec.streams[0];
      for (const auto& s : ec.streams) {
        if (s.segment_duration_ms != s0.segment_duration_ms || s.start_number != s0.start_number ||
            s.availability_start_ms != s0.availability_start_ms) {
          yaml::fail(r.node("start_segment"), r.child("start_segment"),
                     "the event's streams do not share one timeline; use start_ms");
        }
      }
      m.start_ms = media_start_ms(s0, n);
    }
    if (auto d = r.optional_integer("duration_ms", 1, int64_t{1} << 40)) m.duration_ms = *d;
    m.data_b64 = r.string("data", std::string());
    r.finish();
    return m;
  });
  if (!parsed) return text_response(400, parsed.error().message, 0);
  Marker m = std::move(*parsed);
  std::optional<std::string> data;
  if (!m.data_b64.empty()) {
    data = base64_decode(m.data_b64);
    if (!data) return text_response(400, "request body: data: expected base64 (RFC 4648, padded)", 0);
  }
  sf::Item item{sf::BareItem(m.id), {}};
  item.params.emplace_back("kind", sf::BareItem(m.kind));
  item.params.emplace_back("start", sf::BareItem(m.start_ms));
  if (m.duration_ms) item.params.emplace_back("dur", sf::BareItem(*m.duration_ms));
  if (data) item.params.emplace_back("data", sf::BareItem(sf::ByteSequence{*data}));
  m.item = sf::serialize_item(item);
  if (m.item.size() > kLiveMarkersBytesMax) return text_response(400, "marker larger than 4 KiB serialized", 0);

  std::lock_guard ingest(ingest_mu_);
  const auto current = registry_->events.find(route.event);
  if (current == registry_->events.end()) return text_response(404, "unknown event", 0, "unknown-event");
  auto next = std::make_shared<EventState>(*current->second);
  m.seq = ++next->runtime->marker_seq;
  int64_t bumped = 0;
  int64_t version = 0;
  bool replaced = false;
  for (auto& old : next->markers) {
    if (old.id != m.id) continue;
    bumped += bump_served_locked(*next, old.start_ms, old.end_ms(), version);
    old = m;
    replaced = true;
  }
  if (!replaced) {
    // Markers that ended before the oldest segment any stream still serves are dropped.
    const int64_t now = clock_.now_ms();
    int64_t oldest_ms = std::numeric_limits<int64_t>::max();
    for (const auto& s : ec.streams) oldest_ms = std::min(oldest_ms, media_start_ms(s, dvr_floor(ec, s, live_edge(s, now))));
    std::erase_if(next->markers, [&](const Marker& x) { return x.end_ms() <= oldest_ms; });
    if (static_cast<int64_t>(next->markers.size()) >= config_.markers_max) {
      return text_response(409, "the event already has markers_max (" + std::to_string(config_.markers_max) +
                                     ") markers in its DVR window", 0);
    }
    next->markers.push_back(m);
  }
  bumped += bump_served_locked(*next, m.start_ms, m.end_ms(), version);
  replace_event_locked(std::string(route.event), std::move(next));
  shared_metrics_.count("liveorigin_marker_changes_total",
                        "event=" + prom_label(route.event) + ",op=" + prom_label(replaced ? "replace" : "create"));
  boost::json::object out = marker_json(m);
  out["versions_bumped"] = bumped;
  return json_response(replaced ? 200 : 201, out);
}

Response Origin::admin_invalidate(OriginThread& t, std::string_view body) {
  struct Request {
    std::string event, stream, pipeline;
    std::optional<int64_t> from, to;
    std::optional<bool> exclude;
  };
  auto parsed = yaml::parse_document<Request>([&] {
    const YAML::Node root = yaml::load(body, "request body");
    yaml::MapReader r(root, yaml::Location{"request body", ""});
    Request q;
    q.event = r.string("event");
    q.stream = r.string("stream", std::string());
    q.pipeline = r.string("pipeline", std::string());
    q.from = r.optional_integer("from_segment", 0, int64_t{1} << 50);
    q.to = r.optional_integer("to_segment", 0, int64_t{1} << 50);
    if (r.has("exclude")) q.exclude = r.boolean("exclude", std::nullopt);
    if (q.from && q.to && *q.to < *q.from) yaml::fail(r.node("to_segment"), r.child("to_segment"), "is before from_segment");
    if (q.exclude && q.pipeline.empty()) yaml::fail(r.node("exclude"), r.child("exclude"), "exclude needs a pipeline");
    r.finish();
    return q;
  });
  if (!parsed) return text_response(400, parsed.error().message, 0);
  const Request& q = *parsed;

  std::lock_guard ingest(ingest_mu_);
  const auto current = registry_->events.find(q.event);
  if (current == registry_->events.end()) return text_response(404, "unknown event", 0, "unknown-event");
  auto next = std::make_shared<EventState>(*current->second);
  const EventConfig& ec = *next->config;
  if (!q.stream.empty() && next->find_stream(q.stream) < 0) {
    return text_response(404, "unknown stream", 0, "unknown-stream");
  }
  if (!q.pipeline.empty() && ec.pipeline_index(q.pipeline) < 0) {
    return text_response(400, "request body: pipeline: '" + q.pipeline + "' is not configured for this event", 0);
  }
  const int64_t from = q.from.value_or(std::numeric_limits<int64_t>::min());
  const int64_t to = q.to.value_or(std::numeric_limits<int64_t>::max());
  const int64_t version = next->runtime->version.fetch_add(1) + 1;

  if (q.exclude) {
    // Lifting removes the pipeline's exclusions that overlap the range; excluding adds one.
    std::erase_if(next->exclusions, [&](const Exclusion& x) {
      return x.pipeline == q.pipeline && (q.stream.empty() || x.stream == q.stream) && x.from <= to && from <= x.to;
    });
    if (*q.exclude) next->exclusions.push_back(Exclusion{q.pipeline, q.stream, from, to});
  }
  int64_t uncommitted = 0;
  // Lifting an exclusion changes no served choice: nothing to un-commit.
  for (size_t i = 0; i < ec.streams.size() && !(q.exclude && !*q.exclude); ++i) {
    if (!q.stream.empty() && ec.streams[i].id != q.stream) continue;
    StreamState& ss = *next->streams[i];
    std::lock_guard lock(ss.mu);
    for (auto it = ss.segments.lower_bound(from); it != ss.segments.end() && it->first <= to; ++it) {
      SegmentState& seg = it->second;
      if (seg.committed.empty() || (!q.pipeline.empty() && seg.committed != q.pipeline)) continue;
      seg.committed.clear();
      seg.committed_ms = -1;
      seg.reason = "invalidated";
      seg.version = version;
      ++uncommitted;
    }
  }
  replace_event_locked(q.event, next);
  {
    std::lock_guard feed(next->runtime->feed_mu);
    auto& f = next->runtime->feed;
    f.push_back(InvalidationEntry{version, q.stream, q.from, q.to, q.pipeline, q.exclude});
    while (static_cast<int64_t>(f.size()) > config_.invalidations_max) {
      next->runtime->feed_dropped_through = f.front().version;
      f.pop_front();
    }
  }
  shared_metrics_.count("liveorigin_invalidations_total", "event=" + prom_label(q.event));
  if (log_) {
    log_("invalidation v" + std::to_string(version) + " of " + q.event + (q.stream.empty() ? "" : "/" + q.stream) +
         ": " + std::to_string(uncommitted) + " choices un-committed" +
         (q.exclude ? (*q.exclude ? ", pipeline " + q.pipeline + " excluded" : ", pipeline " + q.pipeline + " readmitted")
                    : ""));
  }
  return json_response(200, boost::json::object{{"version", version}, {"uncommitted", uncommitted}});
}

Response Origin::invalidations_feed(OriginThread& t, const RequestHead& head, const Route& route) {
  const Registry& reg = registry(t);
  const auto eit = reg.events.find(route.event);
  if (eit == reg.events.end()) return text_response(404, "unknown event", kUnknownTtlMs, "unknown-event");
  int64_t since = 0;
  if (auto v = query_param(route.target.query, "since")) {
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), since);
    if (ec != std::errc() || p != v->data() + v->size() || since < 0) {
      return text_response(400, "since must be a non-negative integer", 0);
    }
  }
  boost::json::array out;
  int64_t latest = 0;
  bool truncated = false;
  {
    EventRuntime& rt = *eit->second->runtime;
    std::lock_guard feed(rt.feed_mu);
    if (!rt.feed.empty()) latest = rt.feed.back().version;
    truncated = since < rt.feed_dropped_through;
    for (const auto& e : rt.feed) {
      if (e.version <= since) continue;
      boost::json::object o{{"version", e.version}};
      o["stream"] = e.stream.empty() ? boost::json::value(nullptr) : boost::json::value(e.stream);
      o["from_segment"] = e.from ? boost::json::value(*e.from) : boost::json::value(nullptr);
      o["to_segment"] = e.to ? boost::json::value(*e.to) : boost::json::value(nullptr);
      o["pipeline"] = e.pipeline.empty() ? boost::json::value(nullptr) : boost::json::value(e.pipeline);
      o["exclude"] = e.exclude ? boost::json::value(*e.exclude) : boost::json::value(nullptr);
      out.push_back(std::move(o));
    }
  }
  // Short-lived: CDN nodes poll it; revalidation with If-None-Match is cheap.
  const std::string etag = "\"inv-" + std::to_string(latest) + "-" + std::to_string(since) + "\"";
  Response r;
  if (!head.if_none_match.empty() && if_none_match_hits(head.if_none_match, etag)) {
    r.status = 304;
    r.send_body = false;
    set_cache_ttl(r, 1000);
  } else {
    r = json_response(200, out, 1000);
  }
  r.set("ETag", etag);
  // The feed keeps invalidations_max entries: an older `since` may have missed some,
  // and the CDN should purge the whole event.
  if (truncated) r.set("Live-Feed-Truncated", "?1");
  return r;
}

// ---------------------------------------------------------------------------
// Reload (SIGHUP)

std::string Origin::reload(OriginThread& t, const OriginConfig& next) {
  std::lock_guard ingest(ingest_mu_);
  auto reg = std::make_shared<Registry>();
  {
    std::lock_guard lock(registry_mu_);
    *reg = *registry_;
  }
  int created = 0, replaced = 0, deleted = 0;
  std::set<std::string> in_file;
  for (const auto& e : next.events) {
    in_file.insert(e.id);
    auto it = reg->events.find(e.id);
    const EventState* previous = it == reg->events.end() ? nullptr : it->second.get();
    auto state = make_event_state(e, previous);
    state->from_file = true;
    if (previous) {
      for (size_t i = 0; i < previous->streams.size(); ++i) {
        if (state->find_stream(previous->config->streams[i].id) < 0) drop_stream_locked(t, *previous->streams[i]);
      }
      ++replaced;
    } else {
      ++created;
    }
    reg->events[e.id] = std::move(state);
  }
  for (auto it = reg->events.begin(); it != reg->events.end();) {
    if (it->second->from_file && !in_file.contains(it->first)) {
      for (const auto& s : it->second->streams) drop_stream_locked(t, *s);
      it = reg->events.erase(it);
      ++deleted;
    } else {
      ++it;
    }
  }
  reg->auth = std::make_shared<const AuthConfig>(next.auth);
  publish_registry(std::move(reg));

  std::string summary = "config reloaded: " + std::to_string(created) + " events created, " +
                        std::to_string(replaced) + " replaced, " + std::to_string(deleted) + " deleted; tokens replaced";
  std::vector<std::string> restart;
  auto check = [&](const char* name, const auto& a, const auto& b) {
    if (a != b) restart.push_back(name);
  };
  const OriginConfig& c = config_;
  check("listen", next.listen, c.listen);
  check("ingest_listen", next.ingest_listen, c.ingest_listen);
  check("threads", next.threads, c.threads);
  check("server_id", next.server_id, c.server_id);
  check("body_limit_bytes", next.body_limit_bytes, c.body_limit_bytes);
  check("hold_requests_max", next.hold_requests_max, c.hold_requests_max);
  check("drain_ms_max", next.drain_ms_max, c.drain_ms_max);
  check("header_timeout_ms", next.header_timeout_ms, c.header_timeout_ms);
  check("body_timeout_ms", next.body_timeout_ms, c.body_timeout_ms);
  check("idle_timeout_ms", next.idle_timeout_ms, c.idle_timeout_ms);
  check("markers_max", next.markers_max, c.markers_max);
  check("invalidations_max", next.invalidations_max, c.invalidations_max);
  check("store.type", next.store.type, c.store.type);
  check("store.budget_bytes", next.store.budget_bytes, c.store.budget_bytes);
  check("overload.store_reads_max", next.overload.store_reads_max, c.overload.store_reads_max);
  check("overload.dvr_budget_rps", next.overload.dvr_budget_rps, c.overload.dvr_budget_rps);
  check("overload.background_budget_rps", next.overload.background_budget_rps, c.overload.background_budget_rps);
  check("overload.shed_ttl_ms", next.overload.shed_ttl_ms, c.overload.shed_ttl_ms);
  if (!restart.empty()) {
    summary += "; changed but applied only at restart:";
    for (const auto& r : restart) summary += " " + r;
  }
  return summary;
}

Response Origin::metrics_text(OriginThread& t) {
  std::vector<std::shared_ptr<ThreadCounters>> threads;
  {
    std::lock_guard lock(threads_mu_);
    threads = thread_counters_;
  }
  constexpr size_t kZonesCount = static_cast<size_t>(ZoneLabel::count_);
  auto status_label = [](size_t s) {
    return s == kStatusOther ? std::string("other") : std::to_string(kStatusCodes[s]);
  };
  std::string out;
  out += "# HELP liveorigin_requests_total Requests answered (not ingest PUTs), by class, zone and status.\n";
  out += "# TYPE liveorigin_requests_total counter\n";
  for (size_t c = 0; c < kClassLabels; ++c) {
    for (size_t z = 0; z < kZonesCount; ++z) {
      for (size_t s = 0; s <= kStatusOther; ++s) {
        uint64_t v = 0;
        for (const auto& tc : threads) v += tc->requests[c][z][s].get();
        if (v == 0) continue;
        out += "liveorigin_requests_total{class=\"";
        out += class_label(c);
        out += "\",zone=\"";
        out += to_string(static_cast<ZoneLabel>(z));
        out += "\",status=\"" + status_label(s) + "\"} " + std::to_string(v) + "\n";
      }
    }
  }
  out += "# HELP liveorigin_shed_total Requests answered 503 because the origin was overloaded, by class.\n";
  out += "# TYPE liveorigin_shed_total counter\n";
  for (size_t c = 0; c < kRequestClasses; ++c) {
    uint64_t v = 0;
    for (const auto& tc : threads) v += tc->shed[c].get();
    out += std::string("liveorigin_shed_total{class=\"") + class_label(c) + "\"} " + std::to_string(v) + "\n";
  }
  auto histogram = [&](const char* name, const char* help, Histogram ThreadCounters::*field) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " histogram\n";
    uint64_t cumulative = 0;
    uint64_t sum = 0;
    for (size_t b = 0; b <= Histogram::kBoundsMs.size(); ++b) {
      for (const auto& tc : threads) cumulative += ((*tc).*field).bucket(b);
      const std::string le = b == Histogram::kBoundsMs.size() ? "+Inf" : std::to_string(Histogram::kBoundsMs[b]);
      out += std::string(name) + "_bucket{le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
    }
    for (const auto& tc : threads) sum += ((*tc).*field).sum_ms();
    out += std::string(name) + "_sum " + std::to_string(sum) + "\n";
    out += std::string(name) + "_count " + std::to_string(cumulative) + "\n";
  };
  histogram("liveorigin_hold_wake_ms", "Milliseconds from the PUT that published a segment to the held answer.",
            &ThreadCounters::hold_wake_ms);
  histogram("liveorigin_put_ms", "Milliseconds from a PUT's head to its acknowledgement (body transfer included).",
            &ThreadCounters::put_ms);
  {
    int64_t reads = 0;
    for (const auto& tc : threads) reads += tc->store_reads.load(std::memory_order_relaxed);
    out += "# HELP liveorigin_store_reads_in_flight Store reads started and not completed.\n";
    out += "# TYPE liveorigin_store_reads_in_flight gauge\nliveorigin_store_reads_in_flight " +
           std::to_string(reads) + "\n";
  }
  out += "# HELP liveorigin_puts_total Ingest PUTs, by answer.\n";
  out += "# TYPE liveorigin_puts_total counter\n";
  for (size_t s = 0; s <= kStatusOther; ++s) {
    uint64_t v = 0;
    for (const auto& c : threads) v += c->puts[s].get();
    if (v != 0) out += "liveorigin_puts_total{status=\"" + status_label(s) + "\"} " + std::to_string(v) + "\n";
  }
  auto sum = [&](Counter ThreadCounters::*field) {
    uint64_t v = 0;
    for (const auto& c : threads) v += ((*c).*field).get();
    return std::to_string(v);
  };
  auto counter = [&](const char* name, const char* help, Counter ThreadCounters::*field) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" + name + " " +
           sum(field) + "\n";
  };
  counter("liveorigin_defective_served_total", "Responses that served a defective candidate.",
          &ThreadCounters::defective_served);
  counter("liveorigin_served_bytes_total", "Body bytes of object responses.", &ThreadCounters::bytes_served);
  counter("liveorigin_ingested_bytes_total", "Body bytes of accepted PUTs.", &ThreadCounters::bytes_ingested);
  counter("liveorigin_holds_total", "Requests held until their segment was published.",
          &ThreadCounters::holds);
  counter("liveorigin_hold_timeouts_total", "Held requests answered not-yet after hold_ms_max.",
          &ThreadCounters::hold_timeouts);
  counter("liveorigin_holds_refused_total", "Requests not held because hold_requests_max were waiting.",
          &ThreadCounters::holds_refused);
  counter("liveorigin_suppressed_total", "Repeats of shed requests answered from the suppression cache.",
          &ThreadCounters::suppressed);
  counter("liveorigin_store_reads_total", "Object reads from the store (every one serves a response body).",
          &ThreadCounters::store_reads_done);
  {
    const Registry& reg = registry(t);
    out += "# HELP liveorigin_markers Markers held per event.\n# TYPE liveorigin_markers gauge\n";
    for (const auto& [id, e] : reg.events) {
      out += "liveorigin_markers{event=" + prom_label(id) + "} " + std::to_string(e->markers.size()) + "\n";
    }
    out += "# HELP liveorigin_event_version The event's newest version (ETag, Live-Version).\n";
    out += "# TYPE liveorigin_event_version gauge\n";
    for (const auto& [id, e] : reg.events) {
      out += "liveorigin_event_version{event=" + prom_label(id) + "} " + std::to_string(e->runtime->version.load()) +
             "\n";
    }
  }
  out += "# HELP liveorigin_held_requests Requests waiting now.\n# TYPE liveorigin_held_requests gauge\n";
  out += "liveorigin_held_requests " + std::to_string(held_requests()) + "\n";
  out += "# HELP liveorigin_store_bytes Bytes of objects held in the store.\n# TYPE liveorigin_store_bytes gauge\n";
  out += "liveorigin_store_bytes " + std::to_string(stored_bytes()) + "\n";
  out += "# TYPE liveorigin_store_budget_bytes gauge\nliveorigin_store_budget_bytes " +
         std::to_string(config_.store.budget_bytes) + "\n";
  out += "# TYPE liveorigin_draining gauge\nliveorigin_draining " + std::string(draining() ? "1" : "0") + "\n";
  shared_metrics_.append_text(out);
  Response r;
  r.set_text(std::move(out), "text/plain; version=0.0.4; charset=utf-8");
  set_cache_ttl(r, 0);
  return r;
}

}  // namespace liveorigin
