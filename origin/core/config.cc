#include "origin/core/config.h"

#include <algorithm>
#include <charconv>
#include <set>
#include <utility>

#include <boost/json.hpp>

#include "origin/core/yaml_reader.h"

namespace liveorigin {

namespace {

using yaml::indexed;
using yaml::Location;
using yaml::MapReader;

constexpr int64_t kMaxMs = int64_t{1} << 50;  // far beyond any real value, never overflows math
constexpr int64_t kHourMs = 3'600'000;

void check_id(const YAML::Node& node, const Location& where, const std::string& id) {
  if (!is_valid_id(id)) {
    yaml::fail(node, where,
               "'" + id + "' is not a valid id (1-64 of A-Z a-z 0-9 . _ -, not starting with _ or .)");
  }
}

StreamConfig parse_stream(const YAML::Node& node, const Location& where) {
  MapReader r(node, where);
  StreamConfig s;
  s.id = r.string("id");
  check_id(r.node("id"), r.child("id"), s.id);
  s.segment_duration_ms = r.integer("segment_duration_ms", 2000, 1, kHourMs);
  const int64_t d = s.segment_duration_ms;
  s.segment_template = r.string("segment_template", std::string("$Number$.m4s"));
  auto tmpl = SegmentTemplate::parse(s.segment_template, s.id);
  if (!tmpl) yaml::fail(r.node("segment_template"), r.child("segment_template"), tmpl.error().message);
  s.parsed_template = std::move(*tmpl);
  s.start_number = r.integer("start_number", 0, 0, kMaxMs);
  s.availability_start_ms = r.integer("availability_start_ms", 0, 0, kMaxMs);
  s.publish_latency_ms = r.integer("publish_latency_ms", 0, 0, kHourMs);
  s.hold_window_ms = r.integer("hold_window_ms", d, 0, kHourMs);
  s.hold_ms_max = r.integer("hold_ms_max", 2 * d, 0, kHourMs);
  s.selection_grace_ms = r.integer("selection_grace_ms", 500, 0, kHourMs);
  s.pipeline_liveness_ms = r.integer("pipeline_liveness_ms", 3 * d, 1, kHourMs * 24);
  s.lookahead_segments = r.integer("lookahead_segments", 10, 0, 1'000'000);
  s.ingest_ahead_segments = r.integer("ingest_ahead_segments", 2, 0, 1'000'000);
  s.live_window_segments = r.integer("live_window_segments", 3, 0, 1'000'000);
  const bool audio_by_name = s.id.starts_with("audio");
  const std::string type = r.string("content_type", std::string(audio_by_name ? "audio" : "video"));
  if (type == "video") {
    s.content_type = ContentType::video;
  } else if (type == "audio") {
    s.content_type = ContentType::audio;
  } else {
    yaml::fail(r.node("content_type"), r.child("content_type"), "expected video or audio");
  }
  s.codecs = r.string("codecs", std::string());
  s.bandwidth_bps = r.integer("bandwidth_bps", 0, 0, int64_t{1} << 40);
  s.language = r.string("language", std::string());
  s.init_object = r.string("init_object", std::string());
  if (!s.init_object.empty() && (s.init_object.find('/') != std::string::npos || s.parsed_template.match(s.init_object))) {
    yaml::fail(r.node("init_object"), r.child("init_object"), "must be an object name that the segment template does not match");
  }
  r.finish();
  return s;
}

PipelineConfig parse_pipeline(const YAML::Node& node, const Location& where) {
  PipelineConfig p;
  if (node.IsScalar()) {
    p.id = yaml::scalar_string(node, where);
  } else {
    MapReader r(node, where);
    p.id = r.string("id");
    p.number_offset = r.integer("number_offset", 0, -kMaxMs, kMaxMs);
    r.finish();
  }
  check_id(node, where, p.id);
  return p;
}

EventConfig parse_event(const YAML::Node& node, const Location& where, std::string_view path_id) {
  MapReader r(node, where);
  EventConfig e;
  if (!path_id.empty()) {
    e.id = r.string("id", std::string(path_id));
    if (e.id != path_id) {
      yaml::fail(r.node("id"), r.child("id"),
                 "'" + e.id + "' does not match the event in the path ('" + std::string(path_id) + "')");
    }
  } else {
    e.id = r.string("id");
  }
  // Name the id key (at the event when the id came from the path), like stream ids.
  const YAML::Node id_node = r.node("id");
  check_id(id_node.IsNull() ? node : id_node, r.child("id"), e.id);

  const YAML::Node pipelines = r.node("pipelines");
  if (!pipelines.IsSequence() || pipelines.size() == 0) {
    yaml::fail(pipelines.IsNull() ? node : pipelines, r.child("pipelines"),
               "expected a list of 1 to 8 pipeline ids in rank order");
  }
  if (pipelines.size() > kMaxPipelines) {
    yaml::fail(pipelines, r.child("pipelines"), "at most 8 pipelines");
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < pipelines.size(); ++i) {
    PipelineConfig p = parse_pipeline(pipelines[i], indexed(r.child("pipelines"), i));
    if (!seen.insert(p.id).second) {
      yaml::fail(pipelines[i], indexed(r.child("pipelines"), i), "duplicate pipeline '" + p.id + "'");
    }
    e.pipelines.push_back(std::move(p));
  }

  e.dvr_window_s = r.integer("dvr_window_s", 3600, 1, 7 * 24 * 3600);

  const YAML::Node streams = r.node("streams");
  if (!streams.IsSequence() || streams.size() == 0) {
    yaml::fail(streams.IsNull() ? node : streams, r.child("streams"), "expected a list of streams");
  }
  seen.clear();
  for (size_t i = 0; i < streams.size(); ++i) {
    StreamConfig s = parse_stream(streams[i], indexed(r.child("streams"), i));
    if (!seen.insert(s.id).second) {
      yaml::fail(streams[i], indexed(r.child("streams"), i), "duplicate stream '" + s.id + "'");
    }
    e.streams.push_back(std::move(s));
  }
  r.finish();
  return e;
}

IngestToken parse_ingest_token(const YAML::Node& node, const Location& where) {
  IngestToken t;
  if (node.IsScalar()) {
    t.token = yaml::scalar_string(node, where);
  } else {
    MapReader r(node, where);
    t.token = r.string("token");
    t.events = r.string_list("events");
    t.pipelines = r.string_list("pipelines");
    r.finish();
  }
  if (t.token.empty()) yaml::fail(node, where, "empty token");
  return t;
}

}  // namespace

int64_t EventConfig::dvr_segments(const StreamConfig& s) const {
  return (dvr_window_s * 1000 + s.segment_duration_ms - 1) / s.segment_duration_ms;
}

int EventConfig::pipeline_index(std::string_view id) const {
  for (size_t i = 0; i < pipelines.size(); ++i) {
    if (pipelines[i].id == id) return static_cast<int>(i);
  }
  return -1;
}

bool is_valid_id(std::string_view id) {
  if (id.empty() || id.size() > 64 || id[0] == '_' || id[0] == '.') return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
  });
}

namespace {

// Every server-level key, once: its name in the file, where it lives, its bounds.
// Parsing, writing a config file (to_yaml) and reload's list of settings that need a
// restart all walk this one table; none of these keys is applied by a reload (events
// and tokens are). A new key is a member in config.h and a line here.
template <typename Config, typename Visitor>
void visit_server_keys(Config& c, Visitor& v) {
  v.text("listen", c.listen);
  v.text("ingest_listen", c.ingest_listen);
  v.integer("threads", c.threads, 0, 256);
  v.text("server_id", c.server_id);
  v.integer("body_limit_bytes", c.body_limit_bytes, 1024, int64_t{1} << 32);
  v.integer("hold_requests_max", c.hold_requests_max, 0, 10'000'000);
  v.integer("drain_ms_max", c.drain_ms_max, 0, kHourMs);
  v.integer("header_timeout_ms", c.header_timeout_ms, 1, kHourMs);
  v.integer("body_timeout_ms", c.body_timeout_ms, 1, kHourMs);
  v.integer("idle_timeout_ms", c.idle_timeout_ms, 1, kHourMs);
  v.integer("markers_max", c.markers_max, 1, 100000);
  v.integer("invalidations_max", c.invalidations_max, 1, 10'000'000);
  v.section("overload", [&] {
    v.integer("store_reads_max", c.overload.store_reads_max, 0, 10'000'000);
    v.integer("dvr_budget_rps", c.overload.dvr_budget_rps, 0, 100'000'000);
    v.integer("background_budget_rps", c.overload.background_budget_rps, 0, 100'000'000);
    v.integer("shed_ttl_ms", c.overload.shed_ttl_ms, 1, kHourMs);
  });
  v.section("store", [&] {
    v.store_url("url", c.store.url);
    v.integer("budget_bytes", c.store.budget_bytes, 1 << 20, int64_t{1} << 44);
    v.integer("chunk_bytes", c.store.chunk_bytes, 4096, 64 << 20);
    v.integer("hot_cache_bytes", c.store.hot_cache_bytes, 0, int64_t{1} << 44);
    v.integer("timeout_ms", c.store.timeout_ms, 1, kHourMs);
    v.choice("sqlite_synchronous", c.store.sqlite_synchronous, {"full", "normal"});
    v.integer("redis_wait_replicas", c.store.redis_wait_replicas, -1, 16);
  });
}

// Reads the keys from the file; a missing key keeps the member's default.
struct KeyReader {
  MapReader* r;
  std::string section_;  // "store " inside store:

  void text(const char* key, std::string& v) { v = r->string(key, v); }
  template <typename T>
  void integer(const char* key, T& v, int64_t min, int64_t max) {
    v = static_cast<T>(r->integer(key, static_cast<int64_t>(v), min, max));
  }
  void choice(const char* key, std::string& v, std::initializer_list<const char*> allowed) {
    v = r->string(key, v);
    std::vector<std::string> names(allowed.begin(), allowed.end());
    if (std::find(names.begin(), names.end(), v) == names.end()) {
      yaml::fail(r->node(key), r->child(key),
                 "unknown " + section_ + key + " '" + v + "' (available: " + yaml::join(names) + ")");
    }
  }
  void store_url(const char* key, std::string& v) {
    v = r->string(key, v);
    auto parsed = StoreUrl::parse(v);
    if (!parsed) yaml::fail(r->node(key), r->child(key), parsed.error().message);
  }
  template <typename F>
  void section(const char* key, F&& read) {
    MapReader inner(r->node(key), r->child(key));
    MapReader* outer = std::exchange(r, &inner);
    section_ = std::string(key) + " ";
    read();
    inner.finish();
    section_.clear();
    r = outer;
  }
};

// Each key as "section.name" and its value in YAML (strings quoted).
struct KeyLister {
  std::vector<std::pair<std::string, std::string>> keys;
  std::string prefix;

  static std::string quote(const std::string& s) {
    std::string out = "\"";
    for (char ch : s) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    return out + "\"";
  }
  void text(const char* key, const std::string& v) { keys.emplace_back(prefix + key, quote(v)); }
  template <typename T>
  void integer(const char* key, const T& v, int64_t, int64_t) {
    keys.emplace_back(prefix + key, std::to_string(v));
  }
  void choice(const char* key, const std::string& v, std::initializer_list<const char*>) { text(key, v); }
  void store_url(const char* key, const std::string& v) { text(key, v); }
  template <typename F>
  void section(const char* key, F&& list) {
    prefix = std::string(key) + ".";
    list();
    prefix.clear();
  }
};

std::vector<std::pair<std::string, std::string>> server_keys(const OriginConfig& c) {
  KeyLister lister;
  visit_server_keys(c, lister);
  return std::move(lister.keys);
}

}  // namespace

Result<OriginConfig> parse_origin_config(std::string_view text, std::string_view source) {
  return yaml::parse_document<OriginConfig>([&]() -> OriginConfig {
    const YAML::Node root = yaml::load(text, source);
    MapReader r(root, Location{std::string(source), ""});
    OriginConfig c;
    KeyReader keys{&r};
    visit_server_keys(c, keys);

    MapReader auth(r.node("auth"), r.child("auth"));
    const YAML::Node tokens = auth.node("ingest_tokens");
    if (!tokens.IsNull()) {
      if (!tokens.IsSequence()) yaml::fail(tokens, auth.child("ingest_tokens"), "expected a list");
      for (size_t i = 0; i < tokens.size(); ++i) {
        c.auth.ingest_tokens.push_back(
            parse_ingest_token(tokens[i], indexed(auth.child("ingest_tokens"), i)));
      }
    }
    c.auth.admin_tokens = auth.string_list("admin_tokens");
    auth.finish();

    const YAML::Node events = r.node("events");
    if (!events.IsNull() && !events.IsSequence()) {
      yaml::fail(events, r.child("events"), "expected a list of events");
    }
    std::set<std::string> seen;
    for (size_t i = 0; events.IsSequence() && i < events.size(); ++i) {
      EventConfig e = parse_event(events[i], indexed(r.child("events"), i), "");
      if (!seen.insert(e.id).second) {
        yaml::fail(events[i], indexed(r.child("events"), i), "duplicate event '" + e.id + "'");
      }
      c.events.push_back(std::move(e));
    }
    r.finish();
    return c;
  });
}

Result<EventConfig> parse_event_config(std::string_view text, std::string_view source,
                                       std::string_view path_id) {
  return yaml::parse_document<EventConfig>([&] {
    const YAML::Node root = yaml::load(text, source);
    return parse_event(root, Location{std::string(source), ""}, path_id);
  });
}

Result<StoreUrl> StoreUrl::parse(std::string_view url) {
  const std::string expected =
      "expected memory, sqlite:PATH, redis://host:port or redis-cluster://host:port,host:port,..., got '" +
      std::string(url) + "'";
  StoreUrl u;
  if (url == "memory") return u;
  if (url.starts_with("sqlite:")) {
    u.kind = Kind::sqlite;
    u.path = std::string(url.substr(7));
    if (u.path.starts_with("//")) u.path = u.path.substr(2);  // sqlite:///var/x.db reads as /var/x.db
    if (u.path.empty()) return make_error(expected + " (no path)");
    return u;
  }
  std::string_view rest;
  if (url.starts_with("redis://")) {
    u.kind = Kind::redis;
    rest = url.substr(8);
  } else if (url.starts_with("redis-cluster://")) {
    u.kind = Kind::redis_cluster;
    rest = url.substr(16);
  } else {
    return make_error(expected);
  }
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string_view node = rest.substr(0, comma);
    const size_t colon = node.rfind(':');
    unsigned port = 0;
    const std::string_view port_text = colon == std::string_view::npos ? "" : node.substr(colon + 1);
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (colon == std::string_view::npos || colon == 0 || ec != std::errc() || p != port_text.data() + port_text.size() ||
        port == 0 || port > 65535) {
      return make_error(expected + " ('" + std::string(node) + "' is not host:port)");
    }
    u.nodes.emplace_back(std::string(node.substr(0, colon)), static_cast<uint16_t>(port));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  if (u.nodes.empty()) return make_error(expected + " (no host:port)");
  if (u.kind == Kind::redis && u.nodes.size() != 1) {
    return make_error(expected + " (redis:// names one server; several are redis-cluster://)");
  }
  return u;
}

std::vector<std::string> restart_only_changes(const OriginConfig& running, const OriginConfig& next) {
  const auto a = server_keys(running);
  const auto b = server_keys(next);
  std::vector<std::string> changed;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].second != b[i].second) changed.push_back(a[i].first);
  }
  return changed;
}

std::string to_yaml(const OriginConfig& c) {
  std::string y;
  std::string section;
  for (const auto& [key, value] : server_keys(c)) {
    if (key == "ingest_listen" && value == "\"\"") continue;  // none
    const size_t dot = key.find('.');
    if (dot != std::string::npos && key.substr(0, dot) != section) {
      section = key.substr(0, dot);
      y += section + ":\n";
    }
    y += (dot == std::string::npos ? "" : "  ") + key.substr(dot == std::string::npos ? 0 : dot + 1) + ": " + value +
         "\n";
  }
  auto list = [](const std::vector<std::string>& items) {
    std::string out = "[";
    for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + KeyLister::quote(items[i]);
    return out + "]";
  };
  y += "auth:\n  ingest_tokens:\n";
  for (const auto& t : c.auth.ingest_tokens) {
    y += "    - {token: " + KeyLister::quote(t.token);
    if (!t.events.empty()) y += ", events: " + list(t.events);
    if (!t.pipelines.empty()) y += ", pipelines: " + list(t.pipelines);
    y += "}\n";
  }
  y += "  admin_tokens: " + list(c.auth.admin_tokens) + "\nevents:\n";
  // An event in its JSON form is valid YAML (flow style).
  for (const auto& e : c.events) y += "  - " + boost::json::serialize(to_json(e)) + "\n";
  return y;
}

boost::json::value to_json(const EventConfig& e) {
  boost::json::array pipelines;
  for (const auto& p : e.pipelines) {
    pipelines.push_back(boost::json::object{{"id", p.id}, {"number_offset", p.number_offset}});
  }
  boost::json::array streams;
  for (const auto& s : e.streams) {
    streams.push_back(boost::json::object{
        {"id", s.id},
        {"segment_duration_ms", s.segment_duration_ms},
        {"segment_template", s.segment_template},
        {"start_number", s.start_number},
        {"availability_start_ms", s.availability_start_ms},
        {"publish_latency_ms", s.publish_latency_ms},
        {"hold_window_ms", s.hold_window_ms},
        {"hold_ms_max", s.hold_ms_max},
        {"selection_grace_ms", s.selection_grace_ms},
        {"pipeline_liveness_ms", s.pipeline_liveness_ms},
        {"lookahead_segments", s.lookahead_segments},
        {"ingest_ahead_segments", s.ingest_ahead_segments},
        {"live_window_segments", s.live_window_segments},
        {"content_type", s.content_type == ContentType::audio ? "audio" : "video"},
        {"codecs", s.codecs},
        {"bandwidth_bps", s.bandwidth_bps},
        {"language", s.language},
        {"init_object", s.init_object},
    });
  }
  return boost::json::object{{"id", e.id},
                             {"pipelines", std::move(pipelines)},
                             {"dvr_window_s", e.dvr_window_s},
                             {"streams", std::move(streams)}};
}

const char* const kDefaultConfigYaml = R"(# liveorigin's embedded default: the README's example.
listen: 127.0.0.1:8080
auth:
  ingest_tokens: [ingest-secret]
  admin_tokens: [admin-secret]
events:
  - id: final
    pipelines: [a, b]            # rank order, used to break ties
    dvr_window_s: 3600
    streams:
      - id: video-1080p
        segment_duration_ms: 2000
        segment_template: "$Number$.m4s"
        availability_start_ms: 0 # epoch locking
      - id: audio-en
        segment_duration_ms: 2000
)";

}  // namespace liveorigin
