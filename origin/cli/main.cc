// liveorigin: one program, several commands (serve now; run, report, gate, plan,
// validate as the harness lands).
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include <unistd.h>

#include <CLI/CLI.hpp>

#include "origin/core/clock.h"
#include "origin/core/config.h"
#include "origin/core/origin.h"
#include "origin/core/timing.h"
#include "origin/http/server.h"
#include "origin/store/memory_store.h"
#include "sim/runner.h"
#include "sim/scenario.h"

namespace {

using namespace liveorigin;

std::string timestamp() {
  return format_iso8601_ms(SystemClock().now_ms());
}

void log_line(std::string_view msg) {
  std::fprintf(stderr, "%s %.*s\n", timestamp().c_str(), static_cast<int>(msg.size()), msg.data());
}

Result<OriginConfig> load_config(const std::string& path) {
  if (path.empty()) return parse_origin_config(kDefaultConfigYaml, "(embedded default config)");
  std::ifstream in(path);
  if (!in) return make_error("cannot read config " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_origin_config(ss.str(), path);
}

int serve(const std::string& config_path, const std::string& listen, int threads) {
  const std::string source = config_path.empty() ? "(embedded default config)" : config_path;
  auto config = load_config(config_path);
  if (!config) {
    std::cerr << "liveorigin: " << config.error().message << "\n";
    return 2;
  }
  if (!listen.empty()) config->listen = listen;
  if (threads > 0) config->threads = threads;

  SystemClock clock;
  MemoryStore store;
  Origin origin(clock, *config, log_line);
  Server server(origin, store, ServerOptions::from(*config));
  auto port = server.bind();
  if (!port) {
    std::cerr << "liveorigin: " << port.error().message << "\n";
    return 1;
  }
  std::string where = config->listen.substr(0, config->listen.rfind(':')) + ":" + std::to_string(*port);
  if (!config->ingest_listen.empty()) {
    where += ", ingest on " + config->ingest_listen.substr(0, config->ingest_listen.rfind(':')) + ":" +
             std::to_string(server.ingest_port());
  }
  log_line("liveorigin listening on " + where + " (" + source + ", " +
           std::to_string(ServerOptions::from(*config).threads) + " threads, store " +
           std::string(store.name()) + ", " + std::to_string(config->events.size()) + " events)");
  std::signal(SIGPIPE, SIG_IGN);
  server.handle_signals([&](OriginThread& thread) {
    if (config_path.empty()) return log_line("SIGHUP: no config file to reload (running the embedded default)");
    auto next = load_config(config_path);
    if (!next) return log_line("SIGHUP: config not reloaded, the running one stays: " + next.error().message);
    // The command line still overrides the file.
    if (!listen.empty()) next->listen = listen;
    if (threads > 0) next->threads = threads;
    log_line(origin.reload(thread, *next));
  });
  server.start();
  server.wait();
  log_line("liveorigin stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"liveorigin: a live-video origin server and the harness that proves it"};
  app.require_subcommand(1);

  auto* serve_cmd = app.add_subcommand("serve", "Run the origin server");
  std::string config_path;
  std::string listen;
  int threads = 0;
  serve_cmd->add_option("-c,--config", config_path, "Origin config (YAML); default: the embedded example")
      ->check(CLI::ExistingFile);
  serve_cmd->add_option("-l,--listen", listen, "host:port to listen on (overrides the config)");
  serve_cmd->add_option("-t,--threads", threads, "worker threads (overrides the config; 0: one per core)")
      ->check(CLI::NonNegativeNumber);

  auto* validate_cmd = app.add_subcommand("check-config", "Check an origin config file and exit");
  std::string check_path;
  validate_cmd->add_option("config", check_path, "Origin config (YAML)")->required()->check(CLI::ExistingFile);

  auto* run_cmd = app.add_subcommand("run", "Run a scenario against an origin and record the results");
  std::string run_path;
  sim::RunOptions run_options;
  bool quiet = false;
  run_cmd->add_option("scenario", run_path, "Scenario file (YAML)")->required()->check(CLI::ExistingFile);
  run_cmd->add_option("--db", run_options.db_path, "Results database (SQLite), created if missing")
      ->capture_default_str();
  run_cmd->add_flag("--virtual", run_options.virtual_time,
                    "Virtual time: the origin core in-process on a discrete-event clock (deterministic, fast)");
  run_cmd->add_option("--groups-per-edge", run_options.viewer_groups_per_edge,
                      "Viewer groups per edge node per cohort (fidelity vs. cost)")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  run_cmd->add_flag("-q,--quiet", quiet, "No progress line");

  auto* validate_scenario = app.add_subcommand("validate", "Check a scenario file and exit (0 valid, 1 invalid)");
  std::string validate_path;
  validate_scenario->add_option("scenario", validate_path, "Scenario file (YAML)")->required();

  CLI11_PARSE(app, argc, argv);

  if (*run_cmd) {
    auto scenario = sim::load_scenario(run_path);
    if (!scenario) {
      std::cerr << scenario.error().message << "\n";
      return 2;
    }
    if (!quiet) {
      run_options.progress_out = &std::cerr;
      run_options.progress_is_tty = ::isatty(2) == 1;
    }
    std::signal(SIGPIPE, SIG_IGN);
    auto result = sim::run_scenario(*scenario, run_options);
    if (!result) {
      std::cerr << "liveorigin run: " << result.error().message << "\n";
      return 2;
    }
    std::cout << result->text << "\n";
    return 0;
  }
  if (*validate_scenario) return sim::validate_scenario_file(validate_path, std::cout, std::cerr);

  if (*serve_cmd) return serve(config_path, listen, threads);
  if (*validate_cmd) {
    std::ifstream in(check_path);
    std::stringstream ss;
    ss << in.rdbuf();
    auto config = liveorigin::parse_origin_config(ss.str(), check_path);
    if (!config) {
      std::cerr << config.error().message << "\n";
      return 1;
    }
    std::cout << check_path << ": ok (" << config->events.size() << " events)\n";
    return 0;
  }
  return 0;
}
