// report.html in a real browser: Debian's headless Chromium renders the report of a
// recorded run (pipeline-a-outage, virtual time) and the test reads the rendered DOM:
// every chart has data, the page parsed to its end. Nothing may leave the page: the
// browser runs with every host name resolving to nothing, a network log, and console
// logging; the test finds no request the page made and no Content-Security-Policy
// violation (something the page tried to load). A control page that does load an image
// shows both checks catch it. A screenshot is taken (LIVEORIGIN_REPORT_SCREENSHOT=
// docs/report.png keeps it).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <regex>

#include "reports/report.h"
#include "sim/runner.h"
#include "sim/scenario.h"
#include "tests/reports/support.h"
#include "tests/support/processes.h"

namespace liveorigin::reports::testing {
namespace {

namespace json = boost::json;

struct Browser {
  std::string chromium;
  fs::path dir;

  // Chromium's flags for an offline, reproducible headless run (docs: /work/shared/NOTES.md).
  std::vector<std::string> argv(const std::string& profile, std::vector<std::string> extra) const {
    std::vector<std::string> a = {chromium,
                                  "--headless",
                                  "--no-sandbox",
                                  "--disable-gpu",
                                  "--disable-background-networking",
                                  "--disable-component-update",
                                  "--disable-sync",
                                  "--disable-default-apps",
                                  "--disable-extensions",
                                  "--no-first-run",
                                  "--no-default-browser-check",
                                  "--user-data-dir=" + (dir / profile).string(),
                                  "--host-resolver-rules=MAP * ~NOTFOUND"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  struct Rendered {
    std::string dom;
    std::string log;  // Chromium's stderr, with the page's console
    std::vector<std::string> page_requests;  // URLs the page asked for (from the net log)
  };

  // --dump-dom with a net log and console logging.
  Rendered render(const fs::path& page, const std::string& tag) const {
    const fs::path netlog = dir / (tag + "-netlog.json");
    const Ran r = run_program(argv(tag + "-profile", {"--log-net-log=" + netlog.string(), "--enable-logging=stderr",
                                                      "--v=0", "--dump-dom", "file://" + page.string()}),
                              dir, tag, std::chrono::seconds(90));
    EXPECT_EQ(r.code, 0) << r.err.substr(0, 3000);
    Rendered out{r.out, r.err, {}};
    // Requests the page started carry its origin as initiator ("null" for a file: page);
    // the browser's own background requests have none ("not an origin").
    boost::system::error_code ec;
    const json::value log = json::parse(read_text(netlog), ec);
    EXPECT_FALSE(ec) << "net log " << netlog << ": " << ec.message();
    if (ec) return out;
    int64_t start_job = -1;
    for (const auto& [name, id] : log.at("constants").at("logEventTypes").as_object()) {
      if (name == "URL_REQUEST_START_JOB") start_job = id.to_number<int64_t>();
    }
    EXPECT_GE(start_job, 0);
    for (const auto& e : log.at("events").as_array()) {
      if (e.at("type").to_number<int64_t>() != start_job) continue;
      const auto* params = e.as_object().if_contains("params");
      if (!params || !params->is_object()) continue;
      const auto* url = params->as_object().if_contains("url");
      const auto* initiator = params->as_object().if_contains("initiator");
      if (!url) continue;
      const std::string u(url->as_string());
      if (u.rfind("file:", 0) == 0) continue;
      if (initiator && initiator->is_string() && initiator->as_string() == "not an origin") continue;
      out.page_requests.push_back(u);
    }
    return out;
  }
};

struct Chart {
  std::string id;
  int64_t points = 0;
  size_t data_elements = 0;  // drawn series with points, or cells
};

// The charts in a rendered DOM: <svg class="chart..." data-chart="id" data-points="n">.
std::vector<Chart> charts(const std::string& dom) {
  std::vector<Chart> out;
  const std::regex open(R"re(<svg class="chart[^"]*" data-chart="([^"]+)" data-points="(\d+)")re");
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), open); it != std::sregex_iterator(); ++it) {
    Chart c;
    c.id = (*it)[1];
    c.points = std::stoll((*it)[2]);
    const size_t from = static_cast<size_t>(it->position());
    const std::string body = dom.substr(from, dom.find("</svg>", from) - from);
    const std::regex series(R"re(<path class="series"[^>]* data-points="([1-9]\d*)" d="M[^"]+")re");
    c.data_elements = static_cast<size_t>(std::distance(std::sregex_iterator(body.begin(), body.end(), series), {}));
    c.data_elements += count(body, "<rect class=\"cell\"");
    out.push_back(std::move(c));
  }
  return out;
}

std::string chromium_or_skip() {
  const std::string chromium = liveorigin::testing::find_program("chromium");
  return chromium;
}

TEST(ReportBrowser, EveryChartHasDataAndNothingLeavesThePage) {
  const std::string chromium = chromium_or_skip();
  ASSERT_FALSE(chromium.empty()) << "chromium is not installed: run ./scripts/setup";
  Scratch dir("browser");
  Browser browser{chromium, dir.path()};

  // A run with a story: pipeline a's outage, defects, DVR viewers.
  auto scenario = sim::load_scenario((fs::path(LIVEORIGIN_SOURCE_DIR) / "scenarios" / "pipeline-a-outage.yaml").string());
  ASSERT_TRUE(scenario) << scenario.error().message;
  const char* keep = std::getenv("LIVEORIGIN_REPORT_SCREENSHOT");  // relative to where the test was started
  const fs::path shot = keep ? fs::absolute(keep) : dir / "report.png";
  // Relative paths, as a user's run would show them in the report's header.
  struct Cwd {
    fs::path was = fs::current_path();
    ~Cwd() { fs::current_path(was); }
  } cwd;
  fs::current_path(dir.path());
  sim::RunOptions o;
  o.db_path = "results.db";
  o.virtual_time = true;
  auto run1 = sim::run_scenario(*scenario, o);
  ASSERT_TRUE(run1) << run1.error().message;
  sim::Scenario no_collapsing = *scenario;
  no_collapsing.cdn.features.collapsing = false;
  auto run2 = sim::run_scenario(no_collapsing, o);
  ASSERT_TRUE(run2) << run2.error().message;
  auto db = ResultsDb::open(o.db_path);
  ASSERT_TRUE(db) << db.error().message;
  auto rep = collect_report(*db, run1->run_id);
  ASSERT_TRUE(rep) << rep.error().message;
  auto written = write_reports(*rep, "report");
  ASSERT_TRUE(written) << written.error().message;
  auto rep2 = collect_report(*db, run2->run_id);
  ASSERT_TRUE(rep2) << rep2.error().message;
  auto compared = write_comparison(*rep, *rep2, "compare");
  ASSERT_TRUE(compared) << compared.error().message;

  const std::vector<std::string> expected = {"segment-timeline", "origin-requests", "cdn-hit-ratio", "cdf-origin-get",
                                             "cdf-hold-wait",    "cdf-viewer-wait", "cdf-put"};
  for (const auto& [page, ids] :
       std::vector<std::pair<fs::path, std::vector<std::string>>>{
           {fs::absolute(written->html), expected},
           {fs::absolute(compared->html), {"segment-timeline-a", "segment-timeline-b", "origin-requests", "cdn-hit-ratio",
                             "cdf-origin-get", "cdf-hold-wait", "cdf-viewer-wait", "cdf-put"}}}) {
    SCOPED_TRACE(page.string());
    const auto rendered = browser.render(page, page.parent_path().filename().string());
    // The page parsed to its end: the footer is the last element, after every chart.
    EXPECT_NE(rendered.dom.find("<footer id=\"report-complete\" data-complete=\"1\">"), std::string::npos)
        << rendered.dom.substr(0, 2000);
    EXPECT_NE(rendered.dom.find("</main>"), std::string::npos);
    const auto found = charts(rendered.dom);
    std::vector<std::string> found_ids;
    for (const auto& c : found) {
      found_ids.push_back(c.id);
      EXPECT_GT(c.points, 0) << c.id;
      EXPECT_GT(c.data_elements, 0u) << c.id;
    }
    EXPECT_EQ(found_ids, ids);
    EXPECT_TRUE(rendered.page_requests.empty()) << "the page made requests: " << rendered.page_requests.front();
    EXPECT_EQ(rendered.log.find("Content Security Policy"), std::string::npos) << rendered.log.substr(0, 4000);
  }

  // The timeline draws both pipelines' copies, the outage's window, the failover to b.
  const std::string dom = browser.render(fs::absolute(written->html), "again").dom;
  EXPECT_NE(dom.find("pipeline a outage"), std::string::npos);
  EXPECT_NE(dom.find(": served b"), std::string::npos);
  EXPECT_NE(dom.find(": served a"), std::string::npos);
  EXPECT_NE(dom.find("data-verdict=\"pass\""), std::string::npos);

  // The screenshot, as the README shows it.
  const Ran r = run_program(browser.argv("shot-profile", {"--hide-scrollbars", "--window-size=1280,2000",
                                                          "--screenshot=" + shot.string(),
                                                          "file://" + fs::absolute(written->html).string()}),
                            dir.path(), "shot", std::chrono::seconds(90));
  EXPECT_EQ(r.code, 0) << r.err.substr(0, 3000);
  const std::string png = read_text(shot);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << shot;
  EXPECT_GT(png.size(), 50000u);
}

// plan.html (docs/planning.md) of a small `liveorigin plan`: the same checks, on every
// chart of the page, the instances needed included.
TEST(ReportBrowser, PlanPageChartsHaveDataAndNothingLeavesThePage) {
  const std::string chromium = chromium_or_skip();
  ASSERT_FALSE(chromium.empty()) << "chromium is not installed: run ./scripts/setup";
  Scratch dir("browser-plan");
  Browser browser{chromium, dir.path()};
  // One instance cannot keep up with 64 viewer groups that bypass the CDN's cache; two can.
  write_text(dir / "s.yaml", R"(duration_s: 20
cdn:
  features: {cache: false, collapsing: false}
  tiers:
    edge: {nodes: 4}
viewers:
  live: {count: 64, clock_skew_ms: {uniform: [0, 300]}}
origin:
  store: redis
  model:
    instance: {workers: 1, service_ms: 20, ingest_workers: 1}
    store: {read_ms: 1, write_ms: 2, hot_cache_hit_ratio: 0.5}
)");
  const Ran plan = run_program({LIVEORIGIN_BINARY, "plan", (dir / "s.yaml").string(), "--sweep",
                                "viewers.live.count=16,64", "--sweep", "origin.instances=1,2", "--jobs", "2",
                                "--target-p99-ms", "1000", "--out", (dir / "plan").string()},
                               dir.path(), "plan");
  ASSERT_EQ(plan.code, 0) << plan.all();
  const auto rendered = browser.render(dir / "plan" / "plan.html", "plan");
  EXPECT_NE(rendered.dom.find("<footer id=\"report-complete\" data-complete=\"1\">"), std::string::npos);
  std::vector<std::string> ids;
  for (const auto& c : charts(rendered.dom)) {
    ids.push_back(c.id);
    EXPECT_GT(c.points, 0) << c.id;
    EXPECT_GT(c.data_elements, 0u) << c.id;
  }
  EXPECT_EQ(ids.size(), 13u);
  EXPECT_EQ(ids.front(), "plan-instances-needed");
  EXPECT_TRUE(rendered.page_requests.empty()) << "the page made requests: " << rendered.page_requests.front();
  EXPECT_EQ(rendered.log.find("Content Security Policy"), std::string::npos) << rendered.log.substr(0, 4000);
}

// The checks above can fail: a page that loads an image is caught by the net log
// (without a CSP) and by the CSP violation in the console (with ours).
TEST(ReportBrowser, TheChecksCatchAPageThatLoadsSomething) {
  const std::string chromium = chromium_or_skip();
  ASSERT_FALSE(chromium.empty()) << "chromium is not installed: run ./scripts/setup";
  Scratch dir("browser-control");
  Browser browser{chromium, dir.path()};
  const std::string body = "<body><p>control</p><img src=\"http://example.invalid/pixel.png\"></body></html>\n";
  write_text(dir / "open.html", "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head>" + body);
  write_text(dir / "csp.html",
             "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"Content-Security-Policy\" "
             "content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\"></head>" + body);

  const auto open = browser.render(dir / "open.html", "open");
  ASSERT_FALSE(open.page_requests.empty());
  EXPECT_EQ(open.page_requests.front(), "http://example.invalid/pixel.png");

  const auto csp = browser.render(dir / "csp.html", "csp");
  EXPECT_TRUE(csp.page_requests.empty());  // blocked before it left
  EXPECT_NE(csp.log.find("Content Security Policy"), std::string::npos) << csp.log.substr(0, 4000);
}

}  // namespace
}  // namespace liveorigin::reports::testing
