#include "results/gate_spec.h"

#include <algorithm>
#include <set>

namespace liveorigin::results {

namespace {

using yaml::describe;
using yaml::enum_value;
using yaml::indexed;
using yaml::join;
using yaml::only_if;

using MK = GateMetric::Kind;
using MT = GateMetric::Tiers;
constexpr GateMetric kGateMetrics[] = {
    {"defective_served_with_clean_available", MK::count, false, MT::none},
    {"viewer_missing_segments", MK::count, false, MT::none},
    {"viewer_error_ratio", MK::ratio, true, MT::none},
    {"origin_requests_per_s", MK::rate, true, MT::none},
    {"origin_get_latency_ms", MK::latency_ms, true, MT::none},
    {"viewer_wait_ms", MK::latency_ms, true, MT::none},
    {"hold_wait_ms", MK::latency_ms, true, MT::cdn_or_origin},
    {"put_latency_ms", MK::latency_ms, false, MT::none},
    {"cache_hit_ratio", MK::ratio, true, MT::cdn},
    {"origin_status_5xx", MK::count, true, MT::none},
    {"failover_gap_segments", MK::count, false, MT::none},
    {"shed_ratio", MK::ratio, true, MT::none},
};

}  // namespace

std::span<const GateMetric> gate_metrics() { return kGateMetrics; }

const GateMetric* find_gate_metric(std::string_view name) {
  for (const auto& m : kGateMetrics) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

std::vector<Gate> parse_gates(const YAML::Node& node, const yaml::Location& where,
                              const std::vector<std::string>& tier_names) {
  std::vector<Gate> out;
  if (node.IsNull()) return out;
  if (!node.IsSequence()) yaml::fail(node, where, "expected a list of gates, got " + describe(node));
  std::vector<std::string> metric_names;
  for (const auto& m : kGateMetrics) metric_names.emplace_back(m.name);
  for (size_t i = 0; i < node.size(); ++i) {
    yaml::MapReader r(node[i], indexed(where, i));
    Gate g;
    const YAML::Node metric = r.node("metric");
    if (metric.IsNull()) yaml::fail(node[i], r.child("metric"), "required key is missing");
    g.metric = yaml::scalar_string(metric, r.child("metric"));
    const GateMetric* m = find_gate_metric(g.metric);
    if (!m) yaml::fail(metric, r.child("metric"), "expected one of " + join(metric_names) + ", got " + describe(metric));

    const YAML::Node op = r.node("op");
    if (op.IsNull()) yaml::fail(node[i], r.child("op"), "required key is missing (one of < <= > >= == !=)");
    if (op.IsScalar() && op.Scalar().empty() && !op.Tag().empty() && op.Tag() != "?" && op.Tag() != "!") {
      // `op: !=` unquoted: YAML reads "!=" as a tag on an empty value.
      yaml::fail(op, r.child("op"), "got the YAML tag '" + op.Tag() + "': quote the operator (op: \"" + op.Tag() + "\")");
    }
    g.op = yaml::scalar_string(op, r.child("op"));
    if (g.op.empty()) {
      // `op: >` unquoted at the end of a line: YAML reads an empty folded block.
      yaml::fail(op, r.child("op"), "expected one of < <= > >= == !=, got '' (quote the operator: op: \">\")");
    }
    static const std::set<std::string> kOps = {"<", "<=", ">", ">=", "==", "!="};
    if (!kOps.contains(g.op)) yaml::fail(op, r.child("op"), "expected one of < <= > >= == !=, got " + describe(op));

    const YAML::Node value = r.node("value");
    if (value.IsNull()) yaml::fail(node[i], r.child("value"), "required key is missing");
    switch (m->kind) {
      case MK::ratio: g.value = yaml::scalar_number(value, r.child("value"), 0, 1, "a ratio in [0, 1]"); break;
      default: g.value = yaml::scalar_number(value, r.child("value"), 0, 1e15, "a number >= 0"); break;
    }

    const YAML::Node pct = only_if(r, "percentile", m->kind == MK::latency_ms,
                                   "only for latency metrics (origin_get_latency_ms, viewer_wait_ms, hold_wait_ms, "
                                   "put_latency_ms); " + g.metric + " is a " +
                                       (m->kind == MK::count ? "count" : m->kind == MK::ratio ? "ratio" : "rate"));
    if (m->kind == MK::latency_ms) {
      if (pct.IsNull()) yaml::fail(node[i], r.child("percentile"), "required key is missing (a latency gate names its percentile, e.g. percentile: 99)");
      const double p = yaml::scalar_number(pct, r.child("percentile"), 0, 100, "a percentile in (0, 100]");
      if (p <= 0) yaml::fail(pct, r.child("percentile"), "expected a percentile in (0, 100], got " + describe(pct));
      g.percentile = p;
    }

    const YAML::Node cls = only_if(r, "class", m->takes_class, "not for " + g.metric + " (it has no request class)");
    if (!cls.IsNull()) {
      g.request_class = enum_value<std::string>(cls, r.child("class"),
                                                {{"live", "live"}, {"dvr", "dvr"}, {"background", "background"}});
    }

    const YAML::Node tier = only_if(r, "tier", m->tiers != MT::none,
                                    "not for " + g.metric + " (only cache_hit_ratio and hold_wait_ms are per tier)");
    if (!tier.IsNull()) {
      g.tier = yaml::scalar_string(tier, r.child("tier"));
      std::vector<std::string> allowed = tier_names;
      if (m->tiers == MT::cdn_or_origin) allowed.push_back("origin");
      if (std::find(allowed.begin(), allowed.end(), g.tier) == allowed.end()) {
        yaml::fail(tier, r.child("tier"),
                   "expected one of " + join(allowed) + " (" + g.metric + " is measured at " +
                       (m->tiers == MT::cdn ? "CDN tiers" : "CDN tiers and the origin") + "), got " + describe(tier));
      }
    }

    std::string label = g.metric;
    if (g.percentile) label += " p" + yaml::format_number(*g.percentile);
    if (!g.request_class.empty()) label += " class=" + g.request_class;
    if (!g.tier.empty()) label += " tier=" + g.tier;
    label += " " + g.op + " " + yaml::format_number(g.value);
    g.name = r.string("name", label);
    if (g.name.empty()) yaml::fail(r.node("name"), r.child("name"), "expected a non-empty name");
    r.finish();
    out.push_back(std::move(g));
  }
  return out;
}


}  // namespace liveorigin::results
