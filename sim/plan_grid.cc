#include "sim/plan_grid.h"

#include <algorithm>

namespace liveorigin::sim {

Result<Sweep> parse_sweep(std::string_view text) {
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return make_error("--sweep " + std::string(text) + ": expected key=v1,v2,... (e.g. origin.instances=1,2,4)");
  }
  Sweep s;
  s.key = std::string(text.substr(0, eq));
  std::string_view rest = text.substr(eq + 1);
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    s.values.emplace_back(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  if (s.values.empty()) return make_error("--sweep " + std::string(text) + ": " + s.key + " has no values: an empty grid");
  for (const auto& v : s.values) {
    auto o = parse_override(s.key + "=" + v);
    if (!o) {
      if (v.empty()) return make_error("--sweep " + std::string(text) + ": an empty value (two commas, or one at an end)");
      return make_error("--sweep " + std::string(text) + ": " + o.error().message.substr(o.error().message.find(": ") + 2));
    }
  }
  return s;
}

Result<std::vector<GridPoint>> make_grid(const std::vector<Sweep>& sweeps) {
  if (sweeps.empty()) return make_error("no --sweep: an empty grid (e.g. --sweep origin.instances=1,2,4)");
  for (size_t i = 0; i < sweeps.size(); ++i) {
    if (sweeps[i].values.empty()) return make_error("--sweep " + sweeps[i].key + ": no values: an empty grid");
    for (size_t j = 0; j < i; ++j) {
      if (sweeps[j].key == sweeps[i].key) return make_error("--sweep " + sweeps[i].key + ": swept twice");
    }
  }
  std::vector<GridPoint> points;
  std::vector<size_t> at(sweeps.size(), 0);  // an odometer, the last sweep turning fastest
  while (true) {
    GridPoint p;
    p.number = static_cast<int>(points.size()) + 1;
    for (size_t i = 0; i < sweeps.size(); ++i) p.set.push_back({sweeps[i].key, sweeps[i].values[at[i]]});
    points.push_back(std::move(p));
    size_t i = sweeps.size();
    while (i > 0 && ++at[i - 1] == sweeps[i - 1].values.size()) at[--i] = 0;
    if (i == 0) return points;
  }
}

Result<bool> check_grid(const std::string& path, const std::vector<GridPoint>& points) {
  std::vector<std::string> reasons;
  auto note = [&](const std::string& why) {
    if (std::find(reasons.begin(), reasons.end(), why) == reasons.end()) reasons.push_back(why);
  };
  for (const auto& p : points) {
    auto s = load_scenario(path, p.set);
    if (!s) {
      note(s.error().message);
      continue;
    }
    const bool sweeps_instances =
        std::any_of(p.set.begin(), p.set.end(), [](const Override& o) { return o.key == "origin.instances"; });
    const OriginSpec& o = s->origin;
    const bool ideal = !o.model.given && o.instances == 1 && o.store == OriginSpec::Store::memory && o.faults.empty();
    if (sweeps_instances && ideal) {
      note("--sweep origin.instances: " + path +
           " has no origin.model, so its one-instance points run the ideal origin (answers take no time) and "
           "cannot be compared with the others: add origin.model (origin: {model: {}} for the defaults) and a "
           "shared store (origin.store: redis)");
    }
  }
  if (reasons.empty()) return true;
  std::string all;
  for (const auto& r : reasons) all += (all.empty() ? "" : "\n") + r;
  return make_error(all);
}

}  // namespace liveorigin::sim
