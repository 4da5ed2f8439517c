#include "origin/core/admin.h"

#include <charconv>
#include <set>

#include <boost/json.hpp>

#include "origin/core/origin_thread.h"
#include "origin/core/representation.h"
#include "origin/core/timing.h"

namespace liveorigin {

namespace {

Response not_allowed(std::string_view allow) {
  Response r = text_response(405, "method not allowed", 0);
  r.set("Allow", std::string(allow));
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

Outcome Admin::handle(OriginThread& t, const RequestHead& head, const Route& route, std::string_view body) {
  const Registry& reg = ledger_.view(t.registry_view);
  const std::string_view token = bearer_token(head.authorization);
  if (token.empty() || !contains(reg.auth->admin_tokens, token)) {
    Response r = text_response(401, token.empty() ? "admin token required" : "unknown admin token", 0);
    r.set("WWW-Authenticate", "Bearer realm=\"liveorigin-admin\"");
    return r;
  }
  switch (route.kind) {
    case Route::admin_markers:
      return markers_.handle(t, head, route, body);
    case Route::admin_invalidate:
      if (head.method != Method::post) return not_allowed("POST");
      return invalidation_.invalidate(body);
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
        case Method::put: return put_event(t, route.event, body);
        case Method::del: return delete_event(t, route.event);
        default: return not_allowed("GET, HEAD, PUT, DELETE");
      }
    case Route::admin_segment:
      if (head.method != Method::get && head.method != Method::head) return not_allowed("GET, HEAD");
      return segment_audit(t, route);
    default:
      return text_response(404, "no such path", 0);
  }
}

void Admin::drop_removed_streams(Ledger::Writer& w, OriginThread& t, const EventState& previous,
                                 const EventState& next) {
  for (size_t i = 0; i < previous.streams.size(); ++i) {
    if (next.find_stream(previous.config->streams[i].id) < 0) ingest_.drop_stream(w, t, *previous.streams[i]);
  }
}

Outcome Admin::put_event(OriginThread& t, std::string_view id, std::string_view body) {
  if (!is_valid_id(id)) return text_response(400, "invalid event id", 0);
  auto parsed = parse_event_config(body, "request body", id);
  if (!parsed) return text_response(400, parsed.error().message, 0);
  JournalEntry e;
  e.kind = JournalEntry::Kind::event_put;
  e.event = std::string(id);
  e.config_json = boost::json::serialize(to_json(*parsed));
  return append_or_apply(t, std::move(e));
}

Outcome Admin::delete_event(OriginThread& t, std::string_view id) {
  JournalEntry e;
  e.kind = JournalEntry::Kind::event_delete;
  e.event = std::string(id);
  return append_or_apply(t, std::move(e));
}

Outcome Admin::append_or_apply(OriginThread& t, JournalEntry&& e) {
  if (core_.config.store.journaled()) return Append{std::move(e), Append::Then::respond, ZoneLabel::admin};
  Ledger::Writer w(ledger_);
  return e.kind == JournalEntry::Kind::event_put ? apply_event_put(w, t, e) : apply_event_delete(w, t, e);
}

Response Admin::apply_event_put(Ledger::Writer& w, OriginThread& t, const JournalEntry& e) {
  auto parsed = parse_event_config(e.config_json, "journal entry", e.event);
  if (!parsed) return text_response(400, parsed.error().message, 0);
  auto next = w.copy();
  std::shared_ptr<EventState> previous;
  if (auto it = next->events.find(e.event); it != next->events.end()) previous = it->second;
  auto state = make_event_state(*parsed, previous.get());
  if (previous) drop_removed_streams(w, t, *previous, *state);
  next->events[e.event] = state;
  w.publish(std::move(next));
  core_.note(std::string(previous ? "event replaced: " : "event created: ") + e.event);
  return json_response(previous ? 200 : 201, to_json(*state->config));
}

Response Admin::apply_event_delete(Ledger::Writer& w, OriginThread& t, const JournalEntry& e) {
  auto next = w.copy();
  auto it = next->events.find(e.event);
  if (it == next->events.end()) return text_response(404, "unknown event", 0, "unknown-event");
  for (const auto& s : it->second->streams) ingest_.drop_stream(w, t, *s);
  next->events.erase(it);
  w.publish(std::move(next));
  core_.note("event deleted: " + e.event);
  return empty_response(204, 0);
}

Response Admin::segment_audit(OriginThread& t, const Route& route) {
  const Registry& reg = ledger_.view(t.registry_view);
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
  if (!computable_number(sc, n)) return text_response(400, "segment number out of range", 0);
  StreamState& ss = *event.streams[si];
  const int64_t now = core_.clock.now_ms();
  boost::json::array candidates;
  boost::json::value choice = nullptr;
  boost::json::array pending;
  Decision decision;
  size_t waiting = 0;
  {
    MutexLock lock(ss.mu);
    auto it = ss.segments.find(n);
    if (it != ss.segments.end()) {
      const SegmentState& seg = it->second;
      for (const auto& c : seg.candidates) {
        boost::json::value v = candidate_json(*c);
        v.as_object()["excluded"] = event.excluded(c->pipeline, sc.id, n);
        candidates.push_back(std::move(v));
      }
      for (const auto& pl : seg.pending) pending.push_back(boost::json::value(pl));
      decision = seg.decision;
      waiting = seg.waiters.size();
    }
  }
  if (!decision.committed.empty()) {
    choice = boost::json::object{{"pipeline", decision.committed},
                                 {"committed_ms", decision.committed_ms},
                                 {"reason", decision.reason}};
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
      {"version", decision.version},
      {"candidates", std::move(candidates)},
      {"pending", std::move(pending)},
      {"choice", std::move(choice)},
      {"first_served_ms", decision.first_served_ms},
      {"held_requests", waiting},
      {"markers", live_markers(event, sc, n)},
  };
  return json_response(200, body);
}

std::string Admin::reload(OriginThread& t, const OriginConfig& next) {
  Ledger::Writer w(ledger_);
  auto reg = w.copy();
  int created = 0, replaced = 0, deleted = 0;
  std::set<std::string> in_file;
  for (const auto& e : next.events) {
    in_file.insert(e.id);
    auto it = reg->events.find(e.id);
    const EventState* previous = it == reg->events.end() ? nullptr : it->second.get();
    auto state = make_event_state(e, previous);
    state->from_file = true;
    if (previous) {
      drop_removed_streams(w, t, *previous, *state);
      ++replaced;
    } else {
      ++created;
    }
    reg->events[e.id] = std::move(state);
  }
  for (auto it = reg->events.begin(); it != reg->events.end();) {
    if (it->second->from_file && !in_file.contains(it->first)) {
      for (const auto& s : it->second->streams) ingest_.drop_stream(w, t, *s);
      it = reg->events.erase(it);
      ++deleted;
    } else {
      ++it;
    }
  }
  reg->auth = std::make_shared<const AuthConfig>(next.auth);
  w.publish(std::move(reg));

  std::string summary = "config reloaded: " + std::to_string(created) + " events created, " +
                        std::to_string(replaced) + " replaced, " + std::to_string(deleted) + " deleted; tokens replaced";
  const std::vector<std::string> restart = restart_only_changes(core_.config, next);
  if (!restart.empty()) {
    summary += "; changed but applied only at restart:";
    for (const auto& r : restart) summary += " " + r;
  }
  return summary;
}

}  // namespace liveorigin
