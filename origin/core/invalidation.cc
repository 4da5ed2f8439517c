#include "origin/core/invalidation.h"

#include <charconv>
#include <limits>
#include <optional>

#include <boost/json.hpp>

#include "origin/core/origin_thread.h"
#include "origin/core/representation.h"
#include "origin/core/timing.h"
#include "origin/core/yaml_reader.h"

namespace liveorigin {

namespace {

struct Request {
  std::string event, stream, pipeline;
  std::optional<int64_t> from, to;
  std::optional<bool> exclude;
};

// {"event", "stream"?, "from_segment"?, "to_segment"?, "pipeline"?, "exclude"?}
Result<Request> parse_request(std::string_view body) {
  return yaml::parse_document<Request>([&] {
    const YAML::Node root = yaml::load(body, "request body");
    yaml::MapReader r(root, yaml::Location{"request body", ""});
    Request q;
    q.event = r.string("event");
    q.stream = r.string("stream", std::string());
    q.pipeline = r.string("pipeline", std::string());
    q.from = r.optional_integer("from_segment", 0, int64_t{1} << 50);
    q.to = r.optional_integer("to_segment", 0, int64_t{1} << 50);
    if (r.has("exclude")) q.exclude = r.boolean("exclude", std::nullopt);
    if (q.from && q.to && *q.to < *q.from) {
      yaml::fail(r.node("to_segment"), r.child("to_segment"), "is before from_segment");
    }
    if (q.exclude && q.pipeline.empty()) yaml::fail(r.node("exclude"), r.child("exclude"), "exclude needs a pipeline");
    r.finish();
    return q;
  });
}

}  // namespace

Outcome Invalidation::invalidate(std::string_view body) {
  auto parsed = parse_request(body);
  if (!parsed) return text_response(400, parsed.error().message, 0);
  JournalEntry e;
  e.kind = JournalEntry::Kind::invalidate;
  e.event = std::move(parsed->event);
  e.stream = std::move(parsed->stream);
  e.pipeline = std::move(parsed->pipeline);
  e.from = parsed->from;
  e.to = parsed->to;
  e.exclude = parsed->exclude;
  if (core_.config.store.journaled()) return Append{std::move(e), Append::Then::respond, ZoneLabel::admin};
  Ledger::Writer w(ledger_);
  return apply(w, e);
}

Response Invalidation::apply(Ledger::Writer& w, const JournalEntry& q) {
  const auto current = w.registry().events.find(q.event);
  if (current == w.registry().events.end()) return text_response(404, "unknown event", 0, "unknown-event");
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
    MutexLock lock(ss.mu);
    for (auto it = ss.segments.lower_bound(from); it != ss.segments.end() && it->first <= to; ++it) {
      Decision& d = it->second.decision;
      if (d.committed.empty() || (!q.pipeline.empty() && d.committed != q.pipeline)) continue;
      d.committed.clear();
      d.committed_ms = -1;
      d.reason = "invalidated";
      d.version = version;
      ++uncommitted;
    }
  }
  w.replace_event(q.event, next);
  {
    EventRuntime& rt = *next->runtime;
    MutexLock feed(rt.feed_mu);
    rt.feed.push_back(InvalidationEntry{version, q.stream, q.from, q.to, q.pipeline, q.exclude});
    while (static_cast<int64_t>(rt.feed.size()) > core_.config.invalidations_max) {
      rt.feed_dropped_through = rt.feed.front().version;
      rt.feed.pop_front();
    }
  }
  core_.metrics.count("liveorigin_invalidations_total", "event=" + prom_label(q.event));
  core_.note("invalidation v" + std::to_string(version) + " of " + q.event + (q.stream.empty() ? "" : "/" + q.stream) +
             ": " + std::to_string(uncommitted) + " choices un-committed" +
             (q.exclude ? (*q.exclude ? ", pipeline " + q.pipeline + " excluded"
                                      : ", pipeline " + q.pipeline + " readmitted")
                        : ""));
  return json_response(200, boost::json::object{{"version", version}, {"uncommitted", uncommitted}});
}

Response Invalidation::feed(OriginThread& t, const RequestHead& head, const Route& route) {
  const Registry& reg = ledger_.view(t.registry_view);
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
    MutexLock feed(rt.feed_mu);
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

}  // namespace liveorigin
