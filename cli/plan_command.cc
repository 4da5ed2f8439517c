#include "cli/plan_command.h"

#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "reports/gates.h"
#include "reports/plan.h"
#include "sim/child_process.h"
#include "sim/plan_grid.h"
#include "sim/runner.h"
#include "sim/scenario.h"

namespace liveorigin {

namespace {

namespace fs = std::filesystem;
using reports::settings_text;
using Clock = std::chrono::steady_clock;

constexpr int kAllResults = 0;
constexpr int kSomeWithout = 1;
constexpr int kInputError = 2;

volatile std::sig_atomic_t g_stop = 0;
void on_stop_signal(int) { g_stop = 1; }

int refuse(const std::string& why) {
  std::cerr << "liveorigin plan: " << why << "\n";
  return kInputError;
}

// Quoted for a POSIX shell only where it needs it, so the commands stay readable.
std::string shell_quote(const std::string& s) {
  static const std::string kSafe =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./=,:+-@%";
  if (!s.empty() && s.find_first_not_of(kSafe) == std::string::npos) return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string command_text(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) out += (out.empty() ? "" : " ") + shell_quote(a);
  return out;
}

// This very program: the points run the same liveorigin as the plan.
std::string own_path() {
  std::error_code ec;
  const fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("liveorigin") : p.string();
}

std::string default_out(const std::string& scenario_name) {
  std::string name;
  for (char c : scenario_name) {
    name += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
  }
  return (fs::path("out") / ("plan-" + name)).string();
}

std::string last_line(const std::string& text) {
  size_t end = text.find_last_not_of("\n ");
  if (end == std::string::npos) return "";
  const size_t start = text.rfind('\n', end);
  return text.substr(start == std::string::npos ? 0 : start + 1, end - (start == std::string::npos ? 0 : start + 1) + 1);
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", s);
  return buf;
}

// The points as processes, `jobs` at a time; progress on stderr. Returns why each point
// that did not finish with exit 0 or 1 failed, by point number.
std::map<int, std::string> run_points(const reports::Plan& plan, const std::vector<std::vector<std::string>>& argvs,
                                      const fs::path& dir, int jobs) {
  struct Running {
    sim::ChildProcess process;
    size_t index = 0;
  };
  std::map<int, std::string> failures;
  std::vector<std::unique_ptr<Running>> running;
  const auto start = Clock::now();
  size_t next = 0;
  size_t done = 0;
  const size_t total = plan.points.size();
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  while (done < total && !g_stop) {
    while (running.size() < static_cast<size_t>(jobs) && next < total) {
      const reports::PlanPoint& p = plan.points[next];
      // A fresh file and log per point: a rerun of the plan must not read an older run.
      fs::remove(dir / p.db);
      const fs::path log = dir / ("point-" + std::to_string(p.number) + ".log");
      fs::remove(log);
      auto r = std::make_unique<Running>();
      r->index = next++;
      if (auto started = r->process.start(argvs[r->index], log.string()); !started) {
        failures[p.number] = started.error().message;
        ++done;
        std::cerr << "plan: [" << done << "/" << total << "] " << seconds_text(seconds_since(start)) << "  point "
                  << p.number << " (" << settings_text(p.set) << "): FAILED: " << started.error().message << "\n";
        continue;
      }
      running.push_back(std::move(r));
    }
    for (size_t i = 0; i < running.size();) {
      Running& r = *running[i];
      if (r.process.running()) {
        ++i;
        continue;
      }
      const int code = r.process.wait_exit(std::chrono::milliseconds(0));
      const reports::PlanPoint& p = plan.points[r.index];
      std::string outcome = code == 0 ? "done" : code == 1 ? "done (a gate failed)" : "";
      if (outcome.empty()) {
        const std::string why = last_line(r.process.log());
        failures[p.number] = "failed (exit " + std::to_string(code) + ")" + (why.empty() ? "" : ": " + why);
        outcome = "FAILED (exit " + std::to_string(code) + "), log point-" + std::to_string(p.number) + ".log" +
                  (why.empty() ? "" : ": " + why);
      }
      ++done;
      std::cerr << "plan: [" << done << "/" << total << "] " << seconds_text(seconds_since(start)) << "  point "
                << p.number << " (" << settings_text(p.set) << "): " << outcome << "\n";
      running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
    }
    if (done < total) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (g_stop) {
    for (auto& r : running) {
      r->process.kill(SIGKILL);
      failures[plan.points[r->index].number] = "stopped (the plan was interrupted)";
    }
    for (size_t i = next; i < total; ++i) failures[plan.points[i].number] = "not run (the plan was interrupted)";
  }
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  return failures;
}

// Reads the points' results, decides the instances needed, writes the table and says
// what it found.
int finish(reports::Plan& plan, const std::string& dir, const std::map<int, std::string>& failures) {
  reports::read_plan_results(plan, dir);
  for (auto& p : plan.points) {
    if (auto f = failures.find(p.number); f != failures.end() && !p.has_result) p.status = "no result: " + f->second;
  }
  reports::decide_instances(plan);
  auto written = reports::write_plan(plan, dir);
  if (!written) return refuse(written.error().message);
  size_t with = 0;
  for (const auto& p : plan.points) with += p.has_result ? 1 : 0;
  std::cout << "plan of " << plan.scenario_name << ": " << plan.points.size() << " points, " << with
            << " with results\n";
  for (const auto& p : plan.points) {
    if (!p.has_result) std::cout << "  point " << p.number << " (" << settings_text(p.set) << "): " << p.status << "\n";
  }
  if (!plan.needed.empty()) {
    std::cout << "  origin instances needed for live origin_service p99 <= " << reports::format_number(plan.target_p99_ms)
              << " ms and no segment missed:\n";
    for (const auto& n : plan.needed) {
      std::cout << "    " << (n.others.empty() ? std::string("every point") : settings_text(n.others)) << ": "
                << (n.instances ? std::to_string(*n.instances) : "more than " + std::to_string(n.most_swept)) << "\n";
    }
  }
  std::cout << "  table: " << written->markdown << "\n         " << written->csv << "\n         " << written->json
            << "\n         " << written->html << "\n";
  return plan.complete() ? kAllResults : kSomeWithout;
}

int merge(const PlanArgs& a) {
  if (!a.sweeps.empty()) return refuse("--merge reads the grid from the plan's plan.json: give no --sweep");
  std::optional<sim::Scenario> scenario;
  if (!a.scenario.empty()) {
    auto s = sim::load_scenario(a.scenario);
    if (!s) return refuse(s.error().message);
    scenario = std::move(*s);
  }
  if (a.out.empty() && !scenario) return refuse("--merge needs --out DIR, or the scenario (for its default directory)");
  const std::string dir = a.out.empty() ? default_out(scenario->name) : a.out;
  auto plan = reports::read_plan_manifest((fs::path(dir) / "plan.json").string());
  if (!plan) return refuse(plan.error().message);
  if (scenario && sim::scenario_hash(*scenario) != plan->scenario_sha256) {
    return refuse(a.scenario + " is not the scenario the plan in " + dir + " was made of (" + plan->scenario_path +
                  ", sha-256 " + plan->scenario_sha256.substr(0, 16) + "…): it changed, or it is another file");
  }
  if (a.target_given) plan->target_p99_ms = a.target_p99_ms;
  return finish(*plan, dir, {});
}

}  // namespace

int plan_command(const PlanArgs& a) {
  if (a.merge && a.emit_jobs) return refuse("--merge and --emit-jobs exclude each other");
  if (a.merge) return merge(a);
  if (a.scenario.empty()) return refuse("give the scenario file: liveorigin plan SCENARIO --sweep key=v1,v2,...");

  // The grid, every point checked before anything runs.
  std::vector<sim::Sweep> sweeps;
  for (const auto& text : a.sweeps) {
    auto s = sim::parse_sweep(text);
    if (!s) return refuse(s.error().message);
    sweeps.push_back(std::move(*s));
  }
  auto points = sim::make_grid(sweeps);
  if (!points) return refuse(points.error().message);
  auto base = sim::load_scenario(a.scenario);
  if (!base) return refuse(base.error().message);
  if (auto ok = sim::check_grid(a.scenario, *points); !ok) return refuse(ok.error().message);

  const std::string dir = a.out.empty() ? default_out(base->name) : a.out;
  const std::string program = own_path();
  reports::Plan plan;
  plan.scenario_path = a.scenario;
  plan.scenario_name = base->name;
  plan.scenario_sha256 = sim::scenario_hash(*base);
  plan.target_p99_ms = a.target_p99_ms;
  for (const auto& s : sweeps) plan.sweeps.push_back({s.key, s.values});
  std::vector<std::vector<std::string>> argvs;
  for (const auto& gp : *points) {
    reports::PlanPoint p;
    p.number = gp.number;
    for (const auto& o : gp.set) p.set.emplace_back(o.key, o.value);
    p.db = "point-" + std::to_string(gp.number) + ".db";
    std::vector<std::string> argv = {program, "run", a.scenario, "--virtual", "-q", "--no-report",
                                     "--db", (fs::path(dir) / p.db).string()};
    for (const auto& o : gp.set) {
      argv.push_back("--set");
      argv.push_back(o.text());
    }
    p.command = command_text(argv);
    plan.points.push_back(std::move(p));
    argvs.push_back(std::move(argv));
  }
  if (auto m = reports::write_plan_manifest(plan, dir); !m) return refuse(m.error().message);

  if (a.emit_jobs) {
    for (const auto& p : plan.points) std::cout << p.command << "\n";
    std::cerr << "plan: " << plan.points.size() << " commands; the grid is in " << (fs::path(dir) / "plan.json").string()
              << "; when they have run and their point-N.db files are in " << dir << ": liveorigin plan --merge --out "
              << shell_quote(dir) << "\n";
    return kAllResults;
  }
  std::cerr << "plan: " << plan.points.size() << " points of " << plan.scenario_name << ", " << a.jobs
            << " at a time, into " << dir << "\n";
  const auto failures = run_points(plan, argvs, dir, a.jobs);
  return finish(plan, dir, failures);
}

}  // namespace liveorigin
