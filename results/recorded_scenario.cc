#include "results/recorded_scenario.h"

#include "origin/core/yaml_reader.h"

namespace liveorigin::results {

namespace {

// The ids of a map from id to settings, or of a list of ids; empty when neither.
std::vector<std::string> ids(const YAML::Node& node) {
  std::vector<std::string> out;
  if (node.IsMap()) {
    for (const auto& kv : node) {
      if (kv.first.IsScalar()) out.push_back(kv.first.Scalar());
    }
  } else if (node.IsSequence()) {
    for (const auto& item : node) {
      if (item.IsScalar()) out.push_back(item.Scalar());
    }
  }
  return out;
}

}  // namespace

Result<RecordedScenario> read_recorded_scenario(std::string_view text, std::string_view source) {
  return yaml::parse_document<RecordedScenario>([&] {
    const YAML::Node root = yaml::load(text, source);
    RecordedScenario s;
    const YAML::Node description = root.IsMap() ? root["description"] : YAML::Node();
    s.description = description.IsDefined() && description.IsScalar() ? description.Scalar() : leading_comment(text);
    const YAML::Node pipelines = root.IsMap() ? root["pipelines"] : YAML::Node();
    s.pipelines = pipelines.IsDefined() ? ids(pipelines) : std::vector<std::string>{"a", "b"};
    const YAML::Node cdn = root.IsMap() ? root["cdn"] : YAML::Node();
    const YAML::Node tiers = cdn.IsDefined() && cdn.IsMap() ? cdn["tiers"] : YAML::Node();
    s.cdn_tiers = tiers.IsDefined() && !tiers.IsNull() ? ids(tiers) : std::vector<std::string>{"edge"};
    const YAML::Node gates = root.IsMap() ? root["gates"] : YAML::Node();
    s.gates = parse_gates(gates.IsDefined() ? gates : YAML::Node(), yaml::Location{std::string(source), "gates"},
                          s.cdn_tiers);
    return s;
  });
}

std::string leading_comment(std::string_view text) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos) {
      lines.emplace_back();
    } else if (line[first] == '#') {
      std::string_view c = line.substr(first + 1);
      if (!c.empty() && c[0] == ' ') c.remove_prefix(1);
      lines.emplace_back(c);
    } else {
      break;
    }
    pos = end + 1;
  }
  while (!lines.empty() && lines.front().empty()) lines.erase(lines.begin());
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  return yaml::join(lines, "\n");
}

}  // namespace liveorigin::results
