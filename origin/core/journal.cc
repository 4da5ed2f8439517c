#include "origin/core/journal.h"

#include <boost/json.hpp>

namespace liveorigin {

namespace json = boost::json;

namespace {

constexpr const char* kKinds[] = {"candidate", "commit", "invalidate", "marker_put", "marker_delete", "event_put",
                                  "event_delete"};

json::value opt(const std::optional<int64_t>& v) { return v ? json::value(*v) : json::value(nullptr); }

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool sha_from_hex(std::string_view hex, Sha256& out) {
  if (hex.size() != out.size() * 2) return false;
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = hex_digit(hex[2 * i]);
    const int lo = hex_digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return true;
}

json::object init_json(const InitInfo& i) {
  return json::object{{"codecs", i.codecs},     {"handler", i.handler}, {"timescale", i.timescale},
                      {"language", i.language}, {"width", i.width},     {"height", i.height},
                      {"sample_rate", i.sample_rate}, {"channels", i.channels}};
}

// Reads fields of a decoded object; a missing or mistyped field throws with its name.
struct Fields {
  const json::object& o;

  const json::value& at(const char* k) const {
    const json::value* v = o.if_contains(k);
    if (!v) throw std::runtime_error(std::string("missing ") + k);
    return *v;
  }
  std::string text(const char* k) const {
    const json::value* v = o.if_contains(k);
    if (!v || v->is_null()) return {};
    if (!v->is_string()) throw std::runtime_error(std::string(k) + " is not a string");
    return std::string(v->as_string());
  }
  int64_t integer(const char* k) const {
    const json::value& v = at(k);
    if (!v.is_int64()) throw std::runtime_error(std::string(k) + " is not an integer");
    return v.as_int64();
  }
  std::optional<int64_t> maybe(const char* k) const {
    const json::value* v = o.if_contains(k);
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_int64()) throw std::runtime_error(std::string(k) + " is not an integer");
    return v->as_int64();
  }
};

}  // namespace

std::string encode(const JournalEntry& e) {
  json::object o{{"kind", kKinds[static_cast<int>(e.kind)]}, {"event", e.event}};
  switch (e.kind) {
    case JournalEntry::Kind::candidate: {
      const CandidateMeta& c = e.candidate;
      o["stream"] = e.stream;
      if (e.number) o["number"] = *e.number;
      else o["object"] = e.object;
      json::object m{{"pipeline", c.pipeline}, {"defects", c.defects}, {"sha256", to_hex(c.sha256.data(), 32)},
                     {"bytes", c.bytes},       {"arrived_ms", c.arrived_ms}, {"key", c.key}};
      if (c.init) m["init"] = init_json(*c.init);
      o["candidate"] = std::move(m);
      break;
    }
    case JournalEntry::Kind::commit:
      o["stream"] = e.stream;
      o["number"] = opt(e.number);
      o["pipeline"] = e.pipeline;
      o["reason"] = e.reason;
      o["at_ms"] = e.at_ms;
      break;
    case JournalEntry::Kind::invalidate:
      o["stream"] = e.stream;
      o["pipeline"] = e.pipeline;
      o["from"] = opt(e.from);
      o["to"] = opt(e.to);
      o["exclude"] = e.exclude ? json::value(*e.exclude) : json::value(nullptr);
      break;
    case JournalEntry::Kind::marker_put:
      o["at_ms"] = e.at_ms;
      o["marker"] = json::object{{"id", e.marker.id},
                                 {"kind", e.marker.kind},
                                 {"start_ms", e.marker.start_ms},
                                 {"duration_ms", opt(e.marker.duration_ms)},
                                 {"data", e.marker.data_b64},
                                 {"item", e.marker.item}};
      break;
    case JournalEntry::Kind::marker_delete:
      o["id"] = e.marker.id;
      break;
    case JournalEntry::Kind::event_put:
      o["config"] = e.config_json;
      break;
    case JournalEntry::Kind::event_delete:
      break;
  }
  return json::serialize(o);
}

Result<JournalEntry> decode_journal_entry(std::string_view text) {
  try {
    json::value v = json::parse(text);
    if (!v.is_object()) return make_error("journal entry: not an object");
    const Fields f{v.as_object()};
    JournalEntry e;
    const std::string kind = f.text("kind");
    bool known = false;
    for (int i = 0; i < static_cast<int>(std::size(kKinds)); ++i) {
      if (kind == kKinds[i]) {
        e.kind = static_cast<JournalEntry::Kind>(i);
        known = true;
      }
    }
    if (!known) return make_error("journal entry: unknown kind '" + kind + "'");
    e.event = f.text("event");
    e.stream = f.text("stream");
    e.number = f.maybe("number");
    e.object = f.text("object");
    switch (e.kind) {
      case JournalEntry::Kind::candidate: {
        const json::value& m = f.at("candidate");
        if (!m.is_object()) return make_error("journal entry: candidate is not an object");
        const Fields c{m.as_object()};
        CandidateMeta& meta = e.candidate;
        meta.pipeline = c.text("pipeline");
        meta.defects = c.text("defects");
        if (!sha_from_hex(c.text("sha256"), meta.sha256)) return make_error("journal entry: bad sha256");
        meta.bytes = c.integer("bytes");
        meta.arrived_ms = c.integer("arrived_ms");
        meta.key = c.text("key");
        if (const json::value* init = m.as_object().if_contains("init"); init && init->is_object()) {
          const Fields i{init->as_object()};
          InitInfo info;
          info.codecs = i.text("codecs");
          info.handler = i.text("handler");
          info.timescale = static_cast<uint32_t>(i.integer("timescale"));
          info.language = i.text("language");
          info.width = static_cast<int>(i.integer("width"));
          info.height = static_cast<int>(i.integer("height"));
          info.sample_rate = static_cast<int>(i.integer("sample_rate"));
          info.channels = static_cast<int>(i.integer("channels"));
          meta.init = std::move(info);
        }
        break;
      }
      case JournalEntry::Kind::commit:
        e.pipeline = f.text("pipeline");
        e.reason = f.text("reason");
        e.at_ms = f.integer("at_ms");
        break;
      case JournalEntry::Kind::invalidate: {
        e.pipeline = f.text("pipeline");
        e.from = f.maybe("from");
        e.to = f.maybe("to");
        const json::value& x = f.at("exclude");
        if (x.is_bool()) e.exclude = x.as_bool();
        break;
      }
      case JournalEntry::Kind::marker_put: {
        e.at_ms = f.integer("at_ms");
        const json::value& m = f.at("marker");
        if (!m.is_object()) return make_error("journal entry: marker is not an object");
        const Fields mk{m.as_object()};
        e.marker.id = mk.text("id");
        e.marker.kind = mk.text("kind");
        e.marker.start_ms = mk.integer("start_ms");
        e.marker.duration_ms = mk.maybe("duration_ms");
        e.marker.data_b64 = mk.text("data");
        e.marker.item = mk.text("item");
        break;
      }
      case JournalEntry::Kind::marker_delete:
        e.marker.id = f.text("id");
        break;
      case JournalEntry::Kind::event_put:
        e.config_json = f.text("config");
        break;
      case JournalEntry::Kind::event_delete:
        break;
    }
    return e;
  } catch (const std::exception& ex) {
    return make_error(std::string("journal entry: ") + ex.what());
  }
}

}  // namespace liveorigin
