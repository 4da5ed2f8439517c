#include "origin/core/markers.h"

#include <algorithm>
#include <optional>
#include <vector>

#include <boost/json.hpp>

#include "origin/core/base64.h"
#include "origin/core/origin_thread.h"
#include "origin/core/representation.h"
#include "origin/core/structured_fields.h"
#include "origin/core/timing.h"
#include "origin/core/yaml_reader.h"

namespace liveorigin {

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

int64_t bump_served(Ledger::Writer&, EventState& event, int64_t from_ms, int64_t to_ms, int64_t& version) {
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
    MutexLock lock(ss.mu);
    for (auto it = ss.segments.lower_bound(first); it != ss.segments.end() && it->first <= last; ++it) {
      Decision& d = it->second.decision;
      if (d.first_served_ms < 0) continue;
      if (version == 0) version = event.runtime->version.fetch_add(1) + 1;
      d.version = version;
      ++bumped;
    }
  }
  return bumped;
}

namespace {

boost::json::object marker_json(const Marker& m) {
  boost::json::object o{{"id", m.id}, {"kind", m.kind}, {"start_ms", m.start_ms}};
  o["duration_ms"] = m.duration_ms ? boost::json::value(*m.duration_ms) : boost::json::value(nullptr);
  o["data"] = m.data_b64;
  return o;
}

// {"id", "kind", "start_ms" | "start_segment", "duration_ms"?, "data"?}
Result<Marker> parse_marker(std::string_view body, const EventConfig& ec) {
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
  if (!parsed) return parsed.error();
  Marker m = std::move(*parsed);
  std::optional<std::string> data;
  if (!m.data_b64.empty()) {
    data = base64_decode(m.data_b64);
    if (!data) return make_error("request body: data: expected base64 (RFC 4648, padded)");
  }
  sf::Item item{sf::BareItem(m.id), {}};
  item.params.emplace_back("kind", sf::BareItem(m.kind));
  item.params.emplace_back("start", sf::BareItem(m.start_ms));
  if (m.duration_ms) item.params.emplace_back("dur", sf::BareItem(*m.duration_ms));
  if (data) item.params.emplace_back("data", sf::BareItem(sf::ByteSequence{*data}));
  m.item = sf::serialize_item(item);
  if (m.item.size() > kLiveMarkersBytesMax) return make_error("marker larger than 4 KiB serialized");
  return m;
}

}  // namespace

Outcome Markers::handle(OriginThread& t, const RequestHead& head, const Route& route, std::string_view body) {
  const Registry& reg = ledger_.view(t.registry_view);
  const auto eit = reg.events.find(route.event);
  if (eit == reg.events.end()) return text_response(404, "unknown event", 0, "unknown-event");
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
  JournalEntry e;
  e.event = std::string(route.event);
  e.at_ms = core_.clock.now_ms();
  if (head.method == Method::del) {
    if (route.marker.empty()) {
      Response r = text_response(405, "DELETE needs a marker id in the path", 0);
      r.set("Allow", "GET, HEAD, POST");
      return r;
    }
    e.kind = JournalEntry::Kind::marker_delete;
    e.marker.id = std::string(route.marker);
  } else if (head.method == Method::post && route.marker.empty()) {
    auto parsed = parse_marker(body, *eit->second->config);
    if (!parsed) return text_response(400, parsed.error().message, 0);
    e.kind = JournalEntry::Kind::marker_put;
    e.marker = std::move(*parsed);
  } else {
    Response r = text_response(405, "method not allowed", 0);
    r.set("Allow", route.marker.empty() ? "GET, HEAD, POST" : "GET, HEAD, DELETE");
    return r;
  }
  if (core_.config.store.journaled()) return Append{std::move(e), Append::Then::respond, ZoneLabel::admin};
  Ledger::Writer w(ledger_);
  return e.kind == JournalEntry::Kind::marker_put ? apply_put(w, e) : apply_delete(w, e);
}

Response Markers::apply_delete(Ledger::Writer& w, const JournalEntry& e) {
  const auto current = w.registry().events.find(e.event);
  if (current == w.registry().events.end()) return text_response(404, "unknown event", 0, "unknown-event");
  auto next = std::make_shared<EventState>(*current->second);
  auto it = std::find_if(next->markers.begin(), next->markers.end(),
                         [&](const Marker& m) { return m.id == e.marker.id; });
  if (it == next->markers.end()) return text_response(404, "unknown marker", 0);
  const Marker gone = *it;
  next->markers.erase(it);
  int64_t version = 0;
  bump_served(w, *next, gone.start_ms, gone.end_ms(), version);
  w.replace_event(e.event, std::move(next));
  core_.metrics.count("liveorigin_marker_changes_total", "event=" + prom_label(e.event) + ",op=\"delete\"");
  return empty_response(204, 0);
}

Response Markers::apply_put(Ledger::Writer& w, const JournalEntry& e) {
  const auto current = w.registry().events.find(e.event);
  if (current == w.registry().events.end()) return text_response(404, "unknown event", 0, "unknown-event");
  const EventConfig& ec = *current->second->config;
  Marker m = e.marker;
  auto next = std::make_shared<EventState>(*current->second);
  m.seq = ++next->runtime->marker_seq;
  int64_t bumped = 0;
  int64_t version = 0;
  bool replaced = false;
  for (auto& old : next->markers) {
    if (old.id != m.id) continue;
    bumped += bump_served(w, *next, old.start_ms, old.end_ms(), version);
    old = m;
    replaced = true;
  }
  if (!replaced) {
    // Markers that ended before the oldest segment any stream still serves are dropped
    // (as of when the marker was posted, so every instance drops the same ones).
    int64_t oldest_ms = std::numeric_limits<int64_t>::max();
    for (const auto& s : ec.streams) {
      oldest_ms = std::min(oldest_ms, media_start_ms(s, dvr_floor(ec, s, live_edge(s, e.at_ms))));
    }
    std::erase_if(next->markers, [&](const Marker& x) { return x.end_ms() <= oldest_ms; });
    if (static_cast<int64_t>(next->markers.size()) >= core_.config.markers_max) {
      return text_response(409, "the event already has markers_max (" + std::to_string(core_.config.markers_max) +
                                    ") markers in its DVR window", 0);
    }
    next->markers.push_back(m);
  }
  bumped += bump_served(w, *next, m.start_ms, m.end_ms(), version);
  w.replace_event(e.event, std::move(next));
  core_.metrics.count("liveorigin_marker_changes_total",
                      "event=" + prom_label(e.event) + ",op=" + prom_label(replaced ? "replace" : "create"));
  boost::json::object out = marker_json(m);
  out["versions_bumped"] = bumped;
  return json_response(replaced ? 200 : 201, out);
}

}  // namespace liveorigin
