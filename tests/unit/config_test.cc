#include "origin/core/config.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "origin/core/yaml_reader.h"

namespace liveorigin {
namespace {

OriginConfig parse_ok(const std::string& yaml) {
  auto c = parse_origin_config(yaml, "origin.yaml");
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
  return c.ok() ? std::move(*c) : OriginConfig{};
}

std::string parse_error(const std::string& yaml) {
  auto c = parse_origin_config(yaml, "origin.yaml");
  EXPECT_FALSE(c.ok()) << "parsed:\n" << yaml;
  return c.ok() ? std::string() : c.error().message;
}

// One event "e" with pipelines [a] and the given stream entries (YAML, 6-space indented items).
std::string one_event(const std::string& streams, const std::string& event_keys = "") {
  return "events:\n"
         "  - id: e\n"
         "    pipelines: [a]\n" +
         event_keys +
         "    streams:\n" + streams;
}

TEST(ConfigDefault, ReadmeExampleParses) {
  const OriginConfig c = parse_ok(kDefaultConfigYaml);
  EXPECT_EQ(c.listen, "127.0.0.1:8080");
  ASSERT_EQ(c.auth.ingest_tokens.size(), 1u);
  EXPECT_EQ(c.auth.ingest_tokens[0].token, "ingest-secret");
  EXPECT_TRUE(c.auth.ingest_tokens[0].events.empty());
  EXPECT_TRUE(c.auth.ingest_tokens[0].pipelines.empty());
  EXPECT_EQ(c.auth.admin_tokens, std::vector<std::string>{"admin-secret"});
  ASSERT_EQ(c.events.size(), 1u);
  const EventConfig& e = c.events[0];
  EXPECT_EQ(e.id, "final");
  ASSERT_EQ(e.pipelines.size(), 2u);
  EXPECT_EQ(e.pipelines[0].id, "a");
  EXPECT_EQ(e.pipelines[1].id, "b");
  EXPECT_EQ(e.dvr_window_s, 3600);
  ASSERT_EQ(e.streams.size(), 2u);
  EXPECT_EQ(e.streams[0].id, "video-1080p");
  EXPECT_EQ(e.streams[0].segment_duration_ms, 2000);
  EXPECT_EQ(e.streams[0].content_type, ContentType::video);
  EXPECT_EQ(e.streams[0].parsed_template.format(7), "7.m4s");
  EXPECT_EQ(e.streams[1].id, "audio-en");
  EXPECT_EQ(e.streams[1].content_type, ContentType::audio);
  EXPECT_EQ(e.dvr_segments(e.streams[1]), 1800);
}

TEST(ConfigDefault, EmptyFileIsAValidConfigWithoutEvents) {
  const OriginConfig c = parse_ok("");
  EXPECT_EQ(c.listen, "127.0.0.1:8080");
  EXPECT_EQ(c.hold_requests_max, 100000);
  EXPECT_EQ(c.drain_ms_max, 2000);
  EXPECT_TRUE(c.events.empty());
  EXPECT_TRUE(c.auth.ingest_tokens.empty());
}

struct DefaultsCase {
  int64_t d;
  int64_t dvr_window_s;
  int64_t dvr_segments;
};

TEST(ConfigDefaults, EveryStreamDefaultFollowsTheDuration) {
  const std::vector<DefaultsCase> cases = {
      {2000, 3600, 1800},
      {3000, 3600, 1200},
      {7000, 3600, 515},   // 3'600'000 / 7000 = 514.3: rounded up
      {6006, 3600, 600},   // 599.4
      {1001, 3600, 3597},  // 3596.4
      {3000, 10, 4},       // 3.3
      {2000, 1, 1},
      {4000, 1, 1},        // a window shorter than one segment keeps one
  };
  for (const auto& c : cases) {
    std::string keys;
    if (c.dvr_window_s != 3600) keys = "    dvr_window_s: " + std::to_string(c.dvr_window_s) + "\n";
    const OriginConfig cfg =
        parse_ok(one_event("      - id: v\n        segment_duration_ms: " + std::to_string(c.d) + "\n", keys));
    ASSERT_EQ(cfg.events.size(), 1u);
    const EventConfig& e = cfg.events[0];
    ASSERT_EQ(e.streams.size(), 1u);
    const StreamConfig& s = e.streams[0];
    SCOPED_TRACE("d=" + std::to_string(c.d));
    EXPECT_EQ(s.segment_duration_ms, c.d);
    EXPECT_EQ(s.hold_window_ms, c.d);
    EXPECT_EQ(s.hold_ms_max, 2 * c.d);
    EXPECT_EQ(s.pipeline_liveness_ms, 3 * c.d);
    EXPECT_EQ(e.dvr_window_s, c.dvr_window_s);
    EXPECT_EQ(e.dvr_segments(s), c.dvr_segments);
  }
}

TEST(ConfigDefaults, FixedDefaultsOfTheDesignTable) {
  const OriginConfig c = parse_ok(one_event("      - id: v\n"));
  ASSERT_EQ(c.events.size(), 1u);
  const EventConfig& e = c.events[0];
  const StreamConfig& s = e.streams.at(0);
  EXPECT_EQ(s.segment_duration_ms, 2000);
  EXPECT_EQ(s.segment_template, "$Number$.m4s");
  EXPECT_EQ(s.parsed_template.match("42.m4s"), 42);
  EXPECT_EQ(s.start_number, 0);
  EXPECT_EQ(s.availability_start_ms, 0);
  EXPECT_EQ(s.publish_latency_ms, 0);
  EXPECT_EQ(s.hold_window_ms, 2000);
  EXPECT_EQ(s.hold_ms_max, 4000);
  EXPECT_EQ(s.selection_grace_ms, 500);
  EXPECT_EQ(s.pipeline_liveness_ms, 6000);
  EXPECT_EQ(s.lookahead_segments, 10);
  EXPECT_EQ(s.ingest_ahead_segments, 2);
  EXPECT_EQ(s.live_window_segments, 3);
  EXPECT_EQ(s.content_type, ContentType::video);
  EXPECT_EQ(e.dvr_window_s, 3600);
  EXPECT_EQ(e.dvr_segments(s), 1800);
  EXPECT_EQ(e.pipelines.at(0).number_offset, 0);
  EXPECT_EQ(c.hold_requests_max, 100000);
}

TEST(ConfigStreams, ExplicitValuesOverrideDefaults) {
  const OriginConfig c = parse_ok(one_event(
      "      - id: audio-en\n"
      "        segment_duration_ms: 4000\n"
      "        segment_template: \"$RepresentationID$_$Number%05d$.m4a\"\n"
      "        start_number: 1\n"
      "        availability_start_ms: 1764063458000\n"
      "        publish_latency_ms: 250\n"
      "        hold_window_ms: 1500\n"
      "        hold_ms_max: 5000\n"
      "        selection_grace_ms: 0\n"
      "        pipeline_liveness_ms: 9000\n"
      "        lookahead_segments: 4\n"
      "        ingest_ahead_segments: 1\n"
      "        live_window_segments: 6\n"
      "        content_type: video\n",
      "    dvr_window_s: 120\n"));
  ASSERT_EQ(c.events.size(), 1u);
  const EventConfig& e = c.events[0];
  const StreamConfig& s = e.streams.at(0);
  EXPECT_EQ(s.segment_duration_ms, 4000);
  EXPECT_EQ(s.segment_template, "$RepresentationID$_$Number%05d$.m4a");
  EXPECT_EQ(s.parsed_template.format(12), "audio-en_00012.m4a");
  EXPECT_EQ(s.start_number, 1);
  EXPECT_EQ(s.availability_start_ms, 1'764'063'458'000);
  EXPECT_EQ(s.publish_latency_ms, 250);
  EXPECT_EQ(s.hold_window_ms, 1500);
  EXPECT_EQ(s.hold_ms_max, 5000);
  EXPECT_EQ(s.selection_grace_ms, 0);
  EXPECT_EQ(s.pipeline_liveness_ms, 9000);
  EXPECT_EQ(s.lookahead_segments, 4);
  EXPECT_EQ(s.ingest_ahead_segments, 1);
  EXPECT_EQ(s.live_window_segments, 6);
  EXPECT_EQ(s.content_type, ContentType::video);  // explicit wins over the "audio" name
  EXPECT_EQ(e.dvr_window_s, 120);
  EXPECT_EQ(e.dvr_segments(s), 30);
}

TEST(ConfigStreams, ContentTypeDefaultsFromTheId) {
  const OriginConfig c = parse_ok(one_event(
      "      - id: audio-en\n"
      "      - id: audio\n"
      "      - id: video-720p\n"
      "      - id: en-audio\n"
      "      - id: subs\n"
      "        content_type: audio\n"));
  const auto& streams = c.events.at(0).streams;
  ASSERT_EQ(streams.size(), 5u);
  EXPECT_EQ(streams[0].content_type, ContentType::audio);
  EXPECT_EQ(streams[1].content_type, ContentType::audio);
  EXPECT_EQ(streams[2].content_type, ContentType::video);
  EXPECT_EQ(streams[3].content_type, ContentType::video);
  EXPECT_EQ(streams[4].content_type, ContentType::audio);
}

TEST(ConfigPipelines, IdsOrMapsWithNumberOffset) {
  const std::string yaml =
      "events:\n"
      "  - id: e\n"
      "    pipelines: [a, {id: b, number_offset: -150}, {id: c}, {id: d, number_offset: 7}]\n"
      "    streams:\n"
      "      - id: v\n";
  const OriginConfig c = parse_ok(yaml);
  const EventConfig& e = c.events.at(0);
  ASSERT_EQ(e.pipelines.size(), 4u);
  EXPECT_EQ(e.pipelines[0].id, "a");
  EXPECT_EQ(e.pipelines[0].number_offset, 0);
  EXPECT_EQ(e.pipelines[1].id, "b");
  EXPECT_EQ(e.pipelines[1].number_offset, -150);
  EXPECT_EQ(e.pipelines[2].id, "c");
  EXPECT_EQ(e.pipelines[2].number_offset, 0);
  EXPECT_EQ(e.pipelines[3].id, "d");
  EXPECT_EQ(e.pipelines[3].number_offset, 7);
  EXPECT_EQ(e.pipeline_index("a"), 0);
  EXPECT_EQ(e.pipeline_index("c"), 2);
  EXPECT_EQ(e.pipeline_index("d"), 3);
  EXPECT_EQ(e.pipeline_index("z"), -1);
  EXPECT_EQ(e.pipeline_index(""), -1);
}

TEST(ConfigPipelines, EightAtMost) {
  const std::string eight =
      "events:\n  - id: e\n    pipelines: [a, b, c, d, e, f, g, h]\n    streams:\n      - id: v\n";
  EXPECT_EQ(parse_ok(eight).events.at(0).pipelines.size(), 8u);
  EXPECT_EQ(parse_error("events:\n  - id: e\n    pipelines: [a, b, c, d, e, f, g, h, i]\n"
                        "    streams:\n      - id: v\n"),
            "origin.yaml:3:16: events[0].pipelines: at most 8 pipelines");
}

TEST(ConfigAuth, IngestTokensAsStringsOrScopedMaps) {
  const OriginConfig c = parse_ok(
      "auth:\n"
      "  ingest_tokens:\n"
      "    - plain-token\n"
      "    - {token: scoped, events: [final, semi], pipelines: [a]}\n"
      "    - token: events-only\n"
      "      events: [final]\n"
      "  admin_tokens: [adm1, adm2]\n");
  const auto& t = c.auth.ingest_tokens;
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].token, "plain-token");
  EXPECT_TRUE(t[0].events.empty());
  EXPECT_TRUE(t[0].pipelines.empty());
  EXPECT_EQ(t[1].token, "scoped");
  EXPECT_EQ(t[1].events, (std::vector<std::string>{"final", "semi"}));
  EXPECT_EQ(t[1].pipelines, std::vector<std::string>{"a"});
  EXPECT_EQ(t[2].token, "events-only");
  EXPECT_EQ(t[2].events, std::vector<std::string>{"final"});
  EXPECT_TRUE(t[2].pipelines.empty());
  EXPECT_EQ(c.auth.admin_tokens, (std::vector<std::string>{"adm1", "adm2"}));
}

struct ErrorCase {
  const char* what;
  std::string yaml;
  std::string message;
};

TEST(ConfigErrors, NameSourceLineColumnPathAndProblem) {
  const std::string valid_id_rule = "is not a valid id (1-64 of A-Z a-z 0-9 . _ -, not starting with _ or .)";
  const std::vector<ErrorCase> cases = {
      {"unknown key", one_event("      - id: v\n        segment_duraton_ms: 2000\n"),
       "origin.yaml:6:9: events[0].streams[0].segment_duraton_ms: unknown key (expected one of: "
       "availability_start_ms, bandwidth_bps, codecs, content_type, hold_ms_max, hold_window_ms, id, "
       "ingest_ahead_segments, init_object, language, live_window_segments, lookahead_segments, "
       "pipeline_liveness_ms, publish_latency_ms, segment_duration_ms, segment_template, selection_grace_ms, "
       "start_number)"},
      {"wrong type", one_event("      - id: v\n        segment_duration_ms: two\n"),
       "origin.yaml:6:30: events[0].streams[0].segment_duration_ms: expected an integer in [1, 3600000], "
       "got 'two'"},
      {"out of range", one_event("      - id: v\n        segment_duration_ms: 0\n"),
       "origin.yaml:6:30: events[0].streams[0].segment_duration_ms: expected an integer in [1, 3600000], "
       "got '0'"},
      {"list for an integer", one_event("      - id: v\n        lookahead_segments: [1]\n"),
       "origin.yaml:6:29: events[0].streams[0].lookahead_segments: expected an integer in [0, 1000000], "
       "got a list"},
      {"list for a string", "listen: [1]\n", "origin.yaml:1:9: listen: expected a string, got a list"},
      {"missing stream id", one_event("      - segment_duration_ms: 2000\n"),
       "origin.yaml:5:9: events[0].streams[0].id: required key is missing"},
      {"missing token", "auth:\n  ingest_tokens:\n    - ok\n    - {events: [e]}\n",
       "origin.yaml:4:7: auth.ingest_tokens[1].token: required key is missing"},
      {"missing pipelines", "events:\n  - id: e\n    streams:\n      - id: v\n",
       "origin.yaml:2:5: events[0].pipelines: expected a list of 1 to 8 pipeline ids in rank order"},
      {"duplicate stream", one_event("      - id: v\n      - id: w\n      - id: v\n"),
       "origin.yaml:7:9: events[0].streams[2]: duplicate stream 'v'"},
      {"duplicate pipeline",
       "events:\n  - id: e\n    pipelines: [a, {id: a}]\n    streams:\n      - id: v\n",
       "origin.yaml:3:20: events[0].pipelines[1]: duplicate pipeline 'a'"},
      {"duplicate event",
       "events:\n  - id: e\n    pipelines: [a]\n    streams:\n      - id: v\n"
       "  - id: e\n    pipelines: [a]\n    streams:\n      - id: v\n",
       "origin.yaml:6:5: events[1]: duplicate event 'e'"},
      {"invalid stream id", one_event("      - id: v/1\n"),
       "origin.yaml:5:13: events[0].streams[0].id: 'v/1' " + valid_id_rule},
      {"invalid event id", "events:\n  - id: _e\n    pipelines: [a]\n    streams:\n      - id: v\n",
       "origin.yaml:2:9: events[0].id: '_e' " + valid_id_rule},
      {"invalid pipeline id",
       "events:\n  - id: e\n    pipelines: [a, 'b c']\n    streams:\n      - id: v\n",
       "origin.yaml:3:20: events[0].pipelines[1]: 'b c' " + valid_id_rule},
      {"unsupported template identifier",
       one_event("      - id: v\n        segment_template: \"$Time$.m4s\"\n"),
       "origin.yaml:6:27: events[0].streams[0].segment_template: unsupported identifier $Time$ "
       "(segments are located by $Number$)"},
      {"template without number", one_event("      - id: v\n        segment_template: seg.m4s\n"),
       "origin.yaml:6:27: events[0].streams[0].segment_template: no $Number$ in segment_template"},
      {"bad content type", one_event("      - id: v\n        content_type: text\n"),
       "origin.yaml:6:23: events[0].streams[0].content_type: expected video or audio"},
      {"unknown top-level key", "listen: 127.0.0.1:80\nevnts: []\n",
       "origin.yaml:2:1: evnts: unknown key (expected one of: auth, body_limit_bytes, body_timeout_ms, "
       "drain_ms_max, events, header_timeout_ms, hold_requests_max, idle_timeout_ms, ingest_listen, "
       "invalidations_max, listen, markers_max, overload, server_id, store, threads)"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(parse_error(c.yaml), c.message) << c.what;
  }
}

TEST(ConfigErrors, YamlSyntaxErrorsNameSourceLineAndColumn) {
  const std::string message = parse_error("listen: 127.0.0.1:8080\nevents: [\n");
  EXPECT_EQ(message.rfind("origin.yaml:3:1: ", 0), 0u) << message;
}

TEST(ConfigIds, ValidIdRule) {
  EXPECT_TRUE(is_valid_id("a"));
  EXPECT_TRUE(is_valid_id("video-1080p"));
  EXPECT_TRUE(is_valid_id("Final_2026.v2"));
  EXPECT_TRUE(is_valid_id("0"));
  EXPECT_TRUE(is_valid_id("a."));
  EXPECT_TRUE(is_valid_id("-a"));
  EXPECT_TRUE(is_valid_id(std::string(64, 'x')));
  EXPECT_FALSE(is_valid_id(std::string(65, 'x')));
  EXPECT_FALSE(is_valid_id(""));
  EXPECT_FALSE(is_valid_id("_timeline"));
  EXPECT_FALSE(is_valid_id(".hidden"));
  EXPECT_FALSE(is_valid_id(".."));
  EXPECT_FALSE(is_valid_id("a/b"));
  EXPECT_FALSE(is_valid_id("a b"));
  EXPECT_FALSE(is_valid_id("a%20b"));
  EXPECT_FALSE(is_valid_id("caf\xc3\xa9"));
}

TEST(ConfigEventJson, PathIdMayBeOmittedOrMustMatch) {
  const std::string body = R"({"pipelines": ["a", {"id": "b", "number_offset": 3}], "streams": [{"id": "v"}]})";
  auto omitted = parse_event_config(body, "request body", "final");
  ASSERT_TRUE(omitted.ok()) << omitted.error().message;
  EXPECT_EQ(omitted->id, "final");
  EXPECT_EQ(omitted->pipelines.at(1).number_offset, 3);
  EXPECT_EQ(omitted->streams.at(0).hold_window_ms, 2000);

  auto same = parse_event_config(R"({"id": "final", "pipelines": ["a"], "streams": [{"id": "v"}]})",
                                 "request body", "final");
  ASSERT_TRUE(same.ok()) << same.error().message;
  EXPECT_EQ(same->id, "final");

  auto other = parse_event_config(R"({"id": "other", "pipelines": ["a"], "streams": [{"id": "v"}]})",
                                  "request body", "final");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().message,
            "request body:1:8: id: 'other' does not match the event in the path ('final')");

  auto no_id = parse_event_config(body, "request body", "");
  ASSERT_FALSE(no_id.ok());
  EXPECT_EQ(no_id.error().message, "request body:1:1: id: required key is missing");
}

TEST(ConfigEventJson, JsonErrorsArePositioned) {
  auto unknown = parse_event_config(
      R"({"id":"final","pipelines":["a"],"streams":[{"id":"v"}],"extra":1})", "request body", "final");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message,
            "request body:1:56: extra: unknown key (expected one of: dvr_window_s, id, pipelines, streams)");

  auto bad_type = parse_event_config(
      R"({"id":"final","pipelines":["a"],"streams":[{"id":"v","segment_duration_ms":"2s"}]})",
      "request body", "");
  ASSERT_FALSE(bad_type.ok());
  EXPECT_EQ(bad_type.error().message,
            "request body:1:76: streams[0].segment_duration_ms: expected an integer in [1, 3600000], "
            "got '2s'");

  auto bad_id = parse_event_config(R"({"id":"x y","pipelines":["a"],"streams":[{"id":"v"}]})",
                                   "request body", "");
  ASSERT_FALSE(bad_id.ok());
  EXPECT_EQ(bad_id.error().message,
            "request body:1:7: id: 'x y' is not a valid id (1-64 of A-Z a-z 0-9 . _ -, not starting with _ "
            "or .)");

  auto not_a_map = parse_event_config("[1, 2]", "request body", "final");
  ASSERT_FALSE(not_a_map.ok());
  EXPECT_EQ(not_a_map.error().message, "request body:1:1: expected a map, got a list");
}

void expect_same_event(const EventConfig& a, const EventConfig& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.dvr_window_s, b.dvr_window_s);
  ASSERT_EQ(a.pipelines.size(), b.pipelines.size());
  for (size_t i = 0; i < a.pipelines.size(); ++i) {
    EXPECT_EQ(a.pipelines[i].id, b.pipelines[i].id);
    EXPECT_EQ(a.pipelines[i].number_offset, b.pipelines[i].number_offset);
  }
  ASSERT_EQ(a.streams.size(), b.streams.size());
  for (size_t i = 0; i < a.streams.size(); ++i) {
    const StreamConfig& x = a.streams[i];
    const StreamConfig& y = b.streams[i];
    SCOPED_TRACE(x.id);
    EXPECT_EQ(x.id, y.id);
    EXPECT_EQ(x.segment_duration_ms, y.segment_duration_ms);
    EXPECT_EQ(x.segment_template, y.segment_template);
    EXPECT_EQ(x.start_number, y.start_number);
    EXPECT_EQ(x.availability_start_ms, y.availability_start_ms);
    EXPECT_EQ(x.publish_latency_ms, y.publish_latency_ms);
    EXPECT_EQ(x.hold_window_ms, y.hold_window_ms);
    EXPECT_EQ(x.hold_ms_max, y.hold_ms_max);
    EXPECT_EQ(x.selection_grace_ms, y.selection_grace_ms);
    EXPECT_EQ(x.pipeline_liveness_ms, y.pipeline_liveness_ms);
    EXPECT_EQ(x.lookahead_segments, y.lookahead_segments);
    EXPECT_EQ(x.ingest_ahead_segments, y.ingest_ahead_segments);
    EXPECT_EQ(x.live_window_segments, y.live_window_segments);
    EXPECT_EQ(x.content_type, y.content_type);
    EXPECT_EQ(x.parsed_template.format(123), y.parsed_template.format(123));
  }
}

TEST(ConfigToJson, RoundTripsThroughTheAdminApi) {
  const OriginConfig c = parse_ok(
      "events:\n"
      "  - id: final\n"
      "    pipelines: [a, {id: b, number_offset: -42}]\n"
      "    dvr_window_s: 600\n"
      "    streams:\n"
      "      - id: video-1080p\n"
      "      - id: audio-en\n"
      "        segment_duration_ms: 1920\n"
      "        segment_template: \"$RepresentationID$-$Number%06d$.m4a\"\n"
      "        start_number: 1\n"
      "        availability_start_ms: 1764063458000\n"
      "        publish_latency_ms: 80\n"
      "        hold_window_ms: 900\n"
      "        hold_ms_max: 3000\n"
      "        selection_grace_ms: 250\n"
      "        pipeline_liveness_ms: 7000\n"
      "        lookahead_segments: 5\n"
      "        ingest_ahead_segments: 3\n"
      "        live_window_segments: 4\n"
      "        content_type: video\n");
  ASSERT_EQ(c.events.size(), 1u);
  const EventConfig& original = c.events[0];
  const std::string text = boost::json::serialize(to_json(original));
  auto back = parse_event_config(text, "request body", "final");
  ASSERT_TRUE(back.ok()) << back.error().message << "\n" << text;
  expect_same_event(original, *back);
  // And again without a path id: the id is in the JSON.
  auto again = parse_event_config(text, "request body", "");
  ASSERT_TRUE(again.ok()) << again.error().message;
  expect_same_event(original, *again);
}

TEST(ConfigToJson, ShowsResolvedDefaults) {
  const OriginConfig c = parse_ok(one_event("      - id: v\n        segment_duration_ms: 3000\n"));
  const boost::json::value j = to_json(c.events.at(0));
  const auto& o = j.as_object();
  EXPECT_EQ(o.at("id").as_string(), "e");
  EXPECT_EQ(o.at("dvr_window_s").as_int64(), 3600);
  const auto& p = o.at("pipelines").as_array().at(0).as_object();
  EXPECT_EQ(p.at("id").as_string(), "a");
  EXPECT_EQ(p.at("number_offset").as_int64(), 0);
  const auto& s = o.at("streams").as_array().at(0).as_object();
  EXPECT_EQ(s.at("id").as_string(), "v");
  EXPECT_EQ(s.at("segment_duration_ms").as_int64(), 3000);
  EXPECT_EQ(s.at("segment_template").as_string(), "$Number$.m4s");
  EXPECT_EQ(s.at("start_number").as_int64(), 0);
  EXPECT_EQ(s.at("availability_start_ms").as_int64(), 0);
  EXPECT_EQ(s.at("publish_latency_ms").as_int64(), 0);
  EXPECT_EQ(s.at("hold_window_ms").as_int64(), 3000);
  EXPECT_EQ(s.at("hold_ms_max").as_int64(), 6000);
  EXPECT_EQ(s.at("selection_grace_ms").as_int64(), 500);
  EXPECT_EQ(s.at("pipeline_liveness_ms").as_int64(), 9000);
  EXPECT_EQ(s.at("lookahead_segments").as_int64(), 10);
  EXPECT_EQ(s.at("ingest_ahead_segments").as_int64(), 2);
  EXPECT_EQ(s.at("live_window_segments").as_int64(), 3);
  EXPECT_EQ(s.at("content_type").as_string(), "video");
}

TEST(ConfigServerKeys, WrittenFileReadsBackTheSameSettings) {
  auto c = parse_origin_config(R"(listen: "[::1]:9000"
ingest_listen: 127.0.0.1:9001
threads: 3
server_id: "origin \"7\""
body_limit_bytes: 2048
hold_requests_max: 7
drain_ms_max: 11
header_timeout_ms: 12
body_timeout_ms: 13
idle_timeout_ms: 14
markers_max: 15
invalidations_max: 16
overload: {store_reads_max: 17, dvr_budget_rps: 18, background_budget_rps: 19, shed_ttl_ms: 20}
store: {url: memory, budget_bytes: 2097152}
auth:
  ingest_tokens: [a, {token: b, events: [final], pipelines: [p]}]
  admin_tokens: [z]
events:
  - {id: final, pipelines: [p, q], streams: [{id: video}]}
)",
                               "in.yaml");
  ASSERT_TRUE(c) << c.error().message;
  const std::string written = to_yaml(*c);
  auto back = parse_origin_config(written, "written.yaml");
  ASSERT_TRUE(back) << back.error().message << "\n" << written;
  EXPECT_TRUE(restart_only_changes(*c, *back).empty()) << written;
  EXPECT_EQ(back->ingest_listen, "127.0.0.1:9001");
  EXPECT_EQ(back->server_id, "origin \"7\"");
  EXPECT_EQ(back->overload.shed_ttl_ms, 20);
  ASSERT_EQ(back->auth.ingest_tokens.size(), 2u);
  EXPECT_EQ(back->auth.ingest_tokens[1].pipelines, std::vector<std::string>{"p"});
  ASSERT_EQ(back->events.size(), 1u);
  EXPECT_EQ(back->events[0].pipelines[1].id, "q");
}

TEST(ConfigServerKeys, ReloadNamesEverySettingThatNeedsARestart) {
  auto a = parse_origin_config("threads: 2\noverload: {shed_ttl_ms: 10}\n", "a.yaml");
  auto b = parse_origin_config("threads: 3\noverload: {shed_ttl_ms: 11}\nstore: {budget_bytes: 2097152}\n", "b.yaml");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(restart_only_changes(*a, *b),
            (std::vector<std::string>{"threads", "overload.shed_ttl_ms", "store.budget_bytes"}));
}

TEST(ConfigErrors, DuplicateKeysAreRefusedWhereTheSecondOneIs) {
  auto c = parse_origin_config("threads: 2\nlisten: 127.0.0.1:0\nthreads: 3\n", "dup.yaml");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message, "dup.yaml:3:1: threads: duplicate key 'threads'");
  auto nested = parse_origin_config("overload:\n  shed_ttl_ms: 1\n  shed_ttl_ms: 2\n", "dup.yaml");
  ASSERT_FALSE(nested);
  EXPECT_EQ(nested.error().message, "dup.yaml:3:3: overload.shed_ttl_ms: duplicate key 'shed_ttl_ms'");
  auto body = parse_event_config(R"({"id": "x", "id": "y", "pipelines": [a], "streams": [{id: v}]})", "request body", "");
  ASSERT_FALSE(body);
  EXPECT_NE(body.error().message.find("id: duplicate key 'id'"), std::string::npos) << body.error().message;
}

TEST(ConfigErrors, StoreUrlsNameWhatIsExpected) {
  auto c = parse_origin_config("store: {url: floppy}\n", "s.yaml");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message,
            "s.yaml:1:14: store.url: expected memory, sqlite:PATH, redis://host:port or "
            "redis-cluster://host:port,host:port,..., got 'floppy'");
  auto port = parse_origin_config("store: {url: \"redis://127.0.0.1:99999\"}\n", "s.yaml");
  ASSERT_FALSE(port);
  EXPECT_NE(port.error().message.find("('127.0.0.1:99999' is not host:port)"), std::string::npos);
  auto sync = parse_origin_config("store: {sqlite_synchronous: off}\n", "s.yaml");
  ASSERT_FALSE(sync);
  EXPECT_NE(sync.error().message.find("unknown store sqlite_synchronous 'off' (available: full, normal)"),
            std::string::npos)
      << sync.error().message;
  auto u = StoreUrl::parse("redis-cluster://127.0.0.1:7000,[::1]:7001,localhost:7002");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->nodes.size(), 3u);
  EXPECT_EQ(u->nodes[1].first, "[::1]");
  EXPECT_EQ(u->nodes[2].second, 7002);
  EXPECT_EQ(StoreUrl::parse("sqlite:///var/lib/x.db")->path, "/var/lib/x.db");
  EXPECT_EQ(StoreUrl::parse("sqlite:relative.db")->path, "relative.db");
}

TEST(ConfigYamlReader, ReadsTypedValuesAndRejectsUnreadKeys) {
  const YAML::Node root = yaml::load("n: 5\nf: 1.5\nb: true\nl: [x, y]\ns: hi\nextra: 1\n", "t.yaml");
  yaml::MapReader r(root, yaml::Location{"t.yaml", ""});
  EXPECT_TRUE(r.has("n"));
  EXPECT_FALSE(r.has("missing"));
  EXPECT_EQ(r.integer("n", std::nullopt, 0, 10), 5);
  EXPECT_EQ(r.integer("absent", 7, 0, 10), 7);
  EXPECT_EQ(r.optional_integer("absent2", 0, 10), std::nullopt);
  EXPECT_DOUBLE_EQ(r.number("f", std::nullopt, 0, 2), 1.5);
  EXPECT_TRUE(r.boolean("b", std::nullopt));
  EXPECT_EQ(r.string_list("l"), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(r.string("s"), "hi");
  try {
    r.finish();
    ADD_FAILURE() << "finish() accepted an unread key";
  } catch (const yaml::ParseError& e) {
    EXPECT_EQ(std::string(e.what()),
              "t.yaml:6:1: extra: unknown key (expected one of: absent, absent2, b, f, l, n, s)");
  }
}

TEST(ConfigYamlReader, RangeAndTypeErrors) {
  const YAML::Node root = yaml::load("n: 11\nb: yes\nf: nan\n", "t.yaml");
  yaml::MapReader r(root, yaml::Location{"t.yaml", "top"});
  auto message = [](auto&& fn) -> std::string {
    try {
      fn();
    } catch (const yaml::ParseError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_EQ(message([&] { (void)r.integer("n", std::nullopt, 0, 10); }),
            "t.yaml:1:4: top.n: expected an integer in [0, 10], got '11'");
  EXPECT_EQ(message([&] { (void)r.boolean("b", std::nullopt); }),
            "t.yaml:2:4: top.b: expected true or false, got 'yes'");
  EXPECT_EQ(message([&] { (void)r.number("f", std::nullopt, 0, 1); }).rfind("t.yaml:3:4: top.f: expected a number", 0),
            0u);
  EXPECT_EQ(message([&] { (void)r.string("absent"); }), "t.yaml:1:1: top.absent: required key is missing");
}

}  // namespace
}  // namespace liveorigin
