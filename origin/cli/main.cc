// liveorigin: one program, several commands: serve, check-config, run, validate,
// report, gate. Exit codes of run, report and gate (docs/reports.md): 0 pass, 1 a gate
// failed or a regression was found, 2 usage or input error.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <vector>

#include <unistd.h>

#include <CLI/CLI.hpp>

#include "origin/core/clock.h"
#include "origin/core/config.h"
#include "origin/core/origin.h"
#include "origin/core/timing.h"
#include "origin/http/server.h"
#include "origin/store/memory_store.h"
#include "reports/gates.h"
#include "reports/report.h"
#include "reports/results_db.h"
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

// Exit codes of run, report and gate.
constexpr int kPass = 0;
constexpr int kGateFailed = 1;
constexpr int kInputError = 2;

void print_gates(std::ostream& out, const std::vector<reports::GateResult>& gates, const std::string& indent) {
  for (const auto& g : gates) {
    out << indent << (g.passed ? "pass  " : "FAIL  ") << g.name << ": " << reports::format_metric(g.value, g.unit) << "\n";
  }
}

std::string gate_tally(const std::vector<reports::GateResult>& gates) {
  const auto failed = std::count_if(gates.begin(), gates.end(), [](const auto& g) { return !g.passed; });
  return std::to_string(gates.size() - static_cast<size_t>(failed)) + " passed, " + std::to_string(failed) + " failed";
}

void print_paths(std::ostream& out, const reports::WrittenReports& w, const std::string& indent) {
  // The first path continues the caller's line; the others line up under it.
  out << w.html << "\n" << indent << w.markdown << "\n" << indent << w.json << "\n";
  if (!w.junit.empty()) out << indent << w.junit << "\n";
}

struct ReportArgs {
  std::string db = "results.db";
  int64_t run = 0;
  std::string out;
  std::vector<int64_t> compare;
  std::string db_b;
};

int report_command(const ReportArgs& a) {
  auto db = reports::ResultsDb::open(a.db);
  if (!db) {
    std::cerr << "liveorigin report: " << db.error().message << "\n";
    return kInputError;
  }
  if (!a.compare.empty()) {
    if (a.run != 0) {
      std::cerr << "liveorigin report: --run and --compare exclude each other\n";
      return kInputError;
    }
    std::optional<reports::ResultsDb> other;
    if (!a.db_b.empty()) {
      auto b = reports::ResultsDb::open(a.db_b);
      if (!b) {
        std::cerr << "liveorigin report: " << b.error().message << "\n";
        return kInputError;
      }
      other.emplace(std::move(*b));
    }
    const reports::ResultsDb& db_b = other ? *other : *db;
    auto ida = db->resolve_run(a.compare[0]);
    auto idb = db_b.resolve_run(a.compare[1]);
    if (!ida || !idb) {
      std::cerr << "liveorigin report: " << (!ida ? ida.error().message : idb.error().message) << "\n";
      return kInputError;
    }
    auto ra = reports::collect_report(*db, *ida);
    auto rb = reports::collect_report(db_b, *idb);
    if (!ra || !rb) {
      std::cerr << "liveorigin report: " << (!ra ? ra.error().message : rb.error().message) << "\n";
      return kInputError;
    }
    const std::string dir = !a.out.empty() ? a.out
                                           : "out/compare-run" + std::to_string(*ida) + "-run" + std::to_string(*idb);
    auto written = reports::write_comparison(*ra, *rb, dir);
    if (!written) {
      std::cerr << "liveorigin report: " << written.error().message << "\n";
      return kInputError;
    }
    std::cout << "run " << *ida << " vs run " << *idb << ": ";
    print_paths(std::cout, *written, std::string(std::to_string(*ida).size() + std::to_string(*idb).size() + 14, ' '));
    return kPass;
  }
  auto id = db->resolve_run(a.run);
  if (!id) {
    std::cerr << "liveorigin report: " << id.error().message << "\n";
    return kInputError;
  }
  auto rep = reports::collect_report(*db, *id);
  if (!rep) {
    std::cerr << "liveorigin report: " << rep.error().message << "\n";
    return kInputError;
  }
  auto written = reports::write_reports(*rep, a.out.empty() ? reports::default_report_dir(*rep) : a.out);
  if (!written) {
    std::cerr << "liveorigin report: " << written.error().message << "\n";
    return kInputError;
  }
  std::cout << "run " << *id << " of " << rep->run.scenario_name << ": gates " << gate_tally(rep->gates) << "\n";
  std::cout << "reports: ";
  print_paths(std::cout, *written, "         ");
  return kPass;
}

struct GateArgs {
  std::string db = "results.db";
  int64_t run = 0;
  std::string baseline;
  double tolerance_pct = 10;
  std::string junit;
};

int gate_command(const GateArgs& a) {
  auto db = reports::ResultsDb::open(a.db);
  if (!db) {
    std::cerr << "liveorigin gate: " << db.error().message << "\n";
    return kInputError;
  }
  auto id = db->resolve_run(a.run);
  if (!id) {
    std::cerr << "liveorigin gate: " << id.error().message << "\n";
    return kInputError;
  }
  std::optional<reports::Baseline> baseline;
  if (!a.baseline.empty()) {
    auto b = reports::load_baseline(a.baseline);
    if (!b) {
      std::cerr << "liveorigin gate: " << b.error().message << "\n";
      return kInputError;
    }
    baseline = std::move(*b);
  }
  auto rep = reports::collect_report(*db, *id);
  if (!rep) {
    std::cerr << "liveorigin gate: " << rep.error().message << "\n";
    return kInputError;
  }
  std::cout << "run " << *id << " of " << rep->run.scenario_name << " (" << a.db << "): gates " << gate_tally(rep->gates)
            << "\n";
  print_gates(std::cout, rep->gates, "  ");
  if (!rep->gates_note.empty()) std::cout << "  note: " << rep->gates_note << "\n";
  std::vector<reports::BaselineCheck> checks;
  if (baseline) {
    auto c = reports::compare_to_baseline(*db, *id, *baseline, a.tolerance_pct);
    if (!c) {
      std::cerr << "liveorigin gate: " << c.error().message << "\n";
      return kInputError;
    }
    checks = std::move(*c);
    const auto regressions = std::count_if(checks.begin(), checks.end(), [](const auto& x) { return x.failed(); });
    std::cout << "baseline " << a.baseline << " (tolerance " << reports::format_number(a.tolerance_pct) << " %): "
              << checks.size() << " metrics, " << regressions << " regressed\n";
    for (const auto& x : checks) {
      if (x.verdict == reports::BaselineCheck::Verdict::same) continue;  // only what moved
      std::cout << "  " << (x.failed() ? "FAIL  " : "      ") << x.message << "\n";
    }
  }
  if (!a.junit.empty()) {
    std::ofstream out(a.junit, std::ios::trunc);
    out << reports::render_junit(*rep, baseline ? &checks : nullptr);
    if (!out) {
      std::cerr << "liveorigin gate: cannot write " << a.junit << "\n";
      return kInputError;
    }
  }
  const bool ok = rep->passed() && !reports::any_failed(checks);
  std::cout << (ok ? "PASS" : "FAIL") << "\n";
  return ok ? kPass : kGateFailed;
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

  auto* report_cmd = app.add_subcommand(
      "report", "Write report.html, report.md, report.json and junit.xml for a recorded run (exit 0, or 2 on bad input)");
  ReportArgs report_args;
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
  GateArgs gate_args;
  gate_cmd->add_option("--db", gate_args.db, "Results database")->capture_default_str();
  gate_cmd->add_option("--run", gate_args.run, "Run id (default: the latest)")->check(CLI::PositiveNumber);
  gate_cmd->add_option("--baseline", gate_args.baseline,
                       "An earlier run's report.json, or a {\"metric{selectors}\": value} map (docs/reports.md)");
  gate_cmd->add_option("--tolerance-pct", gate_args.tolerance_pct,
                       "How much worse than the baseline a metric may be, in percent of the baseline")
      ->check(CLI::Range(0.0, 1e6))
      ->capture_default_str();
  gate_cmd->add_option("--junit", gate_args.junit, "Also write JUnit XML here (one test case per gate and baseline metric)");

  auto* validate_scenario = app.add_subcommand("validate", "Check a scenario file and exit (0 valid, 1 invalid)");
  std::string validate_path;
  validate_scenario->add_option("scenario", validate_path, "Scenario file (YAML)")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kInputError;  // usage error
  }

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
  if (*report_cmd) return report_command(report_args);
  if (*gate_cmd) return gate_command(gate_args);
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
