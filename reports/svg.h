// Small SVG charts drawn by our own code, for the self-contained HTML report: line
// charts over time or latency (CDFs are line charts of piecewise-linear points), and
// strips of coloured cells (the per-segment timeline). Shaded bands mark fault windows.
// No scripts, no fonts, no external references: the page's CSP is default-src 'none'.
//
// Every chart is <svg class="chart" data-chart="<id>" data-points="<n>">, where n counts
// the data drawn (points of every series, cells of every row); each series is a
// <path class="series" data-points="..."> and each cell run a <rect class="cell">. The
// browser test reads these from the rendered DOM.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace liveorigin::reports::svg {

// Escapes text for HTML/XML content and attribute values.
std::string escape(std::string_view text);

// A categorical palette (colour-blind-friendly order); wraps around.
std::string palette(size_t i);

struct Axis {
  std::string label;       // e.g. "time since start (s)"
  double min = 0;
  double max = 1;
  bool log1p = false;      // positions by log(1 + v): latencies from 0 ms to minutes
  bool percent = false;    // tick labels as percentages of 1
  std::vector<double> ticks;  // empty: chosen from min and max
  std::vector<std::string> tick_names;  // with `ticks`: a name for each (categories: true, false)
};

struct Series {
  std::string label;
  std::string color;
  std::vector<std::pair<double, double>> points;  // (x, y); a NaN y breaks the line
  bool dashed = false;
  bool dots = false;  // a dot at each point: few points, each a run of its own (a sweep)
};

// A shaded range of x, e.g. a fault window, labelled at its top.
struct Band {
  double x0 = 0;
  double x1 = 0;
  std::string label;
};

struct LineChart {
  std::string id;     // data-chart
  std::string title;  // <title>, for screen readers and tooltips
  Axis x;
  Axis y;
  std::vector<Series> series;
  std::vector<Band> bands;
  int width = 580;
  int height = 260;   // the plot and its axes; the legend adds rows below
};
std::string line_chart(const LineChart& chart);

// One cell run of a strip: [x0, x1) in the x axis' unit.
struct Cell {
  double x0 = 0;
  double x1 = 0;
  std::string fill;
  std::string title;     // tooltip
  bool hatched = false;  // diagonal stripes over the fill (a defective copy)
  bool flagged = false;  // a thick dark outline (needs attention)
  bool marked = false;   // a small triangle on top (the served copy changed later)
};

struct StripRow {
  std::string label;
  std::vector<Cell> cells;
  bool gap_before = false;  // extra space above (a new stream)
};

struct LegendItem {
  std::string fill;
  std::string label;
  bool hatched = false;
  bool flagged = false;
  bool band = false;
  bool line = false;    // a line swatch (a series) instead of a filled box
  bool dashed = false;  // ... dashed
};

struct Strip {
  std::string id;
  std::string title;
  Axis x;
  std::vector<StripRow> rows;
  std::vector<Band> bands;
  std::vector<LegendItem> legend;
  int width = 1160;
  int row_height = 16;
};
std::string strip_chart(const Strip& strip);

// "Nice" ticks (1, 2, 5 x 10^k steps) covering [min, max], about `target` of them.
std::vector<double> nice_ticks(double min, double max, int target);
// The smallest "nice" number >= v (1, 2, 2.5, 5 x 10^k).
double nice_ceil(double v);

}  // namespace liveorigin::reports::svg
