// The parts of a recorded run's scenario that its report needs: the story, the
// pipelines in rank order, the CDN tiers and the gates. Read from the scenario text
// stored with the run (runs.scenario_text), so a report evaluates the gates the run
// was recorded with, whatever else this liveorigin's scenario format has become.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "origin/core/result.h"
#include "results/gate_spec.h"

namespace liveorigin::results {

struct RecordedScenario {
  std::string description;
  std::vector<std::string> pipelines;  // rank order
  std::vector<std::string> cdn_tiers;  // file order
  std::vector<Gate> gates;
};

// Errors are those of the gates ("source:line:col: gates[0].op: ...") and of YAML.
Result<RecordedScenario> read_recorded_scenario(std::string_view text, std::string_view source);

// The comment lines at the top of a file, without their '#': a scenario's default
// description.
std::string leading_comment(std::string_view text);

}  // namespace liveorigin::results
