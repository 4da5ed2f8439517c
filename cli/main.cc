// liveorigin: one program, several commands: serve, check-config, run, validate,
// report, gate, calibrate, plan, purge-follow. The only file that knows every module: each command's work is done
// beside the module it drives (origin/http/serve_command.h, sim/runner.h,
// reports/commands.h); `run` joins the harness and the reports here. Exit codes of
// run, report and gate (docs/reports.md): 0 pass, 1 a gate failed or a regression
// was found, 2 usage or input error.
#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <vector>

#include <unistd.h>

#include <CLI/CLI.hpp>

#include "cdn/purge_follow.h"
#include "cli/plan_command.h"
#include "origin/http/serve_command.h"
#include "reports/commands.h"
#include "reports/gates.h"
#include "reports/report.h"
#include "reports/results_db.h"
#include "sim/calibration.h"
#include "sim/runner.h"
#include "sim/scenario.h"

namespace {

using namespace liveorigin;
using reports::gate_tally;
using reports::kGateFailed;
using reports::kInputError;
using reports::kPass;
using reports::print_gates;
using reports::print_paths;

std::atomic<bool> purge_follow_stop{false};
extern "C" void stop_purge_follow(int) { purge_follow_stop.store(true); }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"liveorigin: a live-video origin server and the harness that proves it"};
  app.require_subcommand(1);

  auto* serve_cmd = app.add_subcommand("serve", "Run the origin server");
  ServeArgs serve_args;
  serve_cmd->add_option("-c,--config", serve_args.config_path, "Origin config (YAML); default: the embedded example")
      ->check(CLI::ExistingFile);
  serve_cmd->add_option("-l,--listen", serve_args.listen, "host:port to listen on (overrides the config)");
  serve_cmd->add_option("-t,--threads", serve_args.threads, "worker threads (overrides the config; 0: one per core)")
      ->check(CLI::NonNegativeNumber);
  serve_cmd->add_option("-s,--store", serve_args.store_url,
                        "memory, sqlite:PATH, redis://host:port or redis-cluster://host:port,... (overrides store.url)");

  auto* validate_cmd = app.add_subcommand("check-config", "Check an origin config file and exit");
  std::string check_path;
  validate_cmd->add_option("config", check_path, "Origin config (YAML)")->required()->check(CLI::ExistingFile);

  auto* run_cmd = app.add_subcommand(
      "run", "Run a scenario, record the results, check its gates, write reports (exit 0 pass, 1 a gate failed, 2 bad input)");
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
  std::string report_dir;
  bool no_report = false;
  run_cmd->add_option("--report-dir", report_dir,
                      "Where to write report.html, report.md, report.json and junit.xml (default: out/<scenario>-run<ID>)");
  run_cmd->add_flag("--no-report", no_report, "Evaluate the gates but write no report files");
  std::vector<std::string> run_sets;
  run_cmd->add_option("--set", run_sets, "Override a scenario key: --set viewers.live.count=5000 (repeatable)")
      ->allow_extra_args(false);

  auto* report_cmd = app.add_subcommand(
      "report", "Write report.html, report.md, report.json and junit.xml for a recorded run (exit 0, or 2 on bad input)");
  reports::ReportArgs report_args;
  report_cmd->add_option("--db", report_args.db, "Results database")->capture_default_str();
  report_cmd->add_option("--run", report_args.run, "Run id (default: the latest)")->check(CLI::PositiveNumber);
  report_cmd->add_option("--out", report_args.out,
                         "Output directory (default: out/<scenario>-run<ID>, or out/compare-run<A>-run<B>)");
  report_cmd->add_option("--compare", report_args.compare, "Two runs side by side: --compare A B")
      ->expected(2)
      ->check(CLI::PositiveNumber);
  report_cmd->add_option("--db-b", report_args.db_b, "With --compare: the database run B is in (default: --db)");

  auto* gate_cmd = app.add_subcommand(
      "gate", "Check a recorded run's gates and, with --baseline, regressions (exit 0 pass, 1 fail, 2 bad input)");
  reports::GateArgs gate_args;
  gate_cmd->add_option("--db", gate_args.db, "Results database")->capture_default_str();
  gate_cmd->add_option("--run", gate_args.run, "Run id (default: the latest)")->check(CLI::PositiveNumber);
  gate_cmd->add_option("--baseline", gate_args.baseline,
                       "An earlier run's report.json, or a {\"metric{selectors}\": value} map (docs/reports.md)");
  gate_cmd->add_option("--tolerance-pct", gate_args.tolerance_pct,
                       "How much worse than the baseline a metric may be, in percent of the baseline")
      ->check(CLI::Range(0.0, 1e6))
      ->capture_default_str();
  gate_cmd->add_option("--junit", gate_args.junit, "Also write JUnit XML here (one test case per gate and baseline metric)");

  auto* plan_cmd = app.add_subcommand(
      "plan", "Run a scenario over a sweep grid, each point its own process, and write the planning table (exit 0 every "
              "point has a result, 1 some have none, 2 bad input)");
  PlanArgs plan_args;
  plan_cmd->add_option("scenario", plan_args.scenario, "Scenario file (YAML); with --merge, optional")
      ->check(CLI::ExistingFile);
  plan_cmd->add_option("--sweep", plan_args.sweeps,
                       "key=v1,v2,...: a scenario key and its values (repeatable; the grid is every combination)")
      ->allow_extra_args(false);
  plan_cmd->add_option("-j,--jobs", plan_args.jobs, "Points run at once")->check(CLI::Range(1, 256))->capture_default_str();
  plan_cmd->add_option("--out", plan_args.out,
                       "Directory for the points' results files and the table (default: out/plan-<scenario>)");
  auto* target_opt = plan_cmd
                         ->add_option("--target-p99-ms", plan_args.target_p99_ms,
                                      "Instances needed: the live origin_service p99 to stay under")
                         ->check(CLI::PositiveNumber)
                         ->capture_default_str();
  plan_cmd->add_flag("--emit-jobs", plan_args.emit_jobs,
                     "Print one command per point and write the grid to DIR/plan.json; run nothing");
  plan_cmd->add_flag("--merge", plan_args.merge, "Make the table from the point-N.db files in --out (grid from plan.json)");

  auto* validate_scenario = app.add_subcommand("validate", "Check a scenario file and exit (0 valid, 1 invalid)");
  std::string validate_path;
  validate_scenario->add_option("scenario", validate_path, "Scenario file (YAML)")->required();

  auto* calibrate_cmd = app.add_subcommand(
      "calibrate", "Derive the virtual-time origin model from measured runs into a calibration file (exit 0, or 2 on bad input)");
  sim::CalibrateArgs calibrate_args;
  calibrate_cmd->add_option("--bench", calibrate_args.bench, "scripts/bench's results.json")
      ->required()
      ->check(CLI::ExistingFile);
  calibrate_cmd->add_option("--run", calibrate_args.run_db,
                            "A realtime run's results database: its hot cache's hit ratio")
      ->check(CLI::ExistingFile);
  calibrate_cmd->add_option("--run-id", calibrate_args.run_id, "The run in --run (default: the latest)")
      ->check(CLI::PositiveNumber);
  calibrate_cmd->add_option("-o,--out", calibrate_args.out, "The calibration file to write (YAML)")->required();
  calibrate_cmd->add_option("--name", calibrate_args.name,
                            "The calibration's name, as reports show it (default: bench <commit> <date>)");

  auto* purge_cmd = app.add_subcommand(
      "purge-follow", "Follow an event's invalidation feed and purge a Varnish or nginx cache (docs/cdn.md); runs until SIGINT/SIGTERM");
  cdn::PurgeFollowOptions purge_options;
  std::string purge_varnish, purge_nginx;
  purge_cmd->add_option("--origin", purge_options.origin_url, "The origin, http://host:port")->required();
  purge_cmd->add_option("--event", purge_options.event, "The event whose feed to follow")->required();
  auto* varnish_opt = purge_cmd->add_option("--varnish", purge_varnish,
                                            "A Varnish with deploy/varnish/liveorigin.vcl, http://host:port (BANs)");
  auto* nginx_opt = purge_cmd->add_option("--nginx", purge_nginx,
                                          "An nginx with deploy/nginx/liveorigin-cache.conf, http://host:port (refreshes)");
  varnish_opt->excludes(nginx_opt);
  nginx_opt->excludes(varnish_opt);
  purge_cmd->add_option("--interval-ms", purge_options.interval_ms, "How often to poll the feed (default 500)")
      ->check(CLI::PositiveNumber);
  purge_cmd->add_option("--since", purge_options.since,
                        "Feed entries up to this version are already purged (default 0: replay the whole feed)")
      ->check(CLI::NonNegativeNumber);
  purge_cmd->add_option("--refresh-max", purge_options.refresh_max,
                        "nginx: at most this many URLs refreshed per stream and invalidation, newest first (default 4096)")
      ->check(CLI::PositiveNumber);

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kInputError;  // usage error
  }

  if (*purge_cmd) {
    if (purge_varnish.empty() == purge_nginx.empty()) {
      std::cerr << "purge-follow: give one of --varnish URL or --nginx URL\n";
      return kInputError;
    }
    purge_options.kind = purge_varnish.empty() ? cdn::CacheKind::nginx : cdn::CacheKind::varnish;
    purge_options.cache_url = purge_varnish.empty() ? purge_nginx : purge_varnish;
    std::signal(SIGINT, stop_purge_follow);
    std::signal(SIGTERM, stop_purge_follow);
    return cdn::run_purge_follow(purge_options, purge_follow_stop, std::cout);
  }

  if (*run_cmd) {
    std::vector<sim::Override> overrides;
    for (const auto& text : run_sets) {
      auto o = sim::parse_override(text);
      if (!o) {
        std::cerr << o.error().message << "\n";
        return kInputError;
      }
      overrides.push_back(*o);
    }
    auto scenario = sim::load_scenario(run_path, overrides);
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
      return kInputError;
    }
    std::cout << result->text << "\n";
    // The scenario's gates on what was recorded, and the reports.
    auto db = reports::ResultsDb::open(result->db_path);
    if (!db) {
      std::cerr << "liveorigin run: " << db.error().message << "\n";
      return kInputError;
    }
    auto rep = reports::collect_report(*db, result->run_id);
    if (!rep) {
      std::cerr << "liveorigin run: " << rep.error().message << "\n";
      return kInputError;
    }
    if (rep->gates.empty()) {
      std::cout << "  gates: none in the scenario\n";
    } else {
      std::cout << "  gates: " << gate_tally(rep->gates) << "\n";
      print_gates(std::cout, rep->gates, "    ");
    }
    if (!no_report) {
      auto written = reports::write_reports(*rep, report_dir.empty() ? reports::default_report_dir(*rep) : report_dir);
      if (!written) {
        std::cerr << "liveorigin run: " << written.error().message << "\n";
        return kInputError;
      }
      std::cout << "  reports: ";
      print_paths(std::cout, *written, "           ");
    }
    return rep->passed() ? kPass : kGateFailed;
  }
  if (*plan_cmd) {
    plan_args.target_given = target_opt->count() > 0;
    return plan_command(plan_args);
  }
  if (*report_cmd) return reports::report_command(report_args);
  if (*gate_cmd) return reports::gate_command(gate_args);
  if (*calibrate_cmd) return sim::calibrate_command(calibrate_args, std::cout, std::cerr);
  if (*validate_scenario) return sim::validate_scenario_file(validate_path, std::cout, std::cerr);

  if (*serve_cmd) return serve_command(serve_args);
  if (*validate_cmd) return check_config_command(check_path);
  return 0;
}
