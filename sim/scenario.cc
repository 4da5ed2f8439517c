#include "sim/scenario.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <set>
#include <sstream>
#include <stdexcept>

#include <boost/json.hpp>

#include "origin/core/base64.h"
#include "origin/core/yaml_reader.h"
#include "results/gate_spec.h"
#include "results/recorded_scenario.h"

namespace liveorigin::sim {

namespace {

using yaml::describe;
using yaml::enum_value;
using yaml::indexed;
using yaml::join;
using yaml::keyed;
using yaml::Location;
using yaml::MapReader;
using yaml::only_if;

constexpr int64_t kHourMs = 3'600'000;
constexpr int64_t kDayS = 86'400;
constexpr int64_t kWeekS = 7 * kDayS;
constexpr int64_t kMaxMs = int64_t{1} << 50;
constexpr int64_t kMiB = int64_t{1} << 20;

YAML::Node load_yaml(std::string_view text, std::string_view source);
constexpr int64_t kGiB = int64_t{1} << 30;
constexpr const char* kDefaultTemplate = "$Number$.m4s";

// ---------------------------------------------------------------------------------------
// Small helpers around the YAML reader.

std::string num(double v) { return yaml::format_number(v); }

template <typename E>
E enum_key(MapReader& r, std::string_view key, std::optional<E> fallback,
           std::initializer_list<std::pair<const char*, E>> values) {
  const YAML::Node n = r.node(key);
  if (n.IsNull()) {
    if (fallback) return *fallback;
    yaml::fail(r.self(), r.child(key), "required key is missing");
  }
  return enum_value(n, r.child(key), values);
}

void check_id(const YAML::Node& node, const Location& where, const std::string& id) {
  if (!is_valid_id(id)) {
    yaml::fail(node, where,
               "'" + id + "' is not a valid id (1-64 of A-Z a-z 0-9 . _ -, not starting with _ or .)");
  }
}

double probability(MapReader& r, std::string_view key, double fallback) {
  const YAML::Node n = r.node(key);
  if (n.IsNull()) return fallback;
  return yaml::scalar_number(n, r.child(key), 0, 1, "a probability in [0, 1]");
}

// A time in the run, "at_s": the run must still be going.
int64_t run_time_s(MapReader& r, std::string_view key, std::optional<int64_t> fallback,
                   int64_t run_s) {
  return r.integer(key, fallback, 0, run_s - 1);
}

// A duration that ends with the run when absent.
int64_t span_s(MapReader& r, int64_t at_s, int64_t run_s) {
  return r.integer("duration_s", std::max<int64_t>(1, run_s - at_s), 1, kWeekS);
}

bool printable_ascii(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

// A map from id to settings, in file order; `[x, y]` is short for `{x: {}, y: {}}`.
std::vector<std::pair<YAML::Node, YAML::Node>> id_map(const YAML::Node& node, const Location& where,
                                                      std::string_view what) {
  std::vector<std::pair<YAML::Node, YAML::Node>> out;
  if (node.IsMap()) {
    for (const auto& kv : node) out.emplace_back(kv.first, kv.second);
  } else if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) {
      if (!node[i].IsScalar()) {
        yaml::fail(node[i], indexed(where, i),
                   "expected a " + std::string(what) + " id, got " + describe(node[i]) +
                       " (settings go in the map form: " + std::string(what) + "_id: {...})");
      }
      out.emplace_back(node[i], YAML::Node());
    }
  } else {
    yaml::fail(node, where,
               "expected a map from " + std::string(what) + " id to its settings (or a list of ids), got " +
                   describe(node));
  }
  for (auto& [key, value] : out) {
    if (!key.IsScalar()) yaml::fail(key, where, "expected a " + std::string(what) + " id, got " + describe(key));
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Distributions.

constexpr const char* kDistributionKinds = "fixed, uniform, normal, lognormal, exponential";

bool parses_as_number(const YAML::Node& node) {
  if (!node.IsScalar() || node.Scalar().empty()) return false;
  const std::string& s = node.Scalar();
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

double positive(const YAML::Node& node, const Location& where, double max) {
  const double v = yaml::scalar_number(node, where, 0, max, "a number in (0, " + num(max) + "]");
  if (v <= 0) yaml::fail(node, where, "expected a number in (0, " + num(max) + "], got " + describe(node));
  return v;
}

// Values (fixed, uniform bounds, normal mean, lognormal median) lie in [min, max].
Distribution parse_distribution(const YAML::Node& node, const Location& where, double min, double max) {
  Distribution d;
  if (node.IsScalar()) {
    if (!parses_as_number(node)) {
      yaml::fail(node, where,
                 std::string("expected a number or a distribution (") + kDistributionKinds + "), got " +
                     describe(node));
    }
    d.kind = Distribution::Kind::fixed;
    d.a = yaml::scalar_number(node, where, min, max);
    return d;
  }
  if (!node.IsMap() || node.size() == 0) {
    yaml::fail(node, where,
               std::string("expected a number or a distribution (") + kDistributionKinds + "), got " +
                   (node.IsMap() ? std::string("an empty map") : describe(node)));
  }
  if (node.size() > 1) {
    auto it = node.begin();
    const std::string first = it->first.Scalar();
    ++it;
    yaml::fail(it->first, keyed(where, it->first.Scalar()),
               "one distribution per value, got '" + first + "' and '" + it->first.Scalar() + "'");
  }
  const auto kv = *node.begin();
  const std::string kind = kv.first.IsScalar() ? kv.first.Scalar() : std::string();
  const Location at = keyed(where, kind);
  const YAML::Node& p = kv.second;
  if (kind == "fixed") {
    d.kind = Distribution::Kind::fixed;
    d.a = yaml::scalar_number(p, at, min, max);
  } else if (kind == "uniform") {
    d.kind = Distribution::Kind::uniform;
    if (!p.IsSequence() || p.size() != 2) {
      yaml::fail(p, at, "expected [min, max], two numbers, got " + describe(p));
    }
    d.a = yaml::scalar_number(p[0], indexed(at, 0), min, max);
    d.b = yaml::scalar_number(p[1], indexed(at, 1), min, max);
    if (d.b < d.a) {
      yaml::fail(p[1], indexed(at, 1), "expected max >= min (" + num(d.a) + "), got " + describe(p[1]));
    }
  } else if (kind == "normal" || kind == "lognormal" || kind == "exponential") {
    // Unknown parameter names first (a typo is likelier than a forgotten key).
    MapReader r(p, at);
    const std::vector<const char*> names = kind == "normal"      ? std::vector<const char*>{"mean", "stddev"}
                                           : kind == "lognormal" ? std::vector<const char*>{"median", "p99"}
                                                                 : std::vector<const char*>{"mean"};
    std::vector<YAML::Node> values;
    for (const char* n : names) values.push_back(r.node(n));
    r.finish();
    for (size_t i = 0; i < names.size(); ++i) {
      if (values[i].IsNull()) yaml::fail(p, r.child(names[i]), "required key is missing");
    }
    if (kind == "normal") {
      d.kind = Distribution::Kind::normal;
      d.a = yaml::scalar_number(values[0], r.child("mean"), min, max);
      d.b = yaml::scalar_number(values[1], r.child("stddev"), 0, max - min, "a number in [0, " + num(max - min) + "]");
    } else if (kind == "lognormal") {
      d.kind = Distribution::Kind::lognormal;
      d.a = positive(values[0], r.child("median"), max);
      d.b = yaml::scalar_number(values[1], r.child("p99"), d.a, 1e15, "a number >= median (" + num(d.a) + ")");
    } else {
      d.kind = Distribution::Kind::exponential;
      d.a = positive(values[0], r.child("mean"), max);
    }
  } else {
    yaml::fail(kv.first, at, std::string("unknown distribution (expected one of: ") + kDistributionKinds + ")");
  }
  return d;
}

Distribution distribution(MapReader& r, std::string_view key, std::optional<Distribution> fallback,
                          double min, double max) {
  const YAML::Node n = r.node(key);
  if (n.IsNull()) {
    if (fallback) return *fallback;
    yaml::fail(r.self(), r.child(key), "required key is missing");
  }
  return parse_distribution(n, r.child(key), min, max);
}

// A value the distribution rarely exceeds (its 99th percentile; uniform and fixed: max).
double upper(const Distribution& d) {
  switch (d.kind) {
    case Distribution::Kind::fixed: return d.a;
    case Distribution::Kind::uniform: return d.b;
    case Distribution::Kind::normal: return d.a + 2.326 * d.b;
    case Distribution::Kind::lognormal: return d.b;
    case Distribution::Kind::exponential: return d.a * 4.605;  // ln(100)
  }
  return d.a;
}

// ---------------------------------------------------------------------------------------
// The performance model of virtual time (origin.model, and the calibration file).

// The `instance` and `store` maps over a base model: a key that is absent keeps the
// base's value (the defaults, or the calibration file's).
OriginModel::Instance parse_model_instance(const YAML::Node& node, const Location& where, OriginModel::Instance m) {
  MapReader r(node, where);
  m.workers = static_cast<int>(r.integer("workers", m.workers, 1, 4096));
  m.service_ms = distribution(r, "service_ms", m.service_ms, 0, 60'000);
  m.egress_gbps = r.number("egress_gbps", m.egress_gbps, 0.001, 100'000);
  m.ingest_workers = static_cast<int>(r.integer("ingest_workers", m.ingest_workers, 0, 4096));
  r.finish();
  return m;
}

OriginModel::Store parse_model_store(const YAML::Node& node, const Location& where, OriginModel::Store m) {
  MapReader r(node, where);
  m.read_ms = distribution(r, "read_ms", m.read_ms, 0, 60'000);
  m.write_ms = distribution(r, "write_ms", m.write_ms, 0, 60'000);
  m.journal_ms = distribution(r, "journal_ms", m.journal_ms, 0, 60'000);
  m.ops_per_s = r.number("ops_per_s", m.ops_per_s, 1, 1e12);
  m.hot_cache_hit_ratio = r.number("hot_cache_hit_ratio", m.hot_cache_hit_ratio, 0, 1);
  r.finish();
  return m;
}

void parse_model_sections(MapReader& r, OriginModel& m) {
  const YAML::Node inst = r.node("instance");
  if (!inst.IsNull()) m.instance = parse_model_instance(inst, r.child("instance"), m.instance);
  const YAML::Node store = r.node("store");
  if (!store.IsNull()) m.store = parse_model_store(store, r.child("store"), m.store);
}

// A key naming a file, relative to the scenario's directory; `at` gets the key's
// "file:line:col" for errors found when the file is read later.
std::string file_key(const YAML::Node& node, const Location& key, const Location& where, std::string& at) {
  const std::string c = yaml::scalar_string(node, key);
  if (c.empty()) yaml::fail(node, key, "expected a file name, got ''");
  std::filesystem::path p(c);
  if (p.is_relative()) p = std::filesystem::path(where.source).parent_path() / p;
  const YAML::Mark m = node.Mark();
  at = where.source + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
  return p.lexically_normal().string();
}

OriginModel parse_model(const YAML::Node& node, const Location& where, OriginModel base, std::string* where_out) {
  MapReader r(node, where);
  const YAML::Node cal = r.node("calibration");
  if (!cal.IsNull()) {
    std::string at;
    base.calibration_path = file_key(cal, r.child("calibration"), where, at);
    if (where_out) *where_out = at;
  }
  parse_model_sections(r, base);
  r.finish();
  return base;
}

// A calibration file (what `liveorigin calibrate` writes): {name, source, measured_on,
// instance: {...}, stores: {memory|sqlite|redis|redis-cluster: {...}}}; the store
// section that applies is the scenario's origin.store.
OriginModel parse_calibration_document(std::string_view text, std::string_view source, OriginSpec::Store store) {
  const YAML::Node root = load_yaml(text, source);
  const Location top{std::string(source), ""};
  MapReader r(root, top);
  OriginModel m;
  m.calibration_name = r.string("name", std::filesystem::path(std::string(source)).stem().string());
  (void)r.string("source", std::string());
  (void)r.string("measured_on", std::string());
  const YAML::Node inst = r.node("instance");
  if (!inst.IsNull()) m.instance = parse_model_instance(inst, r.child("instance"), m.instance);
  const YAML::Node stores = r.node("stores");
  if (!stores.IsNull()) {
    MapReader sr(stores, r.child("stores"));
    for (const char* kind : {"memory", "sqlite", "redis", "redis-cluster"}) {
      const YAML::Node one = sr.node(kind);
      if (one.IsNull()) continue;
      const OriginModel::Store parsed = parse_model_store(one, sr.child(kind), m.store);  // every kind is checked
      if (kind == std::string_view(store_name(store))) m.store = parsed;
    }
    sr.finish();
  }
  r.finish();
  return m;
}

// ---------------------------------------------------------------------------------------
// Sections.

OriginSpec parse_origin(const YAML::Node& node, const Location& where, int64_t run_s) {
  MapReader r(node, where);
  OriginSpec o;
  o.mode = enum_key<OriginSpec::Mode>(r, "mode", OriginSpec::Mode::in_process,
                                      {{"in-process", OriginSpec::Mode::in_process},
                                       {"child", OriginSpec::Mode::child},
                                       {"external", OriginSpec::Mode::external}});
  const bool external = o.mode == OriginSpec::Mode::external;
  const bool in_process = o.mode == OriginSpec::Mode::in_process;

  const YAML::Node url = only_if(r, "url", external, "only for mode external (the harness starts the origin itself)");
  if (external) {
    if (url.IsNull()) yaml::fail(node, r.child("url"), "required key is missing (mode external drives the origin at this URL)");
    o.url = yaml::scalar_string(url, r.child("url"));
    const bool ok = o.url.starts_with("http://") && o.url.size() > 7 && o.url[7] != '/' &&
                    std::none_of(o.url.begin(), o.url.end(), [](char c) { return c <= ' ' || c == 0x7f; });
    if (!ok) yaml::fail(url, r.child("url"), "expected an http:// URL such as http://127.0.0.1:8080, got " + describe(url));
    while (o.url.size() > 8 && o.url.back() == '/') o.url.pop_back();
  }

  const YAML::Node config = only_if(r, "config", !external, "only for mode in-process or child (an external origin has its own config)");
  if (!config.IsNull()) {
    o.config_path = file_key(config, r.child("config"), where, o.config_where);
  }
  const bool has_config = !o.config_path.empty();

  const YAML::Node create = only_if(r, "create_event", external, "only for mode external");
  if (!create.IsNull()) o.create_event = r.boolean("create_event", true);
  o.ingest_token = r.string("ingest_token", o.ingest_token);
  if (o.ingest_token.empty() || !printable_ascii(o.ingest_token)) {
    yaml::fail(r.node("ingest_token"), r.child("ingest_token"), "expected a non-empty token of printable ASCII");
  }
  o.admin_token = r.string("admin_token", o.admin_token);
  if (o.admin_token.empty() || !printable_ascii(o.admin_token)) {
    yaml::fail(r.node("admin_token"), r.child("admin_token"), "expected a non-empty token of printable ASCII");
  }

  const YAML::Node threads = only_if(r, "threads", !external && !has_config,
                                     external ? "only for mode in-process or child"
                                              : "not with origin.config (the file's threads applies)");
  if (!threads.IsNull()) o.threads = static_cast<int>(r.integer("threads", 1, 1, 256));

  const YAML::Node overload = only_if(r, "overload", !external && !has_config,
                                      external ? "only for mode in-process or child (configure the external origin itself)"
                                               : "not with origin.config (put overload in that file)");
  if (!overload.IsNull()) {
    MapReader ov(overload, r.child("overload"));
    OverloadConfig c;
    c.store_reads_max = ov.integer("store_reads_max", c.store_reads_max, 0, 10'000'000);
    c.dvr_budget_rps = ov.integer("dvr_budget_rps", c.dvr_budget_rps, 0, 100'000'000);
    c.background_budget_rps = ov.integer("background_budget_rps", c.background_budget_rps, 0, 100'000'000);
    c.shed_ttl_ms = ov.integer("shed_ttl_ms", c.shed_ttl_ms, 1, kHourMs);
    ov.finish();
    o.overload = c;
  }

  const YAML::Node old = r.node("storage_faults");
  if (!old.IsNull()) {
    yaml::fail(old, r.child("storage_faults"), "is now origin.faults (kinds store-slow, store-down, origin-kill)");
  }
  const YAML::Node instances = only_if(r, "instances", !external, "only for mode in-process or child");
  if (!instances.IsNull()) o.instances = static_cast<int>(r.integer("instances", 1, 1, 16));
  const YAML::Node store = only_if(r, "store", !external && !has_config,
                                   external ? "only for mode in-process or child (the external origin has its own)"
                                            : "not with origin.config (put store.url in that file)");
  if (!store.IsNull()) {
    o.store = enum_value<OriginSpec::Store>(store, r.child("store"),
                                            {{"memory", OriginSpec::Store::memory},
                                             {"sqlite", OriginSpec::Store::sqlite},
                                             {"redis", OriginSpec::Store::redis},
                                             {"redis-cluster", OriginSpec::Store::redis_cluster}});
  }
  const bool shared = o.store == OriginSpec::Store::redis || o.store == OriginSpec::Store::redis_cluster;
  if (o.instances > 1) {
    // In-process, several instances exist in virtual time only (run_scenario says so in
    // real time): each the real core, behind origin.model.
    if (!shared) {
      yaml::fail(instances, r.child("instances"),
                 "several instances share their state through the store: set origin.store: redis or redis-cluster");
    }
  }
  const YAML::Node faults = only_if(r, "faults", !external, "only for mode in-process or child");
  if (!faults.IsNull()) {
    if (!faults.IsSequence()) yaml::fail(faults, r.child("faults"), "expected a list, got " + describe(faults));
    for (size_t i = 0; i < faults.size(); ++i) {
      MapReader f(faults[i], indexed(r.child("faults"), i));
      OriginSpec::Fault of;
      of.kind = enum_key<OriginSpec::Fault::Kind>(f, "kind", std::nullopt,
                                                  {{"store-slow", OriginSpec::Fault::Kind::store_slow},
                                                   {"store-down", OriginSpec::Fault::Kind::store_down},
                                                   {"origin-kill", OriginSpec::Fault::Kind::origin_kill}});
      of.at_s = run_time_s(f, "at_s", std::nullopt, run_s);
      of.duration_s = span_s(f, of.at_s, run_s);
      const bool slow = of.kind == OriginSpec::Fault::Kind::store_slow;
      const bool kill = of.kind == OriginSpec::Fault::Kind::origin_kill;
      const YAML::Node delay = only_if(f, "delay_ms", slow, "only for kind store-slow");
      if (slow) {
        if (delay.IsNull()) yaml::fail(faults[i], f.child("delay_ms"), "required key is missing (kind store-slow)");
        of.delay_ms = f.integer("delay_ms", std::nullopt, 1, kHourMs);
      }
      const YAML::Node instance = only_if(f, "instance", kill, "only for kind origin-kill");
      if (kill) {
        of.instance = static_cast<int>(f.integer("instance", 1, 1, o.instances));
      } else if (!in_process && !shared) {
        yaml::fail(f.node("kind"), f.child("kind"),
                   "the store of child instances is slowed or stopped at the network: set origin.store: redis or redis-cluster");
      }
      (void)instance;
      f.finish();
      o.faults.push_back(of);
    }
  }
  const YAML::Node model = only_if(r, "model", in_process, "only for mode in-process (virtual time models the core's instances and store)");
  if (!model.IsNull()) {
    o.model = parse_model(model, r.child("model"), o.model, &o.model_where);
    o.model.given = true;
  }
  r.finish();
  return o;
}

EventSpec parse_event(const YAML::Node& node, const Location& where) {
  MapReader r(node, where);
  EventSpec e;
  e.id = r.string("id", e.id);
  check_id(r.node("id").IsNull() ? node : r.node("id"), r.child("id"), e.id);
  e.dvr_window_s = r.integer("dvr_window_s", e.dvr_window_s, 1, kWeekS);
  const YAML::Node streams = r.node("streams");
  if (streams.IsNull()) {
    e.streams.push_back(StreamSpec{"video", 2000, 3000, ContentType::video});
  } else {
    for (const auto& [key, value] : id_map(streams, r.child("streams"), "stream")) {
      const Location at = keyed(r.child("streams"), key.Scalar());
      StreamSpec s;
      s.id = key.Scalar();
      check_id(key, at, s.id);
      MapReader sr(value, at);
      s.segment_duration_ms = sr.integer("segment_duration_ms", 2000, 1, kHourMs);
      const bool audio_by_name = s.id.starts_with("audio");
      s.content_type = enum_key<ContentType>(sr, "content_type", audio_by_name ? ContentType::audio : ContentType::video,
                                             {{"video", ContentType::video}, {"audio", ContentType::audio}});
      s.bitrate_kbps = sr.integer("bitrate_kbps", s.content_type == ContentType::audio ? 128 : 3000, 1, 1'000'000);
      sr.finish();
      e.streams.push_back(std::move(s));
    }
    if (e.streams.empty()) yaml::fail(streams, r.child("streams"), "expected at least one stream");
  }
  // backfill_s is read by the caller once the viewers are known (its default depends on them).
  (void)r.node("backfill_s");
  r.finish();
  return e;
}

PipelineFault parse_fault(const YAML::Node& node, const Location& where, int64_t run_s) {
  MapReader r(node, where);
  PipelineFault f;
  f.kind = enum_key<PipelineFault::Kind>(r, "kind", std::nullopt,
                                         {{"outage", PipelineFault::Kind::outage},
                                          {"late", PipelineFault::Kind::late},
                                          {"defect_burst", PipelineFault::Kind::defect_burst},
                                          {"slow_upload", PipelineFault::Kind::slow_upload}});
  f.at_s = run_time_s(r, "at_s", std::nullopt, run_s);
  f.duration_s = span_s(r, f.at_s, run_s);
  const bool late = f.kind == PipelineFault::Kind::late;
  const bool burst = f.kind == PipelineFault::Kind::defect_burst;
  const bool slow = f.kind == PipelineFault::Kind::slow_upload;
  if (!only_if(r, "late_ms", late, "only for kind late").IsNull() || late) {
    f.late_ms = r.integer("late_ms", std::nullopt, 1, kHourMs);
  }
  if (!only_if(r, "defect", burst, "only for kind defect_burst").IsNull() || burst) {
    f.defect = enum_key<std::string>(r, "defect", std::nullopt,
                                     {{"missing_samples", "missing_samples"},
                                      {"missing_frames", "missing_frames"},
                                      {"short_segment", "short_segment"},
                                      {"discontinuity", "discontinuity"},
                                      {"corrupt", "corrupt"},
                                      {"transport_corruption", "transport_corruption"},
                                      {"missing_segment", "missing_segment"}});
  }
  if (!only_if(r, "probability", burst, "only for kind defect_burst").IsNull()) {
    f.probability = probability(r, "probability", 1.0);
  }
  if (!only_if(r, "upload_ms", slow, "only for kind slow_upload").IsNull() || slow) {
    f.upload_ms = r.integer("upload_ms", std::nullopt, 1, kHourMs);
  }
  r.finish();
  return f;
}

PipelineSpec parse_pipeline(const std::string& id, const YAML::Node& node, const Location& where, int64_t run_s) {
  MapReader r(node, where);
  PipelineSpec p;
  p.id = id;
  p.publish_latency_ms = distribution(r, "publish_latency_ms", p.publish_latency_ms, 0, kHourMs);
  MapReader d(r.node("defects"), r.child("defects"));
  p.defects.missing_samples = probability(d, "missing_samples", 0);
  p.defects.missing_frames = probability(d, "missing_frames", 0);
  p.defects.short_segment = probability(d, "short_segment", 0);
  p.defects.discontinuity = probability(d, "discontinuity", 0);
  p.defects.corrupt = probability(d, "corrupt", 0);
  p.defects.transport_corruption = probability(d, "transport_corruption", 0);
  p.defects.missing_segment = probability(d, "missing_segment", 0);
  p.defects.late_segment = probability(d, "late_segment", 0);
  p.defects.late_segment_ms = d.integer("late_segment_ms", p.defects.late_segment_ms, 1, kHourMs);
  d.finish();
  const YAML::Node faults = r.node("faults");
  if (!faults.IsNull() && !faults.IsSequence()) {
    yaml::fail(faults, r.child("faults"), "expected a list of faults, got " + describe(faults));
  }
  for (size_t i = 0; faults.IsSequence() && i < faults.size(); ++i) {
    p.faults.push_back(parse_fault(faults[i], indexed(r.child("faults"), i), run_s));
  }
  r.finish();
  return p;
}

std::vector<PipelineSpec> parse_pipelines(const YAML::Node& node, const Location& where, int64_t run_s) {
  std::vector<PipelineSpec> out;
  if (node.IsNull()) {
    out.push_back(PipelineSpec{.id = "a"});
    out.push_back(PipelineSpec{.id = "b"});
    return out;
  }
  const auto entries = id_map(node, where, "pipeline");
  if (entries.empty()) yaml::fail(node, where, "expected 1 to 8 pipelines");
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& [key, value] = entries[i];
    const Location at = keyed(where, key.Scalar());
    if (i == kMaxPipelines) yaml::fail(key, at, "at most 8 pipelines");
    check_id(key, at, key.Scalar());
    if (std::any_of(out.begin(), out.end(), [&](const PipelineSpec& p) { return p.id == key.Scalar(); })) {
      yaml::fail(key, at, "duplicate pipeline '" + key.Scalar() + "'");
    }
    out.push_back(parse_pipeline(key.Scalar(), value, at, run_s));
  }
  return out;
}

CdnSpec parse_cdn(const YAML::Node& node, const Location& where) {
  MapReader r(node, where);
  CdnSpec c;
  const YAML::Node tiers = r.node("tiers");
  std::map<std::string, YAML::Node> parent_nodes;
  if (tiers.IsNull()) {
    c.tiers.push_back(CdnTier{"edge", 2, ""});
  } else {
    const Location tw = r.child("tiers");
    if (tiers.IsSequence()) {
      yaml::fail(tiers, tw, "expected a map from tier name to {nodes, parent}, e.g. {shield: {nodes: 2}, edge: {nodes: 10, parent: shield}}");
    }
    for (const auto& [key, value] : id_map(tiers, tw, "tier")) {
      const Location at = keyed(tw, key.Scalar());
      CdnTier t;
      t.name = key.Scalar();
      check_id(key, at, t.name);
      if (t.name == "origin" || t.name == "viewer") {
        yaml::fail(key, at, "'" + t.name + "' is reserved (it names the origin or the viewers in results and gates)");
      }
      MapReader tr(value, at);
      t.nodes = tr.integer("nodes", 1, 1, 100'000);
      t.parent = tr.string("parent", std::string());
      if (t.parent == "origin") t.parent.clear();
      parent_nodes.emplace(t.name, tr.node("parent"));
      t.multiplicity = tr.integer("multiplicity", 1, 1, t.nodes);
      const YAML::Node rtt = only_if(tr, "origin_rtt_ms", t.parent.empty(), "only for a tier whose parent is the origin");
      if (!rtt.IsNull()) t.origin_rtt_ms = tr.integer("origin_rtt_ms", 0, 0, 10'000);
      if (t.nodes % t.multiplicity != 0) {
        yaml::fail(value["multiplicity"], keyed(at, "multiplicity"),
                   "must divide nodes (" + std::to_string(t.nodes) + "): each simulated node stands for the same number "
                   "of real ones");
      }
      tr.finish();
      c.tiers.push_back(std::move(t));
    }
    if (c.tiers.empty()) yaml::fail(tiers, tw, "expected at least one tier");
    auto find = [&](const std::string& name) -> const CdnTier* {
      for (const auto& t : c.tiers) {
        if (t.name == name) return &t;
      }
      return nullptr;
    };
    std::vector<std::string> names;
    for (const auto& t : c.tiers) names.push_back(t.name);
    for (const auto& t : c.tiers) {
      if (!t.parent.empty() && !find(t.parent)) {
        yaml::fail(parent_nodes.at(t.name), keyed(keyed(tw, t.name), "parent"),
                   "unknown tier '" + t.parent + "' (expected origin or one of: " + join(names) + ")");
      }
    }
    // A simulated node is the child of one parent node (i mod P): fewer simulated nodes
    // than the parent has would leave parents without children, and the load they carry
    // for real would vanish from the run.
    for (const auto& t : c.tiers) {
      const CdnTier* parent = t.parent.empty() ? nullptr : find(t.parent);
      if (parent && t.multiplicity > 1 && t.simulated_nodes() < parent->nodes) {
        yaml::fail(tiers[t.name]["multiplicity"], keyed(keyed(tw, t.name), "multiplicity"),
                   "leaves nodes of tier '" + parent->name + "' without children: " + std::to_string(t.nodes) + " / " +
                       std::to_string(t.multiplicity) + " = " + std::to_string(t.simulated_nodes()) +
                       " simulated nodes, each the child of one of its " + std::to_string(parent->nodes) +
                       " nodes; use a multiplicity of at most " + std::to_string(t.nodes / parent->nodes));
      }
    }
    // The first tier (in file order) that lies on a cycle of parents.
    for (const auto& t : c.tiers) {
      std::vector<std::string> chain{t.name};
      const CdnTier* at = &t;
      while (!at->parent.empty() && chain.size() <= c.tiers.size()) {
        chain.push_back(at->parent);
        if (at->parent == t.name) {
          yaml::fail(parent_nodes.at(t.name), keyed(keyed(tw, t.name), "parent"),
                     "tiers form a cycle (" + join(chain, " -> ") + "); every chain of parents must end at the origin");
        }
        at = find(at->parent);
      }
    }
  }
  MapReader f(r.node("features"), r.child("features"));
  CdnFeatures& x = c.features;
  x.cache = f.boolean("cache", x.cache);
  x.collapsing = f.boolean("collapsing", x.collapsing);
  x.filtering = f.boolean("filtering", x.filtering);
  x.hold = f.boolean("hold", x.hold);
  x.invalidation_feed = f.boolean("invalidation_feed", x.invalidation_feed);
  x.retry_after_hint = f.boolean("retry_after_hint", x.retry_after_hint);
  x.fixed_retry_ms = f.integer("fixed_retry_ms", x.fixed_retry_ms, 1, kHourMs);
  x.feed_interval_ms = f.integer("feed_interval_ms", x.feed_interval_ms, 10, kHourMs);
  x.timeline_interval_ms = f.integer("timeline_interval_ms", x.timeline_interval_ms, 10, kHourMs);
  f.finish();
  r.finish();
  return c;
}

std::vector<ViewerCohort> parse_viewers(const YAML::Node& node, const Location& where, int64_t run_s,
                                        const EventSpec& event) {
  std::vector<ViewerCohort> out;
  if (node.IsNull()) {
    out.push_back(ViewerCohort{.name = "live"});
    return out;
  }
  if (node.IsSequence()) {
    yaml::fail(node, where, "expected a map from cohort name to its settings, e.g. {live: {count: 1000}}");
  }
  std::vector<std::string> stream_ids;
  for (const auto& s : event.streams) stream_ids.push_back(s.id);
  for (const auto& [key, value] : id_map(node, where, "cohort")) {
    const Location at = keyed(where, key.Scalar());
    ViewerCohort v;
    v.name = key.Scalar();
    check_id(key, at, v.name);
    MapReader r(value, at);
    v.behaviour = enum_key<ViewerCohort::Behaviour>(r, "behaviour", ViewerCohort::Behaviour::live,
                                                    {{"live", ViewerCohort::Behaviour::live},
                                                     {"dvr", ViewerCohort::Behaviour::dvr},
                                                     {"early", ViewerCohort::Behaviour::early}});
    v.count = r.integer("count", v.count, 1, 100'000'000);
    v.join_at_s = run_time_s(r, "join_at_s", 0, run_s);
    v.join_ramp_s = r.integer("join_ramp_s", 0, 0, kDayS);
    if (auto leave = r.optional_integer("leave_at_s", v.join_at_s + 1, kWeekS)) v.leave_at_s = *leave;
    const bool dvr = v.behaviour == ViewerCohort::Behaviour::dvr;
    const bool early = v.behaviour == ViewerCohort::Behaviour::early;
    const YAML::Node skew = only_if(r, "clock_skew_ms", !dvr, "only for behaviour live or early (a DVR viewer's position is dvr_offset_s)");
    if (early && skew.IsNull()) {
      yaml::fail(value, r.child("clock_skew_ms"), "required key is missing (how far ahead an early cohort asks, e.g. {normal: {mean: 4000, stddev: 1500}})");
    }
    v.clock_skew_ms = distribution(r, "clock_skew_ms", v.clock_skew_ms, -kHourMs, kHourMs);
    only_if(r, "dvr_offset_s", dvr, "only for behaviour dvr");
    v.dvr_offset_s = distribution(r, "dvr_offset_s", v.dvr_offset_s, 0, static_cast<double>(kWeekS));
    const YAML::Node streams = r.node("streams");
    v.streams = r.string_list("streams");
    for (size_t i = 0; i < v.streams.size(); ++i) {
      if (std::find(stream_ids.begin(), stream_ids.end(), v.streams[i]) == stream_ids.end()) {
        yaml::fail(streams[i], indexed(r.child("streams"), i),
                   "unknown stream '" + v.streams[i] + "' (the event's streams: " + join(stream_ids) + ")");
      }
      if (std::find(v.streams.begin(), v.streams.begin() + static_cast<long>(i), v.streams[i]) !=
          v.streams.begin() + static_cast<long>(i)) {
        yaml::fail(streams[i], indexed(r.child("streams"), i), "duplicate stream '" + v.streams[i] + "'");
      }
    }
    v.invalid_request_ratio = probability(r, "invalid_request_ratio", 0);
    v.background_ratio = probability(r, "background_ratio", 0);
    r.finish();
    out.push_back(std::move(v));
  }
  return out;
}

std::vector<MarkerAction> parse_markers(const YAML::Node& node, const Location& where, int64_t run_s) {
  std::vector<MarkerAction> out;
  if (node.IsNull()) return out;
  if (!node.IsSequence()) yaml::fail(node, where, "expected a list of markers, got " + describe(node));
  for (size_t i = 0; i < node.size(); ++i) {
    MapReader r(node[i], indexed(where, i));
    MarkerAction m;
    m.at_s = run_time_s(r, "at_s", std::nullopt, run_s);
    m.id = r.string("id");
    if (m.id.empty() || m.id.size() > 256 || !printable_ascii(m.id)) {
      yaml::fail(r.node("id"), r.child("id"), "expected 1 to 256 printable ASCII characters, got " + describe(r.node("id")));
    }
    m.kind = r.string("kind", m.kind);
    if (m.kind.empty() || m.kind.size() > 64 || !printable_ascii(m.kind)) {
      yaml::fail(r.node("kind"), r.child("kind"), "expected 1 to 64 printable ASCII characters, got " + describe(r.node("kind")));
    }
    m.start_offset_ms = r.integer("start_offset_ms", 0, -kWeekS * 1000, kWeekS * 1000);
    m.duration_ms = r.optional_integer("duration_ms", 1, int64_t{1} << 40);
    m.data_b64 = r.string("data", std::string());
    if (!m.data_b64.empty() && !base64_decode(m.data_b64)) {
      yaml::fail(r.node("data"), r.child("data"), "expected base64 (RFC 4648, padded), got " + describe(r.node("data")));
    }
    r.finish();
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<InvalidationAction> parse_invalidations(const YAML::Node& node, const Location& where, int64_t run_s,
                                                    const EventSpec& event,
                                                    const std::vector<PipelineSpec>& pipelines) {
  std::vector<InvalidationAction> out;
  if (node.IsNull()) return out;
  if (!node.IsSequence()) yaml::fail(node, where, "expected a list of invalidations, got " + describe(node));
  std::vector<std::string> stream_ids, pipeline_ids;
  for (const auto& s : event.streams) stream_ids.push_back(s.id);
  for (const auto& p : pipelines) pipeline_ids.push_back(p.id);
  constexpr int64_t kMaxOffset = 100'000'000;
  for (size_t i = 0; i < node.size(); ++i) {
    MapReader r(node[i], indexed(where, i));
    InvalidationAction a;
    a.at_s = run_time_s(r, "at_s", std::nullopt, run_s);
    a.stream = r.string("stream", std::string());
    if (r.has("stream") && std::find(stream_ids.begin(), stream_ids.end(), a.stream) == stream_ids.end()) {
      yaml::fail(r.node("stream"), r.child("stream"),
                 "unknown stream '" + a.stream + "' (the event's streams: " + join(stream_ids) + ")");
    }
    a.from_offset_segments = r.optional_integer("from_offset_segments", -kMaxOffset, kMaxOffset);
    a.to_offset_segments = r.optional_integer("to_offset_segments", -kMaxOffset, kMaxOffset);
    if (a.from_offset_segments && a.to_offset_segments && *a.to_offset_segments < *a.from_offset_segments) {
      yaml::fail(r.node("to_offset_segments"), r.child("to_offset_segments"),
                 "expected an integer >= from_offset_segments (" + std::to_string(*a.from_offset_segments) +
                     "), got " + describe(r.node("to_offset_segments")));
    }
    a.pipeline = r.string("pipeline", std::string());
    if (r.has("pipeline") && std::find(pipeline_ids.begin(), pipeline_ids.end(), a.pipeline) == pipeline_ids.end()) {
      yaml::fail(r.node("pipeline"), r.child("pipeline"),
                 "unknown pipeline '" + a.pipeline + "' (the scenario's pipelines: " + join(pipeline_ids) + ")");
    }
    if (r.has("exclude")) {
      a.exclude = r.boolean("exclude", false);
      if (a.pipeline.empty()) yaml::fail(r.node("exclude"), r.child("exclude"), "exclude needs a pipeline");
    } else {
      (void)r.node("exclude");
    }
    r.finish();
    out.push_back(std::move(a));
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// The document.

// The comment block the file starts with, without its '#' marks: the story.

// Parses the text; syntax errors read "source:line:col: message". A line like `op: >=`
// gets a hint: YAML reads '>' as the start of a folded block and '!' as a tag.
YAML::Node load_yaml(std::string_view text, std::string_view source) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::ParserException& e) {
    std::string where = std::string(source) + ":" + std::to_string(e.mark.line + 1) + ":" +
                        std::to_string(e.mark.column + 1) + ": ";
    size_t pos = 0;
    for (int i = 0; i < e.mark.line && pos != std::string_view::npos; ++i) {
      pos = text.find('\n', pos);
      if (pos != std::string_view::npos) ++pos;
    }
    if (pos != std::string_view::npos) {
      const std::string_view line = text.substr(pos, text.find('\n', pos) - pos);
      const size_t op = line.find("op:");
      const size_t v = op == std::string_view::npos ? op : line.find_first_not_of(' ', op + 3);
      if (v != std::string_view::npos && (line[v] == '>' || line[v] == '!')) {
        throw yaml::ParseError(where + "op: " + e.msg + "; quote comparison operators (op: \">=\")");
      }
    }
    throw yaml::ParseError(where + e.msg);
  }
}

// `root` is the text's tree with the --set overrides in it.
Scenario parse_document(const YAML::Node& root, std::string_view text, std::string_view source) {
  const Location top{std::string(source), ""};
  static constexpr yaml::KeyNoun kNouns[] = {
      {"pipelines", "pipeline"}, {"event.streams", "stream"}, {"cdn.tiers", "tier"}, {"viewers", "cohort"}};
  yaml::check_duplicate_keys(root, top, kNouns);
  MapReader r(root, top);
  Scenario s;
  s.source_path = std::string(source);
  s.source_text = std::string(text);

  const std::string stem = std::filesystem::path(std::string(source)).stem().string();
  s.name = r.string("name", stem.empty() ? std::string("scenario") : stem);
  if (s.name.empty() || s.name.size() > 200 || !printable_ascii(s.name)) {
    yaml::fail(r.node("name"), r.child("name"), "expected 1 to 200 printable ASCII characters");
  }
  s.description = r.string("description", results::leading_comment(text));
  s.seed = static_cast<uint64_t>(r.integer("seed", 1, 0, INT64_MAX));
  s.duration_s = r.integer("duration_s", s.duration_s, 1, kDayS);
  s.interval_ms = r.integer("interval_ms", s.interval_ms, 10, std::min<int64_t>(kHourMs, s.duration_s * 1000));

  s.origin = parse_origin(r.node("origin"), r.child("origin"), s.duration_s);
  const YAML::Node event_node = r.node("event");
  s.event = parse_event(event_node, r.child("event"));
  s.pipelines = parse_pipelines(r.node("pipelines"), r.child("pipelines"), s.duration_s);
  s.cdn = parse_cdn(r.node("cdn"), r.child("cdn"));
  s.viewers = parse_viewers(r.node("viewers"), r.child("viewers"), s.duration_s, s.event);

  // event.backfill_s: its default follows the DVR cohorts.
  {
    MapReader er(event_node, r.child("event"));
    double want = 0;
    for (const auto& v : s.viewers) {
      if (v.behaviour == ViewerCohort::Behaviour::dvr) want = std::max(want, upper(v.dvr_offset_s));
    }
    const int64_t fallback = std::min<int64_t>(s.event.dvr_window_s, static_cast<int64_t>(std::ceil(want)));
    s.event.backfill_s = er.integer("backfill_s", fallback, 0, s.event.dvr_window_s);
  }

  s.markers = parse_markers(r.node("markers"), r.child("markers"), s.duration_s);
  s.invalidations = parse_invalidations(r.node("invalidations"), r.child("invalidations"), s.duration_s, s.event,
                                        s.pipelines);
  std::vector<std::string> tier_names;
  for (const auto& t : s.cdn.tiers) tier_names.push_back(t.name);
  s.gates = results::parse_gates(r.node("gates"), r.child("gates"), tier_names);
  r.finish();
  return s;
}

std::optional<std::string> read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::string(std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return std::string("read error");
  out = ss.str();
  return std::nullopt;
}

// The origin config file must run the scenario's event the way the harness drives it.
std::optional<std::string> check_origin_file(const Scenario& s, const OriginConfig& c) {
  const std::string file = s.origin.config_path;
  const EventConfig* e = nullptr;
  for (const auto& ev : c.events) {
    if (ev.id == s.event.id) e = &ev;
  }
  if (!e) return file + " defines no event '" + s.event.id + "' (the scenario's event.id)";
  std::vector<std::string> theirs, ours;
  for (const auto& p : e->pipelines) theirs.push_back(p.id);
  for (const auto& p : s.pipelines) ours.push_back(p.id);
  if (theirs != ours) {
    return file + ": event '" + e->id + "' has pipelines [" + join(theirs) + "], the scenario [" + join(ours) + "]";
  }
  for (const auto& st : s.event.streams) {
    const StreamConfig* sc = nullptr;
    for (const auto& x : e->streams) {
      if (x.id == st.id) sc = &x;
    }
    if (!sc) return file + ": event '" + e->id + "' has no stream '" + st.id + "'";
    if (sc->segment_duration_ms != st.segment_duration_ms) {
      return file + ": stream '" + st.id + "' has segment_duration_ms " + std::to_string(sc->segment_duration_ms) +
             ", the scenario " + std::to_string(st.segment_duration_ms);
    }
    if (sc->segment_template != kDefaultTemplate || sc->start_number != 0 || sc->availability_start_ms != 0) {
      return file + ": stream '" + st.id +
             "' must be epoch-locked with the default template (segment_template \"$Number$.m4s\", "
             "start_number 0, availability_start_ms 0): the simulated packagers publish that way";
    }
  }
  bool ingest = false;
  for (const auto& t : c.auth.ingest_tokens) {
    const bool event_ok = t.events.empty() || std::find(t.events.begin(), t.events.end(), e->id) != t.events.end();
    if (t.token == s.origin.ingest_token && event_ok && t.pipelines.empty()) ingest = true;
  }
  if (!ingest) {
    return file + " has no ingest token '" + s.origin.ingest_token +
           "' for every pipeline of event '" + e->id + "' (set origin.ingest_token to one it has)";
  }
  if (std::find(c.auth.admin_tokens.begin(), c.auth.admin_tokens.end(), s.origin.admin_token) ==
      c.auth.admin_tokens.end()) {
    return file + " has no admin token '" + s.origin.admin_token + "' (set origin.admin_token to one it has)";
  }
  return std::nullopt;
}

const char* mode_name(OriginSpec::Mode m) {
  switch (m) {
    case OriginSpec::Mode::in_process: return "in-process";
    case OriginSpec::Mode::child: return "child";
    case OriginSpec::Mode::external: return "external";
  }
  return "in-process";
}

const char* behaviour_name(ViewerCohort::Behaviour b) {
  switch (b) {
    case ViewerCohort::Behaviour::live: return "live";
    case ViewerCohort::Behaviour::dvr: return "dvr";
    case ViewerCohort::Behaviour::early: return "early";
  }
  return "live";
}

const char* fault_name(PipelineFault::Kind k) {
  switch (k) {
    case PipelineFault::Kind::outage: return "outage";
    case PipelineFault::Kind::late: return "late";
    case PipelineFault::Kind::defect_burst: return "defect_burst";
    case PipelineFault::Kind::slow_upload: return "slow_upload";
  }
  return "outage";
}

boost::json::value dist_json(const Distribution& d) {
  switch (d.kind) {
    case Distribution::Kind::fixed: return boost::json::object{{"fixed", d.a}};
    case Distribution::Kind::uniform: return boost::json::object{{"uniform", boost::json::array{d.a, d.b}}};
    case Distribution::Kind::normal: return boost::json::object{{"normal", {{"mean", d.a}, {"stddev", d.b}}}};
    case Distribution::Kind::lognormal: return boost::json::object{{"lognormal", {{"median", d.a}, {"p99", d.b}}}};
    case Distribution::Kind::exponential: return boost::json::object{{"exponential", {{"mean", d.a}}}};
  }
  return nullptr;
}

template <typename T>
boost::json::value opt(const std::optional<T>& v) {
  if (!v) return nullptr;
  return boost::json::value(*v);
}

}  // namespace

// ---------------------------------------------------------------------------------------

const char* store_name(OriginSpec::Store store) {
  switch (store) {
    case OriginSpec::Store::memory: return "memory";
    case OriginSpec::Store::sqlite: return "sqlite";
    case OriginSpec::Store::redis: return "redis";
    case OriginSpec::Store::redis_cluster: return "redis-cluster";
  }
  return "memory";
}

bool uses_origin_model(const Scenario& s) {
  return s.origin.model.given || s.origin.instances > 1 || s.origin.store != OriginSpec::Store::memory ||
         !s.origin.faults.empty();
}

const char* fault_name(OriginSpec::Fault::Kind kind) {
  switch (kind) {
    case OriginSpec::Fault::Kind::store_slow: return "store-slow";
    case OriginSpec::Fault::Kind::store_down: return "store-down";
    case OriginSpec::Fault::Kind::origin_kill: return "origin-kill";
  }
  return "?";
}

std::vector<std::string> CdnSpec::edge_tiers() const {
  std::vector<std::string> out;
  for (const auto& t : tiers) {
    const bool parent_of_some = std::any_of(tiers.begin(), tiers.end(), [&](const CdnTier& o) { return o.parent == t.name; });
    if (!parent_of_some) out.push_back(t.name);
  }
  return out;
}

int64_t Scenario::viewers_total() const {
  int64_t n = 0;
  for (const auto& v : viewers) n += v.count;
  return n;
}

OriginConfig Scenario::origin_config() const {
  // Built as JSON (which is YAML) and read by the origin's own parser, so every default
  // is exactly what `liveorigin serve` would apply to the same file.
  int64_t largest_segment = 0;
  double bytes_per_s = 0;
  boost::json::array streams;
  for (const auto& s : event.streams) {
    // bitrate * duration / 8, up to 5 % more.
    const int64_t bytes = (s.bitrate_kbps * s.segment_duration_ms / 8) * 105 / 100 + 1;
    largest_segment = std::max(largest_segment, bytes);
    bytes_per_s += static_cast<double>(s.bitrate_kbps) * 125.0;
    streams.push_back(boost::json::object{{"id", s.id},
                                          {"segment_duration_ms", s.segment_duration_ms},
                                          {"segment_template", kDefaultTemplate},
                                          {"availability_start_ms", 0},
                                          {"content_type", s.content_type == ContentType::audio ? "audio" : "video"}});
  }
  boost::json::array pipeline_ids;
  for (const auto& p : pipelines) pipeline_ids.push_back(boost::json::value(p.id));
  const int64_t body_limit = std::clamp<int64_t>(4 * largest_segment, 64 * kMiB, int64_t{1} << 32);
  // The DVR window of every stream from every pipeline, with a quarter more for the +-5 %
  // sizes and segments in flight; at most 2 GiB (eviction takes the oldest beyond it).
  const double want = bytes_per_s * static_cast<double>(event.dvr_window_s) * static_cast<double>(pipelines.size()) * 1.25;
  const int64_t budget = std::clamp<int64_t>(static_cast<int64_t>(std::min(want, 4.0 * kGiB)), 64 * kMiB, 2 * kGiB);

  boost::json::object c{
      {"listen", "127.0.0.1:0"},
      {"threads", origin.threads},
      {"body_limit_bytes", body_limit},
      {"auth", {{"ingest_tokens", boost::json::array{boost::json::value(origin.ingest_token)}},
                {"admin_tokens", boost::json::array{boost::json::value(origin.admin_token)}}}},
      {"store", {{"url", "memory"}, {"budget_bytes", budget}}},
      {"events", boost::json::array{boost::json::object{{"id", event.id},
                                                        {"pipelines", std::move(pipeline_ids)},
                                                        {"dvr_window_s", event.dvr_window_s},
                                                        {"streams", std::move(streams)}}}},
  };
  if (origin.overload) {
    c["overload"] = boost::json::object{{"store_reads_max", origin.overload->store_reads_max},
                                        {"dvr_budget_rps", origin.overload->dvr_budget_rps},
                                        {"background_budget_rps", origin.overload->background_budget_rps},
                                        {"shed_ttl_ms", origin.overload->shed_ttl_ms}};
  }
  auto parsed = parse_origin_config(boost::json::serialize(c), "origin config generated from " + source_path);
  if (!parsed) throw std::logic_error(parsed.error().message);  // a bug: the scenario was validated
  return std::move(*parsed);
}

Result<OriginConfig> Scenario::effective_origin_config() const {
  if (origin.config_path.empty()) return origin_config();
  std::string text;
  if (auto e = read_file(origin.config_path, text)) {
    return make_error(origin.config_where + ": origin.config: cannot read " + origin.config_path + ": " + *e);
  }
  auto c = parse_origin_config(text, origin.config_path);
  if (!c) return c;
  c->listen = "127.0.0.1:0";
  c->ingest_listen.clear();
  return c;
}

namespace {

// The text's tree with the overrides put in it.
YAML::Node overridden_tree(std::string_view text, std::string_view source, std::span<const Override> overrides) {
  YAML::Node root = load_yaml(text, source);
  apply_overrides(root, overrides);
  return root;
}

}  // namespace

Result<OriginModel> parse_calibration(std::string_view text, std::string_view source, OriginSpec::Store store) {
  return yaml::parse_document<OriginModel>([&] { return parse_calibration_document(text, source, store); });
}

Result<Scenario> parse_scenario(std::string_view text, std::string_view source, std::span<const Override> overrides) {
  auto s = yaml::parse_document<Scenario>([&] {
    Scenario parsed = parse_document(overridden_tree(text, source, overrides), text, source);
    parsed.overrides.assign(overrides.begin(), overrides.end());
    return parsed;
  });
  if (!s) return make_error(blame_overrides(s.error().message, source, overrides));
  return s;
}

Result<Scenario> load_scenario(const std::string& path, std::span<const Override> overrides) {
  std::string text;
  if (auto e = read_file(path, text)) return make_error(path + ": cannot read: " + *e);
  auto s = parse_scenario(text, path, overrides);
  if (!s) return s;
  if (!s->origin.model.calibration_path.empty()) {
    // The calibration file first, then the scenario's own origin.model keys over it.
    const std::string& cal_path = s->origin.model.calibration_path;
    std::string cal_text;
    if (auto e = read_file(cal_path, cal_text)) {
      return make_error(s->origin.model_where + ": origin.model.calibration: cannot read " + cal_path + ": " + *e);
    }
    auto model = yaml::parse_document<OriginModel>([&] {
      OriginModel m = parse_calibration_document(cal_text, cal_path, s->origin.store);
      const YAML::Node root = overridden_tree(text, path, overrides);
      return parse_model(root["origin"]["model"], Location{path, "origin.model"}, m, nullptr);
    });
    if (!model) return make_error(blame_overrides(model.error().message, path, overrides));
    const std::string name = model->calibration_name;
    s->origin.model = *model;
    s->origin.model.calibration_name = name;
  }
  if (s->origin.config_path.empty()) return s;
  auto c = s->effective_origin_config();
  if (!c) {
    // The file's own error (file:line:col) is the useful part; say which scenario key led there.
    const std::string& m = c.error().message;
    if (m.starts_with(s->origin.config_where)) return c.error();
    return make_error(s->origin.config_where + ": origin.config: " + m);
  }
  if (auto e = check_origin_file(*s, *c)) return make_error(s->origin.config_where + ": origin.config: " + *e);
  return s;
}

int validate_scenario_file(const std::string& path, std::ostream& out, std::ostream& err) {
  auto s = load_scenario(path);
  if (!s) {
    err << s.error().message << "\n";
    return 1;
  }
  out << path << ": ok (" << s->pipelines.size() << (s->pipelines.size() == 1 ? " pipeline, " : " pipelines, ")
      << s->cdn.tiers.size() << (s->cdn.tiers.size() == 1 ? " tier, " : " tiers, ") << s->viewers_total()
      << (s->viewers_total() == 1 ? " viewer)" : " viewers)") << "\n";
  return 0;
}

boost::json::value to_json(const Scenario& s) {
  boost::json::object origin{{"mode", mode_name(s.origin.mode)},
                             {"url", s.origin.url},
                             {"config", s.origin.config_path},
                             {"create_event", s.origin.create_event},
                             {"threads", s.origin.threads}};
  if (s.origin.overload) {
    origin["overload"] = boost::json::object{{"store_reads_max", s.origin.overload->store_reads_max},
                                             {"dvr_budget_rps", s.origin.overload->dvr_budget_rps},
                                             {"background_budget_rps", s.origin.overload->background_budget_rps},
                                             {"shed_ttl_ms", s.origin.overload->shed_ttl_ms}};
  } else {
    origin["overload"] = nullptr;
  }
  origin["instances"] = s.origin.instances;
  const OriginModel& m = s.origin.model;
  origin["model"] = boost::json::object{
      {"calibration", m.calibration_path},
      {"calibration_name", m.calibration_name},
      {"instance", {{"workers", m.instance.workers},
                    {"service_ms", dist_json(m.instance.service_ms)},
                    {"egress_gbps", m.instance.egress_gbps},
                    {"ingest_workers", m.instance.ingest_workers}}},
      {"store", {{"read_ms", dist_json(m.store.read_ms)},
                 {"write_ms", dist_json(m.store.write_ms)},
                 {"journal_ms", dist_json(m.store.journal_ms)},
                 {"ops_per_s", m.store.ops_per_s},
                 {"hot_cache_hit_ratio", m.store.hot_cache_hit_ratio}}}};
  origin["store"] = store_name(s.origin.store);
  boost::json::array origin_faults;
  for (const auto& f : s.origin.faults) {
    origin_faults.push_back(boost::json::object{{"kind", fault_name(f.kind)},
                                                {"at_s", f.at_s},
                                                {"duration_s", f.duration_s},
                                                {"delay_ms", f.delay_ms},
                                                {"instance", f.instance}});
  }
  origin["faults"] = std::move(origin_faults);
  // Tokens are left out: results databases get shared.

  boost::json::object streams;
  for (const auto& st : s.event.streams) {
    streams[st.id] = boost::json::object{{"segment_duration_ms", st.segment_duration_ms},
                                         {"bitrate_kbps", st.bitrate_kbps},
                                         {"content_type", st.content_type == ContentType::audio ? "audio" : "video"}};
  }
  boost::json::object pipelines;
  for (const auto& p : s.pipelines) {
    boost::json::array faults;
    for (const auto& f : p.faults) {
      boost::json::object fo{{"kind", fault_name(f.kind)}, {"at_s", f.at_s}, {"duration_s", f.duration_s}};
      if (f.kind == PipelineFault::Kind::late) fo["late_ms"] = f.late_ms;
      if (f.kind == PipelineFault::Kind::defect_burst) {
        fo["defect"] = f.defect;
        fo["probability"] = f.probability;
      }
      if (f.kind == PipelineFault::Kind::slow_upload) fo["upload_ms"] = f.upload_ms;
      faults.push_back(std::move(fo));
    }
    const DefectRates& d = p.defects;
    pipelines[p.id] = boost::json::object{
        {"publish_latency_ms", dist_json(p.publish_latency_ms)},
        {"defects", {{"missing_samples", d.missing_samples},
                     {"missing_frames", d.missing_frames},
                     {"short_segment", d.short_segment},
                     {"discontinuity", d.discontinuity},
                     {"corrupt", d.corrupt},
                     {"transport_corruption", d.transport_corruption},
                     {"missing_segment", d.missing_segment},
                     {"late_segment", d.late_segment},
                     {"late_segment_ms", d.late_segment_ms}}},
        {"faults", std::move(faults)}};
  }
  boost::json::object tiers;
  for (const auto& t : s.cdn.tiers) {
    tiers[t.name] = boost::json::object{
        {"nodes", t.nodes}, {"parent", t.parent.empty() ? "origin" : t.parent}, {"multiplicity", t.multiplicity},
        {"origin_rtt_ms", t.origin_rtt_ms}};
  }
  const CdnFeatures& f = s.cdn.features;
  boost::json::object viewers;
  for (const auto& v : s.viewers) {
    boost::json::array vs;
    for (const auto& x : v.streams) vs.push_back(boost::json::value(x));
    viewers[v.name] = boost::json::object{{"behaviour", behaviour_name(v.behaviour)},
                                          {"count", v.count},
                                          {"join_at_s", v.join_at_s},
                                          {"join_ramp_s", v.join_ramp_s},
                                          {"leave_at_s", v.leave_at_s < 0 ? boost::json::value(nullptr) : boost::json::value(v.leave_at_s)},
                                          {"clock_skew_ms", dist_json(v.clock_skew_ms)},
                                          {"dvr_offset_s", dist_json(v.dvr_offset_s)},
                                          {"streams", std::move(vs)},
                                          {"invalid_request_ratio", v.invalid_request_ratio},
                                          {"background_ratio", v.background_ratio}};
  }
  boost::json::array markers;
  for (const auto& m : s.markers) {
    markers.push_back(boost::json::object{{"at_s", m.at_s},
                                          {"id", m.id},
                                          {"kind", m.kind},
                                          {"start_offset_ms", m.start_offset_ms},
                                          {"duration_ms", opt(m.duration_ms)},
                                          {"data", m.data_b64}});
  }
  boost::json::array invalidations;
  for (const auto& a : s.invalidations) {
    invalidations.push_back(boost::json::object{{"at_s", a.at_s},
                                                {"stream", a.stream.empty() ? boost::json::value(nullptr) : boost::json::value(a.stream)},
                                                {"from_offset_segments", opt(a.from_offset_segments)},
                                                {"to_offset_segments", opt(a.to_offset_segments)},
                                                {"pipeline", a.pipeline.empty() ? boost::json::value(nullptr) : boost::json::value(a.pipeline)},
                                                {"exclude", opt(a.exclude)}});
  }
  boost::json::array gates;
  for (const auto& g : s.gates) {
    gates.push_back(boost::json::object{{"name", g.name},
                                        {"metric", g.metric},
                                        {"op", g.op},
                                        {"value", g.value},
                                        {"percentile", opt(g.percentile)},
                                        {"class", g.request_class.empty() ? boost::json::value(nullptr) : boost::json::value(g.request_class)},
                                        {"tier", g.tier.empty() ? boost::json::value(nullptr) : boost::json::value(g.tier)}});
  }
  return boost::json::object{
      {"name", s.name},
      {"description", s.description},
      {"seed", s.seed},
      {"duration_s", s.duration_s},
      {"interval_ms", s.interval_ms},
      {"origin", std::move(origin)},
      {"event", {{"id", s.event.id}, {"dvr_window_s", s.event.dvr_window_s}, {"backfill_s", s.event.backfill_s}, {"streams", std::move(streams)}}},
      {"pipelines", std::move(pipelines)},
      {"cdn", {{"tiers", std::move(tiers)},
               {"features", {{"cache", f.cache},
                             {"collapsing", f.collapsing},
                             {"filtering", f.filtering},
                             {"hold", f.hold},
                             {"invalidation_feed", f.invalidation_feed},
                             {"retry_after_hint", f.retry_after_hint},
                             {"fixed_retry_ms", f.fixed_retry_ms},
                             {"feed_interval_ms", f.feed_interval_ms},
                             {"timeline_interval_ms", f.timeline_interval_ms}}}}},
      {"viewers", std::move(viewers)},
      {"markers", std::move(markers)},
      {"invalidations", std::move(invalidations)},
      {"gates", std::move(gates)},
  };
}

}  // namespace liveorigin::sim
