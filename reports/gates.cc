#include "reports/gates.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <boost/json.hpp>

namespace liveorigin::reports {

namespace {

using MK = results::GateMetric::Kind;
using MT = results::GateMetric::Tiers;

std::string percentile_text(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", p);
  return buf;
}

// The histogram a latency metric reads.
const char* histogram_of(std::string_view metric) {
  if (metric == "origin_get_latency_ms") return "origin_get";
  if (metric == "viewer_wait_ms") return "viewer_wait";
  if (metric == "hold_wait_ms") return "hold_wait";
  if (metric == "put_latency_ms") return "put";
  return nullptr;
}

}  // namespace

std::string MetricKey::str() const {
  std::string sel;
  auto add = [&](const std::string& k, const std::string& v) {
    sel += (sel.empty() ? "" : ",") + k + "=" + v;
  };
  if (percentile) add("p", percentile_text(*percentile));
  if (!request_class.empty()) add("class", request_class);
  if (!tier.empty()) add("tier", tier);
  return sel.empty() ? metric : metric + "{" + sel + "}";
}

MetricKey MetricKey::of(const results::Gate& gate) {
  return MetricKey{gate.metric, gate.percentile, gate.request_class, gate.tier};
}

Result<MetricKey> parse_metric_key(std::string_view text) {
  MetricKey key;
  const size_t brace = text.find('{');
  key.metric = std::string(text.substr(0, brace));
  const results::GateMetric* m = results::find_gate_metric(key.metric);
  if (!m) {
    std::string names;
    for (const auto& g : results::gate_metrics()) names += (names.empty() ? "" : ", ") + std::string(g.name);
    return make_error("'" + std::string(text) + "': unknown metric '" + key.metric + "' (expected one of " + names + ")");
  }
  if (brace != std::string_view::npos) {
    if (text.back() != '}') return make_error("'" + std::string(text) + "': expected metric{key=value,...}");
    std::string_view sel = text.substr(brace + 1, text.size() - brace - 2);
    while (!sel.empty()) {
      const size_t comma = sel.find(',');
      const std::string_view part = sel.substr(0, comma);
      sel = comma == std::string_view::npos ? std::string_view{} : sel.substr(comma + 1);
      const size_t eq = part.find('=');
      if (eq == std::string_view::npos || eq == 0 || eq + 1 == part.size()) {
        return make_error("'" + std::string(text) + "': expected key=value, got '" + std::string(part) + "'");
      }
      const std::string k(part.substr(0, eq));
      const std::string v(part.substr(eq + 1));
      if (k == "p") {
        try {
          size_t used = 0;
          const double p = std::stod(v, &used);
          if (used != v.size() || !(p > 0 && p <= 100)) throw std::invalid_argument(v);
          key.percentile = p;
        } catch (const std::exception&) {
          return make_error("'" + std::string(text) + "': p: expected a percentile in (0, 100], got '" + v + "'");
        }
      } else if (k == "class") {
        if (v != "live" && v != "dvr" && v != "background") {
          return make_error("'" + std::string(text) + "': class: expected one of live, dvr, background, got '" + v + "'");
        }
        key.request_class = v;
      } else if (k == "tier") {
        key.tier = v;
      } else {
        return make_error("'" + std::string(text) + "': unknown selector '" + k + "' (expected p, class, tier)");
      }
    }
  }
  if (m->kind == MK::latency_ms && !key.percentile) {
    return make_error("'" + std::string(text) + "': a latency metric names its percentile, e.g. " + key.metric + "{p=99}");
  }
  if (m->kind != MK::latency_ms && key.percentile) {
    return make_error("'" + std::string(text) + "': p is only for latency metrics");
  }
  if (!m->takes_class && !key.request_class.empty()) {
    return make_error("'" + std::string(text) + "': " + key.metric + " has no request class");
  }
  if (m->tiers == MT::none && !key.tier.empty()) {
    return make_error("'" + std::string(text) + "': " + key.metric + " is not per tier");
  }
  if (m->tiers == MT::cdn && (key.tier == "origin" || key.tier == "viewer")) {
    return make_error("'" + std::string(text) + "': " + key.metric + " is measured at CDN tiers");
  }
  return key;
}

std::string metric_unit(std::string_view metric) {
  const results::GateMetric* m = results::find_gate_metric(metric);
  if (!m) return "";
  switch (m->kind) {
    case MK::latency_ms: return "ms";
    case MK::ratio: return "ratio";
    case MK::rate: return "requests/s";
    case MK::count: return metric == "origin_status_5xx" ? "requests" : "segments";
  }
  return "";
}

bool higher_is_better(std::string_view metric) { return metric == "cache_hit_ratio"; }

std::string format_number(double v) {
  if (!std::isfinite(v)) return v > 0 ? "inf" : v < 0 ? "-inf" : "nan";
  char buf[64];
  const double a = std::fabs(v);
  if (v == std::floor(v) && a < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else if (a >= 100) {
    std::snprintf(buf, sizeof buf, "%.1f", v);
  } else if (a >= 1) {
    std::snprintf(buf, sizeof buf, "%.2f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.4g", v);
  }
  return buf;
}

std::string format_metric(std::optional<double> value, std::string_view unit) {
  if (!value) return "no data";
  std::string s = format_number(*value);
  if (unit == "ratio" || unit.empty()) return s;
  return s + " " + std::string(unit);
}

std::optional<double> histogram_percentile(const ResultsDb& db, int64_t run, const std::string& name,
                                           const std::string& request_class, const std::string& tier, double p) {
  return db.number(
      "SELECT lower_ms + (upper_ms - lower_ms) * (total * ?4 / 100.0 - (cumulative - count)) / count "
      "FROM latency_cdf WHERE run_id = ?1 AND name = ?2 AND class = ?3 AND tier = ?5 "
      "AND count > 0 AND cumulative >= total * ?4 / 100.0 ORDER BY bucket LIMIT 1",
      {run, name, request_class, p, tier});
}

std::optional<double> metric_value(const ResultsDb& db, int64_t run, const MetricKey& key) {
  const std::string& m = key.metric;
  const std::string cls = key.request_class.empty() ? "*" : key.request_class;
  const std::string tier = key.tier.empty() ? "*" : key.tier;

  if (const char* histogram = histogram_of(m)) {
    const std::string c = (m == "put_latency_ms") ? "*" : cls;
    const std::string t = (m == "hold_wait_ms") ? tier : "*";
    return histogram_percentile(db, run, histogram, c, t, key.percentile.value_or(99));
  }
  auto or_zero = [](std::optional<double> v) { return std::optional<double>(v.value_or(0)); };
  auto run_metric = [&](const std::string& column) {
    return or_zero(db.number("SELECT " + column + " FROM run_metrics WHERE run_id = ?1", {run}));
  };
  auto origin_total = [&](const std::string& column) {
    return or_zero(db.number("SELECT " + column + " FROM tier_totals WHERE run_id = ?1 AND tier = 'origin' AND class = ?2",
                             {run, cls}));
  };
  if (m == "defective_served_with_clean_available" || m == "viewer_missing_segments" || m == "failover_gap_segments") {
    return run_metric(m);
  }
  if (m == "viewer_error_ratio") {
    return or_zero(db.number("SELECT error_ratio FROM viewer_totals WHERE run_id = ?1 AND class = ?2", {run, cls}));
  }
  if (m == "origin_requests_per_s") return origin_total("mean_rps");
  if (m == "shed_ratio") return origin_total("shed_ratio");
  if (m == "origin_status_5xx") {
    if (key.request_class.empty()) return run_metric("origin_status_5xx");
    return origin_total("status_5xx + transport_errors");
  }
  if (m == "cache_hit_ratio") {
    if (!key.tier.empty()) {
      return or_zero(db.number("SELECT cache_hit_ratio FROM tier_totals WHERE run_id = ?1 AND tier = ?2 AND class = ?3",
                               {run, key.tier, cls}));
    }
    if (key.request_class.empty()) return run_metric("cache_hit_ratio");
    // Every CDN tier together, one class.
    return or_zero(db.number(
        "SELECT COALESCE(CAST(SUM(cache_hits + collapsed) AS REAL) / NULLIF(SUM(requests) - SUM(filtered), 0), 0) "
        "FROM intervals WHERE run_id = ?1 AND tier NOT IN ('origin', 'viewer') AND class = ?2",
        {run, cls}));
  }
  throw std::runtime_error("unknown gate metric '" + m + "'");
}

bool compare(double value, std::string_view op, double threshold) {
  if (op == "<") return value < threshold;
  if (op == "<=") return value <= threshold;
  if (op == ">") return value > threshold;
  if (op == ">=") return value >= threshold;
  if (op == "==") return value == threshold;
  if (op == "!=") return value != threshold;
  return false;
}

Result<std::vector<GateResult>> evaluate_gates(const ResultsDb& db, int64_t run, const std::vector<results::Gate>& gates) {
  std::vector<GateResult> out;
  try {
    for (const auto& g : gates) {
      GateResult r;
      r.name = g.name;
      r.key = MetricKey::of(g);
      r.op = g.op;
      r.threshold = g.value;
      r.unit = metric_unit(g.metric);
      r.value = metric_value(db, run, r.key);
      r.passed = r.value && compare(*r.value, g.op, g.value);
      const std::string expected = "expected " + g.op + " " + format_metric(g.value, r.unit);
      if (r.value) {
        r.message = r.key.str() + " = " + format_metric(r.value, r.unit) + ", " + expected;
      } else {
        r.message = r.key.str() + ": no data (no samples were recorded), " + expected;
      }
      out.push_back(std::move(r));
    }
  } catch (const std::exception& e) {
    return make_error(db.path() + ": " + e.what());
  }
  return out;
}

bool all_passed(const std::vector<GateResult>& gates) {
  return std::all_of(gates.begin(), gates.end(), [](const GateResult& g) { return g.passed; });
}

// ---------------------------------------------------------------------------------------
// Baselines.

Result<Baseline> parse_baseline(std::string_view text, const std::string& source) {
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(text, ec);
  if (ec) return make_error(source + ": not JSON: " + ec.message());
  if (!doc.is_object()) return make_error(source + ": expected a JSON object of metrics");
  const boost::json::object* map = &doc.as_object();
  if (const auto* metrics = map->if_contains("metrics")) {
    if (!metrics->is_object()) return make_error(source + ": \"metrics\" is not an object");
    map = &metrics->as_object();
  }
  Baseline b;
  b.source = source;
  for (const auto& [k, v] : *map) {
    if (k == "format" || k == "format_version") continue;  // a dedicated map may carry its format
    auto key = parse_metric_key(std::string_view(k.data(), k.size()));
    if (!key) return make_error(source + ": " + key.error().message);
    Baseline::Entry e;
    e.key = *key;
    auto number = [&](const boost::json::value& x, const char* what) -> Result<std::optional<double>> {
      if (x.is_null()) return std::optional<double>{};
      if (x.is_number()) return std::optional<double>(x.to_number<double>());
      return make_error(source + ": " + std::string(k) + ": " + what + ": expected a number or null");
    };
    if (v.is_object()) {
      const auto& o = v.as_object();
      const auto* value = o.if_contains("value");
      if (!value) return make_error(source + ": " + std::string(k) + ": expected {\"value\": number, ...}");
      auto n = number(*value, "value");
      if (!n) return n.error();
      e.value = *n;
      if (const auto* t = o.if_contains("tolerance_pct")) {
        auto tol = number(*t, "tolerance_pct");
        if (!tol) return tol.error();
        if (*tol && **tol < 0) return make_error(source + ": " + std::string(k) + ": tolerance_pct: expected >= 0");
        e.tolerance_pct = *tol;
      }
    } else {
      auto n = number(v, "value");
      if (!n) return n.error();
      e.value = *n;
    }
    b.entries.push_back(std::move(e));
  }
  if (b.entries.empty()) return make_error(source + ": no metrics to compare");
  return b;
}

Result<Baseline> load_baseline(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error(path + ": cannot read the baseline");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_baseline(ss.str(), path);
}

const char* verdict_name(BaselineCheck::Verdict v) {
  switch (v) {
    case BaselineCheck::Verdict::same: return "same";
    case BaselineCheck::Verdict::improved: return "improved";
    case BaselineCheck::Verdict::regressed: return "regressed";
    case BaselineCheck::Verdict::no_data: return "no data";
    case BaselineCheck::Verdict::skipped: return "skipped";
  }
  return "";
}

Result<std::vector<BaselineCheck>> compare_to_baseline(const ResultsDb& db, int64_t run, const Baseline& baseline,
                                                       double tolerance_pct) {
  std::vector<BaselineCheck> out;
  try {
    for (const auto& e : baseline.entries) {
      BaselineCheck c;
      c.key = e.key;
      c.unit = metric_unit(e.key.metric);
      c.higher_is_better = higher_is_better(e.key.metric);
      c.baseline = e.value;
      c.tolerance_pct = e.tolerance_pct.value_or(tolerance_pct);
      c.current = metric_value(db, run, e.key);
      const std::string name = e.key.str();
      if (!c.baseline) {
        c.verdict = BaselineCheck::Verdict::skipped;
        c.message = name + ": the baseline has no data; not compared";
      } else if (!c.current) {
        c.verdict = BaselineCheck::Verdict::no_data;
        c.message = name + ": no data in this run (baseline " + format_metric(c.baseline, c.unit) + ")";
      } else {
        const double b = *c.baseline;
        const double v = *c.current;
        if (b != 0) c.change_pct = (v - b) / std::fabs(b) * 100.0;
        const double slack = std::fabs(b) * c.tolerance_pct / 100.0 + 1e-9 * std::max(1.0, std::fabs(b));
        // Positive: worse than the baseline by this much.
        const double worse = c.higher_is_better ? b - v : v - b;
        if (worse > slack) {
          c.verdict = BaselineCheck::Verdict::regressed;
        } else if (-worse > slack) {
          c.verdict = BaselineCheck::Verdict::improved;
        } else {
          c.verdict = BaselineCheck::Verdict::same;
        }
        std::string change = c.change_pct ? (c.change_pct >= 0 ? "+" : "") + format_number(*c.change_pct) + " %"
                                          : (v == b ? "+0 %" : "from 0");
        c.message = name + " = " + format_metric(c.current, c.unit) + ", baseline " + format_metric(c.baseline, c.unit) +
                    " (" + change + ", " + (c.higher_is_better ? "higher" : "lower") + " is better, tolerance " +
                    format_number(c.tolerance_pct) + " %): " + verdict_name(c.verdict);
      }
      out.push_back(std::move(c));
    }
  } catch (const std::exception& e) {
    return make_error(db.path() + ": " + e.what());
  }
  return out;
}

bool any_failed(const std::vector<BaselineCheck>& checks) {
  return std::any_of(checks.begin(), checks.end(), [](const BaselineCheck& c) { return c.failed(); });
}

}  // namespace liveorigin::reports
