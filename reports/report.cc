// Collecting a run's figures from the results database, and the text formats (JSON,
// Markdown, JUnit). The HTML pages are in report_html.cc.
#include "reports/report.h"

#include "origin/core/markup.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>
#include <stdexcept>

#include <boost/json.hpp>

#include "origin/core/timing.h"
#include "results/recorded_scenario.h"

namespace liveorigin::reports {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::optional<double> opt(const Value& v) { return v.maybe_number(); }
std::optional<int64_t> opt_int(const Value& v) {
  if (v.null()) return std::nullopt;
  return v.integer();
}

// The figures every report carries (and a baseline can compare), plus each gate's own.
std::vector<MetricKey> standard_keys(const ResultsDb& db, int64_t run, const std::vector<std::string>& cdn_tiers) {
  std::vector<MetricKey> keys;
  auto add = [&](MetricKey k) {
    if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(std::move(k));
  };
  std::vector<std::string> viewer_classes;
  for (const auto& r : db.rows("SELECT class FROM viewer_totals WHERE run_id = ?1 AND class IN ('live', 'dvr', 'background') "
                               "ORDER BY CASE class WHEN 'live' THEN 0 WHEN 'dvr' THEN 1 ELSE 2 END",
                               {run})) {
    viewer_classes.push_back(r[0].text());
  }
  std::vector<std::string> origin_classes;
  for (const auto& r : db.rows("SELECT class FROM tier_totals WHERE run_id = ?1 AND tier = 'origin' "
                               "AND class IN ('live', 'dvr', 'background') "
                               "ORDER BY CASE class WHEN 'live' THEN 0 WHEN 'dvr' THEN 1 ELSE 2 END",
                               {run})) {
    origin_classes.push_back(r[0].text());
  }
  std::vector<std::string> hold_tiers;
  for (const auto& r : db.rows("SELECT DISTINCT tier FROM latencies WHERE run_id = ?1 AND name = 'hold_wait' ORDER BY "
                               "CASE tier WHEN 'origin' THEN 0 ELSE 1 END, tier",
                               {run})) {
    hold_tiers.push_back(r[0].text());
  }
  add({"defective_served_with_clean_available"});
  add({"viewer_missing_segments"});
  add({"failover_gap_segments"});
  add({"viewer_error_ratio"});
  for (const auto& c : viewer_classes) add({"viewer_error_ratio", std::nullopt, c});
  add({"origin_requests_per_s"});
  for (const auto& c : origin_classes) add({"origin_requests_per_s", std::nullopt, c});
  add({"origin_status_5xx"});
  for (const auto& c : origin_classes) add({"origin_status_5xx", std::nullopt, c});
  add({"shed_ratio"});
  for (const auto& c : origin_classes) add({"shed_ratio", std::nullopt, c});
  add({"cache_hit_ratio"});
  for (const auto& t : cdn_tiers) add({"cache_hit_ratio", std::nullopt, "", t});
  for (double p : {50.0, 90.0, 99.0}) add({"origin_get_latency_ms", p});
  for (const auto& c : origin_classes) add({"origin_get_latency_ms", 99.0, c});
  for (double p : {50.0, 90.0, 99.0}) add({"viewer_wait_ms", p});
  for (const auto& c : viewer_classes) add({"viewer_wait_ms", 99.0, c});
  for (double p : {50.0, 99.0}) add({"hold_wait_ms", p});
  for (const auto& t : hold_tiers) add({"hold_wait_ms", 99.0, "", t});
  for (double p : {50.0, 99.0}) add({"put_latency_ms", p});
  return keys;
}

// A CDF from latency_cdf rows (bucket order): from (min, 0) through each non-empty
// bucket's upper bound; linear in between, as the percentiles interpolate.
std::vector<std::pair<double, double>> cdf_points(const std::vector<const Row*>& rows) {
  std::vector<std::pair<double, double>> out;
  for (const Row* r : rows) {
    // lower_ms, upper_ms, count, cumulative, total
    const double count = (*r)[2].number();
    if (count <= 0) continue;
    const double total = (*r)[4].number();
    if (total <= 0) continue;
    const double lower = (*r)[0].number();
    const double upper = (*r)[1].number();
    const double before = ((*r)[3].number() - count) / total;
    if (out.empty() || out.back().first != lower || out.back().second != before) out.emplace_back(lower, before);
    out.emplace_back(upper, (*r)[3].number() / total);
  }
  return out;
}

std::string class_label(const std::string& c) {
  if (c == "*") return "every class";
  if (c == "other") return "other (polls)";
  return c;
}

}  // namespace

const Figure* Report::figure(const std::string& key) const {
  for (const auto& f : figures) {
    if (f.key.str() == key) return &f;
  }
  return nullptr;
}

std::map<std::string, int64_t> Report::served_by_pipeline() const {
  std::map<std::string, int64_t> out;
  for (const auto& s : segments) {
    if (!s.counted || !s.due_ms || *s.due_ms < run.started_ms || *s.due_ms >= run.ended_ms) continue;
    ++out[s.chosen_pipeline];
  }
  return out;
}

// runs.parameters_json (sim/runner.cc writes it) as an object; empty when unreadable.
static json::object parameters_of(const std::string& parameters_json) {
  boost::system::error_code ec;
  json::value v = json::parse(parameters_json, ec);
  return !ec && v.is_object() ? std::move(v.as_object()) : json::object();
}

// What the parameters say of the origin model: "4 instances, redis store, calibration ...".
static std::string describe_origin_model(const json::object& params) {
  const json::value* m = params.if_contains("origin_model");
  if (!m || !m->is_object()) return "";
  const json::object& o = m->as_object();
  auto text = [&](const char* key) {
    const json::value* x = o.if_contains(key);
    return x && x->is_string() ? std::string(x->as_string()) : std::string();
  };
  const json::value* n = o.if_contains("instances");
  const int64_t instances = n && n->is_int64() ? n->as_int64() : 1;
  std::string out = std::to_string(instances) + (instances == 1 ? " instance, " : " instances, ") + text("store") +
                    " store, ";
  const std::string name = text("calibration");
  const std::string file = text("calibration_file");
  if (name.empty() && file.empty()) return out + "model defaults (no calibration)";
  out += "calibration \"" + (name.empty() ? file : name) + "\"";
  if (!file.empty() && !name.empty()) out += " (" + file + ")";
  return out;
}

static std::vector<std::string> overrides_of(const json::object& params) {
  std::vector<std::string> out;
  const json::value* o = params.if_contains("overrides");
  if (!o || !o->is_array()) return out;
  for (const auto& x : o->as_array()) {
    if (x.is_string()) out.emplace_back(x.as_string());
  }
  return out;
}

std::vector<std::string> recorded_overrides(const std::string& parameters_json) {
  return overrides_of(parameters_of(parameters_json));
}

Result<Report> collect_report(const ResultsDb& db, int64_t run) {
  Report rep;
  try {
    const auto runs = db.rows(
        "SELECT id, scenario_name, scenario_hash, scenario_text, seed, version, mode, origin_mode, origin_url, "
        "parameters_json, interval_ms, started_ms, ended_ms, status FROM runs WHERE id = ?1",
        {run});
    if (runs.empty()) return make_error(db.path() + ": no run " + std::to_string(run));
    const Row& r = runs[0];
    RunRecord& rr = rep.run;
    rr.id = r[0].integer();
    rr.db_path = db.path();
    rr.scenario_name = r[1].text();
    rr.scenario_hash = r[2].text();
    rr.scenario_text = r[3].text();
    rr.seed = static_cast<uint64_t>(r[4].integer());
    rr.version = r[5].text();
    rr.mode = r[6].text();
    rr.origin_mode = r[7].text();
    rr.origin_url = r[8].text();
    rr.parameters_json = r[9].text();
    const json::object params = parameters_of(rr.parameters_json);
    rr.origin_model = describe_origin_model(params);
    rr.overrides = overrides_of(params);
    rr.interval_ms = std::max<int64_t>(1, r[10].integer(1000));
    rr.started_ms = r[11].integer();
    rr.ended_ms = r[12].integer();
    rr.status = r[13].text();

    // The recorded scenario: its story, pipelines in rank order, tiers and gates.
    std::vector<results::Gate> gates;
    auto scenario = results::read_recorded_scenario(rr.scenario_text, rr.scenario_name + ".yaml");
    if (scenario) {
      rr.description = scenario->description;
      rep.pipelines = scenario->pipelines;
      rep.cdn_tiers = scenario->cdn_tiers;
      gates = scenario->gates;
    } else {
      rep.gates_note = "the recorded scenario does not parse with this liveorigin (" + scenario.error().message +
                       "): its gates are not evaluated";
    }
    for (const auto& p : db.rows("SELECT DISTINCT pipeline FROM puts WHERE run_id = ?1 ORDER BY pipeline", {run})) {
      if (std::find(rep.pipelines.begin(), rep.pipelines.end(), p[0].text()) == rep.pipelines.end()) {
        rep.pipelines.push_back(p[0].text());
      }
    }
    for (const auto& t : db.rows("SELECT DISTINCT tier FROM intervals WHERE run_id = ?1 AND tier NOT IN ('origin', 'viewer') "
                                 "ORDER BY tier",
                                 {run})) {
      if (std::find(rep.cdn_tiers.begin(), rep.cdn_tiers.end(), t[0].text()) == rep.cdn_tiers.end()) {
        rep.cdn_tiers.push_back(t[0].text());
      }
    }

    auto evaluated = evaluate_gates(db, run, gates);
    if (!evaluated) return evaluated.error();
    rep.gates = std::move(*evaluated);

    std::vector<MetricKey> keys = standard_keys(db, run, rep.cdn_tiers);
    for (const auto& g : rep.gates) {
      if (std::find(keys.begin(), keys.end(), g.key) == keys.end()) keys.push_back(g.key);
    }
    for (const auto& k : keys) {
      rep.figures.push_back({k, metric_value(db, run, k), metric_unit(k.metric), higher_is_better(k.metric)});
    }

    // Time charts: the run in buckets of whole intervals, at least one segment long (so
    // bursts at segment boundaries do not zigzag) and at most ~300 buckets per run.
    const int64_t span = std::max<int64_t>(1, rr.ended_ms - rr.started_ms);
    const int64_t intervals = (span + rr.interval_ms - 1) / rr.interval_ms;
    int64_t longest_segment_ms = 0;
    for (const auto& row : db.rows("SELECT MAX(segment_duration_ms) FROM streams WHERE run_id = ?1", {run})) {
      longest_segment_ms = row[0].integer(0);
    }
    const int64_t per_bucket = std::max<int64_t>({1, (longest_segment_ms + rr.interval_ms - 1) / rr.interval_ms,
                                                  (intervals + 299) / 300});
    const int64_t bucket_ms = per_bucket * rr.interval_ms;
    const size_t n = static_cast<size_t>((span + bucket_ms - 1) / bucket_ms);
    std::vector<double> len_s(n);
    for (size_t i = 0; i < n; ++i) {
      const int64_t a = static_cast<int64_t>(i) * bucket_ms;
      const int64_t e = std::min(span, a + bucket_ms);
      len_s[i] = static_cast<double>(e - a) / 1000.0;
      rep.origin_rps.t_s.push_back(static_cast<double>(a + e) / 2000.0);
    }
    rep.origin_rps.bucket_ms = bucket_ms;
    rep.hit_ratio.bucket_ms = bucket_ms;
    rep.hit_ratio.t_s = rep.origin_rps.t_s;
    rep.origin_rps.unit = "requests/s";
    rep.hit_ratio.unit = "ratio";
    auto bucket_of = [&](int64_t interval) -> std::optional<size_t> {
      if (interval < 0) return std::nullopt;
      const auto b = static_cast<size_t>(interval / per_bucket);
      if (b >= n) return std::nullopt;
      return b;
    };

    // Origin requests/s per class and status. Beyond 8 series, the smallest are summed.
    {
      struct Acc {
        std::string cls;
        int status;
        double total = 0;
        std::vector<double> counts;
      };
      std::vector<Acc> acc;
      for (const auto& row : db.rows("SELECT interval, class, status, SUM(requests) FROM intervals WHERE run_id = ?1 "
                                     "AND tier = 'origin' GROUP BY interval, class, status",
                                     {run})) {
        const auto i = bucket_of(row[0].integer());
        if (!i) continue;
        const std::string cls = row[1].text();
        const int status = static_cast<int>(row[2].integer());
        auto it = std::find_if(acc.begin(), acc.end(), [&](const Acc& a) { return a.cls == cls && a.status == status; });
        if (it == acc.end()) {
          acc.push_back({cls, status, 0, std::vector<double>(n, 0)});
          it = acc.end() - 1;
        }
        it->counts[*i] += row[3].number();
        it->total += row[3].number();
      }
      auto class_rank = [](const std::string& c) {
        return c == "live" ? 0 : c == "dvr" ? 1 : c == "background" ? 2 : 3;
      };
      std::sort(acc.begin(), acc.end(), [](const Acc& a, const Acc& b) { return a.total > b.total; });
      if (acc.size() > 8) {
        Acc rest{"", -1, 0, std::vector<double>(n, 0)};
        for (size_t k = 7; k < acc.size(); ++k) {
          for (size_t i = 0; i < n; ++i) rest.counts[i] += acc[k].counts[i];
          rest.total += acc[k].total;
        }
        acc.resize(7);
        acc.push_back(std::move(rest));
      }
      std::stable_sort(acc.begin(), acc.end(), [&](const Acc& a, const Acc& b) {
        if (a.status == -1 || b.status == -1) return b.status == -1 && a.status != -1;
        if (class_rank(a.cls) != class_rank(b.cls)) return class_rank(a.cls) < class_rank(b.cls);
        return a.status < b.status;
      });
      for (auto& a : acc) {
        TimeSeries s;
        s.request_class = a.cls;
        s.status = a.status;
        s.label = a.status == -1 ? "the rest" : class_label(a.cls) + " " + (a.status == 0 ? "no answer" : std::to_string(a.status));
        s.values.resize(n);
        for (size_t i = 0; i < n; ++i) s.values[i] = a.counts[i] / len_s[i];
        rep.origin_rps.series.push_back(std::move(s));
      }
    }

    // CDN hit ratio per tier and bucket (media requests); NaN where a tier had none.
    for (const auto& tier : rep.cdn_tiers) {
      TimeSeries s;
      s.label = tier;
      s.tier = tier;
      std::vector<double> hits(n, 0), asked(n, 0);
      for (const auto& row : db.rows("SELECT interval, SUM(cache_hits + collapsed), SUM(requests) - SUM(filtered) "
                                     "FROM intervals WHERE run_id = ?1 AND tier = ?2 AND class <> 'other' GROUP BY interval",
                                     {run, tier})) {
        if (const auto i = bucket_of(row[0].integer())) {
          hits[*i] += row[1].number();
          asked[*i] += row[2].number();
        }
      }
      s.values.assign(n, kNaN);
      for (size_t i = 0; i < n; ++i) {
        if (asked[i] > 0) s.values[i] = hits[i] / asked[i];
      }
      rep.hit_ratio.series.push_back(std::move(s));
    }

    // Requests/s per origin instance, and each instance's totals and longest silence:
    // the longest stretch of intervals it answered nothing while traffic went on (from
    // the first interval any instance answered to the last).
    {
      std::map<int, std::vector<double>> per;
      std::map<int, InstanceRow> rows;
      std::map<int, std::vector<int64_t>> answered;  // intervals with answers, ascending
      int64_t first_any = std::numeric_limits<int64_t>::max(), last_any = -1;
      for (const auto& row : db.rows("SELECT interval, instance, requests, errors, no_answer FROM instance_intervals "
                                     "WHERE run_id = ?1 ORDER BY interval",
                                     {run})) {
        const int inst = static_cast<int>(row[1].integer());
        auto& v = per[inst];
        if (v.empty()) v.assign(n, 0);
        InstanceRow& ir = rows[inst];
        ir.instance = inst;
        ir.requests += row[2].integer();
        ir.errors += row[3].integer();
        ir.no_answer += row[4].integer();
        if (const auto i = bucket_of(row[0].integer())) v[*i] += row[2].number();
        if (row[2].integer() > 0) {
          answered[inst].push_back(row[0].integer());
          first_any = std::min(first_any, row[0].integer());
          last_any = std::max(last_any, row[0].integer());
        }
      }
      if (rows.size() > 1) {
        rep.instance_rps.unit = "requests/s";
        rep.instance_rps.bucket_ms = bucket_ms;
        rep.instance_rps.t_s = rep.origin_rps.t_s;
        int64_t total = 0;
        for (const auto& [inst, ir] : rows) total += ir.requests;
        for (auto& [inst, v] : per) {
          InstanceRow ir = rows[inst];
          ir.share = total > 0 ? static_cast<double>(ir.requests) / static_cast<double>(total) : 0;
          // Gaps between answered intervals, counting the edges of the traffic window.
          int64_t best_from = 0, best_len = 0, prev = first_any - 1;
          auto gap_to = [&](int64_t next) {
            if (next - prev - 1 > best_len) {
              best_len = next - prev - 1;
              best_from = prev + 1;
            }
            prev = next;
          };
          if (last_any >= 0) {
            for (int64_t i : answered[inst]) gap_to(i);
            gap_to(last_any + 1);
          }
          ir.longest_silence_s = static_cast<double>(best_len * rr.interval_ms) / 1000.0;
          ir.silent_from_s = static_cast<double>(best_from * rr.interval_ms) / 1000.0;
          rep.instances.push_back(ir);
          TimeSeries ts;
          ts.label = "instance " + std::to_string(inst);
          ts.values.resize(n);
          for (size_t i = 0; i < n; ++i) ts.values[i] = v[i] / len_s[i];
          rep.instance_rps.series.push_back(std::move(ts));
        }
      }
    }

    // Latency CDFs.
    const auto cdf_rows = db.rows(
        "SELECT name, class, tier, lower_ms, upper_ms, count, cumulative, total FROM latency_cdf WHERE run_id = ?1 "
        "ORDER BY name, class, tier, bucket",
        {run});
    auto cdf = [&](const std::string& name, const std::string& cls, const std::string& tier, const std::string& label) {
      Cdf c;
      c.label = label;
      c.name = name;
      c.request_class = cls;
      c.tier = tier;
      std::vector<Row> picked;
      for (const auto& row : cdf_rows) {
        if (row[0].text() == name && row[1].text() == cls && row[2].text() == tier) {
          picked.push_back(Row{row[3], row[4], row[5], row[6], row[7]});
          c.count = row[7].integer();
        }
      }
      std::vector<const Row*> ptrs;
      for (const auto& p : picked) ptrs.push_back(&p);
      c.points = cdf_points(ptrs);
      return c;
    };
    // The classes (dimension "class", tier fixed) or tiers (class fixed) recorded for `name`.
    auto present = [&](const std::string& name, const std::string& dimension, const std::string& fixed) {
      std::vector<std::string> out;
      const size_t c = dimension == "class" ? 1 : 2;
      const size_t o = c == 1 ? 2 : 1;
      for (const auto& row : cdf_rows) {
        if (row[0].text() != name || row[o].text() != fixed || row[c].text() == "*") continue;
        if (std::find(out.begin(), out.end(), row[c].text()) == out.end()) out.push_back(row[c].text());
      }
      return out;
    };
    auto by_class = [](std::vector<std::string> v) {
      auto rank = [](const std::string& c) { return c == "live" ? 0 : c == "dvr" ? 1 : c == "background" ? 2 : 3; };
      std::stable_sort(v.begin(), v.end(), [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
      return v;
    };
    for (const auto& c : by_class(present("origin_get", "class", "*"))) {
      rep.origin_get_cdfs.push_back(cdf("origin_get", c, "*", class_label(c)));
    }
    {
      std::vector<std::string> tiers = present("hold_wait", "tier", "*");
      std::stable_sort(tiers.begin(), tiers.end(), [](const auto& a, const auto& b) { return a == "origin" && b != "origin"; });
      for (const auto& t : tiers) {
        rep.hold_wait_cdfs.push_back(cdf("hold_wait", "*", t, t == "origin" ? "at the origin" : "at " + t + " nodes"));
      }
    }
    for (const auto& c : by_class(present("viewer_wait", "class", "*"))) {
      rep.viewer_wait_cdfs.push_back(cdf("viewer_wait", c, "*", class_label(c)));
    }

    // PUTs per pipeline, exact (from the puts table).
    for (const auto& p : rep.pipelines) {
      PipelinePuts pp;
      pp.pipeline = p;
      std::vector<double> ms;
      for (const auto& row : db.rows("SELECT status, defects, transport_corrupted, attempt, answered_ms - sent_ms FROM puts "
                                     "WHERE run_id = ?1 AND pipeline = ?2",
                                     {run, p})) {
        const int status = static_cast<int>(row[0].integer());
        ++pp.attempts;
        ++pp.statuses[status];
        if (row[3].integer() > 1) ++pp.retries;
        if (row[2].integer() != 0) ++pp.transport_corrupted;
        if (status >= 200 && status <= 299) {
          ++pp.acknowledged;
          if (!row[1].text().empty()) ++pp.defective;
          if (!row[4].null()) ms.push_back(row[4].number());
        } else {
          ++pp.failed;
        }
      }
      std::sort(ms.begin(), ms.end());
      Cdf c;
      c.label = p;
      c.name = "put";
      c.pipeline = p;
      c.count = static_cast<int64_t>(ms.size());
      if (!ms.empty()) {
        // Nearest rank.
        auto q = [&](double f) {
          const auto k = static_cast<size_t>(std::ceil(f * static_cast<double>(ms.size())));
          return ms[std::min(ms.size(), std::max<size_t>(1, k)) - 1];
        };
        pp.p50_ms = q(0.5);
        pp.p99_ms = q(0.99);
        pp.max_ms = ms.back();
        // (value, share of values <= it) per distinct value; at most ~300 of them drawn.
        std::vector<std::pair<double, double>> exact;
        for (size_t i = 0; i < ms.size();) {
          size_t j = i;
          while (j + 1 < ms.size() && ms[j + 1] == ms[i]) ++j;
          exact.emplace_back(ms[i], static_cast<double>(j + 1) / static_cast<double>(ms.size()));
          i = j + 1;
        }
        c.points.emplace_back(ms.front(), 0);
        const size_t step = std::max<size_t>(1, exact.size() / 300);
        for (size_t k = 0; k < exact.size(); k += step) c.points.push_back(exact[k]);
        if (c.points.back() != exact.back()) c.points.push_back(exact.back());
      }
      rep.put_cdfs.push_back(std::move(c));
      rep.puts.push_back(std::move(pp));
    }

    for (const auto& row : db.rows("SELECT name, class, tier, count, mean_ms, min_ms, max_ms, p50_ms, p90_ms, p95_ms, "
                                   "p99_ms, p999_ms FROM latency_percentiles WHERE run_id = ?1 ORDER BY name, class, tier",
                                   {run})) {
      LatencyRow l;
      l.name = row[0].text();
      l.request_class = row[1].text();
      l.tier = row[2].text();
      l.count = row[3].integer();
      l.mean_ms = opt(row[4]);
      l.min_ms = opt(row[5]);
      l.max_ms = opt(row[6]);
      l.p50_ms = opt(row[7]);
      l.p90_ms = opt(row[8]);
      l.p95_ms = opt(row[9]);
      l.p99_ms = opt(row[10]);
      l.p999_ms = opt(row[11]);
      rep.latencies.push_back(std::move(l));
    }

    for (const auto& row : db.rows(
             "SELECT tier, class, requests, bytes, cache_hits, collapsed, filtered, held, shed, status_2xx, status_3xx, "
             "status_4xx, status_5xx, transport_errors, cache_hit_ratio, shed_ratio, error_ratio, mean_rps, peak_rps "
             "FROM tier_totals WHERE run_id = ?1 ORDER BY CASE tier WHEN 'origin' THEN 0 WHEN 'viewer' THEN 2 ELSE 1 END, "
             "tier, class",
             {run})) {
      TierRow t;
      t.tier = row[0].text();
      t.request_class = row[1].text();
      t.requests = row[2].integer();
      t.bytes = row[3].integer();
      t.cache_hits = row[4].integer();
      t.collapsed = row[5].integer();
      t.filtered = row[6].integer();
      t.held = row[7].integer();
      t.shed = row[8].integer();
      t.status_2xx = row[9].integer();
      t.status_3xx = row[10].integer();
      t.status_4xx = row[11].integer();
      t.status_5xx = row[12].integer();
      t.transport_errors = row[13].integer();
      t.cache_hit_ratio = row[14].number();
      t.shed_ratio = row[15].number();
      t.error_ratio = row[16].number();
      t.mean_rps = row[17].number();
      t.peak_rps = row[18].number();
      rep.tiers.push_back(std::move(t));
    }

    for (const auto& row : db.rows("SELECT stream, segment_duration_ms FROM streams WHERE run_id = ?1 ORDER BY rowid", {run})) {
      rep.streams.push_back({row[0].text(), row[1].integer(2000)});
    }

    // Segments with what each pipeline delivered.
    std::map<std::pair<std::string, int64_t>, std::vector<SegmentCopy>> copies;
    for (const auto& row : db.rows("SELECT stream, number, pipeline, status, defects, transport_corrupted, puts, "
                                   "failed_puts, acked_ms, acked_after_due_ms FROM segment_pipelines WHERE run_id = ?1",
                                   {run})) {
      SegmentCopy c;
      c.pipeline = row[2].text();
      c.status = static_cast<int>(row[3].integer());
      c.defects = row[4].text();
      c.transport_corrupted = row[5].integer() != 0;
      c.puts = row[6].integer();
      c.failed_puts = row[7].integer();
      c.acknowledged = !row[8].null();
      c.acked_after_due_ms = opt_int(row[9]);
      copies[{row[0].text(), row[1].integer()}].push_back(std::move(c));
    }
    auto rank = [&](const std::string& p) {
      auto it = std::find(rep.pipelines.begin(), rep.pipelines.end(), p);
      return it - rep.pipelines.begin();
    };
    for (const auto& row : db.rows(
             "SELECT stream, number, due_ms, counted, candidates, first_served_ms, chosen_pipeline, chosen_defects, "
             "final_pipeline, final_defects, changes, viewers_clean, viewers_defective, viewers_missing, faults, "
             "defective_with_clean FROM segment_timeline WHERE run_id = ?1 ORDER BY stream, number",
             {run})) {
      SegmentRow s;
      s.stream = row[0].text();
      s.number = row[1].integer();
      s.due_ms = opt_int(row[2]);
      s.counted = row[3].integer() != 0;
      s.candidates = row[4].text();
      s.first_served_ms = opt_int(row[5]);
      s.chosen_pipeline = row[6].text();
      s.chosen_defects = row[7].text();
      s.final_pipeline = row[8].text();
      s.final_defects = row[9].text();
      s.changes = row[10].integer();
      s.viewers_clean = row[11].integer();
      s.viewers_defective = row[12].integer();
      s.viewers_missing = row[13].integer();
      s.faults = row[14].text();
      s.defective_with_clean = row[15].integer() != 0;
      auto it = copies.find({s.stream, s.number});
      if (it != copies.end()) {
        s.copies = std::move(it->second);
        std::stable_sort(s.copies.begin(), s.copies.end(),
                         [&](const SegmentCopy& a, const SegmentCopy& b) { return rank(a.pipeline) < rank(b.pipeline); });
      }
      rep.segments.push_back(std::move(s));
    }
    // Streams in the recorded order (the scenario's), segments within each by number.
    std::stable_sort(rep.segments.begin(), rep.segments.end(), [&](const SegmentRow& a, const SegmentRow& b) {
      auto pos = [&](const std::string& s) {
        for (size_t i = 0; i < rep.streams.size(); ++i) {
          if (rep.streams[i].stream == s) return i;
        }
        return rep.streams.size();
      };
      return pos(a.stream) < pos(b.stream);
    });

    for (const auto& row : db.rows("SELECT target, kind, start_ms, end_ms FROM faults WHERE run_id = ?1 ORDER BY start_ms, "
                                   "target",
                                   {run})) {
      rep.faults.push_back({row[0].text(), row[1].text(), row[2].integer(), row[3].integer()});
    }
    for (const auto& row : db.rows("SELECT at_ms, kind, detail, status FROM actions WHERE run_id = ?1 ORDER BY at_ms", {run})) {
      rep.actions.push_back({row[0].integer(), row[1].text(), row[2].text(), static_cast<int>(row[3].integer())});
    }
  } catch (const std::exception& e) {
    return make_error(db.path() + ": " + e.what());
  }
  return rep;
}

// ---------------------------------------------------------------------------------------
// JSON.

namespace {

json::value jnum(std::optional<double> v) {
  if (!v || !std::isfinite(*v)) return nullptr;
  return *v;
}

json::value jstr_or_null(const std::string& s) {
  if (s.empty()) return nullptr;
  return json::value(s);
}

json::object key_json(const MetricKey& k) {
  return json::object{{"metric", k.metric},
                      {"percentile", jnum(k.percentile)},
                      {"class", jstr_or_null(k.request_class)},
                      {"tier", jstr_or_null(k.tier)}};
}

json::array numbers(const std::vector<double>& v) {
  json::array a;
  a.reserve(v.size());
  for (double x : v) a.push_back(jnum(x));
  return a;
}

json::array cdfs_json(const std::vector<Cdf>& cdfs) {
  json::array out;
  for (const auto& c : cdfs) {
    json::array pts;
    for (const auto& [ms, f] : c.points) pts.push_back(json::array{ms, f});
    json::object o{{"label", c.label}, {"count", c.count}, {"points_ms_fraction", std::move(pts)}};
    if (!c.pipeline.empty()) {
      o["pipeline"] = c.pipeline;
    } else {
      o["name"] = c.name;
      o["class"] = c.request_class;
      o["tier"] = c.tier;
    }
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace

json::value report_json(const Report& r) {
  const RunRecord& run = r.run;
  json::object doc;
  doc["format"] = "liveorigin-report";
  doc["format_version"] = 1;
  doc["run"] = json::object{
      {"id", run.id},
      {"db", run.db_path},
      {"scenario", run.scenario_name},
      {"description", run.description},
      {"scenario_sha256", run.scenario_hash},
      {"seed", run.seed},
      {"version", run.version},
      {"mode", run.mode},
      {"origin_mode", run.origin_mode},
      {"origin_model", run.origin_model.empty() ? json::value(nullptr) : json::value(run.origin_model)},
      {"origin_url", run.origin_url},
      {"status", run.status},
      {"started_ms", run.started_ms},
      {"started", format_iso8601_ms(run.started_ms)},
      {"ended_ms", run.ended_ms},
      {"duration_s", run.duration_s()},
      {"interval_ms", run.interval_ms},
      {"pipelines", json::value_from(r.pipelines)},
      {"cdn_tiers", json::value_from(r.cdn_tiers)},
      {"overrides", json::value_from(run.overrides)},
  };
  doc["verdict"] = r.passed() ? "pass" : "fail";

  json::array gates;
  for (const auto& g : r.gates) {
    json::object o = key_json(g.key);
    o["name"] = g.name;
    o["key"] = g.key.str();
    o["op"] = g.op;
    o["threshold"] = g.threshold;
    o["value"] = jnum(g.value);
    o["unit"] = g.unit;
    o["passed"] = g.passed;
    o["message"] = g.message;
    gates.push_back(std::move(o));
  }
  doc["gates"] = std::move(gates);
  if (!r.gates_note.empty()) doc["gates_note"] = r.gates_note;

  json::object metrics;
  for (const auto& f : r.figures) {
    json::object o{{"value", jnum(f.value)}, {"unit", f.unit}, {"better", f.higher_is_better ? "higher" : "lower"}};
    metrics[f.key.str()] = std::move(o);
  }
  doc["metrics"] = std::move(metrics);

  // Segments, summarised and one by one.
  {
    json::object served;
    for (const auto& [p, count] : r.served_by_pipeline()) served[p.empty() ? "none" : p] = count;
    int64_t defective_served = 0, missing = 0, changed = 0;
    for (const auto& s : r.segments) {
      if (!s.counted) continue;
      if (!s.chosen_defects.empty()) ++defective_served;
      if (s.viewers_missing > 0) ++missing;
      if (s.changes > 0) ++changed;
    }
    json::array list;
    for (const auto& s : r.segments) {
      json::array cp;
      for (const auto& c : s.copies) {
        cp.push_back(json::object{{"pipeline", c.pipeline},
                                  {"status", c.status},
                                  {"defects", c.defects},
                                  {"transport_corrupted", c.transport_corrupted},
                                  {"puts", c.puts},
                                  {"failed_puts", c.failed_puts},
                                  {"acknowledged", c.acknowledged},
                                  {"acked_after_due_ms", c.acked_after_due_ms ? json::value(*c.acked_after_due_ms) : nullptr}});
      }
      list.push_back(json::object{
          {"stream", s.stream},
          {"number", s.number},
          {"due_ms", s.due_ms ? json::value(*s.due_ms) : nullptr},
          {"counted", s.counted},
          {"copies", std::move(cp)},
          {"first_served_ms", s.first_served_ms ? json::value(*s.first_served_ms) : nullptr},
          {"chosen_pipeline", s.chosen_pipeline},
          {"chosen_defects", s.chosen_defects},
          {"final_pipeline", s.final_pipeline},
          {"final_defects", s.final_defects},
          {"changes", s.changes},
          {"viewers_clean", s.viewers_clean},
          {"viewers_defective", s.viewers_defective},
          {"viewers_missing", s.viewers_missing},
          {"faults", s.faults},
          {"defective_with_clean", s.defective_with_clean},
      });
    }
    json::array streams;
    for (const auto& s : r.streams) streams.push_back(json::object{{"stream", s.stream}, {"segment_duration_ms", s.segment_duration_ms}});
    doc["segments"] = json::object{{"streams", std::move(streams)},
                                   {"served_by_pipeline", std::move(served)},
                                   {"counted_served_defective", defective_served},
                                   {"counted_missed_by_viewers", missing},
                                   {"counted_changed_after_first_serve", changed},
                                   {"list", std::move(list)}};
  }

  {
    json::array s;
    for (const auto& ts : r.origin_rps.series) {
      s.push_back(json::object{{"label", ts.label},
                               {"class", ts.status == -1 ? json::value(nullptr) : json::value(ts.request_class)},
                               {"status", ts.status == -1 ? json::value(nullptr) : json::value(ts.status)},
                               {"values", numbers(ts.values)}});
    }
    json::array h;
    for (const auto& ts : r.hit_ratio.series) h.push_back(json::object{{"tier", ts.tier}, {"values", numbers(ts.values)}});
    json::array in;
    for (size_t k = 0; k < r.instance_rps.series.size(); ++k) {
      in.push_back(json::object{{"instance", r.instances[k].instance}, {"values", numbers(r.instance_rps.series[k].values)}});
    }
    doc["time_series"] = json::object{
        {"bucket_ms", r.origin_rps.bucket_ms},
        {"t_s", numbers(r.origin_rps.t_s)},
        {"origin_requests_per_s", json::object{{"unit", "requests/s"}, {"series", std::move(s)}}},
        {"cdn_hit_ratio", json::object{{"unit", "ratio"}, {"series", std::move(h)}}},
        {"instance_requests_per_s", json::object{{"unit", "requests/s"}, {"series", std::move(in)}}},
    };
    json::array instances;
    for (const auto& i : r.instances) {
      instances.push_back(json::object{{"instance", i.instance},
                                       {"requests", i.requests},
                                       {"errors_5xx", i.errors},
                                       {"not_answered", i.no_answer},
                                       {"share", i.share},
                                       {"longest_silence_s", i.longest_silence_s},
                                       {"silent_from_s", i.silent_from_s}});
    }
    doc["origin_instances"] = std::move(instances);
  }

  doc["latency_cdfs"] = json::object{{"unit", "ms"},
                                     {"origin_get", cdfs_json(r.origin_get_cdfs)},
                                     {"hold_wait", cdfs_json(r.hold_wait_cdfs)},
                                     {"viewer_wait", cdfs_json(r.viewer_wait_cdfs)},
                                     {"put_by_pipeline", cdfs_json(r.put_cdfs)}};

  json::array lat;
  for (const auto& l : r.latencies) {
    lat.push_back(json::object{{"name", l.name},       {"class", l.request_class}, {"tier", l.tier},
                               {"count", l.count},     {"mean_ms", jnum(l.mean_ms)}, {"min_ms", jnum(l.min_ms)},
                               {"max_ms", jnum(l.max_ms)}, {"p50_ms", jnum(l.p50_ms)}, {"p90_ms", jnum(l.p90_ms)},
                               {"p95_ms", jnum(l.p95_ms)}, {"p99_ms", jnum(l.p99_ms)}, {"p999_ms", jnum(l.p999_ms)}});
  }
  doc["latencies"] = std::move(lat);

  json::array tiers;
  for (const auto& t : r.tiers) {
    tiers.push_back(json::object{{"tier", t.tier},
                                 {"class", t.request_class},
                                 {"requests", t.requests},
                                 {"bytes", t.bytes},
                                 {"cache_hits", t.cache_hits},
                                 {"collapsed", t.collapsed},
                                 {"filtered", t.filtered},
                                 {"held", t.held},
                                 {"shed", t.shed},
                                 {"status_2xx", t.status_2xx},
                                 {"status_3xx", t.status_3xx},
                                 {"status_4xx", t.status_4xx},
                                 {"status_5xx", t.status_5xx},
                                 {"transport_errors", t.transport_errors},
                                 {"cache_hit_ratio", t.cache_hit_ratio},
                                 {"shed_ratio", t.shed_ratio},
                                 {"error_ratio", t.error_ratio},
                                 {"mean_requests_per_s", t.mean_rps},
                                 {"peak_requests_per_s", t.peak_rps}});
  }
  doc["tiers"] = std::move(tiers);

  json::array puts;
  for (const auto& p : r.puts) {
    json::object st;
    for (const auto& [code, count] : p.statuses) st[std::to_string(code)] = count;
    puts.push_back(json::object{{"pipeline", p.pipeline},
                                {"attempts", p.attempts},
                                {"acknowledged", p.acknowledged},
                                {"failed", p.failed},
                                {"retries", p.retries},
                                {"transport_corrupted", p.transport_corrupted},
                                {"defective_acknowledged", p.defective},
                                {"statuses", std::move(st)},
                                {"p50_ms", jnum(p.p50_ms)},
                                {"p99_ms", jnum(p.p99_ms)},
                                {"max_ms", jnum(p.max_ms)}});
  }
  doc["puts"] = std::move(puts);

  json::array faults;
  for (const auto& f : r.faults) {
    faults.push_back(json::object{{"target", f.target},
                                  {"kind", f.kind},
                                  {"start_ms", f.start_ms},
                                  {"end_ms", f.end_ms},
                                  {"start_s", static_cast<double>(f.start_ms - run.started_ms) / 1000.0},
                                  {"end_s", static_cast<double>(f.end_ms - run.started_ms) / 1000.0}});
  }
  doc["faults"] = std::move(faults);
  json::array actions;
  for (const auto& a : r.actions) {
    actions.push_back(json::object{{"at_ms", a.at_ms},
                                   {"at_s", static_cast<double>(a.at_ms - run.started_ms) / 1000.0},
                                   {"kind", a.kind},
                                   {"detail", a.detail},
                                   {"status", a.status}});
  }
  doc["actions"] = std::move(actions);
  return doc;
}

std::string pretty_json(const json::value& v) {
  std::string out;
  std::function<void(const json::value&, int)> write = [&](const json::value& x, int depth) {
    const std::string pad(static_cast<size_t>(depth) * 2, ' ');
    const std::string inner(static_cast<size_t>(depth + 1) * 2, ' ');
    if (x.is_object()) {
      const auto& o = x.as_object();
      if (o.empty()) {
        out += "{}";
        return;
      }
      out += "{\n";
      bool first = true;
      for (const auto& [k, val] : o) {
        if (!first) out += ",\n";
        first = false;
        out += inner + json::serialize(json::value(k)) + ": ";
        write(val, depth + 1);
      }
      out += "\n" + pad + "}";
    } else if (x.is_array()) {
      const auto& a = x.as_array();
      // Arrays of scalars (series values, CDF points) stay on one line.
      const bool flat = std::all_of(a.begin(), a.end(), [](const json::value& e) {
        return !e.is_object() && !(e.is_array() && std::any_of(e.as_array().begin(), e.as_array().end(),
                                                                [](const json::value& y) { return y.is_structured(); }));
      });
      if (a.empty() || flat) {
        out += json::serialize(x);
        return;
      }
      out += "[\n";
      for (size_t i = 0; i < a.size(); ++i) {
        if (i) out += ",\n";
        out += inner;
        write(a[i], depth + 1);
      }
      out += "\n" + pad + "]";
    } else {
      out += json::serialize(x);
    }
  };
  write(v, 0);
  out += "\n";
  return out;
}

std::string render_json(const Report& r) { return pretty_json(report_json(r)); }

// ---------------------------------------------------------------------------------------
// Markdown.

namespace {

std::string md_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::string pct(double ratio) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f %%", ratio * 100);
  return buf;
}

std::string figure_text(const Report& r, const std::string& key) {
  const Figure* f = r.figure(key);
  if (!f) return "-";
  if (f->unit == "ratio" && f->value) return pct(*f->value);
  return format_metric(f->value, f->unit);
}

std::string served_text(const Report& r) {
  std::string s;
  for (const auto& [p, n] : r.served_by_pipeline()) {
    s += (s.empty() ? "" : ", ") + (p.empty() ? std::string("none") : p) + " " + std::to_string(n);
  }
  return s.empty() ? "none" : s;
}

std::string seconds(int64_t ms_from_start) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(ms_from_start) / 1000.0);
  return buf;
}

}  // namespace

std::string render_markdown(const Report& r) {
  const RunRecord& run = r.run;
  std::ostringstream m;
  const size_t failed = static_cast<size_t>(std::count_if(r.gates.begin(), r.gates.end(), [](const auto& g) { return !g.passed; }));
  m << "## liveorigin: " << md_escape(run.scenario_name) << " (run " << run.id << ") — ";
  if (r.gates.empty()) {
    m << "no gates\n\n";
  } else if (failed == 0) {
    m << "✅ all " << r.gates.size() << " gates passed\n\n";
  } else {
    m << "❌ " << failed << " of " << r.gates.size() << " gates failed\n\n";
  }
  m << "seed " << run.seed << " · liveorigin " << md_escape(run.version) << " · " << run.mode << " time · origin "
    << run.origin_mode << (run.origin_url.empty() ? "" : " " + md_escape(run.origin_url)) << " · "
    << format_iso8601_ms(run.started_ms) << " · " << format_number(run.duration_s()) << " s · " << md_escape(run.status)
    << "\n\n";
  if (!run.origin_model.empty()) m << "origin model: " << md_escape(run.origin_model) << "\n\n";
  if (!run.overrides.empty()) {
    m << "overrides:";
    for (const auto& o : run.overrides) m << " `--set " << o << "`";
    m << "\n\n";
  }
  if (!run.description.empty()) {
    // The story's first paragraph (its title); the rest is in report.html.
    std::istringstream d(run.description);
    std::string line, first;
    while (std::getline(d, line)) {
      if (line.find_first_not_of(" \t") == std::string::npos) {
        if (!first.empty()) break;
        continue;
      }
      first += (first.empty() ? "" : " ") + line;
    }
    if (!first.empty()) m << "> " << md_escape(first) << "\n\n";
  }
  if (!r.gates.empty()) {
    m << "| | gate | value | threshold |\n|---|---|---|---|\n";
    for (const auto& g : r.gates) {
      m << "| " << (g.passed ? "✅" : "❌") << " | " << md_escape(g.name) << " | " << format_metric(g.value, g.unit)
        << " | " << md_escape(g.op) << " " << format_metric(g.threshold, g.unit) << " |\n";
    }
    m << "\n";
  }
  if (!r.gates_note.empty()) m << "_" << md_escape(r.gates_note) << "_\n\n";

  m << "| figure | value |\n|---|---|\n";
  m << "| segments first served by (counted, due during the run) | " << served_text(r) << " |\n";
  m << "| defective served while a clean copy was acknowledged | " << figure_text(r, "defective_served_with_clean_available") << " |\n";
  m << "| segments viewers missed / longest gap | " << figure_text(r, "viewer_missing_segments") << " / "
    << figure_text(r, "failover_gap_segments") << " |\n";
  m << "| viewer requests not ending 200 | " << figure_text(r, "viewer_error_ratio") << " |\n";
  m << "| viewer wait p50 / p99 | " << figure_text(r, "viewer_wait_ms{p=50}") << " / " << figure_text(r, "viewer_wait_ms{p=99}") << " |\n";
  m << "| origin requests/s (media) | " << figure_text(r, "origin_requests_per_s") << " |\n";
  m << "| origin 5xx or no answer / shed | " << figure_text(r, "origin_status_5xx") << " / " << figure_text(r, "shed_ratio") << " |\n";
  m << "| origin GET p50 / p99 | " << figure_text(r, "origin_get_latency_ms{p=50}") << " / "
    << figure_text(r, "origin_get_latency_ms{p=99}") << " |\n";
  m << "| CDN hit ratio (every tier)";
  for (const auto& t : r.cdn_tiers) m << " / " << md_escape(t);
  m << " | " << figure_text(r, "cache_hit_ratio");
  for (const auto& t : r.cdn_tiers) m << " / " << figure_text(r, "cache_hit_ratio{tier=" + t + "}");
  m << " |\n";
  m << "| PUT latency p50 / p99 | " << figure_text(r, "put_latency_ms{p=50}") << " / " << figure_text(r, "put_latency_ms{p=99}") << " |\n\n";

  if (!r.instances.empty()) {
    m << "| origin instance | answered | share | 5xx | not answered | longest without traffic |\n|---|---|---|---|---|---|\n";
    for (const auto& i : r.instances) {
      m << "| " << i.instance << " | " << i.requests << " | " << pct(i.share) << " | " << i.errors << " | " << i.no_answer
        << " | "
        << (i.longest_silence_s > 0 ? format_number(i.longest_silence_s) + " s from " + format_number(i.silent_from_s) + " s"
                                    : std::string("-"))
        << " |\n";
    }
    m << "\n";
  }
  if (!r.faults.empty()) {
    m << "Faults: ";
    for (size_t i = 0; i < r.faults.size(); ++i) {
      const auto& f = r.faults[i];
      m << (i ? "; " : "") << md_escape(f.target) << " " << md_escape(f.kind) << " " << seconds(f.start_ms - run.started_ms)
        << "–" << seconds(f.end_ms - run.started_ms);
    }
    m << "\n\n";
  }

  // Segments that need a look: defective served while clean was available, missed by
  // viewers, or changed after the first serve.
  std::vector<const SegmentRow*> notable;
  for (const auto& s : r.segments) {
    if (s.counted && (s.defective_with_clean || s.viewers_missing > 0 || s.changes > 0)) notable.push_back(&s);
  }
  if (!notable.empty()) {
    m << "<details><summary>" << notable.size() << " segments to look at</summary>\n\n";
    m << "| stream | number | due | candidates | served first | served last | viewers clean / defective / missed | faults |\n";
    m << "|---|---|---|---|---|---|---|---|\n";
    for (size_t i = 0; i < notable.size() && i < 30; ++i) {
      const SegmentRow& s = *notable[i];
      auto copy = [](const std::string& p, const std::string& d) {
        return p.empty() ? std::string("-") : p + (d.empty() ? "" : " [" + d + "]");
      };
      m << "| " << md_escape(s.stream) << " | " << s.number << " | "
        << (s.due_ms ? seconds(*s.due_ms - run.started_ms) : "-") << " | " << md_escape(s.candidates) << " | "
        << md_escape(copy(s.chosen_pipeline, s.chosen_defects)) << (s.defective_with_clean ? " ⚠️" : "") << " | "
        << md_escape(copy(s.final_pipeline, s.final_defects)) << " | " << s.viewers_clean << " / " << s.viewers_defective
        << " / " << s.viewers_missing << " | " << md_escape(s.faults) << " |\n";
    }
    if (notable.size() > 30) m << "\n(" << notable.size() - 30 << " more in report.json)\n";
    m << "\n</details>\n\n";
  }
  m << "Charts: `report.html` (self-contained). Every figure with its unit: `report.json`. Results: `"
    << md_escape(run.db_path) << "`, run " << run.id << ".\n";
  return m.str();
}

// ---------------------------------------------------------------------------------------
// JUnit.

namespace {

std::string xml(std::string_view s) { return markup_escape(s); }

std::string suite_name(const Report& r, const char* what) {
  std::string s = "liveorigin." + std::string(what) + "." + r.run.scenario_name;
  return s;
}

}  // namespace

std::string render_junit(const Report& r, const std::vector<BaselineCheck>* baseline) {
  const RunRecord& run = r.run;
  const size_t gate_failures =
      static_cast<size_t>(std::count_if(r.gates.begin(), r.gates.end(), [](const auto& g) { return !g.passed; }));
  size_t base_tests = 0, base_failures = 0, base_skipped = 0;
  if (baseline) {
    base_tests = baseline->size();
    for (const auto& c : *baseline) {
      if (c.failed()) ++base_failures;
      if (c.verdict == BaselineCheck::Verdict::skipped) ++base_skipped;
    }
  }
  const std::string timestamp = format_iso8601_ms(run.started_ms).substr(0, 19);
  std::ostringstream x;
  x << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x << "<testsuites name=\"liveorigin\" tests=\"" << r.gates.size() + base_tests << "\" failures=\""
    << gate_failures + base_failures << "\" errors=\"0\" time=\"" << format_number(run.duration_s()) << "\">\n";
  auto properties = [&] {
    x << "    <properties>\n";
    auto prop = [&](const char* k, const std::string& v) {
      x << "      <property name=\"" << k << "\" value=\"" << xml(v) << "\"/>\n";
    };
    prop("run_id", std::to_string(run.id));
    prop("db", run.db_path);
    prop("scenario", run.scenario_name);
    prop("scenario_sha256", run.scenario_hash);
    prop("seed", std::to_string(run.seed));
    prop("version", run.version);
    prop("mode", run.mode);
    prop("origin_mode", run.origin_mode);
    prop("status", run.status);
    x << "    </properties>\n";
  };
  const std::string gates_suite = suite_name(r, "gates");
  x << "  <testsuite name=\"" << xml(gates_suite) << "\" tests=\"" << r.gates.size() << "\" failures=\"" << gate_failures
    << "\" errors=\"0\" skipped=\"0\" time=\"" << format_number(run.duration_s()) << "\" timestamp=\"" << timestamp
    << "\">\n";
  properties();
  for (const auto& g : r.gates) {
    x << "    <testcase classname=\"" << xml(gates_suite) << "\" name=\"" << xml(g.name) << "\" time=\"0\"";
    if (g.passed) {
      x << ">\n      <system-out>" << xml(g.message) << "</system-out>\n    </testcase>\n";
    } else {
      x << ">\n      <failure type=\"" << (g.value ? "gate" : "no-data") << "\" message=\"" << xml(g.message) << "\">"
        << xml(g.message) << "\n(run " << run.id << " of " << xml(run.scenario_name) << ", seed " << run.seed << ", "
        << xml(run.db_path) << ")</failure>\n    </testcase>\n";
    }
  }
  if (!r.gates_note.empty()) x << "    <system-err>" << xml(r.gates_note) << "</system-err>\n";
  x << "  </testsuite>\n";
  if (baseline) {
    const std::string base_suite = suite_name(r, "baseline");
    x << "  <testsuite name=\"" << xml(base_suite) << "\" tests=\"" << base_tests << "\" failures=\"" << base_failures
      << "\" errors=\"0\" skipped=\"" << base_skipped << "\" time=\"0\" timestamp=\"" << timestamp << "\">\n";
    properties();
    for (const auto& c : *baseline) {
      x << "    <testcase classname=\"" << xml(base_suite) << "\" name=\"" << xml(c.key.str()) << "\" time=\"0\">\n";
      if (c.failed()) {
        x << "      <failure type=\"" << (c.verdict == BaselineCheck::Verdict::no_data ? "no-data" : "regression")
          << "\" message=\"" << xml(c.message) << "\">" << xml(c.message) << "</failure>\n";
      } else if (c.verdict == BaselineCheck::Verdict::skipped) {
        x << "      <skipped message=\"" << xml(c.message) << "\"/>\n";
      } else {
        x << "      <system-out>" << xml(c.message) << "</system-out>\n";
      }
      x << "    </testcase>\n";
    }
    x << "  </testsuite>\n";
  }
  x << "</testsuites>\n";
  return x.str();
}

// ---------------------------------------------------------------------------------------
// Files.

Result<std::string> write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return make_error("cannot write " + path.string());
  out << text;
  out.close();
  if (!out) return make_error("cannot write " + path.string());
  return path.string();
}

Result<fs::path> make_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return make_error("cannot create " + dir + ": " + ec.message());
  return fs::path(dir);
}

std::string default_report_dir(const Report& r) {
  std::string name;
  for (char c : r.run.scenario_name) name += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
  return (fs::path("out") / (name + "-run" + std::to_string(r.run.id))).string();
}

Result<WrittenReports> write_reports(const Report& r, const std::string& dir) {
  auto d = make_dir(dir);
  if (!d) return d.error();
  WrittenReports w;
  w.dir = dir;
  auto html = write_file(*d / "report.html", render_html(r));
  if (!html) return html.error();
  w.html = *html;
  auto md = write_file(*d / "report.md", render_markdown(r));
  if (!md) return md.error();
  w.markdown = *md;
  auto js = write_file(*d / "report.json", render_json(r));
  if (!js) return js.error();
  w.json = *js;
  auto ju = write_file(*d / "junit.xml", render_junit(r));
  if (!ju) return ju.error();
  w.junit = *ju;
  return w;
}

// ---------------------------------------------------------------------------------------
// Comparison: text formats.

namespace {

}  // namespace

std::string compare_verdict(double a, double b, bool higher_is_better) {
  const double worse = higher_is_better ? a - b : b - a;
  // Within 1 % of A (and a hair's breadth for zero): the same.
  const double band = 0.01 * std::fabs(a) + 1e-9 * std::max(1.0, std::fabs(a));
  return worse > band ? "worse" : worse < -band ? "better" : "same";
}

namespace {

struct Difference {
  std::string key;
  std::string unit;
  bool higher_is_better = false;
  std::optional<double> a, b;
  std::optional<double> change_pct;
  std::string verdict;  // better | worse | same | no data
};

std::vector<Difference> differences(const Report& a, const Report& b) {
  std::vector<Difference> out;
  std::vector<std::string> keys;
  for (const auto& f : a.figures) keys.push_back(f.key.str());
  for (const auto& f : b.figures) {
    if (std::find(keys.begin(), keys.end(), f.key.str()) == keys.end()) keys.push_back(f.key.str());
  }
  for (const auto& k : keys) {
    const Figure* fa = a.figure(k);
    const Figure* fb = b.figure(k);
    Difference d;
    d.key = k;
    d.unit = fa ? fa->unit : fb->unit;
    d.higher_is_better = fa ? fa->higher_is_better : fb->higher_is_better;
    if (fa) d.a = fa->value;
    if (fb) d.b = fb->value;
    if (!d.a || !d.b) {
      d.verdict = "no data";
    } else {
      if (*d.a != 0) d.change_pct = (*d.b - *d.a) / std::fabs(*d.a) * 100;
      d.verdict = compare_verdict(*d.a, *d.b, d.higher_is_better);
    }
    out.push_back(std::move(d));
  }
  return out;
}

std::string change_text(const Difference& d) {
  if (!d.a || !d.b) return "";
  if (d.change_pct) return (*d.change_pct >= 0 ? "+" : "") + format_number(*d.change_pct) + " %";
  return *d.a == *d.b ? "+0 %" : "from 0";
}

std::string run_label(const Report& r) {
  return "run " + std::to_string(r.run.id) + " (" + r.run.scenario_name + ", " + r.run.mode + " time, origin " +
         r.run.origin_mode + (r.run.origin_url.empty() ? "" : " " + r.run.origin_url) + ")";
}

}  // namespace

std::string render_compare_json(const Report& a, const Report& b) {
  json::array diffs;
  for (const auto& d : differences(a, b)) {
    diffs.push_back(json::object{{"key", d.key},
                                 {"unit", d.unit},
                                 {"better", d.higher_is_better ? "higher" : "lower"},
                                 {"a", jnum(d.a)},
                                 {"b", jnum(d.b)},
                                 {"change_pct", jnum(d.change_pct)},
                                 {"verdict", d.verdict}});
  }
  json::object doc{{"format", "liveorigin-comparison"},
                   {"format_version", 1},
                   {"a_run", a.run.id},
                   {"b_run", b.run.id},
                   {"differences", std::move(diffs)},
                   {"a", report_json(a)},
                   {"b", report_json(b)}};
  return pretty_json(doc);
}

std::string render_compare_markdown(const Report& a, const Report& b) {
  std::ostringstream m;
  m << "## liveorigin: A = " << md_escape(run_label(a)) << " vs B = " << md_escape(run_label(b)) << "\n\n";
  auto verdict = [](const Report& r) {
    if (r.gates.empty()) return std::string("no gates");
    const auto failed = std::count_if(r.gates.begin(), r.gates.end(), [](const auto& g) { return !g.passed; });
    return failed == 0 ? "✅ all " + std::to_string(r.gates.size()) + " gates passed"
                       : "❌ " + std::to_string(failed) + " of " + std::to_string(r.gates.size()) + " gates failed";
  };
  m << "A: " << verdict(a) << " · B: " << verdict(b) << "\n\n";
  m << "| figure | A | B | change | |\n|---|---|---|---|---|\n";
  for (const auto& d : differences(a, b)) {
    const std::string mark = d.verdict == "better" ? "🟢 better" : d.verdict == "worse" ? "🔴 worse" : d.verdict;
    m << "| `" << md_escape(d.key) << "` | " << format_metric(d.a, d.unit) << " | " << format_metric(d.b, d.unit) << " | "
      << change_text(d) << " | " << mark << " |\n";
  }
  m << "\nSegments first served by: A " << served_text(a) << "; B " << served_text(b) << ".\n";
  return m.str();
}

Result<WrittenReports> write_comparison(const Report& a, const Report& b, const std::string& dir) {
  auto d = make_dir(dir);
  if (!d) return d.error();
  WrittenReports w;
  w.dir = dir;
  auto html = write_file(*d / "report.html", render_compare_html(a, b));
  if (!html) return html.error();
  w.html = *html;
  auto md = write_file(*d / "report.md", render_compare_markdown(a, b));
  if (!md) return md.error();
  w.markdown = *md;
  auto js = write_file(*d / "report.json", render_compare_json(a, b));
  if (!js) return js.error();
  w.json = *js;
  return w;
}

}  // namespace liveorigin::reports
