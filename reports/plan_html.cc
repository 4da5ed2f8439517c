// plan.html: one self-contained page (inline SVG drawn by reports/svg.cc, the reports'
// head and footer, CSP default-src 'none'): instances needed, the points, and a chart of
// each figure against the first swept key, one series per combination of the others.
#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "reports/gates.h"
#include "reports/html_page.h"
#include "reports/plan.h"
#include "reports/svg.h"

namespace liveorigin::reports {

namespace {

// Charts: a figure against the first swept key (or another), one series per combination
// of the remaining keys.

struct XAxis {
  svg::Axis axis;
  std::map<std::string, double> at;  // value as typed -> x
};

XAxis x_axis(const PlanSweep& sweep) {
  XAxis x;
  x.axis.label = sweep.key;
  bool numeric = true;
  for (const auto& v : sweep.values) numeric = numeric && swept_number(v).has_value();
  if (numeric) {
    double lo = INFINITY, hi = -INFINITY;
    for (const auto& v : sweep.values) {
      const double n = *swept_number(v);
      x.at[v] = n;
      lo = std::min(lo, n);
      hi = std::max(hi, n);
    }
    x.axis.min = lo == hi ? lo - 1 : lo;
    x.axis.max = lo == hi ? hi + 1 : hi;
    // Ticks at the swept values when they are few, so each column of dots is labelled.
    if (sweep.values.size() <= 8) {
      for (const auto& [text, n] : x.at) x.axis.ticks.push_back(n);
      std::sort(x.axis.ticks.begin(), x.axis.ticks.end());
    }
    return x;
  }
  // Categories (true, false; memory, redis): evenly spaced in sweep order.
  for (size_t i = 0; i < sweep.values.size(); ++i) {
    x.at[sweep.values[i]] = static_cast<double>(i);
    x.axis.ticks.push_back(static_cast<double>(i));
    x.axis.tick_names.push_back(sweep.values[i]);
  }
  x.axis.min = -0.5;
  x.axis.max = static_cast<double>(sweep.values.size()) - 0.5;
  return x;
}

svg::Axis y_axis(const std::string& label, const std::vector<svg::Series>& series, bool percent_unit) {
  double hi = 0;
  for (const auto& s : series) {
    for (const auto& [x, y] : s.points) {
      if (std::isfinite(y)) hi = std::max(hi, y);
    }
  }
  svg::Axis y;
  y.label = label;
  y.min = 0;
  y.max = percent_unit ? std::max(1.0, svg::nice_ceil(hi)) : svg::nice_ceil(hi);
  return y;
}

std::string column_chart(const Plan& plan, size_t column) {
  const PlanColumn& col = plan_columns()[column];
  const PlanSweep& first = plan.sweeps.front();
  const XAxis x = x_axis(first);
  std::vector<svg::Series> series;
  std::vector<Settings> combos;
  for (const auto& p : plan.points) {
    const Settings others = without_key(p.set, first.key);
    auto it = std::find(combos.begin(), combos.end(), others);
    if (it == combos.end()) {
      combos.push_back(others);
      svg::Series s;
      s.label = others.empty() ? col.label : settings_text(others);
      s.color = svg::palette(series.size());
      s.dots = true;
      series.push_back(std::move(s));
      it = combos.end() - 1;
    }
    svg::Series& s = series[static_cast<size_t>(it - combos.begin())];
    const double y = p.has_result && p.values[column] ? *p.values[column] : NAN;
    s.points.emplace_back(x.at.at(p.set.front().second), y);
  }
  for (auto& s : series) std::sort(s.points.begin(), s.points.end());
  svg::LineChart c;
  c.id = "plan-" + col.id;
  c.title = col.label + " against " + first.key;
  c.x = x.axis;
  c.y = y_axis(col.label + " (" + col.unit + ")", series, col.unit == "%");
  c.series = std::move(series);
  return svg::line_chart(c);
}

// Instances needed against the first swept key other than origin.instances, one series
// per combination of the rest.
std::string needed_chart(const Plan& plan) {
  const PlanSweep* along = nullptr;
  for (const auto& s : plan.sweeps) {
    if (s.key != kInstancesKey) {
      along = &s;
      break;
    }
  }
  std::vector<svg::Series> series;
  std::vector<Settings> combos;
  svg::Axis xa;
  std::map<std::string, double> at;
  if (along) {
    XAxis x = x_axis(*along);
    xa = x.axis;
    at = x.at;
  } else {
    xa.label = "(no other key swept)";
    xa.min = -0.5;
    xa.max = 0.5;
    xa.ticks = {0};
    xa.tick_names = {"all points"};
  }
  for (const auto& n : plan.needed) {
    const Settings rest = along ? without_key(n.others, along->key) : Settings{};
    auto it = std::find(combos.begin(), combos.end(), rest);
    if (it == combos.end()) {
      combos.push_back(rest);
      svg::Series s;
      s.label = rest.empty() ? "instances needed" : settings_text(rest);
      s.color = svg::palette(series.size());
      s.dots = true;
      series.push_back(std::move(s));
      it = combos.end() - 1;
    }
    double xv = 0;
    if (along) {
      for (const auto& [k, v] : n.others) {
        if (k == along->key) xv = at.at(v);
      }
    }
    series[static_cast<size_t>(it - combos.begin())].points.emplace_back(
        xv, n.instances ? static_cast<double>(*n.instances) : NAN);
  }
  for (auto& s : series) std::sort(s.points.begin(), s.points.end());
  int64_t most = 1;
  for (const auto& n : plan.needed) most = std::max(most, n.most_swept);
  svg::LineChart c;
  c.id = "plan-instances-needed";
  c.title = "origin instances needed for " + needed_condition(plan);
  c.x = xa;
  c.y.label = "origin instances";
  c.y.min = 0;
  c.y.max = svg::nice_ceil(static_cast<double>(most));
  c.series = std::move(series);
  return svg::line_chart(c);
}

}  // namespace

std::string render_plan_html(const Plan& plan) {
  using svg::escape;
  std::ostringstream h;
  h << html_page_head("liveorigin plan: " + plan.scenario_name);
  h << "<body data-report=\"plan\" data-points=\"" << plan.points.size() << "\">\n<main>\n";
  size_t with = 0;
  for (const auto& p : plan.points) with += p.has_result ? 1 : 0;
  h << "<header>\n<h1>Plan: " << escape(plan.scenario_name) << "</h1>\n<p class=\"meta\"><b>" << plan.points.size()
    << "</b> points, <b>" << with << "</b> with results · scenario <code>" << escape(plan.scenario_path)
    << "</code> sha-256 <code>" << escape(plan.scenario_sha256.substr(0, 16)) << "…</code></p>\n";
  for (const auto& s : plan.sweeps) {
    h << "<p class=\"meta\">swept <b>" << escape(s.key) << "</b>: " << escape(values_text(s.values)) << "</p>\n";
  }
  h << "</header>\n";

  if (!plan.needed.empty()) {
    h << "<section id=\"instances-needed\"><h2>Origin instances needed</h2>\n<p class=\"note\">The fewest instances swept "
         "with "
      << escape(needed_condition(plan)) << ".</p>\n<div class=\"cols\"><div>\n<table><tr>";
    for (const auto& [k, v] : plan.needed.front().others) h << "<th>" << escape(k) << "</th>";
    h << "<th class=\"n\">instances needed</th></tr>\n";
    for (const auto& n : plan.needed) {
      h << "<tr>";
      for (const auto& [k, v] : n.others) h << "<td>" << escape(v) << "</td>";
      h << "<td class=\"n\">" << escape(needed_text(n))
        << (n.without_result.empty() ? "" : " (" + std::to_string(n.without_result.size()) + " points without a result)")
        << "</td></tr>\n";
    }
    h << "</table>\n</div><div>"
      << html_figure("Instances needed", "a gap: more than the most swept", needed_chart(plan)) << "</div></div>\n</section>\n";
  }

  h << "<section id=\"table\"><h2>Points</h2>\n<div style=\"overflow-x:auto\"><table><tr><th class=\"n\">point</th>";
  for (const auto& s : plan.sweeps) h << "<th>" << escape(s.key) << "</th>";
  for (const auto& c : plan_columns()) h << "<th class=\"n\">" << escape(c.label) << " (" << escape(c.unit) << ")</th>";
  h << "<th>gates</th></tr>\n";
  for (const auto& p : plan.points) {
    h << "<tr" << (p.has_result ? "" : " class=\"fail\"") << "><td class=\"n\">" << p.number << "</td>";
    for (const auto& [k, v] : p.set) h << "<td>" << escape(v) << "</td>";
    if (!p.has_result) {
      h << "<td colspan=\"" << plan_columns().size() + 1 << "\">" << escape(p.status) << "</td></tr>\n";
      continue;
    }
    for (size_t i = 0; i < plan_columns().size(); ++i) h << "<td class=\"n\">" << escape(plan_cell(p, i)) << "</td>";
    h << "<td>" << escape(p.gates) << "</td></tr>\n";
  }
  h << "</table></div>\n<p class=\"note\">-: no data (nothing measured; store figures need origin.model).</p>\n</section>\n";

  h << "<section id=\"charts\"><h2>Against " << escape(plan.sweeps.front().key) << "</h2>\n<div class=\"grid\">\n";
  for (size_t i = 0; i < plan_columns().size(); ++i) {
    const PlanColumn& c = plan_columns()[i];
    h << html_figure(c.label, c.unit, column_chart(plan, i));
  }
  h << "</div>\n</section>\n";
  h << html_footer("plan of " + plan.scenario_name + ", " + std::to_string(plan.points.size()) + " points");
  h << "</main>\n</body>\n</html>\n";
  return h.str();
}

}  // namespace liveorigin::reports
