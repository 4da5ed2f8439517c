#include "sim/actors.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <boost/json.hpp>

#include "origin/core/base64.h"
#include "origin/core/digest.h"
#include "origin/core/timing.h"

namespace liveorigin::sim {

namespace {

constexpr std::string_view kTagPrefix = "LIVEORIGIN-SIM ";
constexpr size_t kCacheEntriesMax = 200'000;  // per node; oldest inserted go first
constexpr int kPutAttemptsMax = 4;
constexpr int kViewerAttemptsMax = 8;
constexpr int64_t kCompactBodyBytes = 1024;

// What a segment of `stream` weighs as packaged: its bitrate over its duration.
double segment_bytes(const StreamSpec& stream) {
  return static_cast<double>(stream.bitrate_kbps) * 1000.0 / 8.0 * static_cast<double>(stream.segment_duration_ms) /
         1000.0;
}

std::string segment_target(const Scenario& s, const std::string& stream, int64_t n) {
  return "/live/" + s.event.id + "/" + stream + "/" + std::to_string(n) + ".m4s";
}

}  // namespace

Target Targets::segment(const Scenario& scenario, size_t stream_index, int64_t n) {
  if (segments_.size() <= stream_index) segments_.resize(scenario.event.streams.size());
  auto [it, fresh] = segments_[stream_index].try_emplace(n);
  if (fresh) it->second = intern(segment_target(scenario, scenario.event.streams[stream_index].id, n));
  return it->second;
}

namespace {

// Filler for segment bodies: generated once, sliced per segment.
const std::string& filler() {
  static const std::string bytes = [] {
    std::string b(8 << 20, '\0');
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < b.size(); i += 8) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      for (size_t k = 0; k < 8 && i + k < b.size(); ++k) b[i + k] = static_cast<char>(x >> (8 * k));
    }
    return b;
  }();
  return bytes;
}

std::string join_defects(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += ", ";
    out += p;
  }
  return out;
}

int64_t header_int(const LinkResponse& r, std::string_view name, int64_t fallback) {
  const std::string v = r.header(name);
  int64_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  return ec == std::errc() && p == v.data() + v.size() && !v.empty() ? out : fallback;
}

// ht=<ms> from CMSD-Static, -1 if absent.
int64_t held_ms(const LinkResponse& r) {
  const std::string v = r.header("CMSD-Static");
  const size_t at = v.find("ht=");
  if (at == std::string::npos) return -1;
  int64_t out = 0;
  const char* b = v.data() + at + 3;
  auto [p, ec] = std::from_chars(b, v.data() + v.size(), out);
  return ec == std::errc() ? out : -1;
}

}  // namespace

// ---------------------------------------------------------------------------

std::string segment_tag(std::string_view stream, int64_t number, std::string_view pipeline, int64_t size) {
  std::string t(kTagPrefix);
  t += "stream=";
  t += stream;
  t += " n=" + std::to_string(number) + " pipeline=";
  t += pipeline;
  if (size >= 0) t += " size=" + std::to_string(size);
  t += '\n';
  return t;
}

std::optional<SegmentTag> parse_segment_tag(std::string_view body) {
  if (!body.starts_with(kTagPrefix)) return std::nullopt;
  const size_t eol = body.find('\n');
  if (eol == std::string_view::npos) return std::nullopt;
  std::string_view line = body.substr(kTagPrefix.size(), eol - kTagPrefix.size());
  SegmentTag tag;
  bool have_n = false;
  while (!line.empty()) {
    const size_t sp = line.find(' ');
    const std::string_view kv = line.substr(0, sp);
    line = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
    const size_t eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view k = kv.substr(0, eq);
    const std::string_view v = kv.substr(eq + 1);
    if (k == "stream") tag.stream = v;
    if (k == "pipeline") tag.pipeline = v;
    if (k == "n") have_n = std::from_chars(v.data(), v.data() + v.size(), tag.number).ec == std::errc();
    if (k == "size" && std::from_chars(v.data(), v.data() + v.size(), tag.size).ec != std::errc()) tag.size = -1;
  }
  if (!have_n || tag.pipeline.empty()) return std::nullopt;
  return tag;
}

void SentRegistry::sent(const std::string& stream, int64_t n, const std::string& pipeline,
                        const std::string& defects) {
  defects_[{stream, n, pipeline}] = defects;
}

std::string SentRegistry::defects(const std::string& stream, int64_t n, const std::string& pipeline) const {
  auto it = defects_.find({stream, n, pipeline});
  return it == defects_.end() ? std::string() : it->second;
}

StreamConfig stream_timing(const StreamSpec& s) {
  StreamConfig c;
  c.id = s.id;
  c.segment_duration_ms = s.segment_duration_ms;
  c.hold_window_ms = s.segment_duration_ms;
  c.hold_ms_max = 2 * s.segment_duration_ms;
  c.pipeline_liveness_ms = 3 * s.segment_duration_ms;
  c.content_type = s.content_type;
  auto t = SegmentTemplate::parse(c.segment_template, c.id);
  c.parsed_template = *t;
  return c;
}

// ---------------------------------------------------------------------------
// Packager

struct Packager::Plan {
  SharedBytes bytes;
  int64_t size = 0;    // the segment's size as packaged; `bytes` may be shorter (compact bodies)
  std::string defects;
  std::string digest;  // Repr-Digest of `bytes`
  bool corrupt_transport = false;
  int64_t upload_ms = 0;
  bool backfill = false;  // history published at the start, not a live segment
};

Packager::Packager(World& world, OriginLink& origin, const PipelineSpec& spec)
    : w_(world), origin_(origin), spec_(spec) {}

Rng Packager::segment_rng(size_t i, int64_t n, std::string_view what) const {
  const int64_t k = n - live_edge(w_.timing(i), w_.run_start_ms);
  return Rng(w_.scenario.seed, "packager/" + spec_.id + "/" + w_.scenario.event.streams[i].id + "/" +
                                   std::to_string(k) + "/" + std::string(what));
}

const PipelineFault* Packager::active_fault(PipelineFault::Kind kind, int64_t at_ms) const {
  const int64_t t = at_ms - w_.run_start_ms;
  for (const auto& f : spec_.faults) {
    if (f.kind == kind && t >= f.at_s * 1000 && t < (f.at_s + f.duration_s) * 1000) return &f;
  }
  return nullptr;
}

void Packager::start() {
  const auto& streams = w_.scenario.event.streams;
  for (size_t i = 0; i < streams.size(); ++i) {
    // The init segment first (identical across pipelines, as epoch-locked encoders make it).
    LinkRequest init;
    init.method = "PUT";
    init.target = "/live/" + w_.scenario.event.id + "/" + streams[i].id + "/init.mp4";
    init.headers = {{"Authorization", "Bearer " + w_.scenario.origin.ingest_token}, {"Live-Pipeline", spec_.id}};
    init.body = std::make_shared<const std::string>("init segment of " + streams[i].id);
    if (!active_fault(PipelineFault::Kind::outage, w_.scheduler.now_ms())) {
      origin_.send(std::move(init), [](LinkResponse) {});
    }
    const StreamConfig& sc = w_.timing(i);
    const int64_t edge = live_edge(sc, w_.scheduler.now_ms());
    // History for DVR viewers: the first pipeline publishes backfill_s of clean segments.
    if (w_.scenario.event.backfill_s > 0 && !w_.scenario.pipelines.empty() &&
        w_.scenario.pipelines.front().id == spec_.id) {
      const int64_t first = live_edge(sc, w_.run_start_ms - w_.scenario.event.backfill_s * 1000) + 1;
      for (int64_t n = first; n <= edge; ++n) backfill(i, n);
    }
    schedule(i, edge + 1);
  }
}

void Packager::backfill(size_t i, int64_t n) {
  const StreamSpec& stream = w_.scenario.event.streams[i];
  auto plan = std::make_shared<Plan>();
  // Small: history only has to exist; its tag carries the size it stands for.
  plan->size = static_cast<int64_t>(segment_bytes(stream));
  plan->backfill = true;
  std::string body = segment_tag(stream.id, n, spec_.id, plan->size);
  body.append(filler(), 0, kCompactBodyBytes);
  BodyHasher hasher;
  hasher.update(body.data(), body.size());
  const Sha256 sha = hasher.finish().sha256;
  plan->digest = "sha-256=:" + base64_encode(std::string_view(reinterpret_cast<const char*>(sha.data()), sha.size())) + ":";
  plan->bytes = std::make_shared<const std::string>(std::move(body));
  w_.sent.sent(stream.id, n, spec_.id, "");
  send_put(i, n, plan, 1);
}

void Packager::schedule(size_t i, int64_t n) {
  if (stopped_) return;
  const StreamConfig& sc = w_.timing(i);
  const int64_t latency = std::max<int64_t>(0, segment_rng(i, n, "latency").sample_ms(spec_.publish_latency_ms));
  // Every segment due before the end is published, even if its PUT lands after it.
  if (avail_ms(sc, n) >= w_.run_end_ms) return;
  const int64_t at = avail_ms(sc, n) + latency;
  w_.scheduler.run_at(at, [this, i, n] { publish(i, n); });
}

void Packager::publish(size_t i, int64_t n) {
  if (stopped_) return;
  schedule(i, n + 1);  // the next segment's fate does not depend on this one's
  const int64_t now = w_.scheduler.now_ms();
  if (active_fault(PipelineFault::Kind::outage, now)) return;

  DefectRates rates = spec_.defects;
  if (const PipelineFault* burst = active_fault(PipelineFault::Kind::defect_burst, now)) {
    const std::string& d = burst->defect;
    double* target = d == "missing_samples"        ? &rates.missing_samples
                     : d == "missing_frames"       ? &rates.missing_frames
                     : d == "short_segment"        ? &rates.short_segment
                     : d == "discontinuity"        ? &rates.discontinuity
                     : d == "corrupt"              ? &rates.corrupt
                     : d == "transport_corruption" ? &rates.transport_corruption
                     : d == "missing_segment"      ? &rates.missing_segment
                                                   : nullptr;
    if (target) *target = std::max(*target, burst->probability);
  }
  // Draw every kind each time so a rate change in one kind does not shift the others.
  Rng rng = segment_rng(i, n, "defects");
  const bool missing = rng.chance(rates.missing_segment);
  const bool late = rng.chance(rates.late_segment);
  std::vector<std::string> defects;
  const bool samples = rng.chance(rates.missing_samples);
  const int64_t samples_n = rng.uniform_int(1, 2000);
  const bool frames = rng.chance(rates.missing_frames);
  const int64_t frames_n = rng.uniform_int(1, 25);
  const bool short_seg = rng.chance(rates.short_segment);
  const int64_t short_ms = rng.uniform_int(40, 500);
  const bool discontinuity = rng.chance(rates.discontinuity);
  const bool corrupt = rng.chance(rates.corrupt);
  const bool transport = rng.chance(rates.transport_corruption);
  const double size_jitter = 0.95 + 0.1 * rng.uniform01();
  if (missing) return;
  if (samples) defects.push_back("missing-samples=" + std::to_string(samples_n));
  if (frames) defects.push_back("missing-frames=" + std::to_string(frames_n));
  if (short_seg) defects.push_back("short-ms=" + std::to_string(short_ms));
  if (discontinuity) defects.push_back("discontinuity");
  if (corrupt) defects.push_back("corrupt");

  const StreamSpec& stream = w_.scenario.event.streams[i];
  auto plan = std::make_shared<Plan>();
  plan->defects = join_defects(defects);
  plan->corrupt_transport = transport;
  if (const PipelineFault* slow = active_fault(PipelineFault::Kind::slow_upload, now)) plan->upload_ms = slow->upload_ms;
  const int64_t size = std::max<int64_t>(256, static_cast<int64_t>(segment_bytes(stream) * size_jitter));
  plan->size = size;
  std::string body = segment_tag(stream.id, n, spec_.id, size);
  const std::string& f = filler();
  // Compact bodies (virtual time): the origin core stores and serves a short stand-in
  // whose tag says how large the segment is, so a 2-hour event fits in memory.
  const int64_t body_size = w_.compact_bodies ? std::min<int64_t>(size, kCompactBodyBytes) : size;
  const size_t want = static_cast<size_t>(std::min<int64_t>(body_size, static_cast<int64_t>(f.size()) - 1));
  const size_t offset = static_cast<size_t>((n * 7919 + static_cast<int64_t>(i) * 104729) % 4096);
  if (body.size() < want) body.append(f, offset, std::min(want - body.size(), f.size() - offset));
  BodyHasher hasher;
  hasher.update(body.data(), body.size());
  const Sha256 sha = hasher.finish().sha256;
  plan->digest = "sha-256=:" + base64_encode(std::string_view(reinterpret_cast<const char*>(sha.data()), sha.size())) + ":";
  plan->bytes = std::make_shared<const std::string>(std::move(body));
  w_.sent.sent(stream.id, n, spec_.id, plan->defects);

  int64_t delay = 0;
  if (late) delay += rates.late_segment_ms;
  if (const PipelineFault* lf = active_fault(PipelineFault::Kind::late, now)) delay += lf->late_ms;
  if (delay > 0) {
    w_.scheduler.run_after(delay, [this, i, n, plan] { send_put(i, n, plan, 1); });
  } else {
    send_put(i, n, plan, 1);
  }
}

void Packager::send_put(size_t i, int64_t n, std::shared_ptr<Plan> plan, int attempt) {
  if (stopped_) return;
  const StreamSpec& stream = w_.scenario.event.streams[i];
  LinkRequest r;
  r.method = "PUT";
  r.target = segment_target(w_.scenario, stream.id, n);
  r.headers = {{"Authorization", "Bearer " + w_.scenario.origin.ingest_token},
               {"Live-Pipeline", spec_.id},
               {"Repr-Digest", plan->digest}};
  if (!plan->defects.empty()) r.headers.emplace_back("Segment-Defects", plan->defects);
  const bool damaged = plan->corrupt_transport && attempt == 1;
  if (damaged) {
    std::string copy = *plan->bytes;
    copy[copy.size() / 2] = static_cast<char>(copy[copy.size() / 2] ^ 0x5a);  // a flipped bit in transit
    r.body = std::make_shared<const std::string>(std::move(copy));
  } else {
    r.body = plan->bytes;
  }
  r.body_delay_ms = plan->upload_ms;
  const int64_t sent = w_.scheduler.now_ms();
  ++puts_;
  origin_.send(std::move(r), [this, i, n, plan, attempt, damaged, sent](LinkResponse resp) {
    const int64_t now = w_.scheduler.now_ms();
    const StreamSpec& s = w_.scenario.event.streams[i];
    PutRecord rec;
    rec.stream = s.id;
    rec.number = n;
    rec.pipeline = spec_.id;
    rec.attempt = attempt;
    rec.sent_ms = sent;
    rec.answered_ms = resp.status ? now : 0;
    rec.status = resp.status;
    rec.defects = plan->defects;
    rec.transport_corrupted = damaged;
    rec.bytes = plan->size;
    w_.recorder.put(rec);
    // The history's PUTs all leave at the start, thousands at once, and queue at ingest:
    // counted apart, so `put` (and its gates) is the latency of publishing live segments.
    w_.recorder.latency({plan->backfill ? "backfill_put" : "put", "", "origin", now - sent, 1});
    if (attempt >= kPutAttemptsMax || stopped_) return;
    if (resp.status == 400 && damaged) {
      send_put(i, n, plan, attempt + 1);  // the origin refused damaged bytes: send them again
    } else if (resp.status == 0 || resp.status >= 500) {
      w_.scheduler.run_after(250 * attempt, [this, i, n, plan, attempt] { send_put(i, n, plan, attempt + 1); });
    }
  });
}

// ---------------------------------------------------------------------------
// CDN node

namespace {
// One answered request at `tier`, standing for `weight` requests (viewers, alike nodes).
RequestRecord request_record(int64_t at_ms, const std::string& tier, const CdnRequest& request,
                             const CdnResult& result, int64_t weight) {
  RequestRecord rec;
  rec.at_ms = at_ms;
  rec.tier = tier;
  rec.request_class = request.request_class.str();
  rec.status = result.status;
  rec.weight = weight;
  rec.bytes = result.bytes * weight;
  rec.cache_hit = result.cache_hit;
  rec.collapsed = result.collapsed;
  rec.filtered = result.filtered;
  rec.held = result.held;
  return rec;
}
}  // namespace

CdnNode::CdnNode(World& world, std::string name, std::string tier, CdnNode* parent, std::vector<OriginLink*> origins,
                 int64_t multiplicity)
    : w_(world), name_(std::move(name)), tier_(std::move(tier)), parent_(parent), origins_(std::move(origins)),
      multiplicity_(multiplicity), features_(world.scenario.cdn.features) {}

void CdnNode::start() {
  if (features_.filtering || features_.hold) poll_timeline();
  if (features_.invalidation_feed) poll_feed();
}

int64_t CdnNode::live_edge(const std::string& stream) const {
  auto it = timeline_.find(w_.targets.find(stream));
  if (it == timeline_.end() || !it->second.known) return -1;
  return liveorigin::live_edge(it->second.stream, w_.scheduler.now_ms());
}

void CdnNode::poll_timeline() {
  if (stopped_) return;
  LinkRequest r;
  r.target = "/live/" + w_.scenario.event.id + "/_timeline";
  const int64_t sent = w_.scheduler.now_ms();
  w_.origin.send(std::move(r), [this, sent](LinkResponse resp) {
    w_.recorder.request({w_.scheduler.now_ms(), "origin", "other", resp.status, 1,
                         resp.body ? static_cast<int64_t>(resp.body->size()) : 0});
    w_.recorder.latency({"origin_get", "other", "origin", w_.scheduler.now_ms() - sent, 1});
    if (resp.status == 200 && resp.body) {
      boost::system::error_code ec;
      const auto doc = boost::json::parse(*resp.body, ec);
      if (!ec && doc.is_object() && doc.as_object().contains("streams")) {
        for (const auto& sv : doc.at("streams").as_array()) {
          const auto& o = sv.as_object();
          Timeline t;
          t.stream.id = std::string(o.at("id").as_string());
          t.stream.segment_duration_ms = o.at("segment_duration_ms").to_number<int64_t>();
          t.stream.start_number = o.at("start_number").to_number<int64_t>();
          t.stream.availability_start_ms = o.at("availability_start_ms").to_number<int64_t>();
          t.stream.publish_latency_ms = o.at("publish_latency_ms").to_number<int64_t>();
          t.stream.hold_window_ms = o.at("hold_window_ms").to_number<int64_t>();
          t.stream.lookahead_segments = o.at("lookahead_segments").to_number<int64_t>();
          t.dvr_segments = o.at("dvr_segments").to_number<int64_t>();
          auto tmpl = SegmentTemplate::parse(std::string(o.at("segment_template").as_string()), t.stream.id);
          if (!tmpl) continue;
          t.stream.parsed_template = *tmpl;
          t.known = true;
          timeline_[w_.targets.intern(t.stream.id)] = std::move(t);
        }
      }
    }
    // An origin without a timeline (any DIY origin): no filtering, no edge holds.
    if (!stopped_) w_.scheduler.run_after(features_.timeline_interval_ms, [this] { poll_timeline(); });
  });
}

void CdnNode::poll_feed() {
  if (stopped_) return;
  LinkRequest r;
  r.target = "/live/" + w_.scenario.event.id + "/_invalidations?since=" + std::to_string(feed_since_);
  w_.origin.send(std::move(r), [this](LinkResponse resp) {
    w_.recorder.request({w_.scheduler.now_ms(), "origin", "other", resp.status, 1,
                         resp.body ? static_cast<int64_t>(resp.body->size()) : 0});
    if (resp.status == 200 && !resp.header("Live-Feed-Truncated").empty()) {
      // Entries we needed were dropped from the feed: purge the whole event.
      purge("", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max());
    }
    if (resp.status == 200 && resp.body) {
      boost::system::error_code ec;
      const auto doc = boost::json::parse(*resp.body, ec);
      if (!ec && doc.is_array()) {
        for (const auto& e : doc.as_array()) {
          const auto& o = e.as_object();
          feed_since_ = std::max(feed_since_, o.at("version").to_number<int64_t>());
          const std::string stream = o.at("stream").is_string() ? std::string(o.at("stream").as_string()) : "";
          const int64_t from = o.at("from_segment").is_null() ? std::numeric_limits<int64_t>::min()
                                                              : o.at("from_segment").to_number<int64_t>();
          const int64_t to = o.at("to_segment").is_null() ? std::numeric_limits<int64_t>::max()
                                                          : o.at("to_segment").to_number<int64_t>();
          purge(stream, from, to);
        }
      }
    }
    if (!stopped_) w_.scheduler.run_after(features_.feed_interval_ms, [this] { poll_feed(); });
  });
}

void CdnNode::purge(const std::string& stream, int64_t from, int64_t to) {
  for (auto it = cache_.begin(); it != cache_.end();) {
    const Entry& e = it->second;
    if (e.number >= 0 && (stream.empty() || e.stream.str() == stream) && e.number >= from && e.number <= to) {
      it = cache_.erase(it);
    } else {
      ++it;
    }
  }
}

std::optional<CdnResult> CdnNode::filter(const CdnRequest& request) {
  if (!features_.filtering || !request.number) return std::nullopt;
  auto it = timeline_.find(request.stream);
  if (it == timeline_.end() || !it->second.known) return std::nullopt;
  const StreamConfig& sc = it->second.stream;
  const int64_t now = w_.scheduler.now_ms();
  const int64_t n = *request.number;
  const int64_t edge = liveorigin::live_edge(sc, now);
  const int64_t floor = std::max(edge - it->second.dvr_segments, sc.start_number);
  CdnResult r;
  r.filtered = true;
  if (n < floor) {
    r.status = 410;
    r.reject = w_.targets.intern("expired");
    r.ttl_ms = kExpiredTtlMs;
    return r;
  }
  if (n <= edge) return std::nullopt;
  const int64_t until = avail_ms(sc, n) - now;
  if (until <= sc.hold_window_ms) return std::nullopt;  // the hold zone: the origin (or we) hold it
  r.status = 404;
  r.ttl_ms = until - sc.hold_window_ms;
  if (n > edge + sc.lookahead_segments) {
    r.reject = w_.targets.intern("too-early");
    r.ttl_ms = std::min<int64_t>(r.ttl_ms, kTooEarlyTtlMsMax);
  } else {
    r.reject = w_.targets.intern("not-yet");
  }
  return r;
}

void CdnNode::get(const CdnRequest& request, Done done) {
  if (auto f = filter(request)) {
    record(request, *f);
    return done(*f);
  }
  if (features_.hold && request.number) {
    auto it = timeline_.find(request.stream);
    if (it != timeline_.end() && it->second.known) {
      const int64_t avail = avail_ms(it->second.stream, *request.number);
      const int64_t now = w_.scheduler.now_ms();
      if (avail > now && avail - now <= it->second.stream.hold_window_ms) {
        // Hold at the edge until the segment is due; then ask (the origin holds the rest).
        w_.recorder.latency({"hold_wait", request.request_class.str(), tier_, avail - now, request.weight});
        w_.scheduler.run_at(avail, [this, request, done = std::move(done)]() mutable {
          lookup(request, std::move(done), true);
        });
        return;
      }
    }
  }
  lookup(request, std::move(done), false);
}

void CdnNode::lookup(const CdnRequest& request, Done done, bool held) {
  const int64_t now = w_.scheduler.now_ms();
  if (features_.cache) {
    auto it = cache_.find(request.target);
    if (it != cache_.end()) {
      if (it->second.expires_ms > now) {
        CdnResult r = it->second.result;
        r.cache_hit = true;
        r.collapsed = false;
        r.filtered = false;
        r.held = held;
        r.ttl_ms = it->second.expires_ms - now;
        // A node of multiplicity k is k caches: a request that stands for several
        // viewers or nodes reaches some of those caches that do not hold the object yet
        // (in proportion to the share that do not). Those miss and fill from upstream;
        // the rest hit.
        const int64_t fills = fills_for(it->second, request.weight);
        if (fills > 0) {
          CdnResult missed = r;
          missed.cache_hit = false;
          record(request, missed, fills);
          fill_upstream(request, fills);
        }
        if (request.weight > fills) record(request, r, request.weight - fills);
        return done(r);
      }
      cache_.erase(it);
    }
  }
  // Collapsing: every request for an object already on its way waits for that answer.
  const FlightKey key{request.target, features_.collapsing ? 0 : ++request_seq_};
  auto [slot, first] = in_flight_.try_emplace(key);
  slot->second.push_back(Waiter{request, std::move(done), held});
  if (!first) return;
  CdnRequest upstream = request;
  // Of the k caches a node stands for, as many as this request reaches miss and ask.
  upstream.weight = std::min(multiplicity_, request.weight);
  if (parent_) {
    parent_->get(upstream, [this, key](const CdnResult& r) { complete(key, r, r.ttl_ms); });
    return;
  }
  // Toward the origin every alike node's request is its own: the first answer serves the
  // waiters, each is recorded.
  auto answered = std::make_shared<bool>(false);
  for (int64_t m = 0; m < upstream.weight; ++m) {
    OriginLink* origin = origins_[static_cast<size_t>(m) % origins_.size()];
    origin->send(origin_request(request), [this, key, request, sent = now, answered](LinkResponse resp) {
      CdnResult r = origin_result(request, resp, sent);
      if (!*answered) {
        *answered = true;
        complete(key, r, r.ttl_ms);
      }
    });
  }
}

LinkRequest CdnNode::origin_request(const CdnRequest& request) {
  LinkRequest lr;
  lr.target = request.target.str();
  if (request.request_class.str() == "background") lr.headers.emplace_back("Live-Priority", "background");
  return lr;
}

CdnResult CdnNode::origin_result(const CdnRequest& request, const LinkResponse& resp, int64_t sent) {
  const int64_t at = w_.scheduler.now_ms();
  CdnResult r;
  r.status = resp.status;
  r.reject = w_.targets.intern(resp.header("Live-Reject"));
  r.version = header_int(resp, "Live-Version", -1);
  r.bytes = resp.body ? static_cast<int64_t>(resp.body->size()) : 0;
  const int64_t ttl = cache_ttl_ms(resp);
  r.ttl_ms = ttl < 0 ? 0 : ttl;
  const int64_t ht = held_ms(resp);
  r.held = ht >= 0;
  if ((resp.status == 200 || resp.status == 206) && resp.body && request.number) {
    if (auto tag = parse_segment_tag(*resp.body)) {
      if (resp.status == 200 && tag->size >= 0) r.bytes = tag->size;  // a compact body stands for this many
      r.pipeline = w_.targets.intern(tag->pipeline);
      r.defects = w_.targets.intern(w_.sent.defects(request.stream.str(), *request.number, tag->pipeline));
      ServeRecord served{request.stream.str(), *request.number, at, r.pipeline.str(), r.defects.str(), r.version};
      served.markers = resp.header("Live-Markers");
      w_.recorder.served(served);
    }
  }
  RequestRecord rec;
  rec.at_ms = at;
  rec.tier = "origin";
  rec.request_class = request.request_class.str();
  rec.status = resp.status;
  rec.bytes = r.bytes;
  rec.held = r.held;
  rec.shed = resp.status == 503 && r.reject.str() == "overload";
  w_.recorder.request(rec);
  const std::string& cls = request.request_class.str();
  w_.recorder.latency({"origin_get", cls, "origin", at - sent, 1});
  if (ht >= 0) w_.recorder.latency({"hold_wait", cls, "origin", ht, 1});
  // What the origin's capacity decides: the exchange without the time it was held.
  const int64_t served_ms = std::max<int64_t>(0, at - sent - std::max<int64_t>(ht, 0));
  w_.recorder.latency({"origin_service", cls, "origin", served_ms, 1});
  return r;
}

int64_t CdnNode::fills_for(Entry& e, int64_t weight) const {
  if (multiplicity_ <= 1 || e.filled >= multiplicity_) return 0;
  const double empty_share = 1.0 - static_cast<double>(e.filled) / static_cast<double>(multiplicity_);
  const int64_t fills =
      std::min<int64_t>({weight, multiplicity_ - e.filled, std::llround(static_cast<double>(weight) * empty_share)});
  e.filled += fills;
  return fills;
}

void CdnNode::fill_upstream(const CdnRequest& request, int64_t caches) {
  CdnRequest up = request;
  up.weight = caches;
  if (parent_) {
    parent_->get(up, [](const CdnResult&) {});
    return;
  }
  const int64_t sent = w_.scheduler.now_ms();
  for (int64_t m = 0; m < caches; ++m) {
    origins_[static_cast<size_t>(fill_seq_++) % origins_.size()]->send(
        origin_request(request), [this, request, sent](LinkResponse resp) { origin_result(request, resp, sent); });
  }
}

void CdnNode::complete(const FlightKey& key, const CdnResult& result, int64_t ttl_ms) {
  auto it = in_flight_.find(key);
  if (it == in_flight_.end()) return;
  auto waiters = std::move(it->second);
  in_flight_.erase(it);
  if (waiters.empty()) return;
  const CdnRequest& first = waiters.front().request;
  if (features_.cache && ttl_ms > 0 && result.status != 0 && result.status != 503) {
    store(first.target, result, ttl_ms, first, std::min(multiplicity_, first.weight));
  }
  // The waiters stand for `weight` requests each (viewers of a group, alike child
  // nodes), all of which would have met at this node. A node of multiplicity k stands
  // for k caches: as many of them as the first waiter reached (up to k) missed and
  // asked upstream; everything else joined a request in flight.
  // Without collapsing nothing joins: every request a waiter stands for missed (the
  // group still asks upstream once: groups are the unit of traffic).
  int64_t misses_left = features_.collapsing ? std::min(multiplicity_, first.weight)
                                             : std::numeric_limits<int64_t>::max();
  for (size_t i = 0; i < waiters.size(); ++i) {
    CdnResult r = result;
    r.cache_hit = false;
    r.filtered = false;
    const CdnRequest& req = waiters[i].request;
    const int64_t missed = std::min(misses_left, req.weight);
    misses_left -= missed;
    if (missed > 0) {
      r.collapsed = false;
      record(req, r, missed);
    }
    if (req.weight > missed) {
      r.collapsed = true;
      record(req, r, req.weight - missed);
    }
    r.collapsed = i > 0;
    r.held = r.held || waiters[i].held;
    waiters[i].done(r);
  }
}

void CdnNode::store(Target target, const CdnResult& result, int64_t ttl_ms, const CdnRequest& request,
                    int64_t filled) {
  Entry e;
  e.result = result;
  e.filled = filled;
  e.expires_ms = w_.scheduler.now_ms() + ttl_ms;
  e.stream = request.stream;
  e.number = request.number.value_or(-1);
  auto [it, inserted] = cache_.insert_or_assign(target, std::move(e));
  if (inserted) cache_order_.push_back(target);
  while (cache_.size() > kCacheEntriesMax && !cache_order_.empty()) {
    cache_.erase(cache_order_.front());
    cache_order_.pop_front();
  }
  if (cache_order_.size() > 2 * kCacheEntriesMax) {  // keys of purged entries pile up: compact
    std::deque<Target> live;
    for (const Target& k : cache_order_) {
      if (cache_.contains(k)) live.push_back(k);
    }
    cache_order_.swap(live);
  }
}

void CdnNode::record(const CdnRequest& request, const CdnResult& result, int64_t weight) {
  w_.recorder.request(request_record(w_.scheduler.now_ms(), tier_, request, result, weight));
}

// ---------------------------------------------------------------------------
// Viewers

ViewerCohortActor::ViewerCohortActor(World& world, const ViewerCohort& spec, std::vector<CdnNode*> edges,
                                     int groups_per_edge)
    : w_(world),
      spec_(spec),
      edges_(std::move(edges)),
      class_(world.targets.intern(spec.behaviour == ViewerCohort::Behaviour::dvr ? "dvr" : "live")),
      background_(world.targets.intern("background")),
      rng_(world.scenario.seed, "viewers/" + spec.name) {
  const auto& streams = w_.scenario.event.streams;
  for (size_t i = 0; i < streams.size(); ++i) {
    stream_names_.push_back(w_.targets.intern(streams[i].id));
    if (spec_.streams.empty() || std::find(spec_.streams.begin(), spec_.streams.end(), streams[i].id) != spec_.streams.end()) {
      streams_.push_back(i);
    }
  }
  const int64_t edges_n = static_cast<int64_t>(edges_.size());
  for (int64_t e = 0; e < edges_n; ++e) {
    const int64_t viewers = spec_.count / edges_n + (e < spec_.count % edges_n ? 1 : 0);
    const int64_t groups = std::min<int64_t>(groups_per_edge, viewers);
    // Each group is an equal share of the edge's viewers: stratified quantiles, from a
    // random start per edge, so each quantity is spread over its whole distribution.
    const double skew_u = rng_.uniform01(), offset_u = rng_.uniform01(), join_u = rng_.uniform01();
    auto stratum = [groups](int64_t g, double start) { return (static_cast<double>(g) + start) / static_cast<double>(groups); };
    for (int64_t g = 0; g < groups; ++g) {
      Group grp;
      grp.edge = edges_[static_cast<size_t>(e)];
      grp.weight = viewers / groups + (g < viewers % groups ? 1 : 0);
      grp.skew_ms = std::llround(Rng::quantile(spec_.clock_skew_ms, stratum(g, skew_u)));
      const int64_t d = streams_.empty() ? 2000 : streams[streams_[0]].segment_duration_ms;
      grp.offset_segments = std::max<int64_t>(
          1, static_cast<int64_t>(Rng::quantile(spec_.dvr_offset_s, stratum(g, offset_u)) * 1000.0) / d);
      grp.join_ms = w_.run_start_ms + spec_.join_at_s * 1000 +
                    std::llround(static_cast<double>(spec_.join_ramp_s * 1000) * stratum(g, join_u));
      grp.leave_ms = spec_.leave_at_s >= 0 ? w_.run_start_ms + spec_.leave_at_s * 1000 : w_.run_end_ms;
      groups_.push_back(grp);
    }
  }
}

void ViewerCohortActor::start() {
  for (size_t g = 0; g < groups_.size(); ++g) {
    for (size_t k = 0; k < streams_.size(); ++k) {
      const size_t si = streams_[k];
      w_.scheduler.run_at(groups_[g].join_ms, [this, g, si] {
        if (stopped_) return;
        const StreamConfig& sc = w_.timing(si);
        // A player starts with the init segment, then the segment after the live edge.
        CdnRequest init;
        init.target = w_.targets.intern("/live/" + w_.scenario.event.id + "/" + sc.id + "/init.mp4");
        init.request_class = w_.targets.intern("live");
        init.weight = groups_[g].weight;
        groups_[g].edge->get(init, [](const CdnResult&) {});
        schedule(g, si, liveorigin::live_edge(sc, w_.scheduler.now_ms()) + 1);
      });
    }
  }
}

void ViewerCohortActor::schedule(size_t g, size_t si, int64_t n) {
  if (stopped_) return;
  const Group& grp = groups_[g];
  const StreamConfig& sc = w_.timing(si);
  // live/early: when the viewer's clock says the segment is due (skew > 0: early);
  // dvr: on the same cadence, for a segment offset_segments behind.
  const int64_t skew = spec_.behaviour == ViewerCohort::Behaviour::dvr ? 0 : grp.skew_ms;
  const int64_t at = avail_ms(sc, n) - skew;
  if (at >= grp.leave_ms || avail_ms(sc, n) >= w_.run_end_ms) return;
  w_.scheduler.run_at(at, [this, g, si, n] {
    if (stopped_) return;
    schedule(g, si, n + 1);
    int64_t target = n;
    if (spec_.behaviour == ViewerCohort::Behaviour::dvr) {
      // A DVR viewer can rewind only into what was published: the run and its backfill.
      const StreamConfig& sc = w_.timing(si);
      const int64_t first = liveorigin::live_edge(sc, w_.run_start_ms - w_.scenario.event.backfill_s * 1000) + 1;
      target = std::max(first, n - groups_[g].offset_segments);
    }
    request(g, si, target, 1, w_.scheduler.now_ms());
  });
}

void ViewerCohortActor::request(size_t g, size_t si, int64_t n, int attempt, int64_t first_sent_ms) {
  if (stopped_) return;
  const Group& grp = groups_[g];
  const StreamSpec& stream = w_.scenario.event.streams[si];
  CdnRequest req;
  req.stream = stream_names_[si];
  req.number = n;
  req.weight = grp.weight;
  req.request_class = class_;
  if (attempt == 1 && rng_.chance(spec_.background_ratio)) req.request_class = background_;
  req.target = w_.targets.segment(w_.scenario, si, n);
  bool invalid = false;
  if (attempt == 1 && rng_.chance(spec_.invalid_request_ratio)) {
    // What a broken player or a scraper asks for: numbers far in the future, events that do not exist.
    invalid = true;
    req.request_class = w_.targets.intern("invalid");
    if (rng_.chance(0.5)) {
      req.number = n + 100'000 + rng_.uniform_int(0, 1'000'000);
      req.target = w_.targets.intern(segment_target(w_.scenario, stream.id, *req.number));
    } else {
      req.target = w_.targets.intern("/live/no-such-event-" + std::to_string(rng_.uniform_int(0, 999)) + "/" +
                                     stream.id + "/" + std::to_string(n) + ".m4s");
      req.stream = Target();
      req.number.reset();
    }
  }
  auto on_result = [this, g, si, n, attempt, first_sent_ms, req, invalid](const CdnResult& r) {
    const int64_t now = w_.scheduler.now_ms();
    // Retried: 503, a not-yet, and a 404 that gives no reason (any other origin's
    // "not there yet"), as players retry; a 404 with a reason (missing, too-early,
    // unknown-event) and a 410 are final.
    const bool retryable =
        r.status == 503 || (r.status == 404 && (r.reject.str() == "not-yet" || r.reject.empty_string()));
    if (!invalid && retryable && attempt < kViewerAttemptsMax && now < groups_[g].leave_ms && now < w_.run_end_ms) {
      const CdnFeatures& f = w_.scenario.cdn.features;
      const int64_t delay = f.retry_after_hint && r.ttl_ms > 0 ? std::clamp<int64_t>(r.ttl_ms, 20, 10'000)
                                                               : f.fixed_retry_ms;
      w_.scheduler.run_after(delay, [this, g, si, n, attempt, first_sent_ms] {
        request(g, si, n, attempt + 1, first_sent_ms);
      });
      return;
    }
    if (invalid) return;  // not a viewer request: the storm is measured at the CDN and the origin
    // The viewer's outcome: what it finally got, not each attempt.
    CdnResult outcome = r;
    outcome.collapsed = false;
    outcome.filtered = false;
    w_.recorder.request(request_record(now, "viewer", req, outcome, req.weight));
    w_.recorder.latency({"viewer_wait", req.request_class.str(), "viewer", now - first_sent_ms, req.weight});
    if (req.number) {
      ViewerRecord v;
      v.stream = req.stream.str();
      v.number = *req.number;
      if (r.status == 200) {
        v.pipeline = r.pipeline.str();
        v.defects = r.defects.str();
      }
      v.status = r.status;
      v.weight = req.weight;
      v.request_class = req.request_class.str();
      w_.recorder.viewer(v);
    }
  };
  // Every viewer request makes one of these: it must not need an allocation.
  static_assert(sizeof(on_result) <= CdnNode::Done::kInline);
  grp.edge->get(req, std::move(on_result));
}

}  // namespace liveorigin::sim
