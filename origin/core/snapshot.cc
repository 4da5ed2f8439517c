#include "origin/core/snapshot.h"

#include <boost/json.hpp>

#include "origin/core/journal.h"
#include "origin/core/timing.h"

namespace liveorigin {

namespace json = boost::json;

namespace {

json::value opt(const std::optional<int64_t>& v) { return v ? json::value(*v) : json::value(nullptr); }
json::value opt(const std::optional<bool>& v) { return v ? json::value(*v) : json::value(nullptr); }

// A candidate as the journal writes it: one encoding for both.
json::value candidate_json(const Candidate& c) {
  JournalEntry e;
  e.candidate.pipeline = c.pipeline;
  e.candidate.defects = c.defects.header;
  e.candidate.sha256 = c.sha256;
  e.candidate.bytes = c.bytes;
  e.candidate.arrived_ms = c.arrived_ms;
  e.candidate.key = c.key;
  if (c.init) e.candidate.init = *c.init;
  return json::parse(encode(e)).as_object().at("candidate");
}

CandidatePtr candidate_from(const json::value& v) {
  JournalEntry e;
  json::object wrapper{{"kind", "candidate"}, {"event", ""}, {"candidate", v}};
  auto decoded = decode_journal_entry(json::serialize(wrapper));
  if (!decoded) throw std::runtime_error(decoded.error().message);
  const CandidateMeta& m = decoded->candidate;
  auto c = std::make_shared<Candidate>();
  c->pipeline = m.pipeline;
  if (!m.defects.empty()) {
    auto d = parse_segment_defects(m.defects);
    if (d) c->defects = std::move(*d);
  }
  c->arrived_ms = m.arrived_ms;
  c->bytes = m.bytes;
  c->sha256 = m.sha256;
  c->key = m.key;
  if (m.init) c->init = std::make_shared<const InitInfo>(*m.init);
  return c;
}

int64_t integer(const json::object& o, const char* k) {
  const json::value* v = o.if_contains(k);
  if (!v || !v->is_int64()) throw std::runtime_error(std::string("missing ") + k);
  return v->as_int64();
}
std::optional<int64_t> maybe(const json::object& o, const char* k) {
  const json::value* v = o.if_contains(k);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_int64()) throw std::runtime_error(std::string(k) + " is not an integer");
  return v->as_int64();
}
std::string str(const json::object& o, const char* k) {
  const json::value* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

std::string snapshot_event(Ledger::Writer& w, std::string_view id) {
  const auto it = w.registry().events.find(id);
  if (it == w.registry().events.end()) return {};
  const EventState& event = *it->second;
  const EventRuntime& rt = *event.runtime;
  json::object out{{"event", event.config->id},
                   {"seq", rt.applied_seq},
                   {"config", to_json(*event.config)},
                   {"version", rt.version.load()},
                   {"marker_seq", rt.marker_seq}};
  json::array markers;
  for (const auto& m : event.markers) {
    markers.push_back(json::object{{"id", m.id},
                                   {"kind", m.kind},
                                   {"start_ms", m.start_ms},
                                   {"duration_ms", opt(m.duration_ms)},
                                   {"data", m.data_b64},
                                   {"seq", m.seq},
                                   {"item", m.item}});
  }
  out["markers"] = std::move(markers);
  json::array exclusions;
  for (const auto& x : event.exclusions) {
    exclusions.push_back(json::object{{"pipeline", x.pipeline}, {"stream", x.stream}, {"from", x.from}, {"to", x.to}});
  }
  out["exclusions"] = std::move(exclusions);
  {
    EventRuntime& r = *event.runtime;
    MutexLock feed(r.feed_mu);
    json::array entries;
    for (const auto& f : r.feed) {
      entries.push_back(json::object{{"version", f.version},   {"stream", f.stream},     {"from", opt(f.from)},
                                     {"to", opt(f.to)},         {"pipeline", f.pipeline}, {"exclude", opt(f.exclude)}});
    }
    out["feed"] = std::move(entries);
    out["feed_dropped_through"] = r.feed_dropped_through;
  }
  json::array streams;
  for (size_t i = 0; i < event.streams.size(); ++i) {
    StreamState& ss = *event.streams[i];
    MutexLock lock(ss.mu);
    json::array segments;
    for (const auto& [n, seg] : ss.segments) {
      if (seg.candidates.empty() && seg.decision.committed.empty() && seg.decision.version == 0) continue;
      json::array candidates;
      for (const auto& c : seg.candidates) candidates.push_back(candidate_json(*c));
      const Decision& d = seg.decision;
      segments.push_back(json::object{{"n", n},
                                      {"candidates", std::move(candidates)},
                                      {"committed", d.committed},
                                      {"committed_ms", d.committed_ms},
                                      {"reason", d.reason},
                                      {"version", d.version},
                                      {"first_served_ms", d.first_served_ms}});
    }
    json::array objects;
    for (const auto& [name, obj] : ss.objects) {
      json::array copies;
      for (const auto& c : obj.copies) copies.push_back(candidate_json(*c));
      if (!copies.empty()) objects.push_back(json::object{{"name", name}, {"copies", std::move(copies)}});
    }
    json::array live;
    for (const auto& [p, t] : ss.last_put_ms) live.push_back(json::array{json::value(p), json::value(t)});
    streams.push_back(json::object{{"id", event.config->streams[i].id},
                                   {"segments", std::move(segments)},
                                   {"objects", std::move(objects)},
                                   {"last_put_ms", std::move(live)}});
  }
  out["streams"] = std::move(streams);
  return json::serialize(out);
}

Result<int64_t> restore_event(Ledger::Writer& w, const CoreContext& core, std::string_view text) {
  std::string id = "?";
  try {
    const json::value root = json::parse(text);
    const json::object& o = root.as_object();
    id = str(o, "event");
    const int64_t seq = integer(o, "seq");
    auto reg = w.copy();
    std::shared_ptr<EventState> event;
    if (auto it = reg->events.find(id); it != reg->events.end()) {
      event = std::make_shared<EventState>(*it->second);  // defined by the config file: its settings stay
    } else {
      auto config = parse_event_config(json::serialize(o.at("config")), "snapshot of " + id, id);
      if (!config) return make_error(config.error().message);
      event = make_event_state(*config, nullptr);
    }
    EventRuntime& rt = *event->runtime;
    rt.version.store(integer(o, "version"));
    rt.marker_seq = static_cast<uint64_t>(integer(o, "marker_seq"));
    rt.applied_seq = seq;
    event->markers.clear();
    for (const auto& v : o.at("markers").as_array()) {
      const json::object& m = v.as_object();
      Marker mk;
      mk.id = str(m, "id");
      mk.kind = str(m, "kind");
      mk.start_ms = integer(m, "start_ms");
      mk.duration_ms = maybe(m, "duration_ms");
      mk.data_b64 = str(m, "data");
      mk.seq = static_cast<uint64_t>(integer(m, "seq"));
      mk.item = str(m, "item");
      event->markers.push_back(std::move(mk));
    }
    event->exclusions.clear();
    for (const auto& v : o.at("exclusions").as_array()) {
      const json::object& x = v.as_object();
      event->exclusions.push_back(Exclusion{str(x, "pipeline"), str(x, "stream"), integer(x, "from"), integer(x, "to")});
    }
    {
      MutexLock feed(rt.feed_mu);
      rt.feed.clear();
      for (const auto& v : o.at("feed").as_array()) {
        const json::object& f = v.as_object();
        InvalidationEntry entry{integer(f, "version"), str(f, "stream"), maybe(f, "from"), maybe(f, "to"),
                                str(f, "pipeline"), std::nullopt};
        if (const json::value* x = f.if_contains("exclude"); x && x->is_bool()) entry.exclude = x->as_bool();
        rt.feed.push_back(std::move(entry));
      }
      rt.feed_dropped_through = integer(o, "feed_dropped_through");
    }
    int64_t bytes = 0;
    for (const auto& sv : o.at("streams").as_array()) {
      const json::object& so = sv.as_object();
      const int si = event->find_stream(str(so, "id"));
      if (si < 0) continue;  // a stream the file no longer defines
      const StreamConfig& sc = event->config->streams[si];
      StreamState& ss = *event->streams[si];
      MutexLock lock(ss.mu);
      for (const auto& segv : so.at("segments").as_array()) {
        const json::object& g = segv.as_object();
        const int64_t n = integer(g, "n");
        SegmentState& seg = ss.segments[n];
        for (const auto& c : g.at("candidates").as_array()) {
          seg.candidates.push_back(candidate_from(c));
          bytes += seg.candidates.back()->bytes;
        }
        seg.decision.committed = str(g, "committed");
        seg.decision.committed_ms = integer(g, "committed_ms");
        seg.decision.reason = str(g, "reason");
        seg.decision.version = integer(g, "version");
        seg.decision.first_served_ms = integer(g, "first_served_ms");
        if (!seg.candidates.empty() && seg.indexed_avail_ms < 0) {
          seg.indexed_avail_ms = avail_ms(sc, n);
          w.by_age().emplace(seg.indexed_avail_ms, &ss, n);
        }
      }
      for (const auto& objv : so.at("objects").as_array()) {
        const json::object& ob = objv.as_object();
        PlainObjectState& obj = ss.objects[str(ob, "name")];
        for (const auto& c : ob.at("copies").as_array()) {
          obj.copies.push_back(candidate_from(c));
          bytes += obj.copies.back()->bytes;
        }
      }
      for (const auto& lv : so.at("last_put_ms").as_array()) {
        const json::array& pair = lv.as_array();
        ss.mark_live(std::string(pair.at(0).as_string()), pair.at(1).as_int64());
      }
    }
    w.add_stored_bytes(bytes);
    reg->events[id] = event;
    w.publish(std::move(reg));
    core.note("restored " + id + " from its snapshot at journal entry " + std::to_string(seq));
    return seq;
  } catch (const std::exception& e) {
    return make_error("snapshot of " + id + ": " + e.what());
  }
}

}  // namespace liveorigin
