#include "reports/commands.h"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <optional>

#include "reports/gates.h"
#include "reports/report.h"
#include "reports/results_db.h"

namespace liveorigin::reports {

void print_gates(std::ostream& out, const std::vector<GateResult>& gates, const std::string& indent) {
  for (const auto& g : gates) {
    out << indent << (g.passed ? "pass  " : "FAIL  ") << g.name << ": " << format_metric(g.value, g.unit) << "\n";
  }
}

std::string gate_tally(const std::vector<GateResult>& gates) {
  const auto failed = std::count_if(gates.begin(), gates.end(), [](const auto& g) { return !g.passed; });
  return std::to_string(gates.size() - static_cast<size_t>(failed)) + " passed, " + std::to_string(failed) + " failed";
}

void print_paths(std::ostream& out, const WrittenReports& w, const std::string& indent) {
  // The first path continues the caller's line; the others line up under it.
  out << w.html << "\n" << indent << w.markdown << "\n" << indent << w.json << "\n";
  if (!w.junit.empty()) out << indent << w.junit << "\n";
}

int report_command(const ReportArgs& a) {
  auto db = ResultsDb::open(a.db);
  if (!db) {
    std::cerr << "liveorigin report: " << db.error().message << "\n";
    return kInputError;
  }
  if (!a.compare.empty()) {
    if (a.run != 0) {
      std::cerr << "liveorigin report: --run and --compare exclude each other\n";
      return kInputError;
    }
    std::optional<ResultsDb> other;
    if (!a.db_b.empty()) {
      auto b = ResultsDb::open(a.db_b);
      if (!b) {
        std::cerr << "liveorigin report: " << b.error().message << "\n";
        return kInputError;
      }
      other.emplace(std::move(*b));
    }
    const ResultsDb& db_b = other ? *other : *db;
    auto ida = db->resolve_run(a.compare[0]);
    auto idb = db_b.resolve_run(a.compare[1]);
    if (!ida || !idb) {
      std::cerr << "liveorigin report: " << (!ida ? ida.error().message : idb.error().message) << "\n";
      return kInputError;
    }
    auto ra = collect_report(*db, *ida);
    auto rb = collect_report(db_b, *idb);
    if (!ra || !rb) {
      std::cerr << "liveorigin report: " << (!ra ? ra.error().message : rb.error().message) << "\n";
      return kInputError;
    }
    const std::string dir = !a.out.empty() ? a.out
                                           : "out/compare-run" + std::to_string(*ida) + "-run" + std::to_string(*idb);
    auto written = write_comparison(*ra, *rb, dir);
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
  auto rep = collect_report(*db, *id);
  if (!rep) {
    std::cerr << "liveorigin report: " << rep.error().message << "\n";
    return kInputError;
  }
  auto written = write_reports(*rep, a.out.empty() ? default_report_dir(*rep) : a.out);
  if (!written) {
    std::cerr << "liveorigin report: " << written.error().message << "\n";
    return kInputError;
  }
  std::cout << "run " << *id << " of " << rep->run.scenario_name << ": gates " << gate_tally(rep->gates) << "\n";
  std::cout << "reports: ";
  print_paths(std::cout, *written, "         ");
  return kPass;
}

int gate_command(const GateArgs& a) {
  auto db = ResultsDb::open(a.db);
  if (!db) {
    std::cerr << "liveorigin gate: " << db.error().message << "\n";
    return kInputError;
  }
  auto id = db->resolve_run(a.run);
  if (!id) {
    std::cerr << "liveorigin gate: " << id.error().message << "\n";
    return kInputError;
  }
  std::optional<Baseline> baseline;
  if (!a.baseline.empty()) {
    auto b = load_baseline(a.baseline);
    if (!b) {
      std::cerr << "liveorigin gate: " << b.error().message << "\n";
      return kInputError;
    }
    baseline = std::move(*b);
  }
  auto rep = collect_report(*db, *id);
  if (!rep) {
    std::cerr << "liveorigin gate: " << rep.error().message << "\n";
    return kInputError;
  }
  std::cout << "run " << *id << " of " << rep->run.scenario_name << " (" << a.db << "): gates " << gate_tally(rep->gates)
            << "\n";
  print_gates(std::cout, rep->gates, "  ");
  if (!rep->gates_note.empty()) std::cout << "  note: " << rep->gates_note << "\n";
  std::vector<BaselineCheck> checks;
  if (baseline) {
    auto c = compare_to_baseline(*db, *id, *baseline, a.tolerance_pct);
    if (!c) {
      std::cerr << "liveorigin gate: " << c.error().message << "\n";
      return kInputError;
    }
    checks = std::move(*c);
    const auto regressions = std::count_if(checks.begin(), checks.end(), [](const auto& x) { return x.failed(); });
    std::cout << "baseline " << a.baseline << " (tolerance " << format_number(a.tolerance_pct) << " %): "
              << checks.size() << " metrics, " << regressions << " regressed\n";
    for (const auto& x : checks) {
      if (x.verdict == BaselineCheck::Verdict::same) continue;  // only what moved
      std::cout << "  " << (x.failed() ? "FAIL  " : "      ") << x.message << "\n";
    }
  }
  if (!a.junit.empty()) {
    std::ofstream out(a.junit, std::ios::trunc);
    out << render_junit(*rep, baseline ? &checks : nullptr);
    if (!out) {
      std::cerr << "liveorigin gate: cannot write " << a.junit << "\n";
      return kInputError;
    }
  }
  const bool ok = rep->passed() && !any_failed(checks);
  std::cout << (ok ? "PASS" : "FAIL") << "\n";
  return ok ? kPass : kGateFailed;
}

}  // namespace liveorigin::reports
