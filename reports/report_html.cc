// The HTML report: one self-contained file. Inline SVG drawn by reports/svg.cc, inline
// CSS, no scripts, no fonts, no images from anywhere: the page's Content-Security-Policy
// is default-src 'none' (styles inline only), so it cannot make a request even if
// something in it tried.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

#include "origin/core/timing.h"
#include "reports/html_page.h"
#include "reports/report.h"
#include "reports/svg.h"

namespace liveorigin::reports {

namespace {

using svg::escape;
constexpr const char* kCsp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

constexpr const char* kStyle = R"CSS(
:root{--fg:#1d2329;--muted:#5b6670;--line:#dde2e6;--pass:#2e7d32;--fail:#c62828}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);background:#f4f5f7}
main{max-width:1230px;margin:0 auto;padding:18px 22px 32px}
header,section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:14px 18px;margin-bottom:14px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:16px;margin:0 0 10px}
h3{font-size:14px;margin:12px 0 6px}
.badge{display:inline-block;padding:2px 10px;border-radius:12px;color:#fff;font-size:13px;font-weight:600;vertical-align:middle;margin-left:8px}
.badge.pass{background:var(--pass)}.badge.fail{background:var(--fail)}.badge.none{background:#78838c}
.meta{color:var(--muted);margin:2px 0}
.meta b{color:var(--fg);font-weight:600}
.story{margin:8px 0 0;color:#333;border-left:3px solid var(--line);padding-left:10px;max-width:900px}
.story p{margin:0 0 6px}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:8px}
.tile{border:1px solid var(--line);border-radius:6px;padding:6px 10px}
.tile .v{font-size:19px;font-weight:600;font-variant-numeric:tabular-nums}
.tile .k{color:var(--muted);font-size:12px}
.tile.bad{border-color:#f3b7b2;background:#fdf1f0}.tile.bad .v{color:var(--fail)}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:3px 8px;border-bottom:1px solid #eef0f2;vertical-align:top}
th{color:var(--muted);font-weight:600}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.fail td{background:#fdecea}
.ok{color:var(--pass);font-weight:600}.no{color:var(--fail);font-weight:600}
.worse{color:var(--fail)}.better{color:var(--pass)}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:14px}
figure{margin:0}
figcaption{font-weight:600;margin-bottom:4px}
figcaption small{font-weight:400;color:var(--muted)}
svg.chart{max-width:100%;height:auto;display:block}
svg text{font:11px "DejaVu Sans",sans-serif;fill:#333}
svg .tick{fill:#666}svg .band-label{fill:#b71c1c;font-size:10px}svg .nodata{fill:#999;font-size:14px}
.note{color:var(--muted);font-size:12px;margin:6px 0 0}
details pre{max-height:420px;overflow:auto;background:#f6f8fa;padding:10px;border-radius:6px;font-size:12px}
footer{color:var(--muted);font-size:12px;text-align:center;margin-top:8px}
code{font-size:12px;background:#f1f3f5;padding:0 3px;border-radius:3px}
.cols{display:grid;grid-template-columns:1fr 1fr;gap:14px}
.cols>div{min-width:0;overflow-x:auto}
)CSS";

std::string fmt(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string pct(std::optional<double> ratio, int decimals = 2) {
  if (!ratio) return "no data";
  return fmt(*ratio * 100, decimals) + " %";
}

std::string ms_text(std::optional<double> v) {
  if (!v) return "-";
  return format_number(*v);
}

std::string fig_text(const Figure* f) {
  if (!f) return "-";
  if (f->unit == "ratio") return pct(f->value);
  return format_metric(f->value, f->unit);
}

std::string pipeline_colour(const Report& r, const std::string& p) {
  static const char* kColours[] = {"#4e79a7", "#76b7b2", "#b07aa1", "#9c755f", "#ff9da7", "#edc948", "#bab0ac", "#86bcb6"};
  auto it = std::find(r.pipelines.begin(), r.pipelines.end(), p);
  const size_t i = static_cast<size_t>(it - r.pipelines.begin());
  return kColours[i % std::size(kColours)];
}

constexpr const char* kGreen = "#59a14f";
constexpr const char* kOrange = "#f28e2b";
constexpr const char* kRed = "#e15759";

std::string class_colour(const std::string& c) {
  if (c == "live") return "#4e79a7";
  if (c == "dvr") return "#f28e2b";
  if (c == "background") return "#76b7b2";
  if (c == "other") return "#9c755f";
  return "#555";
}

double rel_s(const Report& r, int64_t ms) { return static_cast<double>(ms - r.run.started_ms) / 1000.0; }

std::vector<svg::Band> fault_bands(const Report& r) {
  std::vector<svg::Band> out;
  for (const auto& f : r.faults) out.push_back({rel_s(r, f.start_ms), rel_s(r, f.end_ms), f.target + " " + f.kind});
  return out;
}

svg::Axis time_axis(const Report& r) {
  svg::Axis x;
  x.label = "time since the run started (s)";
  x.min = 0;
  x.max = std::max(1.0, r.run.duration_s());
  return x;
}

svg::Axis cdf_x_axis(double max_ms) {
  svg::Axis x;
  x.label = "ms (log scale)";
  x.min = 0;
  x.max = svg::nice_ceil(std::max(1.0, max_ms));
  x.log1p = true;
  return x;
}

svg::Axis fraction_axis(const std::string& label) {
  svg::Axis y;
  y.label = label;
  y.min = 0;
  y.max = 1;
  y.percent = true;
  y.ticks = {0, 0.25, 0.5, 0.75, 0.9, 0.99, 1};
  return y;
}

// ---------------------------------------------------------------------------------------
// Series builders, shared by the report and the comparison (dashed: run B).

std::vector<svg::Series> rps_series(const Report& r, bool by_status, bool dashed, const std::string& suffix) {
  std::vector<svg::Series> out;
  if (by_status) {
    size_t i = 0;
    for (const auto& ts : r.origin_rps.series) {
      svg::Series s;
      s.label = ts.label + suffix;
      s.color = ts.status == -1 ? "#999" : (ts.status >= 200 && ts.status < 300) ? class_colour(ts.request_class)
                                                                                  : svg::palette(5 + i++);
      s.dashed = dashed;
      for (size_t k = 0; k < ts.values.size(); ++k) s.points.emplace_back(r.origin_rps.t_s[k], ts.values[k]);
      out.push_back(std::move(s));
    }
    return out;
  }
  // Per class, statuses summed.
  std::map<std::string, std::vector<double>> per_class;
  std::vector<std::string> order;
  for (const auto& ts : r.origin_rps.series) {
    const std::string c = ts.status == -1 ? "the rest" : ts.request_class;
    auto& v = per_class[c];
    if (v.empty()) {
      v.assign(ts.values.size(), 0);
      order.push_back(c);
    }
    for (size_t k = 0; k < ts.values.size(); ++k) v[k] += ts.values[k];
  }
  for (const auto& c : order) {
    svg::Series s;
    s.label = (c == "other" ? "other (polls)" : c) + suffix;
    s.color = class_colour(c);
    s.dashed = dashed;
    const auto& v = per_class[c];
    for (size_t k = 0; k < v.size(); ++k) s.points.emplace_back(r.origin_rps.t_s[k], v[k]);
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<svg::Series> hit_series(const Report& r, bool dashed, const std::string& suffix) {
  std::vector<svg::Series> out;
  size_t i = 0;
  for (const auto& ts : r.hit_ratio.series) {
    svg::Series s;
    s.label = ts.label + suffix;
    s.color = svg::palette(i++);
    s.dashed = dashed;
    for (size_t k = 0; k < ts.values.size(); ++k) s.points.emplace_back(r.hit_ratio.t_s[k], ts.values[k]);
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<svg::Series> cdf_series(const std::vector<Cdf>& cdfs, bool by_class, bool dashed, const std::string& suffix,
                                    const Report* for_pipelines = nullptr) {
  std::vector<svg::Series> out;
  size_t i = 0;
  for (const auto& c : cdfs) {
    svg::Series s;
    s.label = c.label + " (" + std::to_string(c.count) + ")" + suffix;
    if (for_pipelines) {
      s.color = pipeline_colour(*for_pipelines, c.pipeline);
    } else if (by_class) {
      s.color = class_colour(c.request_class);
    } else {
      s.color = svg::palette(i);
    }
    ++i;
    s.dashed = dashed;
    s.points = c.points;
    out.push_back(std::move(s));
  }
  return out;
}

// The largest finite x (`of_y` false) or y (true) over every point of every series; 0 if none.
double largest(const std::vector<svg::Series>& series, bool of_y) {
  double m = 0;
  for (const auto& s : series) {
    for (const auto& [x, y] : s.points) {
      const double v = of_y ? y : x;
      if (std::isfinite(v)) m = std::max(m, v);
    }
  }
  return m;
}

std::string rps_chart(const std::string& id, const Report& r, std::vector<svg::Series> series, int width) {
  svg::LineChart c;
  c.id = id;
  c.title = "Origin requests per second";
  c.x = time_axis(r);
  c.y.label = "requests/s";
  c.y.max = svg::nice_ceil(std::max(1.0, largest(series, true) * 1.05));
  c.series = std::move(series);
  c.bands = fault_bands(r);
  c.width = width;
  return svg::line_chart(c);
}

std::string hit_chart(const std::string& id, const Report& r, std::vector<svg::Series> series, int width) {
  svg::LineChart c;
  c.id = id;
  c.title = "CDN hit ratio per tier";
  c.x = time_axis(r);
  c.y = fraction_axis("hit ratio");
  c.y.ticks = {0, 0.25, 0.5, 0.75, 1};
  c.series = std::move(series);
  c.bands = fault_bands(r);
  c.width = width;
  return svg::line_chart(c);
}

std::string instance_chart(const std::string& id, const Report& r, int width) {
  svg::LineChart c;
  c.id = id;
  c.title = "Requests per second answered by each origin instance";
  c.x = time_axis(r);
  c.y.label = "requests/s";
  for (size_t i = 0; i < r.instance_rps.series.size(); ++i) {
    const auto& ts = r.instance_rps.series[i];
    svg::Series s;
    s.label = ts.label;
    s.color = svg::palette(i);
    for (size_t k = 0; k < ts.values.size(); ++k) s.points.emplace_back(r.instance_rps.t_s[k], ts.values[k]);
    c.series.push_back(std::move(s));
  }
  c.y.max = svg::nice_ceil(std::max(1.0, largest(c.series, true) * 1.05));
  c.bands = fault_bands(r);
  c.width = width;
  return svg::line_chart(c);
}

std::string instances_table(const Report& r) {
  std::ostringstream t;
  t << "<table><tr><th>instance</th><th class=\"n\">answered</th><th class=\"n\">share</th><th class=\"n\">5xx</th>"
       "<th class=\"n\">not answered</th><th>longest without traffic</th></tr>\n";
  for (const auto& i : r.instances) {
    t << "<tr><td>" << i.instance << "</td><td class=\"n\">" << i.requests << "</td><td class=\"n\">" << pct(i.share, 1)
      << "</td><td class=\"n\">" << i.errors << "</td><td class=\"n\">" << i.no_answer << "</td><td>"
      << (i.longest_silence_s > 0 ? format_number(i.longest_silence_s) + " s from " + format_number(i.silent_from_s) + " s"
                                  : std::string("—"))
      << "</td></tr>\n";
  }
  t << "</table><p class=\"note\">Requests each instance answered, from every client's balancer; an instance that "
       "does not answer has its requests sent to the next, so its silence is the failover.</p>\n";
  return t.str();
}

std::string cdf_chart(const std::string& id, const std::string& title, std::vector<svg::Series> series, int width) {
  svg::LineChart c;
  c.id = id;
  c.title = title;
  c.x = cdf_x_axis(largest(series, false));
  c.y = fraction_axis("share of values <= x");
  c.series = std::move(series);
  c.width = width;
  return svg::line_chart(c);
}

// The per-segment timeline: per stream, one row per pipeline (what it delivered), the
// origin's choice (first serve) and the viewers' outcome; fault windows shaded.
std::string timeline_chart(const std::string& id, const Report& r, int width) {
  svg::Strip strip;
  strip.id = id;
  strip.title = "Per-segment timeline: each pipeline's copy, the origin's choice, the viewers' outcome";
  strip.x = time_axis(r);
  strip.x.label = "segment due time (s since the run started)";
  strip.width = width;
  strip.bands = fault_bands(r);

  std::map<std::string, int64_t> duration;
  for (const auto& s : r.streams) duration[s.stream] = s.segment_duration_ms;
  std::vector<std::string> streams;
  for (const auto& s : r.segments) {
    if (std::find(streams.begin(), streams.end(), s.stream) == streams.end()) streams.push_back(s.stream);
  }
  struct Proto {
    svg::Cell cell;
    int64_t number;
    std::string key;  // cells with the same key and consecutive numbers merge
    std::string what;
  };
  // Consecutive equal cells merge into one rect (its tooltip names the range).
  auto merge = [](const std::vector<Proto>& protos, const std::string& stream) {
    std::vector<svg::Cell> out;
    size_t i = 0;
    while (i < protos.size()) {
      size_t j = i;
      while (j + 1 < protos.size() && protos[j + 1].key == protos[i].key && protos[j + 1].number == protos[j].number + 1 &&
             !protos[i].cell.flagged && !protos[i].cell.marked && !protos[j + 1].cell.flagged && !protos[j + 1].cell.marked) {
        ++j;
      }
      svg::Cell c = protos[i].cell;
      c.x1 = protos[j].cell.x1;
      if (j > i) {
        c.title = stream + " " + std::to_string(protos[i].number) + "–" + std::to_string(protos[j].number) + " (" +
                  std::to_string(j - i + 1) + " segments): " + protos[i].what;
      }
      out.push_back(std::move(c));
      i = j + 1;
    }
    return out;
  };

  for (const auto& stream : streams) {
    const double d_s = static_cast<double>(duration.count(stream) ? duration[stream] : 2000) / 1000.0;
    std::map<std::string, std::vector<Proto>> per_pipeline;
    std::vector<Proto> served, viewers;
    for (const auto& s : r.segments) {
      if (s.stream != stream || !s.due_ms) continue;
      const double x0 = rel_s(r, *s.due_ms);
      if (x0 < 0 || *s.due_ms > r.run.ended_ms) continue;
      const double x1 = x0 + d_s;
      const std::string head = stream + " " + std::to_string(s.number) + ", due at " + fmt(x0, 1) + " s";
      for (const auto& c : s.copies) {
        Proto p;
        p.number = s.number;
        p.cell.x0 = x0;
        p.cell.x1 = x1;
        std::string state;
        if (!c.acknowledged) {
          p.cell.fill = kRed;
          state = "not accepted (" + std::to_string(c.status) + ")";
        } else {
          p.cell.fill = pipeline_colour(r, c.pipeline);
          p.cell.hatched = !c.defects.empty();
          state = c.defects.empty() ? "clean" : c.defects;
        }
        p.key = p.cell.fill + (p.cell.hatched ? "/h" : "");
        p.what = c.pipeline + " " + (c.acknowledged ? (c.defects.empty() ? "clean" : "defective") : "not accepted");
        p.cell.title = head + ": pipeline " + c.pipeline + " " + state +
                       (c.acked_after_due_ms ? ", acknowledged " + std::to_string(*c.acked_after_due_ms) + " ms after due" : "") +
                       (c.puts > 1 ? ", " + std::to_string(c.puts) + " attempts" : "");
        per_pipeline[c.pipeline].push_back(std::move(p));
      }
      if (!s.chosen_pipeline.empty()) {
        Proto p;
        p.number = s.number;
        p.cell.x0 = x0;
        p.cell.x1 = x1;
        p.cell.fill = pipeline_colour(r, s.chosen_pipeline);
        p.cell.hatched = !s.chosen_defects.empty();
        p.cell.flagged = s.defective_with_clean;
        p.cell.marked = s.changes > 0;
        p.key = p.cell.fill + (p.cell.hatched ? "/h" : "");
        p.what = "served " + s.chosen_pipeline + (s.chosen_defects.empty() ? "" : " (defective)");
        p.cell.title = head + ": served " + s.chosen_pipeline +
                       (s.chosen_defects.empty() ? "" : " [" + s.chosen_defects + "]") +
                       (s.first_served_ms ? ", first served " + std::to_string(*s.first_served_ms - *s.due_ms) + " ms after due" : "") +
                       (s.changes > 0 ? "; then changed " + std::to_string(s.changes) + "x, last " + s.final_pipeline +
                                            (s.final_defects.empty() ? "" : " [" + s.final_defects + "]")
                                      : "") +
                       (s.defective_with_clean ? "; DEFECTIVE SERVED WHILE A CLEAN COPY WAS ACKNOWLEDGED" : "") +
                       "; candidates: " + s.candidates + (s.faults.empty() ? "" : "; faults: " + s.faults);
        served.push_back(std::move(p));
      }
      if (s.viewers_clean + s.viewers_defective + s.viewers_missing > 0) {
        Proto p;
        p.number = s.number;
        p.cell.x0 = x0;
        p.cell.x1 = x1;
        p.cell.fill = s.viewers_missing > 0 ? kRed : s.viewers_defective > 0 ? kOrange : kGreen;
        p.key = p.cell.fill;
        p.what = s.viewers_missing > 0 ? "some viewers missed it" : s.viewers_defective > 0 ? "some viewers got a defective copy"
                                                                                             : "viewers got it clean";
        p.cell.title = head + ": viewer requests " + std::to_string(s.viewers_clean) + " clean, " +
                       std::to_string(s.viewers_defective) + " defective, " + std::to_string(s.viewers_missing) + " missed";
        viewers.push_back(std::move(p));
      }
    }
    bool first = true;
    for (const auto& p : r.pipelines) {
      auto it = per_pipeline.find(p);
      svg::StripRow row;
      row.label = (first ? stream + "  " : "") + p + " PUT";
      row.gap_before = first;
      first = false;
      if (it != per_pipeline.end()) row.cells = merge(it->second, stream);
      strip.rows.push_back(std::move(row));
    }
    strip.rows.push_back({"origin served", merge(served, stream), first});
    strip.rows.push_back({"viewers", merge(viewers, stream), false});
  }
  for (const auto& p : r.pipelines) strip.legend.push_back({pipeline_colour(r, p), "pipeline " + p});
  strip.legend.push_back({"#ddd", "defective copy", true});
  strip.legend.push_back({kRed, "PUT not accepted / viewers missed it"});
  strip.legend.push_back({kGreen, "viewers got it clean"});
  strip.legend.push_back({kOrange, "some viewers got a defective copy"});
  strip.legend.push_back({"#fff", "defective served with a clean copy acknowledged", false, true});
  strip.legend.push_back({"", "fault window", false, false, true});
  return svg::strip_chart(strip);
}

// ---------------------------------------------------------------------------------------
// Page pieces.

std::string page_head(const std::string& title) {
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    << "<meta http-equiv=\"Content-Security-Policy\" content=\"" << kCsp << "\">\n"
    << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    << "<meta name=\"generator\" content=\"liveorigin\">\n"
    << "<title>" << escape(title) << "</title>\n<style>" << kStyle << "</style>\n</head>\n";
  return h.str();
}

std::string verdict_badge(const Report& r) {
  if (r.gates.empty()) return "<span class=\"badge none\">no gates</span>";
  const auto failed = std::count_if(r.gates.begin(), r.gates.end(), [](const auto& g) { return !g.passed; });
  if (failed == 0) return "<span class=\"badge pass\">PASS · " + std::to_string(r.gates.size()) + " gates</span>";
  return "<span class=\"badge fail\">FAIL · " + std::to_string(failed) + " of " + std::to_string(r.gates.size()) +
         " gates</span>";
}

std::string run_meta(const Report& r) {
  const RunRecord& run = r.run;
  std::ostringstream m;
  m << "<p class=\"meta\">run <b>" << run.id << "</b> · seed <b>" << run.seed << "</b> · liveorigin <b>"
    << escape(run.version) << "</b> · <b>" << escape(run.mode) << "</b> time · origin <b>" << escape(run.origin_mode)
    << "</b>" << (run.origin_url.empty() ? "" : " " + escape(run.origin_url)) << " · started "
    << escape(format_iso8601_ms(run.started_ms)) << " · " << fmt(run.duration_s(), 1) << " s · "
    << escape(run.status) << "</p>\n";
  if (!run.origin_model.empty()) m << "<p class=\"meta\">origin model: " << escape(run.origin_model) << "</p>\n";
  if (!run.overrides.empty()) {
    m << "<p class=\"meta\">overrides";
    for (const auto& o : run.overrides) m << " <code>--set " << escape(o) << "</code>";
    m << "</p>\n";
  }
  m << "<p class=\"meta\">scenario sha-256 <code>" << escape(run.scenario_hash.substr(0, 16))
    << "…</code> · results <code>" << escape(run.db_path) << "</code></p>\n";
  return m.str();
}

// The scenario's leading comment as paragraphs (its line breaks are the file's wrapping).
std::string story(const std::string& text) {
  std::string out = "<div class=\"story\">";
  std::istringstream in(text);
  std::string line, para;
  auto flush = [&] {
    if (!para.empty()) out += "<p>" + escape(para) + "</p>";
    para.clear();
  };
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t") == std::string::npos) {
      flush();
    } else {
      para += (para.empty() ? "" : " ") + line;
    }
  }
  flush();
  return out + "</div>\n";
}

std::string tile(const std::string& value, const std::string& label, bool bad = false) {
  return "<div class=\"tile" + std::string(bad ? " bad" : "") + "\"><div class=\"v\">" + escape(value) +
         "</div><div class=\"k\">" + escape(label) + "</div></div>";
}

std::string tiles(const Report& r) {
  auto v = [&](const std::string& key) -> std::optional<double> {
    const Figure* f = r.figure(key);
    return f ? f->value : std::nullopt;
  };
  std::ostringstream t;
  t << "<div class=\"tiles\">";
  std::string served;
  for (const auto& [p, n] : r.served_by_pipeline()) {
    served += (served.empty() ? "" : " · ") + (p.empty() ? std::string("none") : p) + " " + std::to_string(n);
  }
  t << tile(served.empty() ? "none" : served, "segments first served, by pipeline");
  const double defective = v("defective_served_with_clean_available").value_or(0);
  t << tile(format_number(defective), "defective served while a clean copy was acknowledged", defective > 0);
  const double missing = v("viewer_missing_segments").value_or(0);
  t << tile(format_number(missing) + " / " + format_number(v("failover_gap_segments").value_or(0)),
            "segments viewers missed / longest gap", missing > 0);
  const double err = v("viewer_error_ratio").value_or(0);
  t << tile(pct(1 - err), "viewer requests that ended 200", err > 0);
  t << tile(format_metric(v("viewer_wait_ms{p=99}"), "ms"), "viewer wait p99");
  t << tile(format_number(v("origin_requests_per_s").value_or(0)), "origin requests/s (media, mean)");
  const double errors = v("origin_status_5xx").value_or(0);
  t << tile(format_number(errors) + " / " + pct(v("shed_ratio"), 1), "origin 5xx or no answer / shed", errors > 0);
  t << tile(pct(v("cache_hit_ratio"), 1), "CDN hit ratio, every tier");
  t << tile(format_metric(v("origin_get_latency_ms{p=99}"), "ms"), "origin GET p99");
  t << "</div>\n";
  return t.str();
}

std::string gates_table(const Report& r, bool compact = false) {
  std::ostringstream g;
  if (r.gates.empty()) {
    g << "<p class=\"note\">The scenario has no <code>gates:</code>.</p>";
  } else {
    g << "<table class=\"gates\"><tr><th></th><th>gate</th>" << (compact ? "" : "<th>metric</th>")
      << "<th class=\"n\">value</th><th>expected</th></tr>\n";
    for (const auto& x : r.gates) {
      g << "<tr class=\"" << (x.passed ? "pass" : "fail") << "\"><td class=\"" << (x.passed ? "ok" : "no") << "\">"
        << (x.passed ? "pass" : "FAIL") << "</td><td>" << escape(x.name) << "</td>";
      if (!compact) g << "<td><code>" << escape(x.key.str()) << "</code></td>";
      g << "<td class=\"n\">" << escape(format_metric(x.value, x.unit)) << "</td><td class=\"n\">" << escape(x.op) << " "
        << escape(format_metric(x.threshold, x.unit)) << "</td></tr>\n";
    }
    g << "</table>\n";
  }
  if (!r.gates_note.empty()) g << "<p class=\"note\">" << escape(r.gates_note) << "</p>";
  return g.str();
}

std::string latency_table(const Report& r) {
  std::ostringstream t;
  t << "<table><tr><th>measure</th><th>class</th><th>tier</th><th class=\"n\">count</th><th class=\"n\">mean</th>"
       "<th class=\"n\">p50</th><th class=\"n\">p90</th><th class=\"n\">p99</th><th class=\"n\">p99.9</th>"
       "<th class=\"n\">max</th></tr>\n";
  for (const auto& l : r.latencies) {
    const bool keep = (l.tier == "*" && l.name != "hold_wait" && !(l.name == "put" && l.request_class == "*")) ||
                      (l.name == "hold_wait" && l.request_class == "*");
    if (!keep) continue;
    t << "<tr><td>" << escape(l.name) << "</td><td>" << escape(l.request_class) << "</td><td>" << escape(l.tier)
      << "</td><td class=\"n\">" << l.count << "</td><td class=\"n\">" << ms_text(l.mean_ms) << "</td><td class=\"n\">"
      << ms_text(l.p50_ms) << "</td><td class=\"n\">" << ms_text(l.p90_ms) << "</td><td class=\"n\">" << ms_text(l.p99_ms)
      << "</td><td class=\"n\">" << ms_text(l.p999_ms) << "</td><td class=\"n\">" << ms_text(l.max_ms) << "</td></tr>\n";
  }
  t << "</table><p class=\"note\">ms; percentiles interpolated within histogram buckets "
       "(docs/results-schema.md).</p>\n";
  return t.str();
}

std::string tiers_table(const Report& r) {
  std::ostringstream t;
  t << "<table><tr><th>tier</th><th>class</th><th class=\"n\">requests</th><th class=\"n\">mean/s</th>"
       "<th class=\"n\">peak/s</th><th class=\"n\">hit ratio</th><th class=\"n\">collapsed</th><th class=\"n\">filtered</th>"
       "<th class=\"n\">held</th><th class=\"n\">2xx</th><th class=\"n\">4xx</th><th class=\"n\">5xx</th>"
       "<th class=\"n\">no answer</th><th class=\"n\">shed</th></tr>\n";
  for (const auto& x : r.tiers) {
    if (x.request_class != "*" && x.request_class != "other") continue;
    const bool cdn = x.tier != "origin" && x.tier != "viewer";
    t << "<tr><td>" << escape(x.tier) << "</td><td>" << escape(x.request_class) << "</td><td class=\"n\">" << x.requests
      << "</td><td class=\"n\">" << fmt(x.mean_rps, 1) << "</td><td class=\"n\">" << fmt(x.peak_rps, 0)
      << "</td><td class=\"n\">" << (cdn ? pct(x.cache_hit_ratio, 1) : "") << "</td><td class=\"n\">" << x.collapsed
      << "</td><td class=\"n\">" << x.filtered << "</td><td class=\"n\">" << x.held << "</td><td class=\"n\">"
      << x.status_2xx << "</td><td class=\"n\">" << x.status_4xx << "</td><td class=\"n\">" << x.status_5xx
      << "</td><td class=\"n\">" << x.transport_errors << "</td><td class=\"n\">" << x.shed << "</td></tr>\n";
  }
  t << "</table><p class=\"note\">Class <code>*</code>: media requests (every class but <code>other</code>, the "
       "nodes' <code>_timeline</code>/<code>_invalidations</code> polls). Counts are weighted by the viewers a "
       "request stands for.</p>\n";
  return t.str();
}

std::string puts_table(const Report& r) {
  std::ostringstream t;
  t << "<table><tr><th>pipeline</th><th class=\"n\">attempts</th><th class=\"n\">acknowledged</th>"
       "<th class=\"n\">defective</th><th class=\"n\">not accepted</th><th class=\"n\">retries</th>"
       "<th class=\"n\">damaged in transport</th><th>statuses</th><th class=\"n\">p50 ms</th><th class=\"n\">p99 ms</th>"
       "<th class=\"n\">max ms</th></tr>\n";
  for (const auto& p : r.puts) {
    std::string st;
    for (const auto& [code, n] : p.statuses) {
      st += (st.empty() ? "" : ", ") + (code == 0 ? std::string("none") : std::to_string(code)) + ": " + std::to_string(n);
    }
    t << "<tr><td>" << escape(p.pipeline) << "</td><td class=\"n\">" << p.attempts << "</td><td class=\"n\">"
      << p.acknowledged << "</td><td class=\"n\">" << p.defective << "</td><td class=\"n\">" << p.failed
      << "</td><td class=\"n\">" << p.retries << "</td><td class=\"n\">" << p.transport_corrupted << "</td><td>"
      << escape(st) << "</td><td class=\"n\">" << ms_text(p.p50_ms) << "</td><td class=\"n\">" << ms_text(p.p99_ms)
      << "</td><td class=\"n\">" << ms_text(p.max_ms) << "</td></tr>\n";
  }
  t << "</table>\n";
  return t.str();
}

std::string events_table(const Report& r) {
  if (r.faults.empty() && r.actions.empty()) return "<p class=\"note\">No faults injected, no admin actions.</p>\n";
  std::ostringstream t;
  t << "<table><tr><th class=\"n\">from s</th><th class=\"n\">to s</th><th>what</th><th>detail</th></tr>\n";
  for (const auto& f : r.faults) {
    t << "<tr><td class=\"n\">" << fmt(rel_s(r, f.start_ms), 1) << "</td><td class=\"n\">" << fmt(rel_s(r, f.end_ms), 1)
      << "</td><td>fault</td><td>" << escape(f.target + " " + f.kind) << "</td></tr>\n";
  }
  for (const auto& a : r.actions) {
    t << "<tr><td class=\"n\">" << fmt(rel_s(r, a.at_ms), 1) << "</td><td class=\"n\"></td><td>" << escape(a.kind)
      << " (" << a.status << ")</td><td><code>" << escape(a.detail) << "</code></td></tr>\n";
  }
  t << "</table>\n";
  return t.str();
}

std::string notable_table(const Report& r) {
  std::vector<const SegmentRow*> rows;
  for (const auto& s : r.segments) {
    if (s.counted && (s.defective_with_clean || s.viewers_missing > 0 || s.changes > 0 || !s.chosen_defects.empty())) {
      rows.push_back(&s);
    }
  }
  if (rows.empty()) {
    return "<p class=\"note\">Every counted segment was served clean and reached every viewer who asked.</p>\n";
  }
  std::ostringstream t;
  t << "<table><tr><th>stream</th><th class=\"n\">number</th><th class=\"n\">due s</th><th>candidates</th>"
       "<th>served first</th><th>served last</th><th class=\"n\">viewers clean / defective / missed</th><th>faults</th></tr>\n";
  const size_t limit = 60;
  for (size_t i = 0; i < rows.size() && i < limit; ++i) {
    const SegmentRow& s = *rows[i];
    auto copy = [](const std::string& p, const std::string& d) {
      return p.empty() ? std::string("-") : p + (d.empty() ? "" : " [" + d + "]");
    };
    t << "<tr" << (s.defective_with_clean || s.viewers_missing > 0 ? " class=\"fail\"" : "") << "><td>"
      << escape(s.stream) << "</td><td class=\"n\">" << s.number << "</td><td class=\"n\">"
      << (s.due_ms ? fmt(rel_s(r, *s.due_ms), 1) : "-") << "</td><td>" << escape(s.candidates) << "</td><td>"
      << escape(copy(s.chosen_pipeline, s.chosen_defects)) << (s.defective_with_clean ? " <b class=\"no\">clean was available</b>" : "")
      << "</td><td>" << escape(copy(s.final_pipeline, s.final_defects)) << "</td><td class=\"n\">" << s.viewers_clean
      << " / " << s.viewers_defective << " / " << s.viewers_missing << "</td><td>" << escape(s.faults) << "</td></tr>\n";
  }
  t << "</table>\n";
  if (rows.size() > limit) t << "<p class=\"note\">" << rows.size() - limit << " more in report.json.</p>\n";
  return t.str();
}

std::string figure(const std::string& caption, const std::string& note, const std::string& chart) {
  return "<figure><figcaption>" + escape(caption) + (note.empty() ? "" : " <small>" + escape(note) + "</small>") +
         "</figcaption>" + chart + "</figure>\n";
}

std::string footer(const std::string& what) {
  return "<footer id=\"report-complete\" data-complete=\"1\">" + escape(what) +
         " · generated by liveorigin from the results database · self-contained: no scripts, nothing loaded from "
         "anywhere</footer>\n";
}

}  // namespace

std::string html_page_head(const std::string& title) { return page_head(title); }
std::string html_figure(const std::string& caption, const std::string& note, const std::string& chart) {
  return figure(caption, note, chart);
}
std::string html_footer(const std::string& what) { return footer(what); }

std::string render_html(const Report& r) {
  const RunRecord& run = r.run;
  std::ostringstream h;
  h << page_head("liveorigin report: " + run.scenario_name + " run " + std::to_string(run.id));
  h << "<body data-report=\"run\" data-run=\"" << run.id << "\" data-verdict=\""
    << (r.gates.empty() ? "none" : r.passed() ? "pass" : "fail") << "\">\n<main>\n";

  h << "<header>\n<h1>" << escape(run.scenario_name) << verdict_badge(r) << "</h1>\n" << run_meta(r);
  if (!run.description.empty()) h << story(run.description);
  h << "</header>\n";

  h << "<section id=\"summary\"><h2>At a glance</h2>\n" << tiles(r) << "</section>\n";
  h << "<section id=\"gates\"><h2>Gates</h2>\n" << gates_table(r) << "</section>\n";

  size_t before = 0;
  for (const auto& s : r.segments) {
    if (s.due_ms && *s.due_ms < run.started_ms) ++before;
  }
  h << "<section id=\"timeline\"><h2>Segments: what each pipeline delivered, what the origin served, what viewers got</h2>\n"
    << figure("Per-segment timeline", "hover a cell for its story; shaded: fault windows", timeline_chart("segment-timeline", r, 1180));
  if (before > 0) {
    h << "<p class=\"note\">" << before << " segments due before the run started (history published for DVR viewers) "
      << "are not drawn; they are in report.json.</p>\n";
  }
  h << "</section>\n";

  h << "<section id=\"traffic\"><h2>Traffic</h2>\n<div class=\"grid\">\n";
  h << figure("Origin requests/s by class and status", "mean per " + format_number(r.origin_rps.bucket_ms / 1000.0) + " s",
              rps_chart("origin-requests", r, rps_series(r, true, false, ""), 580));
  h << figure("CDN hit ratio per tier", "cache hits and collapsed requests, of media requests not filtered",
              hit_chart("cdn-hit-ratio", r, hit_series(r, false, ""), 580));
  if (!r.instances.empty()) {
    h << figure("Origin instances", "requests/s answered per instance; shaded: fault windows",
                instance_chart("instance-requests", r, 580));
    h << "<div><h3>Per instance</h3>\n" << instances_table(r) << "</div>\n";
  }
  h << "</div>\n</section>\n";

  h << "<section id=\"latency\"><h2>Latency</h2>\n<div class=\"grid\">\n";
  h << figure("Origin GETs by class", "send to last byte, holds included",
              cdf_chart("cdf-origin-get", "Origin GET latency CDF", cdf_series(r.origin_get_cdfs, true, false, ""), 580));
  h << figure("Held requests", "how long requests waited for their segment",
              cdf_chart("cdf-hold-wait", "Hold wait CDF", cdf_series(r.hold_wait_cdfs, false, false, ""), 580));
  h << figure("Viewer waits by class", "first attempt to final answer, retries included",
              cdf_chart("cdf-viewer-wait", "Viewer wait CDF", cdf_series(r.viewer_wait_cdfs, true, false, ""), 580));
  h << figure("PUT latency by pipeline", "acknowledged attempts, exact",
              cdf_chart("cdf-put", "PUT latency CDF", cdf_series(r.put_cdfs, false, false, "", &r), 580));
  h << "</div>\n";
  if (run.mode == "virtual") {
    h << "<p class=\"note\">Virtual time: the origin core is called in-process, so PUT and origin latencies are the "
         "simulated ones (holds, publish delays), with no network time.</p>\n";
  }
  h << "<h3>Percentiles</h3>\n" << latency_table(r) << "</section>\n";

  h << "<section id=\"tables\"><h2>Details</h2>\n<h3>Requests per tier</h3>\n" << tiers_table(r)
    << "<h3>PUTs per pipeline</h3>\n" << puts_table(r) << "<h3>Faults and admin actions</h3>\n" << events_table(r)
    << "<h3>Segments to look at</h3>\n" << notable_table(r) << "</section>\n";

  h << "<section id=\"scenario\"><details><summary>Scenario file (" << escape(run.scenario_name) << ")</summary><pre>"
    << escape(run.scenario_text) << "</pre></details></section>\n";
  h << footer("run " + std::to_string(run.id) + " of " + run.scenario_name + " in " + run.db_path);
  h << "</main>\n</body>\n</html>\n";
  return h.str();
}

std::string render_compare_html(const Report& a, const Report& b) {
  std::ostringstream h;
  const std::string la = " · A";
  const std::string lb = " · B";
  h << page_head("liveorigin comparison: run " + std::to_string(a.run.id) + " vs run " + std::to_string(b.run.id));
  h << "<body data-report=\"comparison\" data-run-a=\"" << a.run.id << "\" data-run-b=\"" << b.run.id << "\">\n<main>\n";
  h << "<header>\n<h1>Run " << a.run.id << " (A) vs run " << b.run.id << " (B)</h1>\n";
  h << "<div class=\"cols\"><div><h3>A: " << escape(a.run.scenario_name) << verdict_badge(a) << "</h3>" << run_meta(a)
    << "</div><div><h3>B: " << escape(b.run.scenario_name) << verdict_badge(b) << "</h3>" << run_meta(b) << "</div></div>\n";
  h << "<p class=\"note\">In the charts A is drawn solid and B dashed; times are seconds since each run started.</p>\n";
  h << "</header>\n";

  // Figures side by side.
  h << "<section id=\"differences\"><h2>Figures</h2>\n<table><tr><th>figure</th><th class=\"n\">A</th><th class=\"n\">B</th>"
       "<th class=\"n\">change</th><th></th></tr>\n";
  std::vector<std::string> keys;
  for (const auto& f : a.figures) keys.push_back(f.key.str());
  for (const auto& f : b.figures) {
    if (std::find(keys.begin(), keys.end(), f.key.str()) == keys.end()) keys.push_back(f.key.str());
  }
  for (const auto& k : keys) {
    const Figure* fa = a.figure(k);
    const Figure* fb = b.figure(k);
    const Figure* f = fa ? fa : fb;
    std::string change, verdict, cls;
    if (fa && fb && fa->value && fb->value) {
      const double va = *fa->value, vb = *fb->value;
      change = va != 0 ? (vb >= va ? "+" : "") + format_number((vb - va) / std::fabs(va) * 100) + " %"
                       : (va == vb ? "+0 %" : "from 0");
      verdict = compare_verdict(va, vb, f->higher_is_better);
      cls = verdict == "same" ? "" : verdict;
    }
    h << "<tr><td><code>" << escape(k) << "</code></td><td class=\"n\">" << escape(fig_text(fa)) << "</td><td class=\"n\">"
      << escape(fig_text(fb)) << "</td><td class=\"n\">" << escape(change) << "</td><td class=\"" << cls << "\">"
      << escape(verdict) << "</td></tr>\n";
  }
  h << "</table>\n</section>\n";

  h << "<section id=\"gates\"><div class=\"cols\"><div><h2>Gates of A</h2>\n" << gates_table(a, true)
    << "</div><div><h2>Gates of B</h2>\n" << gates_table(b, true) << "</div></div></section>\n";

  h << "<section id=\"timeline\"><h2>Segments</h2>\n"
    << figure("A: run " + std::to_string(a.run.id), "", timeline_chart("segment-timeline-a", a, 1180))
    << figure("B: run " + std::to_string(b.run.id), "", timeline_chart("segment-timeline-b", b, 1180)) << "</section>\n";

  auto both = [](std::vector<svg::Series> x, std::vector<svg::Series> y) {
    x.insert(x.end(), std::make_move_iterator(y.begin()), std::make_move_iterator(y.end()));
    return x;
  };
  const Report& longer = a.run.duration_s() >= b.run.duration_s() ? a : b;
  h << "<section id=\"traffic\"><h2>Traffic</h2>\n<div class=\"grid\">\n";
  h << figure("Origin requests/s by class", "",
              rps_chart("origin-requests", longer, both(rps_series(a, false, false, la), rps_series(b, false, true, lb)), 580));
  h << figure("CDN hit ratio per tier", "",
              hit_chart("cdn-hit-ratio", longer, both(hit_series(a, false, la), hit_series(b, true, lb)), 580));
  h << "</div>\n</section>\n";

  h << "<section id=\"latency\"><h2>Latency</h2>\n<div class=\"grid\">\n";
  h << figure("Origin GETs by class", "",
              cdf_chart("cdf-origin-get", "Origin GET latency CDF",
                        both(cdf_series(a.origin_get_cdfs, true, false, la), cdf_series(b.origin_get_cdfs, true, true, lb)), 580));
  h << figure("Held requests", "",
              cdf_chart("cdf-hold-wait", "Hold wait CDF",
                        both(cdf_series(a.hold_wait_cdfs, false, false, la), cdf_series(b.hold_wait_cdfs, false, true, lb)), 580));
  h << figure("Viewer waits by class", "",
              cdf_chart("cdf-viewer-wait", "Viewer wait CDF",
                        both(cdf_series(a.viewer_wait_cdfs, true, false, la), cdf_series(b.viewer_wait_cdfs, true, true, lb)), 580));
  h << figure("PUT latency by pipeline", "",
              cdf_chart("cdf-put", "PUT latency CDF",
                        both(cdf_series(a.put_cdfs, false, false, la, &a), cdf_series(b.put_cdfs, false, true, lb, &b)), 580));
  h << "</div>\n</section>\n";
  h << footer("run " + std::to_string(a.run.id) + " (" + a.run.db_path + ") vs run " + std::to_string(b.run.id) + " (" +
              b.run.db_path + ")");
  h << "</main>\n</body>\n</html>\n";
  return h.str();
}

}  // namespace liveorigin::reports
