#include "reports/svg.h"

#include "origin/core/markup.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace liveorigin::reports::svg {

namespace {

constexpr int kLeft = 60;
constexpr int kRight = 16;
constexpr int kTop = 22;
constexpr int kBottom = 42;
constexpr double kCharWidth = 6.4;  // approximate, for 11 px sans-serif labels

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  std::string s = buf;
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  if (s == "-0") s = "0";
  return s;
}

std::string tick_label(double v, bool percent) {
  char buf[32];
  if (percent) {
    std::snprintf(buf, sizeof buf, "%g %%", v * 100);
    return buf;
  }
  const double a = std::fabs(v);
  if (a >= 10000 && std::fmod(a, 1000) == 0) {
    std::snprintf(buf, sizeof buf, "%gk", v / 1000);
  } else {
    std::snprintf(buf, sizeof buf, "%g", v);
  }
  return buf;
}

double position(const Axis& a, double v, double px0, double px1) {
  auto f = [&](double x) { return a.log1p ? std::log1p(std::max(0.0, x)) : x; };
  const double lo = f(a.min);
  const double hi = f(a.max);
  const double t = hi > lo ? (f(std::clamp(v, a.min, a.max)) - lo) / (hi - lo) : 0;
  return px0 + (px1 - px0) * t;
}

std::vector<double> axis_ticks(const Axis& a, int target) {
  if (!a.ticks.empty()) return a.ticks;
  if (a.log1p) {
    static const double kLog[] = {0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000, 120000};
    std::vector<double> out;
    for (double t : kLog) {
      if (t >= a.min && t <= a.max) out.push_back(t);
    }
    return out;
  }
  return nice_ticks(a.min, a.max, target);
}

// Drops ticks whose labels would overlap (keeps the first and those at least `gap` px on).
std::vector<double> thin(const Axis& a, const std::vector<double>& ticks, double px0, double px1, double gap) {
  std::vector<double> out;
  double last = -1e9;
  for (double t : ticks) {
    const double p = position(a, t, px0, px1);
    if (std::fabs(p - last) >= gap) {
      out.push_back(t);
      last = p;
    }
  }
  return out;
}

// The diagonal stripes of defective cells; one pattern per chart (ids are unique per page).
std::string hatch_defs(const std::string& id) {
  return "<defs><pattern id=\"" + id +
         "\" width=\"5\" height=\"5\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
         "<rect width=\"2\" height=\"5\" fill=\"#222\" fill-opacity=\"0.55\"/></pattern></defs>";
}

struct LegendLayout {
  std::string svg;
  int height = 0;
};

LegendLayout legend(const std::vector<LegendItem>& items, int x0, int y0, int width, const std::string& hatch = "") {
  LegendLayout out;
  if (items.empty()) return out;
  std::ostringstream s;
  int x = x0;
  int y = y0 + 12;
  for (const auto& it : items) {
    const int w = 22 + static_cast<int>(kCharWidth * static_cast<double>(it.label.size())) + 14;
    if (x + w > x0 + width && x > x0) {
      x = x0;
      y += 16;
    }
    if (it.line) {
      s << "<path d=\"M" << x << " " << y - 4 << "h16\" stroke=\"" << escape(it.fill) << "\" stroke-width=\"2.5\""
        << (it.dashed ? " stroke-dasharray=\"5 3\"" : "") << "/>";
    } else if (it.band) {
      s << "<rect x=\"" << x << "\" y=\"" << y - 9 << "\" width=\"16\" height=\"11\" fill=\"#e15759\" fill-opacity=\"0.16\"/>";
    } else {
      s << "<rect x=\"" << x << "\" y=\"" << y - 9 << "\" width=\"16\" height=\"11\" fill=\"" << escape(it.fill) << "\""
        << (it.flagged ? " stroke=\"#111\" stroke-width=\"2\"" : "") << "/>";
      if (it.hatched) s << "<rect x=\"" << x << "\" y=\"" << y - 9 << "\" width=\"16\" height=\"11\" fill=\"url(#" << hatch << ")\"/>";
    }
    s << "<text x=\"" << x + 21 << "\" y=\"" << y << "\" class=\"legend\">" << escape(it.label) << "</text>";
    x += w;
  }
  out.svg = s.str();
  out.height = y - y0 + 8;
  return out;
}

void bands_svg(std::ostringstream& s, const Axis& x, const std::vector<Band>& bands, double px0, double px1, double top,
               double bottom) {
  for (const auto& b : bands) {
    if (b.x1 < x.min || b.x0 > x.max) continue;
    const double a = position(x, b.x0, px0, px1);
    const double e = position(x, b.x1, px0, px1);
    s << "<rect class=\"band\" x=\"" << num(a) << "\" y=\"" << num(top) << "\" width=\"" << num(std::max(1.0, e - a))
      << "\" height=\"" << num(bottom - top) << "\" fill=\"#e15759\" fill-opacity=\"0.12\"><title>" << escape(b.label)
      << "</title></rect>";
    s << "<text class=\"band-label\" x=\"" << num(a + 3) << "\" y=\"" << num(top + 10) << "\">" << escape(b.label)
      << "</text>";
  }
}

}  // namespace

std::string escape(std::string_view text) { return markup_escape(text); }

std::string palette(size_t i) {
  static const char* kColours[] = {"#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2",
                                   "#edc948", "#9c755f", "#ff9da7", "#bab0ac", "#e15759"};
  return kColours[i % std::size(kColours)];
}

double nice_ceil(double v) {
  if (!(v > 0)) return 1;
  const double p = std::pow(10.0, std::floor(std::log10(v)));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (m * p >= v * (1 - 1e-12)) return m * p;
  }
  return 10 * p;
}

std::vector<double> nice_ticks(double min, double max, int target) {
  std::vector<double> out;
  if (!(max > min)) return {min};
  const double raw = (max - min) / std::max(1, target);
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  double step = 10 * p;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * p >= raw) {
      step = m * p;
      break;
    }
  }
  for (double t = std::ceil(min / step - 1e-9) * step; t <= max + step * 1e-9; t += step) {
    out.push_back(std::fabs(t) < step * 1e-9 ? 0 : t);
  }
  return out;
}

std::string line_chart(const LineChart& c) {
  const double px0 = kLeft;
  const double px1 = c.width - kRight;
  const double py0 = c.height - kBottom;  // y = min
  const double py1 = kTop;                // y = max
  size_t points = 0;
  for (const auto& s : c.series) points += s.points.size();

  std::vector<LegendItem> items;
  for (const auto& s : c.series) {
    LegendItem item{s.color, s.label};
    item.line = true;
    item.dashed = s.dashed;
    items.push_back(std::move(item));
  }
  if (!c.bands.empty()) items.push_back({"", "fault window", false, false, true});
  const LegendLayout leg = legend(items, kLeft, c.height - 6, c.width - kLeft - kRight);
  const int total_height = c.height + leg.height;

  std::ostringstream s;
  s << "<svg class=\"chart\" data-chart=\"" << escape(c.id) << "\" data-points=\"" << points << "\" data-series=\""
    << c.series.size() << "\" viewBox=\"0 0 " << c.width << " " << total_height << "\" width=\"" << c.width
    << "\" height=\"" << total_height << "\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">";
  s << "<title>" << escape(c.title) << "</title>";
  // Plot frame and grid.
  s << "<rect x=\"" << px0 << "\" y=\"" << py1 << "\" width=\"" << px1 - px0 << "\" height=\"" << py0 - py1
    << "\" fill=\"#fff\" stroke=\"#ccc\"/>";
  bands_svg(s, c.x, c.bands, px0, px1, py1, py0);
  for (double t : thin(c.y, axis_ticks(c.y, 5), py0, py1, 14)) {
    const double y = position(c.y, t, py0, py1);
    s << "<line x1=\"" << px0 << "\" x2=\"" << px1 << "\" y1=\"" << num(y) << "\" y2=\"" << num(y)
      << "\" stroke=\"#eee\"/>";
    s << "<text class=\"tick\" x=\"" << px0 - 5 << "\" y=\"" << num(y + 4) << "\" text-anchor=\"end\">"
      << tick_label(t, c.y.percent) << "</text>";
  }
  for (double t : thin(c.x, axis_ticks(c.x, 8), px0, px1, 34)) {
    const double x = position(c.x, t, px0, px1);
    s << "<line x1=\"" << num(x) << "\" x2=\"" << num(x) << "\" y1=\"" << py0 << "\" y2=\"" << py0 + 4
      << "\" stroke=\"#999\"/>";
    const auto named = std::find(c.x.ticks.begin(), c.x.ticks.end(), t);
    const bool has_name = c.x.tick_names.size() == c.x.ticks.size() && named != c.x.ticks.end();
    s << "<text class=\"tick\" x=\"" << num(x) << "\" y=\"" << py0 + 16 << "\" text-anchor=\"middle\">"
      << (has_name ? escape(c.x.tick_names[static_cast<size_t>(named - c.x.ticks.begin())]) : tick_label(t, c.x.percent))
      << "</text>";
  }
  s << "<text class=\"axis\" x=\"" << (px0 + px1) / 2 << "\" y=\"" << py0 + 32 << "\" text-anchor=\"middle\">"
    << escape(c.x.label) << "</text>";
  s << "<text class=\"axis\" x=\"12\" y=\"" << (py0 + py1) / 2 << "\" text-anchor=\"middle\" transform=\"rotate(-90 12 "
    << (py0 + py1) / 2 << ")\">" << escape(c.y.label) << "</text>";
  // Series.
  for (const auto& se : c.series) {
    std::string d;
    bool pen = false;
    size_t drawn = 0;
    for (const auto& [x, y] : se.points) {
      if (!std::isfinite(y) || !std::isfinite(x)) {
        pen = false;
        continue;
      }
      d += (pen ? "L" : "M") + num(position(c.x, x, px0, px1)) + " " + num(position(c.y, y, py0, py1));
      pen = true;
      ++drawn;
    }
    if (drawn == 1) {
      // A single point: a short tick so it shows.
      d += "h2";
    }
    s << "<path class=\"series\" data-label=\"" << escape(se.label) << "\" data-points=\"" << drawn << "\" d=\"" << d
      << "\" fill=\"none\" stroke=\"" << escape(se.color) << "\" stroke-width=\"1.8\" stroke-linejoin=\"round\""
      << (se.dashed ? " stroke-dasharray=\"6 4\"" : "") << "><title>" << escape(se.label) << "</title></path>";
    if (se.dots) {
      for (const auto& [x, y] : se.points) {
        if (!std::isfinite(y) || !std::isfinite(x)) continue;
        s << "<circle cx=\"" << num(position(c.x, x, px0, px1)) << "\" cy=\"" << num(position(c.y, y, py0, py1))
          << "\" r=\"3\" fill=\"" << escape(se.color) << "\"><title>" << escape(se.label) << ": " << tick_label(y, false)
          << "</title></circle>";
      }
    }
  }
  if (points == 0) {
    s << "<text class=\"nodata\" x=\"" << (px0 + px1) / 2 << "\" y=\"" << (py0 + py1) / 2
      << "\" text-anchor=\"middle\">no data</text>";
  }
  s << leg.svg << "</svg>";
  return s.str();
}

std::string strip_chart(const Strip& c) {
  constexpr int kLabel = 150;
  const double px0 = kLabel;
  const double px1 = c.width - kRight;
  size_t cells = 0;
  int height = kTop;
  std::vector<int> row_y;
  for (const auto& r : c.rows) {
    if (r.gap_before && !row_y.empty()) height += 10;
    row_y.push_back(height);
    height += c.row_height + 3;
    cells += r.cells.size();
  }
  const int axis_y = height + 2;
  height = axis_y + 44;
  const std::string hatch = "hatch-" + c.id;
  const LegendLayout leg = legend(c.legend, kLabel, height - 4, c.width - kLabel - kRight, hatch);
  const int total_height = height + leg.height;

  std::ostringstream s;
  s << "<svg class=\"chart strip\" data-chart=\"" << escape(c.id) << "\" data-points=\"" << cells << "\" data-rows=\""
    << c.rows.size() << "\" viewBox=\"0 0 " << c.width << " " << total_height << "\" width=\"" << c.width
    << "\" height=\"" << total_height << "\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">";
  s << "<title>" << escape(c.title) << "</title>" << hatch_defs(hatch);
  for (size_t i = 0; i < c.rows.size(); ++i) {
    const auto& r = c.rows[i];
    const int y = row_y[i];
    s << "<text class=\"row-label\" x=\"" << kLabel - 8 << "\" y=\"" << y + c.row_height - 4 << "\" text-anchor=\"end\">"
      << escape(r.label) << "</text>";
    s << "<rect x=\"" << px0 << "\" y=\"" << y << "\" width=\"" << px1 - px0 << "\" height=\"" << c.row_height
      << "\" fill=\"#f4f4f4\"/>";
    for (const auto& cell : r.cells) {
      const double a = position(c.x, cell.x0, px0, px1);
      const double w = std::max(0.8, position(c.x, cell.x1, px0, px1) - a);
      const std::string geom = "x=\"" + num(a) + "\" y=\"" + std::to_string(y) + "\" width=\"" + num(w) +
                               "\" height=\"" + std::to_string(c.row_height) + "\"";
      s << "<rect class=\"cell\" " << geom << " fill=\"" << escape(cell.fill) << "\""
        << (cell.flagged ? " stroke=\"#111\" stroke-width=\"2\"" : "") << "><title>" << escape(cell.title)
        << "</title></rect>";
      if (cell.hatched) s << "<rect " << geom << " fill=\"url(#" << hatch << ")\" pointer-events=\"none\"/>";
      if (cell.marked) {
        s << "<path d=\"M" << num(a) << " " << y << "h" << num(std::min(w, 6.0)) << "l" << num(-std::min(w, 6.0) / 2)
          << " 5z\" fill=\"#111\"/>";
      }
    }
  }
  if (!c.rows.empty()) bands_svg(s, c.x, c.bands, px0, px1, kTop - 12, axis_y);
  for (double t : thin(c.x, axis_ticks(c.x, 12), px0, px1, 40)) {
    const double x = position(c.x, t, px0, px1);
    s << "<line x1=\"" << num(x) << "\" x2=\"" << num(x) << "\" y1=\"" << axis_y << "\" y2=\"" << axis_y + 4
      << "\" stroke=\"#999\"/>";
    s << "<text class=\"tick\" x=\"" << num(x) << "\" y=\"" << axis_y + 16 << "\" text-anchor=\"middle\">"
      << tick_label(t, false) << "</text>";
  }
  s << "<text class=\"axis\" x=\"" << (px0 + px1) / 2 << "\" y=\"" << axis_y + 30 << "\" text-anchor=\"middle\">"
    << escape(c.x.label) << "</text>";
  if (cells == 0) {
    s << "<text class=\"nodata\" x=\"" << (px0 + px1) / 2 << "\" y=\"" << kTop + 14
      << "\" text-anchor=\"middle\">no data</text>";
  }
  s << leg.svg << "</svg>";
  return s.str();
}

}  // namespace liveorigin::reports::svg
