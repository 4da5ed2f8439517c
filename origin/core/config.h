// Origin configuration: the YAML file of `liveorigin serve --config` and the JSON
// bodies of the admin events API share one shape and one parser. Every value here is
// resolved (the defaults of docs/http-api.md §3 applied), so the core never looks for "unset".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

#include "origin/core/result.h"
#include "origin/core/segment_template.h"

namespace liveorigin {

inline constexpr size_t kMaxPipelines = 8;

// CMSD object type of a stream's media segments (ot=v / ot=a).
enum class ContentType { video, audio };

struct StreamConfig {
  std::string id;
  int64_t segment_duration_ms = 2000;
  std::string segment_template = "$Number$.m4s";
  int64_t start_number = 0;
  int64_t availability_start_ms = 0;  // the Unix epoch: epoch-locked numbering
  int64_t publish_latency_ms = 0;
  int64_t hold_window_ms = 0;        // default: segment_duration_ms
  int64_t hold_ms_max = 0;           // default: 2 * segment_duration_ms
  int64_t selection_grace_ms = 500;
  int64_t pipeline_liveness_ms = 0;  // default: 3 * segment_duration_ms
  int64_t lookahead_segments = 10;
  int64_t ingest_ahead_segments = 2;
  int64_t live_window_segments = 3;
  ContentType content_type = ContentType::video;  // default: audio if the id starts with "audio"
  // For the manifests the origin generates (origin/core/manifests.h). Empty / 0: read
  // from the init segment (codecs, language), estimated from stored segments
  // (bandwidth), or the one plain object that parses as an init segment (init_object).
  std::string codecs;        // RFC 6381, e.g. "avc1.64001f"
  int64_t bandwidth_bps = 0;
  std::string language;      // e.g. "en"
  std::string init_object;   // e.g. "init-stream0.m4s"
  SegmentTemplate parsed_template;  // from segment_template, with $RepresentationID$ = id
};

struct PipelineConfig {
  std::string id;
  int64_t number_offset = 0;  // added to the number a pipeline PUTs (re-aligns a restarted encoder)
};

struct EventConfig {
  std::string id;
  std::vector<PipelineConfig> pipelines;  // rank order: earlier wins ties
  int64_t dvr_window_s = 3600;
  std::vector<StreamConfig> streams;

  // ceil(dvr_window_s * 1000 / d)
  int64_t dvr_segments(const StreamConfig& s) const;
  int pipeline_index(std::string_view id) const;  // -1 if unknown
};

struct IngestToken {
  std::string token;
  std::vector<std::string> events;     // empty: every event
  std::vector<std::string> pipelines;  // empty: every pipeline
};

struct AuthConfig {
  std::vector<IngestToken> ingest_tokens;
  std::vector<std::string> admin_tokens;
};

// Where objects and the shared state live (docs/storage.md).
struct StoreUrl {
  enum class Kind { memory, sqlite, redis, redis_cluster };
  Kind kind = Kind::memory;
  std::string path;  // sqlite
  std::vector<std::pair<std::string, uint16_t>> nodes;  // redis, redis-cluster: host, port

  // "memory", "sqlite:PATH", "redis://host:port", "redis-cluster://host:port,host:port,...".
  // Errors name the problem: "expected memory, sqlite:PATH, redis://host:port or ...".
  static Result<StoreUrl> parse(std::string_view url);
};

struct StoreConfig {
  // memory (the embedded default: one process, nothing kept across a restart),
  // sqlite:PATH (durable, embedded), redis://host:port or
  // redis-cluster://host:port,host:port,... (shared by every instance that names it).
  std::string url = "memory";
  int64_t budget_bytes = int64_t{4} << 30;     // memory: bytes of objects kept at most
  int64_t chunk_bytes = 256 * 1024;            // sqlite, redis: objects are written in chunks of this size
  int64_t hot_cache_bytes = int64_t{1} << 30;  // sqlite, redis: recent objects kept in memory in front
  int64_t timeout_ms = 2000;                   // a store operation not done by then has failed
  std::string sqlite_synchronous = "full";     // full: nothing acknowledged is lost, even on power loss
  int64_t redis_wait_replicas = -1;            // replicas a write must reach before it is acknowledged; -1: all
                                               // the primary has (at most 1)

  // Every store but memory keeps the shared state in a journal (origin/core/journal.h).
  bool journaled() const { return url != "memory"; }
};

// Request classes of docs/http-api.md §7.8, most important first.
enum class RequestClass : uint8_t { live, dvr, background };
inline constexpr size_t kRequestClasses = 3;

// When to shed dvr and background requests so live-edge traffic keeps its 200s.
struct OverloadConfig {
  // In-flight store reads beyond which background (above half of it) and then dvr
  // requests are shed; 0 disables the signal.
  int64_t store_reads_max = 256;
  // Requests per second each class may start; 0 is unlimited. live is never shed.
  int64_t dvr_budget_rps = 0;
  int64_t background_budget_rps = 0;
  // How long a shed answer is cached (Cache-Control max-age) and repeats of it are
  // answered from the suppression cache.
  int64_t shed_ttl_ms = 5000;
};

struct OriginConfig {
  std::string listen = "127.0.0.1:8080";
  std::string ingest_listen;  // empty: packagers use `listen`
  int threads = 0;  // 0: one per core
  std::string server_id = "liveorigin";
  int64_t body_limit_bytes = int64_t{64} << 20;
  int64_t hold_requests_max = 100000;
  int64_t drain_ms_max = 2000;
  int64_t header_timeout_ms = 10000;  // a request's head must arrive within this
  int64_t body_timeout_ms = 60000;    // and its body within this
  int64_t idle_timeout_ms = 60000;    // keep-alive connection with no request
  int64_t markers_max = 256;         // per event
  int64_t invalidations_max = 10000;  // feed entries kept per event
  AuthConfig auth;
  StoreConfig store;
  OverloadConfig overload;
  std::vector<EventConfig> events;
};

// Parses a whole origin config (YAML). `source` names the file in error messages,
// which read "origin.yaml:12:9: events[0].streams[1].segment_duration_ms: expected ...".
Result<OriginConfig> parse_origin_config(std::string_view text, std::string_view source);

// Parses one event (YAML or JSON, same shape as an entry of `events:`). When
// `path_id` is non-empty the body's `id` may be omitted and otherwise must equal it.
Result<EventConfig> parse_event_config(std::string_view text, std::string_view source,
                                       std::string_view path_id);

// Names of the settings that differ between `running` and `next` and that a running
// server does not apply (listen, threads, limits...): they need a restart.
std::vector<std::string> restart_only_changes(const OriginConfig& running, const OriginConfig& next);

// The config as a file `liveorigin serve --config` reads (every key; the harness
// writes one for a child origin).
std::string to_yaml(const OriginConfig& config);

// The resolved event as JSON (every key, defaults filled in), for GET /admin/events/{id}.
boost::json::value to_json(const EventConfig& event);

// Ids appear in URL paths: 1-64 of [A-Za-z0-9._-], not starting with '_' or '.'.
bool is_valid_id(std::string_view id);

// The example config of the README; `liveorigin serve` uses it when given no file.
extern const char* const kDefaultConfigYaml;

}  // namespace liveorigin
