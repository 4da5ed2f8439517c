#include "origin/core/config.h"

#include <algorithm>
#include <set>

#include <boost/json.hpp>

#include "origin/core/yaml_reader.h"

namespace liveorigin {

namespace {

using yaml::Location;
using yaml::MapReader;

constexpr int64_t kMaxMs = int64_t{1} << 50;  // far beyond any real value, never overflows math
constexpr int64_t kHourMs = 3'600'000;

Location indexed(const Location& where, size_t i) {
  Location l = where;
  l.path += "[" + std::to_string(i) + "]";
  return l;
}

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

Result<OriginConfig> parse_origin_config(std::string_view text, std::string_view source) {
  return yaml::parse_document<OriginConfig>([&]() -> OriginConfig {
    const YAML::Node root = yaml::load(text, source);
    MapReader r(root, Location{std::string(source), ""});
    OriginConfig c;
    c.listen = r.string("listen", c.listen);
    c.ingest_listen = r.string("ingest_listen", std::string());
    c.threads = static_cast<int>(r.integer("threads", 0, 0, 256));
    c.server_id = r.string("server_id", c.server_id);
    c.body_limit_bytes = r.integer("body_limit_bytes", c.body_limit_bytes, 1024, int64_t{1} << 32);
    c.hold_requests_max = r.integer("hold_requests_max", c.hold_requests_max, 0, 10'000'000);
    c.drain_ms_max = r.integer("drain_ms_max", c.drain_ms_max, 0, kHourMs);
    c.header_timeout_ms = r.integer("header_timeout_ms", c.header_timeout_ms, 1, kHourMs);
    c.body_timeout_ms = r.integer("body_timeout_ms", c.body_timeout_ms, 1, kHourMs);
    c.idle_timeout_ms = r.integer("idle_timeout_ms", c.idle_timeout_ms, 1, kHourMs);

    c.markers_max = r.integer("markers_max", c.markers_max, 1, 100000);
    c.invalidations_max = r.integer("invalidations_max", c.invalidations_max, 1, 10'000'000);

    MapReader overload(r.node("overload"), r.child("overload"));
    c.overload.store_reads_max = overload.integer("store_reads_max", c.overload.store_reads_max, 0, 10'000'000);
    c.overload.dvr_budget_rps = overload.integer("dvr_budget_rps", 0, 0, 100'000'000);
    c.overload.background_budget_rps = overload.integer("background_budget_rps", 0, 0, 100'000'000);
    c.overload.shed_ttl_ms = overload.integer("shed_ttl_ms", c.overload.shed_ttl_ms, 1, kHourMs);
    overload.finish();

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

    MapReader store(r.node("store"), r.child("store"));
    c.store.type = store.string("type", c.store.type);
    if (c.store.type != "memory") {
      yaml::fail(store.node("type"), store.child("type"), "unknown store type (available: memory)");
    }
    c.store.budget_bytes = store.integer("budget_bytes", c.store.budget_bytes, 1 << 20, int64_t{1} << 44);
    store.finish();

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

std::vector<std::string> restart_only_changes(const OriginConfig& c, const OriginConfig& next) {
  std::vector<std::string> restart;
  auto check = [&](const char* name, const auto& a, const auto& b) {
    if (a != b) restart.push_back(name);
  };
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
  return restart;
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
