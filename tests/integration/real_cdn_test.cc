// Real caches nobody here wrote, in front of the real `liveorigin serve`: Varnish with
// deploy/varnish/liveorigin.vcl and nginx with deploy/nginx/liveorigin-cache.conf, the
// configs users copy into production, filled in with loopback ports. Everything is
// proven from the outside with real HTTP: what the origin counted (/metrics), what
// the caches say (varnishstat, nginx's $upstream_cache_status) and what viewers got.
// docs/cdn.md quotes the numbers these tests print.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "tests/support/http_client.h"
#include "tests/support/processes.h"

namespace liveorigin::testing {
namespace {

const fs::path kSource = LIVEORIGIN_SOURCE_DIR;

// Segments of 3.5 s with a 300 ms publish latency: TTLs and expiries that are not whole
// seconds, so a cache that only counts seconds shows it, and a hold (up to d + grace)
// long enough for 1,000 connections to open behind it on a loaded machine.
constexpr int64_t kD = 3500;
constexpr int64_t kLatency = 300;

std::string origin_yaml() {
  return std::string(kRealClientsAuth) +
         "events:\n"
         "  - id: ev\n"
         "    pipelines: [a, b]\n"
         "    dvr_window_s: 600\n"
         "    streams:\n"
         "      - id: v\n"
         "        segment_duration_ms: " + std::to_string(kD) + "\n"
         "        publish_latency_ms: " + std::to_string(kLatency) + "\n";
}

int64_t edge_now() { return (wall_ms() - kLatency) / kD - 1; }
int64_t avail_ms(int64_t n) { return (n + 1) * kD + kLatency; }
std::string seg_path(int64_t n) { return "/live/ev/v/" + std::to_string(n) + ".m4s"; }

uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

bool wait_listening(uint16_t port, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    HttpClient c(port);
    if (c.connected()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string fill(std::string text, const std::map<std::string, std::string>& values) {
  for (const auto& [key, value] : values) {
    for (size_t at; (at = text.find(key)) != std::string::npos;) text.replace(at, key.size(), value);
  }
  return text;
}

// varnishd in the foreground with the shipped VCL, its state in a temp dir (-n).
class Varnish {
 public:
  Varnish(const TempDir& dir, uint16_t origin_port) : workdir_(dir / "varnish") {
    port = free_port();
    const fs::path vcl = dir / "liveorigin.vcl";
    std::ofstream(vcl) << fill(read_text(kSource / "deploy/varnish/liveorigin.vcl"),
                               {{"@ORIGIN_HOST@", "127.0.0.1"}, {"@ORIGIN_PORT@", std::to_string(origin_port)}});
    fs::create_directories(workdir_);
    process_ = std::make_unique<Process>(
        std::vector<std::string>{find_program("varnishd"), "-F", "-j", "none", "-n", workdir_.string(), "-a",
                                 "127.0.0.1:" + std::to_string(port), "-f", vcl.string(), "-s", "malloc,256m",
                                 "-T", "127.0.0.1:0", "-p", "listen_depth=4096"},
        dir / "varnish.log");
    if (!wait_listening(port, 20s)) ADD_FAILURE() << "varnishd did not start:\n" << process_->log_tail();
  }
  ~Varnish() { process_->kill(SIGKILL); }

  // A counter of varnishstat -1 (MAIN.backend_req, MAIN.cache_hit, ...); -1 if absent.
  int64_t stat(const std::string& name) const {
    const std::string cmd = find_program("varnishstat") + " -1 -n " + workdir_.string() + " -f " + name + " 2>&1";
    std::string out;
    if (FILE* f = ::popen(cmd.c_str(), "r")) {
      char buf[4096];
      for (size_t k; (k = fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, k);
      ::pclose(f);
    }
    std::istringstream in(out);
    std::string key;
    int64_t value = -1;
    while (in >> key) {
      if (key == name && (in >> value)) return value;
    }
    return -1;
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
  uint16_t port = 0;

 private:
  fs::path workdir_;
  std::unique_ptr<Process> process_;
};

// nginx in the foreground (daemon off) with the shipped config, everything under a temp prefix.
class Nginx {
 public:
  Nginx(const TempDir& dir, uint16_t origin_port) : prefix_(dir / "nginx") {
    port = free_port();
    fs::create_directories(prefix_ / "logs");
    const fs::path conf = prefix_ / "nginx.conf";
    std::ofstream(conf) << fill(read_text(kSource / "deploy/nginx/liveorigin-cache.conf"),
                                {{"@PREFIX@", prefix_.string()},
                                 {"@LISTEN@", "127.0.0.1:" + std::to_string(port)},
                                 {"@ORIGIN@", "127.0.0.1:" + std::to_string(origin_port)}});
    process_ = std::make_unique<Process>(std::vector<std::string>{find_program("nginx"), "-p", prefix_.string(), "-c",
                                                                  conf.string(), "-g", "daemon off;"},
                                         dir / "nginx.log");
    if (!wait_listening(port, 20s)) {
      ADD_FAILURE() << "nginx did not start:\n" << process_->log_tail() << read_text(prefix_ / "error.log");
    }
  }
  ~Nginx() { process_->kill(SIGKILL); }

  // Access-log lines ("<msec> <status> <cache status> "<request>" <time>") naming `path`.
  std::vector<std::string> log_lines(const std::string& path) const {
    std::vector<std::string> lines;
    std::istringstream in(read_text(prefix_ / "access.log"));
    for (std::string line; std::getline(in, line);) {
      if (line.find(" " + path + " ") != std::string::npos) lines.push_back(line);
    }
    return lines;
  }
  int64_t count(const std::string& path, const std::string& cache_status) const {
    int64_t n = 0;
    for (const auto& l : log_lines(path)) n += l.find(" " + cache_status + " \"") != std::string::npos;
    return n;
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
  uint16_t port = 0;

 private:
  fs::path prefix_;
  std::unique_ptr<Process> process_;
};

// One counter of the origin's /metrics (unlabelled), 0 if absent.
int64_t origin_metric(uint16_t origin_port, const std::string& name) {
  HttpClient c(origin_port);
  std::istringstream in(c.get("/metrics").body);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name + " ", 0) == 0) return std::stoll(line.substr(name.size() + 1));
  }
  return 0;
}

// Delivery requests the origin answered (every zone but the API's), from its /metrics.
int64_t origin_delivery_requests(uint16_t origin_port) {
  HttpClient c(origin_port);
  const HttpResponse r = c.get("/metrics");
  std::istringstream in(r.body);
  int64_t total = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("liveorigin_requests_total{", 0) != 0 || line.find("zone=\"api\"") != std::string::npos) continue;
    total += std::stoll(line.substr(line.rfind(' ') + 1));
  }
  return total;
}

// The "version" of an admin answer such as {"version":3,"uncommitted":1}.
int64_t admin_version(const std::string& json) {
  const size_t at = json.find("\"version\":");
  return at == std::string::npos ? -1 : std::stoll(json.substr(at + 10));
}

HttpResponse put_segment(uint16_t origin_port, int64_t n, const std::string& body, const std::string& defects = "") {
  HttpClient c(origin_port);
  HeaderList h = {{"Authorization", "Bearer ingest-secret"}, {"Live-Pipeline", "a"}};
  if (!defects.empty()) h.emplace_back("Segment-Defects", defects);
  return c.request("PUT", seg_path(n), h, body);
}

// Many concurrent GETs of one path on their own connections (Connection: close), driven
// by poll(): when each request was written and when its answer ended.
struct Crowd {
  struct Viewer {
    int fd = -1;
    std::string out;
    int64_t sent_ms = 0;
    int64_t done_ms = 0;
    bool done = false;
  };
  std::vector<Viewer> viewers;

  // Opens `count` connections and writes the request on each; false if one failed.
  bool start(uint16_t port, const std::string& path, size_t count) {
    const std::string req = "GET " + path + " HTTP/1.1\r\nHost: cdn\r\nConnection: close\r\n\r\n";
    viewers.resize(count);
    for (auto& v : viewers) {
      v.fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(port);
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (v.fd < 0 || ::connect(v.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return false;
      if (::send(v.fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) return false;
      v.sent_ms = wall_ms();
    }
    return true;
  }
  // Reads every answer to its end, until `deadline_ms`.
  void finish(int64_t deadline_ms) {
    char buf[65536];
    for (;;) {
      std::vector<pollfd> fds;
      std::vector<Viewer*> who;
      for (auto& v : viewers) {
        if (v.fd >= 0 && !v.done) {
          fds.push_back({v.fd, POLLIN, 0});
          who.push_back(&v);
        }
      }
      const int64_t left = deadline_ms - wall_ms();
      if (fds.empty() || left <= 0) return;
      if (::poll(fds.data(), fds.size(), static_cast<int>(std::min<int64_t>(left, 200))) <= 0) continue;
      for (size_t i = 0; i < fds.size(); ++i) {
        if (!fds[i].revents) continue;
        const ssize_t k = ::recv(fds[i].fd, buf, sizeof buf, 0);
        if (k > 0) {
          who[i]->out.append(buf, static_cast<size_t>(k));
        } else {
          who[i]->done = true;
          who[i]->done_ms = wall_ms();
        }
      }
    }
  }
  ~Crowd() {
    for (auto& v : viewers) {
      if (v.fd >= 0) ::close(v.fd);
    }
  }
  static int status(const Viewer& v) { return v.out.size() > 12 ? std::atoi(v.out.c_str() + 9) : 0; }
  static std::string body(const Viewer& v) {
    const size_t at = v.out.find("\r\n\r\n");
    return at == std::string::npos ? "" : v.out.substr(at + 4);
  }
};

// What a viewer polling one URL through a cache saw: when its first answer arrived and
// what TTL it carried, the last request answered from the cache, and the first that
// was not (a miss, or no answer within 400 ms: the origin is holding it).
struct CacheLife {
  int64_t first_ms = 0;
  int64_t ttl_ms = -1;
  int64_t last_hit_sent_ms = 0;
  int64_t first_miss_sent_ms = 0;
  int64_t hits = 0;
};

CacheLife watch_cache_life(uint16_t cache_port, const std::string& path, int first_status, int64_t limit_ms) {
  CacheLife life;
  {
    HttpClient c(cache_port);
    const HttpResponse r = c.get(path);
    life.first_ms = wall_ms();
    EXPECT_EQ(r.status, first_status) << r.body;
    EXPECT_EQ(r.header("Liveorigin-Cache"), "MISS");
    const std::string cdn = r.header("CDN-Cache-Control");
    const size_t at = cdn.find("max-age-ms=");
    if (at != std::string::npos) life.ttl_ms = std::stoll(cdn.substr(at + 11));
  }
  while (wall_ms() < life.first_ms + limit_ms) {
    HttpClient c(cache_port);
    const int64_t sent = wall_ms();
    c.send_raw("GET " + path + " HTTP/1.1\r\nHost: cdn\r\n\r\n");
    const HttpResponse r = c.read_response(400ms);
    if (r.status == first_status && r.header("Liveorigin-Cache") == "HIT") {
      life.last_hit_sent_ms = sent;
      ++life.hits;
    } else {
      life.first_miss_sent_ms = sent;
      break;
    }
    std::this_thread::sleep_for(25ms);
  }
  return life;
}

class RealCdn : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* p : {"varnishd", "varnishstat", "nginx"}) {
      if (find_program(p).empty()) GTEST_SKIP() << p << " is not installed (scripts/setup installs varnish and nginx-light)";
    }
    dir_ = std::make_unique<TempDir>("realcdn");
    origin_ = std::make_unique<OriginProcess>(*dir_, origin_yaml());
    ASSERT_NE(origin_->port, 0);
    varnish_ = std::make_unique<Varnish>(*dir_, origin_->port);
    nginx_ = std::make_unique<Nginx>(*dir_, origin_->port);
    ASSERT_FALSE(HasFailure());
  }
  void TearDown() override {
    nginx_.reset();
    varnish_.reset();
    origin_.reset();
  }

  // Sleeps until a segment boundary has just passed, so edge + 1 is a whole `d` away.
  static int64_t next_segment_fresh() {
    sleep_until_ms(avail_ms(edge_now()) + kD + 50);
    return edge_now() + 1;
  }

  // 1,000 viewers ask `cache_port` for the next segment before any pipeline has it; one
  // request reaches the origin, which holds it; a PUT publishes it and every viewer gets it.
  // Returns the segment's path.
  std::string coalesce_held_request(uint16_t cache_port, const std::string& cache) {
    constexpr size_t kViewers = 1000;
    const int64_t n = next_segment_fresh();
    // Pipeline a is live (it published the edge), so the origin holds the request for n.
    EXPECT_EQ(put_segment(origin_->port, n - 1, "edge-" + cache).status, 201);
    const int64_t before = origin_delivery_requests(origin_->port);
    Crowd crowd;
    EXPECT_TRUE(crowd.start(cache_port, seg_path(n), kViewers)) << std::strerror(errno);
    const int64_t all_sent_ms = wall_ms();
    std::this_thread::sleep_for(300ms);  // let the cache take in the last requests
    const std::string body(200'000, static_cast<char>('a' + n % 26));
    const int64_t put_ms = wall_ms();
    EXPECT_LT(put_ms, avail_ms(n)) << "the machine is too slow: the crowd took " << all_sent_ms - put_ms + 300 << " ms";
    EXPECT_EQ(put_segment(origin_->port, n, body).status, 201);
    crowd.finish(put_ms + 15'000);
    const int64_t origin_requests = origin_delivery_requests(origin_->port) - before;
    size_t ok = 0, answered_after_put = 0;
    int64_t slowest_ms = 0;
    for (const auto& v : crowd.viewers) {
      ok += Crowd::status(v) == 200 && Crowd::body(v) == body;
      answered_after_put += v.done && v.done_ms >= put_ms;
      slowest_ms = std::max(slowest_ms, v.done_ms - put_ms);
    }
    std::printf("[%s] %zu viewers asked for segment %lld %lld ms before its PUT (all sent %lld ms before): "
                "%lld origin request(s), %zu answered 200 with the published bytes, the last %lld ms after the PUT\n",
                cache.c_str(), kViewers, static_cast<long long>(n), static_cast<long long>(put_ms - crowd.viewers[0].sent_ms),
                static_cast<long long>(put_ms - all_sent_ms), static_cast<long long>(origin_requests), ok,
                static_cast<long long>(slowest_ms));
    EXPECT_EQ(origin_requests, 1) << cache << ": the crowd was not collapsed into one held origin request";
    EXPECT_EQ(ok, kViewers);
    EXPECT_EQ(answered_after_put, kViewers) << "a viewer was answered before the segment existed";
    return seg_path(n);
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<OriginProcess> origin_;
  std::unique_ptr<Varnish> varnish_;
  std::unique_ptr<Nginx> nginx_;
};

TEST_F(RealCdn, VarnishCollapsesAThousandViewersIntoOneHeldOriginRequest) {
  const int64_t fetches_before = varnish_->stat("MAIN.backend_req");
  coalesce_held_request(varnish_->port, "varnish");
  // Varnish's own count agrees: one fetch for the whole crowd.
  EXPECT_EQ(varnish_->stat("MAIN.backend_req") - fetches_before, 1);
}

TEST_F(RealCdn, NginxCollapsesAThousandViewersIntoOneHeldOriginRequest) {
  const std::string path = coalesce_held_request(nginx_->port, "nginx");
  // nginx's own log agrees: one MISS (the lock holder); the others read what it stored.
  EXPECT_EQ(nginx_->log_lines(path).size(), 1000u);
  EXPECT_EQ(nginx_->count(path, "MISS"), 1);
  EXPECT_EQ(nginx_->count(path, "HIT"), 999);
}

// Both caches watched at once, each by its own viewer thread.
std::pair<CacheLife, CacheLife> watch_both(uint16_t varnish_port, uint16_t nginx_port, const std::string& path,
                                           int status, int64_t limit_ms) {
  CacheLife v, g;
  std::thread tv([&] { v = watch_cache_life(varnish_port, path, status, limit_ms); });
  std::thread tg([&] { g = watch_cache_life(nginx_port, path, status, limit_ms); });
  tv.join();
  tg.join();
  return {v, g};
}

// Checks a watched life against the TTL the origin gave: cached (hits) and never used past
// `first_ms + ttl_ms` (an upper bound of the origin's intended expiry); expired no more
// than `early_ms_max` before it.
void expect_life(const CacheLife& life, const std::string& cache, int64_t early_ms_max) {
  const int64_t intended = life.first_ms + life.ttl_ms;
  std::printf("[%s] TTL %lld ms: last hit sent %lld ms after the fill, first miss %lld ms after (%+lld ms against the TTL), "
              "%lld hits\n",
              cache.c_str(), static_cast<long long>(life.ttl_ms), static_cast<long long>(life.last_hit_sent_ms - life.first_ms),
              static_cast<long long>(life.first_miss_sent_ms - life.first_ms),
              static_cast<long long>(life.first_miss_sent_ms - intended), static_cast<long long>(life.hits));
  EXPECT_GE(life.hits, 5) << cache << " did not cache it";
  EXPECT_GT(life.first_miss_sent_ms, 0) << cache << " still served it from the cache long after its TTL";
  EXPECT_LT(life.last_hit_sent_ms, intended) << cache << " served it past its TTL";
  EXPECT_GE(life.first_miss_sent_ms, intended - early_ms_max) << cache << " dropped it too early";
}

// Varnish reads max-age-ms (a millisecond TTL); nginx counts whole seconds of its clock,
// and X-Accel-Expires ends its copy on the last whole second before the TTL ends.
constexpr int64_t kVarnishEarlyMsMax = 100;
constexpr int64_t kNginxEarlyMsMax = 1100;

TEST_F(RealCdn, ADefectiveLiveSegmentIsCachedForItsMillisecondTtlByBoth) {
  // A defective copy with no other pipeline live is served at once, with TTL d (3.5 s):
  // long enough to show hits, short enough to see it expire.
  const int64_t n = edge_now();
  ASSERT_EQ(put_segment(origin_->port, n, std::string(50'000, 'd'), "missing-frames=3").status, 201);
  const std::string path = seg_path(n);
  const int64_t requests_before = origin_delivery_requests(origin_->port);
  const int64_t varnish_hits_before = varnish_->stat("MAIN.cache_hit");
  const auto [v, g] = watch_both(varnish_->port, nginx_->port, path, 200, kD + 3000);
  EXPECT_EQ(v.ttl_ms, kD);
  EXPECT_EQ(g.ttl_ms, kD);
  expect_life(v, "varnish", kVarnishEarlyMsMax);
  expect_life(g, "nginx", kNginxEarlyMsMax);
  // The caches' own counters: every hit the viewer saw is one of theirs.
  EXPECT_EQ(varnish_->stat("MAIN.cache_hit") - varnish_hits_before, v.hits);
  EXPECT_EQ(nginx_->count(path, "HIT"), g.hits);
  // The origin saw each cache twice: the fill and the refresh after the TTL (nginx
  // revalidates with If-None-Match).
  EXPECT_EQ(origin_delivery_requests(origin_->port) - requests_before, 4);
}

TEST_F(RealCdn, ANotYet404IsCachedNoLongerThanItsTtlAndItsRetryIsHeld) {
  // The first number whose not-yet TTL (avail(n) - hold_window - now) is at least 1.5 s.
  int64_t n = edge_now() + 2;
  while (avail_ms(n) - kD - wall_ms() < 1500) ++n;
  const std::string path = seg_path(n);
  const int64_t holds_before = origin_metric(origin_->port, "liveorigin_holds_total");
  const auto [v, g] = watch_both(varnish_->port, nginx_->port, path, 404, kD + 3000);
  for (const auto* life : {&v, &g}) {
    EXPECT_GT(life->ttl_ms, 1000);
    EXPECT_LE(life->ttl_ms, 1500 + kD);
  }
  expect_life(v, "varnish", kVarnishEarlyMsMax);
  expect_life(g, "nginx", kNginxEarlyMsMax);
  // Varnish's first request after the TTL landed in the hold window: the origin held it.
  // nginx's may come up to a second early, before the window, and get a last not-yet.
  const int64_t holds = origin_metric(origin_->port, "liveorigin_holds_total") - holds_before;
  std::printf("origin holds started by the caches' first requests after the TTL: %lld\n", static_cast<long long>(holds));
  EXPECT_GE(holds, 1);
}

// `liveorigin purge-follow` for one cache, as an operator runs it next to the cache.
class PurgeFollower {
 public:
  PurgeFollower(const TempDir& dir, const std::string& origin_url, const std::string& kind, const std::string& cache_url,
                int64_t interval_ms) {
    process_ = std::make_unique<Process>(
        std::vector<std::string>{LIVEORIGIN_BINARY, "purge-follow", "--origin", origin_url, "--event", "ev",
                                 "--" + kind, cache_url, "--interval-ms", std::to_string(interval_ms)},
        dir / ("purge-" + kind + ".log"));
    for (int i = 0; i < 500 && process_->log().find("following") == std::string::npos; ++i) {
      std::this_thread::sleep_for(10ms);
    }
    if (process_->log().find("following") == std::string::npos) ADD_FAILURE() << process_->log_tail();
  }
  ~PurgeFollower() {
    process_->kill(SIGTERM);
    if (process_->wait_exit(3s) != 0) ADD_FAILURE() << "purge-follow did not stop cleanly:\n" << process_->log_tail();
  }
  std::string log() const { return process_->log(); }

 private:
  std::unique_ptr<Process> process_;
};

struct Seen {
  int64_t after_ms = -1;  // from the invalidation to the first viewer answer with the new copy
  int64_t errors = 0;     // answers that were neither copy
  int64_t answers = 0;
};

// A viewer polling `path` through a cache every 20 ms until it gets `body` with
// `version`, for at most `limit_ms` after `since_ms`.
Seen watch_for_copy(uint16_t cache_port, const std::string& path, const std::string& body, const std::string& old_body,
                    const std::string& version, int64_t since_ms, int64_t limit_ms) {
  Seen seen;
  HttpClient c(cache_port);
  while (wall_ms() < since_ms + limit_ms) {
    const HttpResponse r = c.get(path);
    ++seen.answers;
    if (r.status == 200 && r.body == body && r.header("Live-Version") == version) {
      seen.after_ms = wall_ms() - since_ms;
      break;
    }
    if (r.status != 200 || (r.body != body && r.body != old_body)) ++seen.errors;
    if (!r.keep_alive || r.status == 0) c = HttpClient(cache_port);
    std::this_thread::sleep_for(20ms);
  }
  return seen;
}

HttpResponse invalidate(uint16_t origin_port, const std::string& json) {
  HttpClient c(origin_port);
  return c.request("POST", "/admin/invalidate", {{"Authorization", "Bearer admin-secret"}}, json);
}

TEST_F(RealCdn, PurgeFollowCarriesInvalidationsToViewersBehindVarnishAndNginx) {
  constexpr int64_t kIntervalMs = 200;
  // The bound this test states: a poll interval, plus d for the purge and the refill.
  constexpr int64_t kBoundMs = kIntervalMs + kD;
  const int64_t n = edge_now();
  const std::string path = seg_path(n);
  const std::string a_copy(100'000, 'A'), b_copy(100'000, 'B');
  ASSERT_EQ(put_segment(origin_->port, n, a_copy).status, 201);
  {
    HttpClient c(origin_->port);
    ASSERT_EQ(c.request("PUT", path, {{"Authorization", "Bearer ingest-secret"}, {"Live-Pipeline", "b"}}, b_copy).status,
              201);
  }
  PurgeFollower to_varnish(*dir_, origin_->url(), "varnish", varnish_->url(), kIntervalMs);
  PurgeFollower to_nginx(*dir_, origin_->url(), "nginx", nginx_->url(), kIntervalMs);
  // Both caches hold a's clean copy for the DVR window (600 s): only a purge replaces it.
  for (uint16_t port : {varnish_->port, nginx_->port}) {
    HttpClient c(port);
    EXPECT_EQ(c.get(path).header("Live-Pipeline"), "a");
    const HttpResponse again = c.get(path);
    EXPECT_EQ(again.header("Liveorigin-Cache"), "HIT");
    EXPECT_EQ(again.body, a_copy);
  }

  // a's copy is found bad: keep a out of n; the origin serves b's with a new version.
  const int64_t t1 = wall_ms();
  HttpResponse inv = invalidate(origin_->port, R"({"event":"ev","stream":"v","from_segment":)" + std::to_string(n) +
                                                   R"(,"to_segment":)" + std::to_string(n) +
                                                   R"(,"pipeline":"a","exclude":true})");
  ASSERT_EQ(inv.status, 200) << inv.body;
  const std::string v1 = std::to_string(admin_version(inv.body));
  Seen sv, sg;
  {
    std::thread tv([&] { sv = watch_for_copy(varnish_->port, path, b_copy, a_copy, v1, t1, kBoundMs + 5000); });
    std::thread tg([&] { sg = watch_for_copy(nginx_->port, path, b_copy, a_copy, v1, t1, kBoundMs + 5000); });
    tv.join();
    tg.join();
  }
  std::printf("invalidation of a's copy (version %s) reached viewers through varnish in %lld ms, through nginx in "
              "%lld ms (bound %lld ms; poll interval %lld ms)\n",
              v1.c_str(), static_cast<long long>(sv.after_ms), static_cast<long long>(sg.after_ms),
              static_cast<long long>(kBoundMs), static_cast<long long>(kIntervalMs));
  for (const auto& [seen, cache] : {std::pair{sv, "varnish"}, std::pair{sg, "nginx"}}) {
    EXPECT_GE(seen.after_ms, 0) << cache << ": viewers still get a's copy";
    EXPECT_LE(seen.after_ms, kBoundMs) << cache;
    EXPECT_EQ(seen.errors, 0) << cache << ": a viewer saw an error or other bytes meanwhile";
  }

  // An invalidation of the whole event (every stream, no range, no pipeline): each
  // cache's whole window is purged, and n is served again with the next version.
  const int64_t t2 = wall_ms();
  inv = invalidate(origin_->port, R"({"event":"ev"})");
  ASSERT_EQ(inv.status, 200) << inv.body;
  const std::string v2 = std::to_string(admin_version(inv.body));
  {
    std::thread tv([&] { sv = watch_for_copy(varnish_->port, path, b_copy, a_copy, v2, t2, kBoundMs + 5000); });
    std::thread tg([&] { sg = watch_for_copy(nginx_->port, path, b_copy, a_copy, v2, t2, kBoundMs + 5000); });
    tv.join();
    tg.join();
  }
  std::printf("invalidation of the whole event (version %s) reached viewers through varnish in %lld ms, through nginx "
              "in %lld ms\n",
              v2.c_str(), static_cast<long long>(sv.after_ms), static_cast<long long>(sg.after_ms));
  for (const auto& [seen, cache] : {std::pair{sv, "varnish"}, std::pair{sg, "nginx"}}) {
    EXPECT_GE(seen.after_ms, 0) << cache << ": viewers still get the old version";
    EXPECT_LE(seen.after_ms, kBoundMs) << cache;
    EXPECT_EQ(seen.errors, 0) << cache;
  }
  EXPECT_NE(to_varnish.log().find("varnish BAN v"), std::string::npos) << to_varnish.log();
  EXPECT_NE(to_nginx.log().find("nginx refreshed"), std::string::npos) << to_nginx.log();
}

}  // namespace
}  // namespace liveorigin::testing
