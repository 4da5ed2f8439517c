#include "reports/plan.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <boost/json.hpp>

#include "reports/gates.h"
#include "reports/report.h"
#include "reports/results_db.h"
#include "results/recorded_scenario.h"

namespace liveorigin::reports {

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

// The figures of one run, in plan_columns() order.
std::vector<std::optional<double>> point_values(const ResultsDb& db, int64_t run) {
  auto metric = [&](const char* key) { return metric_value(db, run, *parse_metric_key(key)); };
  const std::optional<double> duration_s = db.number("SELECT duration_s FROM run_metrics WHERE run_id = ?1", {run});
  auto per_s = [&](std::optional<double> total) -> std::optional<double> {
    if (!total || !duration_s || *duration_s <= 0) return std::nullopt;
    return *total / *duration_s;
  };
  auto model_counter = [&](const char* series) {
    return db.number("SELECT value FROM origin_metrics WHERE run_id = ?1 AND series = ?2", {run, std::string(series)});
  };
  // Every body the origin sent, the nodes' polls (class other) included.
  const std::optional<double> egress_bytes =
      db.number("SELECT SUM(bytes) FROM tier_totals WHERE run_id = ?1 AND tier = 'origin' AND class <> '*'", {run});
  std::optional<double> egress_gbps;
  if (auto b = per_s(egress_bytes.value_or(0))) egress_gbps = *b * 8 / 1e9;
  std::optional<double> dvr_shed = metric("shed_ratio{class=dvr}");
  if (dvr_shed) *dvr_shed *= 100;
  const std::map<std::string, std::optional<double>> by_id = {
      {"origin_requests_per_s", metric("origin_requests_per_s")},
      {"origin_requests_per_s_peak",
       db.number("SELECT origin_requests_per_s_peak FROM run_metrics WHERE run_id = ?1", {run})},
      {"origin_egress_gbps", egress_gbps},
      {"store_reads_per_s", per_s(model_counter("liveorigin_model_store_reads_total"))},
      {"store_writes_per_s", per_s(model_counter("liveorigin_model_store_writes_total"))},
      {"origin_service_p50_ms", histogram_percentile(db, run, "origin_service", "live", "*", 50)},
      {"origin_service_p99_ms", histogram_percentile(db, run, "origin_service", "live", "*", 99)},
      {"origin_get_p99_ms", metric("origin_get_latency_ms{p=99,class=live}")},
      {"dvr_shed_pct", dvr_shed},
      {"defective_served_with_clean_available", metric("defective_served_with_clean_available")},
      {"viewer_error_ratio", metric("viewer_error_ratio")},
      {"viewer_missing_segments", metric("viewer_missing_segments")},
  };
  std::vector<std::optional<double>> out;
  for (const auto& c : plan_columns()) out.push_back(by_id.at(c.id));
  return out;
}

std::string gates_text(const ResultsDb& db, int64_t run, const std::string& scenario_text, const std::string& name) {
  auto scenario = results::read_recorded_scenario(scenario_text, name + ".yaml");
  if (!scenario) return "not read";
  if (scenario->gates.empty()) return "none";
  auto gates = evaluate_gates(db, run, scenario->gates);
  if (!gates) return "not read";
  const auto failed = std::count_if(gates->begin(), gates->end(), [](const auto& g) { return !g.passed; });
  if (failed == 0) return "pass";
  return std::to_string(failed) + " of " + std::to_string(gates->size()) + " failed";
}

void read_point(PlanPoint& p, const Plan& plan, const fs::path& dir) {
  p.has_result = false;
  p.values.clear();
  const fs::path file = dir / p.db;
  if (!fs::exists(file)) {
    p.status = "no result: " + p.db + " not found";
    return;
  }
  auto db = ResultsDb::open(file.string());
  if (!db) {
    p.status = "no result: " + db.error().message;
    return;
  }
  std::vector<std::string> want;
  for (const auto& [k, v] : p.set) want.push_back(k + "=" + v);
  try {
    // The latest run of this scenario with exactly this point's overrides.
    const auto runs = db->rows(
        "SELECT id, scenario_hash, parameters_json, scenario_text, scenario_name, status FROM runs ORDER BY id DESC");
    for (const auto& r : runs) {
      if (r[1].text() != plan.scenario_sha256 || recorded_overrides(r[2].text()) != want) continue;
      p.run_id = r[0].integer();
      if (r[5].text() != "completed") {
        p.status = "no result: run " + std::to_string(p.run_id) + " in " + p.db + " " + r[5].text();
        return;
      }
      p.values = point_values(*db, p.run_id);
      p.gates = gates_text(*db, p.run_id, r[3].text(), r[4].text());
      p.has_result = true;
      p.status = "ok";
      return;
    }
    p.status = "no result: " + p.db + " holds no run of this point (" + std::to_string(runs.size()) +
               " runs of other settings or another version of the scenario)";
  } catch (const std::exception& e) {
    p.status = "no result: " + p.db + ": " + e.what();
  }
}

json::object settings_json(const Settings& set) {
  json::object o;
  for (const auto& [k, v] : set) o[k] = v;
  return o;
}

json::value optional_json(std::optional<double> v) { return v ? json::value(*v) : json::value(nullptr); }

// Whether two points agree on every swept key but `key`.
bool same_others(const Settings& a, const Settings& b, const std::string& key) {
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].first != key && a[i].second != b[i].second) return false;
  }
  return true;
}

}  // namespace

std::string settings_text(const Settings& set) {
  std::string out;
  for (const auto& [k, v] : set) out += (out.empty() ? "" : " ") + k + "=" + v;
  return out;
}

std::string values_text(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : ", ") + v;
  return out;
}

std::optional<double> swept_number(const std::string& value) {
  double v = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (value.empty() || ec != std::errc() || p != value.data() + value.size()) return std::nullopt;
  return v;
}

std::string plan_cell(const PlanPoint& p, size_t column) {
  if (!p.has_result) return "";
  const auto& v = p.values.at(column);
  return v ? format_number(*v) : "-";
}

std::string needed_text(const InstancesNeeded& n) {
  return n.instances ? std::to_string(*n.instances) : "more than " + std::to_string(n.most_swept);
}

std::string needed_condition(const Plan& plan) {
  return "live origin_service p99 <= " + format_number(plan.target_p99_ms) + " ms and no segment missed by viewers";
}

Settings without_key(const Settings& set, const std::string& key) {
  Settings out;
  for (const auto& kv : set) {
    if (kv.first != key) out.push_back(kv);
  }
  return out;
}

const std::vector<PlanColumn>& plan_columns() {
  static const std::vector<PlanColumn> kColumns = {
      {"origin_requests_per_s", "origin requests/s", "requests/s"},
      {"origin_requests_per_s_peak", "origin requests/s, peak", "requests/s"},
      {"origin_egress_gbps", "origin egress", "Gb/s"},
      {"store_reads_per_s", "store reads/s", "ops/s"},
      {"store_writes_per_s", "store writes/s", "ops/s"},
      {"origin_service_p50_ms", "live origin service p50", "ms"},
      {"origin_service_p99_ms", "live origin service p99", "ms"},
      {"origin_get_p99_ms", "live origin GET p99", "ms"},
      {"dvr_shed_pct", "DVR shed", "%"},
      {"defective_served_with_clean_available", "defective served, clean available", "segments"},
      {"viewer_error_ratio", "viewer error ratio", "ratio"},
      {"viewer_missing_segments", "viewer missing segments", "segments"},
  };
  return kColumns;
}

size_t plan_column(const std::string& id) {
  const auto& c = plan_columns();
  for (size_t i = 0; i < c.size(); ++i) {
    if (c[i].id == id) return i;
  }
  return c.size();
}

bool Plan::complete() const {
  return std::all_of(points.begin(), points.end(), [](const PlanPoint& p) { return p.has_result; });
}

void read_plan_results(Plan& plan, const std::string& dir) {
  for (auto& p : plan.points) read_point(p, plan, dir);
}

void decide_instances(Plan& plan) {
  plan.needed.clear();
  if (std::none_of(plan.sweeps.begin(), plan.sweeps.end(), [](const PlanSweep& s) { return s.key == kInstancesKey; })) {
    return;
  }
  const size_t p99 = plan_column("origin_service_p99_ms");
  const size_t missing = plan_column("viewer_missing_segments");
  std::vector<bool> done(plan.points.size(), false);
  for (size_t i = 0; i < plan.points.size(); ++i) {
    if (done[i]) continue;
    InstancesNeeded n;
    n.others = without_key(plan.points[i].set, kInstancesKey);
    std::vector<std::pair<int64_t, const PlanPoint*>> counts;
    for (size_t j = i; j < plan.points.size(); ++j) {
      const PlanPoint& p = plan.points[j];
      if (done[j] || !same_others(p.set, plan.points[i].set, kInstancesKey)) continue;
      done[j] = true;
      for (const auto& [k, v] : p.set) {
        if (k == kInstancesKey) counts.emplace_back(static_cast<int64_t>(swept_number(v).value_or(0)), &p);
      }
    }
    std::sort(counts.begin(), counts.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [count, p] : counts) {
      n.most_swept = std::max(n.most_swept, count);
      if (!p->has_result) {
        n.without_result.push_back(p->number);
        continue;
      }
      const auto& lat = p->values[p99];
      const bool meets = lat && *lat <= plan.target_p99_ms && p->values[missing].value_or(1) == 0;
      if (meets && !n.instances) n.instances = count;
    }
    plan.needed.push_back(std::move(n));
  }
}

json::value plan_json(const Plan& plan) {
  json::array sweeps;
  for (const auto& s : plan.sweeps) {
    json::array values;
    for (const auto& v : s.values) values.emplace_back(v);
    sweeps.push_back(json::object{{"key", s.key}, {"values", std::move(values)}});
  }
  json::array columns;
  for (const auto& c : plan_columns()) columns.push_back(json::object{{"id", c.id}, {"label", c.label}, {"unit", c.unit}});
  json::array points;
  for (const auto& p : plan.points) {
    json::object o{{"point", p.number}, {"set", settings_json(p.set)}, {"db", p.db}, {"command", p.command},
                   {"status", p.status}};
    if (p.has_result) {
      o["run_id"] = p.run_id;
      o["gates"] = p.gates;
      json::object values;
      for (size_t i = 0; i < plan_columns().size(); ++i) values[plan_columns()[i].id] = optional_json(p.values[i]);
      o["values"] = std::move(values);
    }
    points.push_back(std::move(o));
  }
  json::array needed;
  for (const auto& n : plan.needed) {
    json::array missing;
    for (int m : n.without_result) missing.emplace_back(m);
    needed.push_back(json::object{{"set", settings_json(n.others)},
                                  {"instances", n.instances ? json::value(*n.instances) : json::value(nullptr)},
                                  {"most_swept", n.most_swept},
                                  {"points_without_result", std::move(missing)}});
  }
  return json::object{
      {"format", "liveorigin-plan"},
      {"format_version", 1},
      {"scenario", json::object{{"path", plan.scenario_path}, {"name", plan.scenario_name}, {"sha256", plan.scenario_sha256}}},
      {"sweeps", std::move(sweeps)},
      {"target_p99_ms", plan.target_p99_ms},
      {"columns", std::move(columns)},
      {"points", std::move(points)},
      {"instances_needed", std::move(needed)},
  };
}

Result<Plan> read_plan_manifest(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(path + ": no such plan (liveorigin plan --emit-jobs writes it)");
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  boost::system::error_code ec;
  const json::value v = json::parse(text, ec);
  auto bad = [&](const std::string& why) { return make_error(path + ": not a liveorigin plan: " + why); };
  if (ec || !v.is_object()) return bad("not JSON");
  try {
    const json::object& o = v.as_object();
    if (!o.contains("format") || o.at("format") != "liveorigin-plan") return bad("no \"format\": \"liveorigin-plan\"");
    if (o.at("format_version").to_number<int64_t>() != 1) return bad("format_version is not 1");
    Plan plan;
    const json::object& sc = o.at("scenario").as_object();
    plan.scenario_path = json::value_to<std::string>(sc.at("path"));
    plan.scenario_name = json::value_to<std::string>(sc.at("name"));
    plan.scenario_sha256 = json::value_to<std::string>(sc.at("sha256"));
    plan.target_p99_ms = o.at("target_p99_ms").to_number<double>();
    for (const auto& s : o.at("sweeps").as_array()) {
      PlanSweep sw;
      sw.key = json::value_to<std::string>(s.at("key"));
      sw.values = json::value_to<std::vector<std::string>>(s.at("values"));
      plan.sweeps.push_back(std::move(sw));
    }
    for (const auto& pv : o.at("points").as_array()) {
      const json::object& po = pv.as_object();
      PlanPoint p;
      p.number = static_cast<int>(po.at("point").to_number<int64_t>());
      const json::object& set = po.at("set").as_object();
      for (const auto& s : plan.sweeps) p.set.emplace_back(s.key, json::value_to<std::string>(set.at(s.key)));
      p.db = json::value_to<std::string>(po.at("db"));
      if (p.db.empty() || fs::path(p.db).filename() != fs::path(p.db)) return bad("point " + std::to_string(p.number) + ": db is not a file name");
      p.command = json::value_to<std::string>(po.at("command"));
      plan.points.push_back(std::move(p));
    }
    if (plan.sweeps.empty() || plan.points.empty()) return bad("an empty grid");
    return plan;
  } catch (const std::exception& e) {
    return bad(e.what());
  }
}

std::string render_plan_markdown(const Plan& plan) {
  std::ostringstream m;
  size_t with = 0;
  for (const auto& p : plan.points) with += p.has_result ? 1 : 0;
  m << "# Plan: " << plan.scenario_name << "\n\n";
  m << plan.points.size() << " points (" << with << " with results) of `" << plan.scenario_path << "`, sweeping ";
  for (size_t i = 0; i < plan.sweeps.size(); ++i) {
    m << (i ? ", " : "") << "`" << plan.sweeps[i].key << "` over " << values_text(plan.sweeps[i].values);
  }
  m << ".\n\n";
  if (!plan.needed.empty()) {
    m << "## Origin instances needed\n\nThe fewest instances swept with " << needed_condition(plan) << ".\n\n";
    m << "|";
    for (const auto& [k, v] : plan.needed.front().others) m << " " << k << " |";
    m << " instances needed |\n|";
    for (size_t i = 0; i < plan.needed.front().others.size(); ++i) m << "---|";
    m << "---:|\n";
    for (const auto& n : plan.needed) {
      m << "|";
      for (const auto& [k, v] : n.others) m << " " << v << " |";
      m << " " << needed_text(n);
      if (!n.without_result.empty()) m << " (" << n.without_result.size() << " points without a result)";
      m << " |\n";
    }
    m << "\n";
  }
  m << "## Table\n\n| point |";
  for (const auto& s : plan.sweeps) m << " " << s.key << " |";
  for (const auto& c : plan_columns()) m << " " << c.label << " (" << c.unit << ") |";
  m << " gates |\n|---:|";
  for (size_t i = 0; i < plan.sweeps.size(); ++i) m << "---|";
  for (size_t i = 0; i < plan_columns().size(); ++i) m << "---:|";
  m << "---|\n";
  for (const auto& p : plan.points) {
    m << "| " << p.number << " |";
    for (const auto& [k, v] : p.set) m << " " << v << " |";
    if (!p.has_result) {
      m << " " << p.status << " |";
      for (size_t i = 1; i < plan_columns().size(); ++i) m << " |";
      m << " |\n";
      continue;
    }
    for (size_t i = 0; i < plan_columns().size(); ++i) m << " " << plan_cell(p, i) << " |";
    m << " " << p.gates << " |\n";
  }
  m << "\n`-`: no data (nothing measured; store figures need `origin.model`). Columns: docs/planning.md.\n";
  return m.str();
}

std::string render_plan_csv(const Plan& plan) {
  auto field = [](const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  };
  std::ostringstream c;
  c << "point";
  for (const auto& s : plan.sweeps) c << "," << field(s.key);
  for (const auto& col : plan_columns()) c << "," << col.id;
  c << ",gates,status\n";
  for (const auto& p : plan.points) {
    c << p.number;
    for (const auto& [k, v] : p.set) c << "," << field(v);
    for (size_t i = 0; i < plan_columns().size(); ++i) {
      c << ",";
      if (p.has_result && p.values[i]) {
        char buf[32];
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *p.values[i]);  // shortest exact form
        c << std::string(buf, ec == std::errc() ? end : buf);
      }
    }
    c << "," << field(p.gates) << "," << field(p.status) << "\n";
  }
  return c.str();
}

Result<std::string> write_plan_manifest(const Plan& plan, const std::string& dir) {
  auto made = make_dir(dir);
  if (!made) return made.error();
  return write_file(*made / "plan.json", pretty_json(plan_json(plan)));
}

Result<WrittenPlan> write_plan(const Plan& plan, const std::string& dir) {
  WrittenPlan w;
  auto js = write_plan_manifest(plan, dir);
  if (!js) return js.error();
  w.json = *js;
  auto md = write_file(fs::path(dir) / "plan.md", render_plan_markdown(plan));
  if (!md) return md.error();
  w.markdown = *md;
  auto csv = write_file(fs::path(dir) / "plan.csv", render_plan_csv(plan));
  if (!csv) return csv.error();
  w.csv = *csv;
  auto html = write_file(fs::path(dir) / "plan.html", render_plan_html(plan));
  if (!html) return html.error();
  w.html = *html;
  return w;
}

}  // namespace liveorigin::reports
