// `liveorigin report` and `liveorigin gate` (docs/reports.md), and the pieces of their
// output `liveorigin run` prints too. Exit codes: 0 pass, 1 a gate failed or a
// regression was found, 2 usage or input error.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "reports/gates.h"
#include "reports/report.h"

namespace liveorigin::reports {

inline constexpr int kPass = 0;
inline constexpr int kGateFailed = 1;
inline constexpr int kInputError = 2;

struct ReportArgs {
  std::string db = "results.db";
  int64_t run = 0;
  std::string out;
  std::vector<int64_t> compare;
  std::string db_b;
};

struct GateArgs {
  std::string db = "results.db";
  int64_t run = 0;
  std::string baseline;
  double tolerance_pct = 10;
  std::string junit;
};

int report_command(const ReportArgs& args);
int gate_command(const GateArgs& args);

// "pass  name: value" per gate, each line starting with `indent`.
void print_gates(std::ostream& out, const std::vector<GateResult>& gates, const std::string& indent);
// "3 passed, 1 failed"
std::string gate_tally(const std::vector<GateResult>& gates);
// The report paths, the first continuing the caller's line, the others under it.
void print_paths(std::ostream& out, const WrittenReports& w, const std::string& indent);

}  // namespace liveorigin::reports
