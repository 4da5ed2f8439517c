#include "sim/runner.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <numeric>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>

#include <sqlite3.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include "origin/core/digest.h"
#include "origin/core/origin.h"
#include "origin/core/timing.h"
#include "origin/http/server.h"
#include "origin/store/memory_store.h"
#include "sim/actors.h"
#include "sim/core_link.h"
#include "sim/delay_link.h"
#include "sim/instance_link.h"
#include "sim/origin_model.h"
#include "sim/origin_side.h"
#include "sim/realtime.h"
#include "sim/results.h"

extern char** environ;

namespace liveorigin::sim {

namespace fs = std::filesystem;

#ifndef LIVEORIGIN_VERSION
#define LIVEORIGIN_VERSION "dev"
#endif

namespace {

// Where virtual time begins: 2026-01-01T00:00:00Z.
constexpr int64_t kVirtualEpochMs = 1'767'225'600'000;

std::string sha256_hex(std::string_view text) {
  BodyHasher h;
  h.update(text.data(), text.size());
  const Sha256 d = h.finish().sha256;
  return to_hex(d.data(), d.size());
}

std::string fault_kind(PipelineFault::Kind k) {
  switch (k) {
    case PipelineFault::Kind::outage: return "outage";
    case PipelineFault::Kind::late: return "late";
    case PipelineFault::Kind::defect_burst: return "defect_burst";
    case PipelineFault::Kind::slow_upload: return "slow_upload";
  }
  return "?";
}

// Everything a run builds, in dependency order, for both time models.
struct Fleet {
  std::vector<std::unique_ptr<CdnNode>> nodes;
  std::vector<CdnNode*> edges;
  std::vector<std::unique_ptr<Packager>> packagers;
  std::vector<std::unique_ptr<ViewerCohortActor>> cohorts;
  std::vector<std::unique_ptr<DelayLink>> networks;  // a top tier's round trip to each instance

  // `origins`: the way to each origin instance; the top tier's nodes, and the
  // packagers, are spread over them.
  void build(World& w, const std::vector<OriginLink*>& origins, int groups_per_edge) {
    const Scenario& s = w.scenario;
    std::map<std::string, std::vector<CdnNode*>> by_tier;
    std::set<std::string> parents;
    for (const auto& t : s.cdn.tiers) {
      if (!t.parent.empty()) parents.insert(t.parent);
    }
    // Parents first: a tier can be built once its parent tier exists.
    std::vector<const CdnTier*> pending;
    for (const auto& t : s.cdn.tiers) pending.push_back(&t);
    while (!pending.empty()) {
      bool progressed = false;
      for (auto it = pending.begin(); it != pending.end();) {
        const CdnTier& t = **it;
        if (!t.parent.empty() && !by_tier.contains(t.parent)) {
          ++it;
          continue;
        }
        // Simulated node i stands for k real nodes (i*k .. i*k+k-1). Under a parent tier
        // it is node i mod P's child, which keeps every parent's share of children;
        // toward the origin it sends one request per real node, through the instance
        // that real node would use (j mod N).
        const int64_t k = t.multiplicity;
        std::vector<OriginLink*> tier_origins = origins;
        if (t.parent.empty() && t.origin_rtt_ms > 0) {
          for (auto*& o : tier_origins) {
            networks.push_back(std::make_unique<DelayLink>(w.scheduler, *o, t.origin_rtt_ms));
            o = networks.back().get();
          }
        }
        for (int64_t i = 0; i < t.simulated_nodes(); ++i) {
          CdnNode* parent = nullptr;
          std::vector<OriginLink*> ups;
          if (!t.parent.empty()) {
            const auto& ps = by_tier[t.parent];
            parent = ps[static_cast<size_t>(i) % ps.size()];
          } else {
            for (int64_t m = 0; m < k; ++m) {
              ups.push_back(tier_origins[static_cast<size_t>(i * k + m) % tier_origins.size()]);
            }
          }
          nodes.push_back(std::make_unique<CdnNode>(w, t.name + "-" + std::to_string(i + 1), t.name, parent,
                                                    std::move(ups), k));
          by_tier[t.name].push_back(nodes.back().get());
        }
        it = pending.erase(it);
        progressed = true;
      }
      if (!progressed) break;  // a cycle: the scenario parser refuses these
    }
    for (const auto& t : s.cdn.tiers) {
      if (!parents.contains(t.name)) edges.insert(edges.end(), by_tier[t.name].begin(), by_tier[t.name].end());
    }
    for (size_t i = 0; i < s.pipelines.size(); ++i) {
      packagers.push_back(std::make_unique<Packager>(w, *origins[i % origins.size()], s.pipelines[i]));
    }
    for (const auto& v : s.viewers) {
      cohorts.push_back(std::make_unique<ViewerCohortActor>(w, v, edges, groups_per_edge));
    }
  }

  void start() {
    for (auto& p : packagers) p->start();
    for (auto& n : nodes) n->start();
    for (auto& c : cohorts) c->start();
  }

  // At the end: nodes stop polling; packagers and viewers schedule nothing due after
  // the end, and finish what they started while the run settles.
  void stop() {
    for (auto& n : nodes) n->stop();
  }
};

// Admin actions and fault windows on the scheduler; `apply_fault` makes an origin
// fault begin (true) or end (false).
using ApplyFault = std::function<void(const OriginSpec::Fault&, bool begin)>;
void schedule_actions(World& w, OriginLink& origin, ApplyFault apply_fault) {
  const Scenario& s = w.scenario;
  const std::string auth = "Bearer " + s.origin.admin_token;
  for (const auto& p : s.pipelines) {
    for (const auto& f : p.faults) {
      w.recorder.fault({"pipeline " + p.id, fault_kind(f.kind), w.run_start_ms + f.at_s * 1000,
                        std::min(w.run_end_ms, w.run_start_ms + (f.at_s + f.duration_s) * 1000)});
    }
  }
  for (const auto& f : s.origin.faults) {
    const int64_t start = w.run_start_ms + f.at_s * 1000;
    const int64_t end = std::min(w.run_end_ms, start + f.duration_s * 1000);
    const bool kill = f.kind == OriginSpec::Fault::Kind::origin_kill;
    w.recorder.fault({kill ? "instance " + std::to_string(f.instance) : "store", fault_name(f.kind), start, end});
    w.scheduler.run_at(start, [apply_fault, f] { apply_fault(f, true); });
    w.scheduler.run_at(end, [apply_fault, f] { apply_fault(f, false); });
  }
  const StreamConfig first = w.timing(0);
  for (const auto& m : s.markers) {
    w.scheduler.run_at(w.run_start_ms + m.at_s * 1000, [&w, &origin, m, auth, first] {
      const int64_t edge = live_edge(first, w.scheduler.now_ms());
      boost::json::object body{{"id", m.id}, {"kind", m.kind},
                               {"start_ms", media_start_ms(first, edge) + m.start_offset_ms}};
      if (m.duration_ms) body["duration_ms"] = *m.duration_ms;
      if (!m.data_b64.empty()) body["data"] = m.data_b64;
      LinkRequest r;
      r.method = "POST";
      r.target = "/admin/events/" + w.scenario.event.id + "/markers";
      r.headers = {{"Authorization", auth}, {"Content-Type", "application/json"}};
      const std::string text = boost::json::serialize(body);
      r.body = std::make_shared<const std::string>(text);
      const int64_t at = w.scheduler.now_ms();
      origin.send(std::move(r), [&w, at, text](LinkResponse resp) { w.recorder.action({at, "marker", text, resp.status}); });
    });
  }
  for (const auto& inv : s.invalidations) {
    w.scheduler.run_at(w.run_start_ms + inv.at_s * 1000, [&w, &origin, inv, auth, first] {
      const int64_t edge = live_edge(first, w.scheduler.now_ms());
      boost::json::object body{{"event", w.scenario.event.id}};
      if (!inv.stream.empty()) body["stream"] = inv.stream;
      if (inv.from_offset_segments) body["from_segment"] = edge + *inv.from_offset_segments;
      if (inv.to_offset_segments) body["to_segment"] = edge + *inv.to_offset_segments;
      if (!inv.pipeline.empty()) body["pipeline"] = inv.pipeline;
      if (inv.exclude) body["exclude"] = *inv.exclude;
      LinkRequest r;
      r.method = "POST";
      r.target = "/admin/invalidate";
      r.headers = {{"Authorization", auth}, {"Content-Type", "application/json"}};
      const std::string text = boost::json::serialize(body);
      r.body = std::make_shared<const std::string>(text);
      const int64_t at = w.scheduler.now_ms();
      origin.send(std::move(r),
                  [&w, at, text](LinkResponse resp) { w.recorder.action({at, "invalidation", text, resp.status}); });
    });
  }
}

// Records the origin's own counters at the end of the run (a liveorigin answers
// /metrics; any other origin does not, and nothing is recorded). `wait` runs the
// scheduler until the answer is in (its flag is set) or it gives up; an answer that
// comes after that is dropped. Returns why nothing was recorded, or "" when the
// counters were.
std::string scrape_origin_metrics(OriginLink& link, Recorder& recorder, const std::function<void(bool&)>& wait) {
  struct State {
    bool answered = false;
    bool gave_up = false;
    std::string why;
  };
  auto state = std::make_shared<State>();
  LinkRequest r;
  r.target = "/metrics";
  link.send(std::move(r), [state, &recorder](LinkResponse resp) {
    if (state->gave_up) return;  // too late: the results are being written
    state->answered = true;
    if (resp.status == 0) {
      state->why = "no answer (" + (resp.error.empty() ? std::string("no response") : resp.error) + ")";
      return;
    }
    const std::string type = resp.header("Content-Type");
    if (resp.status != 200 || !resp.body || type.find("text/plain") == std::string::npos) {
      state->why = "status " + std::to_string(resp.status) + (type.empty() ? "" : ", " + type) +
                   (resp.body ? "" : ", no body");
      return;
    }
    std::istringstream in(*resp.body);
    std::string line;
    size_t recorded = 0;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      const size_t sp = line.rfind(' ');
      if (sp == std::string::npos) continue;
      try {
        recorder.origin_metric({line.substr(0, sp), std::stod(line.substr(sp + 1))});
        ++recorded;
      } catch (const std::exception&) {
      }
    }
    state->why = recorded > 0 ? "" : "no series in the answer";
  });
  wait(state->answered);
  if (!state->answered) {
    state->gave_up = true;
    state->why = "no answer in time";
  }
  return state->why;
}

RunInfo run_info(const Scenario& s, const RunOptions& o, const std::string& origin_url, int64_t started_ms) {
  RunInfo info;
  info.scenario_name = s.name;
  info.scenario_hash = scenario_hash(s);
  info.scenario_text = s.source_text;
  info.seed = s.seed;
  info.version = LIVEORIGIN_VERSION;
  info.mode = o.virtual_time ? "virtual" : "realtime";
  switch (s.origin.mode) {
    case OriginSpec::Mode::in_process: info.origin_mode = "in-process"; break;
    case OriginSpec::Mode::child: info.origin_mode = "child"; break;
    case OriginSpec::Mode::external: info.origin_mode = "external"; break;
  }
  info.origin_url = origin_url;
  boost::json::array overrides;
  for (const auto& ov : s.overrides) overrides.emplace_back(ov.text());
  // The --set overrides, and the scenario as they made it: the file's text alone
  // (scenario_text) does not say what ran.
  boost::json::object params{{"seed", s.seed},
                             {"duration_s", s.duration_s},
                             {"interval_ms", s.interval_ms},
                             {"viewer_groups_per_edge", o.viewer_groups_per_edge},
                             {"overrides", std::move(overrides)},
                             {"scenario", to_json(s)}};
  if (o.virtual_time && uses_origin_model(s)) {
    const OriginModel& m = s.origin.model;
    params["origin_model"] = boost::json::object{{"instances", s.origin.instances},
                                                 {"store", store_name(s.origin.store)},
                                                 {"calibration", m.calibration_name},
                                                 {"calibration_file", m.calibration_path}};
  }
  info.parameters_json = boost::json::serialize(params);
  info.started_ms = started_ms;
  info.backfill_s = s.event.backfill_s;
  for (const auto& st : s.event.streams) {
    const StreamConfig sc = stream_timing(st);
    info.streams.push_back({sc.id, sc.segment_duration_ms, sc.availability_start_ms, sc.start_number,
                            sc.publish_latency_ms});
  }
  return info;
}

// The end-of-run summary, read back from the database (so it says what was recorded).
std::string summary_text(const Scenario& s, int64_t run_id, const std::string& db_path, const std::string& url,
                         double seconds, bool virtual_time, const AsioScheduler* realtime, uint64_t events = 0) {
  std::ostringstream out;
  out << "run " << run_id << " of " << s.name << " (seed " << s.seed << ", " << (virtual_time ? "virtual" : "real")
      << " time, origin " << (url.empty() ? "in-process core" : url) << ")\n";
  out << std::fixed << std::setprecision(1) << "  " << s.duration_s << " s of scenario in " << seconds << " s";
  if (realtime) {
    // Actors act in bursts at segment boundaries; the harness keeps up when even the
    // tail of a burst runs within a fraction of a segment.
    const int64_t p50 = realtime->lag_percentile_ms(0.5);
    const int64_t p99 = realtime->lag_percentile_ms(0.99);
    out << "; " << realtime->timers_run() << " timers, lag p50 <= " << p50 << " ms, p99 <= " << p99
        << " ms, max " << realtime->max_lag_ms() << " ms";
    if (p99 > 200) out << " (the harness did not keep up: timings in this run are stretched)";
  }
  if (virtual_time) {
    out << "; " << events << " events (" << std::setprecision(2) << static_cast<double>(events) / seconds / 1e6
        << " M/s)" << std::setprecision(1);
  }
  struct rusage usage {};
  if (::getrusage(RUSAGE_SELF, &usage) == 0) out << ", peak RSS " << usage.ru_maxrss / 1024 << " MiB";
  out << "\n";
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    auto one = [&](const std::string& sql) -> std::string {
      sqlite3_stmt* st = nullptr;
      std::string v;
      if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
          sqlite3_column_text(st, 0)) {
        v = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
      }
      sqlite3_finalize(st);
      return v;
    };
    const std::string r = std::to_string(run_id);
    const std::string m = "FROM run_metrics WHERE run_id = " + r;
    out << "  segments: " << one("SELECT COUNT(*) FROM serves WHERE seq = 0 AND run_id = " + r) << " served ("
        << one("SELECT group_concat(pipeline || ' ' || n, ', ') FROM (SELECT pipeline, COUNT(*) AS n FROM serves "
               "WHERE seq = 0 AND run_id = " + r + " GROUP BY pipeline)")
        << "); defective while a clean copy existed: " << one("SELECT defective_served_with_clean_available " + m)
        << "; missing: " << one("SELECT viewer_missing_segments " + m)
        << "; longest gap: " << one("SELECT failover_gap_segments " + m) << "\n";
    out << "  viewers: " << s.viewers_total() << "; "
        << one("SELECT printf('%.2f', 100.0 * (1 - viewer_error_ratio)) " + m) << " % of requests ended 200; wait p99 "
        << one("SELECT printf('%.0f', viewer_wait_p99_ms) " + m) << " ms\n";
    out << "  origin: " << one("SELECT printf('%.1f', origin_requests_per_s) " + m) << " requests/s (peak "
        << one("SELECT printf('%.0f', origin_requests_per_s_peak) " + m) << "), "
        << one("SELECT origin_status_5xx " + m) << " 5xx or no answer, shed "
        << one("SELECT printf('%.1f', 100.0 * shed_ratio) " + m) << " %; CDN hit ratio "
        << one("SELECT printf('%.1f', 100.0 * cache_hit_ratio) " + m) << " %\n";
    sqlite3_close(db);
  }
  out << "  results: " << db_path << " (run " << run_id << "; tables in docs/results-schema.md)";
  return out.str();
}

}  // namespace

std::string scenario_hash(const Scenario& s) { return sha256_hex(s.source_text); }

Result<RunSummary> run_scenario(const Scenario& scenario, const RunOptions& options) {
  const auto wall_start = std::chrono::steady_clock::now();
  Recorder recorder(scenario.interval_ms);
  SentRegistry sent;
  RunSummary summary;
  summary.db_path = options.db_path;
  // Its directory may not exist yet: a plan's point run on another machine (--emit-jobs).
  if (const fs::path dir = fs::path(options.db_path).parent_path(); !dir.empty()) {
    std::error_code ec;
    fs::create_directories(dir, ec);
  }

  // Requests/s since the previous line, in scenario time.
  int64_t last_requests = 0;
  int64_t last_ms = -1;
  auto progress = [&](int64_t now_ms, int64_t start_ms, int64_t end_ms, bool final_line) {
    if (!options.progress_out) return;
    const double elapsed = static_cast<double>(now_ms - start_ms) / 1000.0;
    const int64_t requests = recorder.requests_total();
    const int64_t since_ms = now_ms - (last_ms < 0 ? start_ms : last_ms);
    const double rate = since_ms > 0 ? static_cast<double>(requests - last_requests) * 1000.0 / since_ms : 0.0;
    last_requests = requests;
    last_ms = now_ms;
    std::ostringstream line;
    line << std::fixed << std::setprecision(1) << "[" << std::setw(6) << elapsed << " / "
         << (end_ms - start_ms) / 1000 << " s] origin " << std::setw(7) << rate << " req/s, " << requests
         << " requests, " << recorder.errors_total() << " errors";
    if (options.progress_is_tty) {
      *options.progress_out << "\r" << line.str() << "   " << (final_line ? "\n" : "") << std::flush;
    } else {
      *options.progress_out << line.str() << "\n" << std::flush;
    }
  };

  if (options.virtual_time) {
    if (scenario.origin.mode != OriginSpec::Mode::in_process) {
      return make_error("virtual time needs origin.mode: in-process (the core runs on the virtual clock)");
    }
    auto config = scenario.effective_origin_config();
    if (!config) return config.error();
    // Virtual time starts at one fixed instant (on a segment boundary of every stream), not
    // at the wall clock: everything recorded — times included — is then a function of the
    // scenario, the seed and the version alone, so reruns are byte-identical.
    int64_t boundary_ms = 1000;
    for (const auto& st : scenario.event.streams) boundary_ms = std::lcm(boundary_ms, st.segment_duration_ms);
    const int64_t start_ms = (kVirtualEpochMs + boundary_ms - 1) / boundary_ms * boundary_ms;
    ManualScheduler scheduler(start_ms);
    const int64_t end_ms = start_ms + scenario.duration_s * 1000;
    // One instance on the memory store, without origin.model, is the ideal origin: the
    // core alone, taking no time. Anything more is the deployment model.
    const bool modelled = uses_origin_model(scenario);
    MemoryStore store;
    std::optional<Origin> origin;
    std::optional<CoreLink> core;
    std::unique_ptr<ModelledOrigin> cluster;
    std::vector<std::unique_ptr<InstanceLink>> balanced;
    std::vector<OriginLink*> origins;
    if (modelled) {
      cluster = std::make_unique<ModelledOrigin>(scheduler, scenario.origin, *config, scenario.seed);
      for (size_t i = 0; i < static_cast<size_t>(scenario.origin.instances); ++i) {
        balanced.push_back(std::make_unique<InstanceLink>(scheduler, recorder, cluster->instances(), i));
        origins.push_back(balanced.back().get());
      }
      cluster->start_ticks();
    } else {
      origin.emplace(scheduler.clock(), *config);
      core.emplace(scheduler, *origin, store);
      core->start_ticks();
      origins.push_back(&*core);
    }
    OriginLink& link = *origins.front();
    World world{scheduler, recorder, sent, scenario, link, start_ms, end_ms, World::timings_of(scenario), true};
    recorder.begin(run_info(scenario, options, "", start_ms));
    Fleet fleet;
    fleet.build(world, origins, options.viewer_groups_per_edge);
    schedule_actions(world, link, [&](const OriginSpec::Fault& f, bool begin) {
      if (cluster) cluster->apply(f, begin);
    });
    fleet.start();
    for (int64_t t = start_ms; t < end_ms;) {
      t = std::min(end_ms, t + 10'000);
      scheduler.run_until(t);
      progress(t, start_ms, end_ms, false);
    }
    fleet.stop();
    if (cluster) cluster->stop_ticks();
    if (core) core->stop_ticks();
    scheduler.run_until(end_ms + options.settle_s * 1000);
    scrape_origin_metrics(link, recorder, [&](bool&) { scheduler.run_due(); });
    if (cluster) cluster->record(recorder);
    progress(end_ms, start_ms, end_ms, true);
    auto id = recorder.write(options.db_path, scheduler.now_ms(), "completed");
    if (!id) return id.error();
    summary.run_id = *id;
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    summary.text = summary_text(scenario, *id, options.db_path, "", secs, true, nullptr, scheduler.events_run());
    return summary;
  }

  // Real time: the origin on real sockets.
  if (scenario.origin.mode == OriginSpec::Mode::in_process) {
    const bool kills = std::any_of(scenario.origin.faults.begin(), scenario.origin.faults.end(),
                                   [](const auto& f) { return f.kind == OriginSpec::Fault::Kind::origin_kill; });
    if (scenario.origin.instances > 1 || kills) {
      return make_error(std::string("origin.mode in-process runs ") +
                        (kills ? "origin-kill faults" : "several instances") +
                        " in virtual time only (--virtual); in real time set origin.mode: child");
    }
  }
  const fs::path work_dir = fs::temp_directory_path() / ("liveorigin-run-" + std::to_string(::getpid()) + "-" +
                                                         std::to_string(SystemClock().now_ms()));
  fs::create_directories(work_dir);
  struct RemoveDir {
    fs::path dir;
    ~RemoveDir() {
      std::error_code ec;
      if (!std::getenv("LIVEORIGIN_KEEP_RUN_FILES")) fs::remove_all(dir, ec);
    }
  } remove_dir{work_dir};
  OriginSide side;
  OriginSide::Options so;
  so.liveorigin_binary =
      options.liveorigin_binary.empty() ? fs::read_symlink("/proc/self/exe").string() : options.liveorigin_binary;
  so.work_dir = work_dir.string();
  if (auto started = side.start(scenario, so); !started) return started.error();
  const std::string url = side.urls().front();
  summary.origin_url = url;

  boost::asio::io_context ioc(1);
  // The io_context is run in slices (run_for) until the run is over. Without this guard
  // it stops for good the first time it runs out of work — at the end, when nothing is
  // left scheduled (the last progress tick fell on the end) and nothing is in flight —
  // and every later run_for returns at once without running anything: the end-of-run
  // scrape of /metrics would be sent and never answered.
  auto keep_running = boost::asio::make_work_guard(ioc);
  AsioScheduler scheduler(ioc);
  // One connection pool per instance; every origin-facing actor reaches them through an
  // InstanceLink, as through a balancer that skips an instance that is down.
  std::vector<std::unique_ptr<HttpLink>> instance_links;
  std::vector<OriginLink*> instances;
  for (const auto& u : side.urls()) {
    instance_links.push_back(std::make_unique<HttpLink>(ioc, u));
    instances.push_back(instance_links.back().get());
  }
  std::vector<std::unique_ptr<InstanceLink>> balanced;
  std::vector<OriginLink*> origins;
  for (size_t i = 0; i < instances.size(); ++i) {
    balanced.push_back(std::make_unique<InstanceLink>(scheduler, recorder, instances, i));
    origins.push_back(balanced.back().get());
  }
  OriginLink& link = *origins.front();
  const int64_t start_ms = scheduler.now_ms();
  const int64_t end_ms = start_ms + scenario.duration_s * 1000;
  World world{scheduler, recorder, sent, scenario, link, start_ms, end_ms, World::timings_of(scenario)};
  recorder.begin(run_info(scenario, options, url, start_ms));

  if (scenario.origin.mode == OriginSpec::Mode::external && scenario.origin.create_event) {
    // Create (or replace) the event on the external origin; an origin without the admin
    // API (any DIY origin) answers something else, and the run goes on without it.
    const OriginConfig generated = scenario.origin_config();
    LinkRequest r;
    r.method = "PUT";
    r.target = "/admin/events/" + scenario.event.id;
    r.headers = {{"Authorization", "Bearer " + scenario.origin.admin_token}, {"Content-Type", "application/json"}};
    r.body = std::make_shared<const std::string>(boost::json::serialize(to_json(generated.events.front())));
    bool answered = false;
    link.send(std::move(r), [&](LinkResponse resp) {
      answered = true;
      recorder.action({scheduler.now_ms(), "create-event", "{}", resp.status});
    });
    while (!answered && ioc.run_one_for(std::chrono::seconds(10))) {
    }
  }

  Fleet fleet;
  fleet.build(world, origins, options.viewer_groups_per_edge);
  schedule_actions(world, link, [&side](const OriginSpec::Fault& f, bool begin) { side.apply(f, begin); });
  fleet.start();

  auto in_flight = [&] {
    size_t n = 0;
    for (const auto* l : origins) n += l->in_flight();
    return n;
  };
  std::function<void()> tick = [&] {
    const int64_t now = scheduler.now_ms();
    progress(now, start_ms, end_ms, false);
    if (now < end_ms) scheduler.run_after(options.progress_is_tty ? 500 : 10'000, tick);
  };
  scheduler.run_after(options.progress_is_tty ? 500 : 10'000, tick);
  scheduler.run_at(end_ms, [&] { fleet.stop(); });
  while (scheduler.now_ms() < end_ms) ioc.run_for(std::chrono::milliseconds(200));
  // Let what is in flight finish, then stop.
  const int64_t settle_until = scheduler.now_ms() + options.settle_s * 1000;
  while (in_flight() > 0 && scheduler.now_ms() < settle_until) ioc.run_for(std::chrono::milliseconds(50));
  // Through the first instance's balancer: the first instance that answers.
  const int64_t scrape_wait_ms = 10'000;
  const std::string scraped = scrape_origin_metrics(link, recorder, [&](bool& answered) {
    const int64_t until = scheduler.now_ms() + scrape_wait_ms;
    while (!answered && scheduler.now_ms() < until) ioc.run_for(std::chrono::milliseconds(20));
  });
  progress(end_ms, start_ms, end_ms, true);
  // An external origin other than a liveorigin is expected not to answer /metrics with
  // counters; one that does not answer at all, or a liveorigin that does not, is said.
  const bool say = scenario.origin.mode != OriginSpec::Mode::external || scraped.starts_with("no answer");
  if (!scraped.empty() && say) {
    std::cerr << "warning: the origin's counters (GET /metrics) were not recorded in origin_metrics: " << scraped
              << "\n";
  }
  for (auto& l : instance_links) l->close();
  ioc.run_for(std::chrono::milliseconds(100));

  auto id = recorder.write(options.db_path, scheduler.now_ms(), "completed");
  side.stop();
  if (!id) return id.error();
  summary.run_id = *id;
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  summary.text = summary_text(scenario, *id, options.db_path, url, secs, false, &scheduler);
  return summary;
}

}  // namespace liveorigin::sim
