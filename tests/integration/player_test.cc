// A real player in a real browser: Debian's Chromium, headless, plays the origin's
// generated MPD with dash.js (vendored by `npm ci` into tests/assets/player) while two
// ffmpeg pipelines publish; pipeline a's encoder is killed mid-playback. What is
// asserted comes from the player itself: its events (playing, waiting, buffer
// empty/loaded, errors) and the Live-Pipeline header of every segment it loaded.
//
// The page is served from another port than the origin, as a real page on another
// site would be (the origin answers with CORS), by a small server in this test that
// also receives the player's report and holds the page's load event open so that
// `chromium --screenshot` takes its picture mid-playback.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <condition_variable>
#include <iostream>
#include <mutex>

#include <boost/json.hpp>

#include "tests/support/http_client.h"
#include "tests/support/processes.h"

namespace liveorigin::testing {
namespace {

constexpr const char* kEvent = "play";

// Serves the player's files, takes its report (POST /report) and answers GET /gate
// only once release() was called. One request per connection; bounded reads.
class PageServer {
 public:
  explicit PageServer(fs::path root) : root_(std::move(root)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 64) != 0) {
      ADD_FAILURE() << "page server: cannot listen";
      return;
    }
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~PageServer() {
    stop_ = true;
    release();
    if (acceptor_.joinable()) acceptor_.join();
    for (auto& t : connections_) t.join();
    if (fd_ >= 0) ::close(fd_);
  }

  void release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  // The report, once posted within `limit`; "" otherwise.
  std::string wait_report(std::chrono::milliseconds limit) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, limit, [&] { return !report_.empty(); });
    return report_;
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }

  uint16_t port = 0;

 private:
  void accept_loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      connections_.emplace_back([this, c] {
        serve(c);
        ::close(c);
      });
    }
  }

  // Reads until `want` bytes or the head's end; false on timeout or close.
  static bool read_some(int c, std::string& buf, const std::atomic<bool>& stop) {
    pollfd p{c, POLLIN, 0};
    for (int i = 0; i < 100 && !stop; ++i) {  // 10 s at most
      if (::poll(&p, 1, 100) > 0) {
        char tmp[8192];
        const ssize_t n = ::recv(c, tmp, sizeof tmp, 0);
        if (n <= 0) return false;
        buf.append(tmp, static_cast<size_t>(n));
        return true;
      }
    }
    return false;
  }

  void serve(int c) {
    std::string req;
    while (req.find("\r\n\r\n") == std::string::npos) {
      if (req.size() > 65536 || !read_some(c, req, stop_)) return;
    }
    const size_t head_end = req.find("\r\n\r\n") + 4;
    const std::string method = req.substr(0, req.find(' '));
    std::string path = req.substr(method.size() + 1, req.find(' ', method.size() + 1) - method.size() - 1);
    path = path.substr(0, path.find('?'));
    auto respond = [&](int status, const std::string& type, const std::string& body) {
      std::string out = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: " + type +
                        "\r\nContent-Length: " + std::to_string(body.size()) +
                        "\r\nAccess-Control-Allow-Origin: *\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n" +
                        body;
      for (size_t off = 0; off < out.size();) {
        const ssize_t n = ::send(c, out.data() + off, out.size() - off, MSG_NOSIGNAL);
        if (n <= 0) return;
        off += static_cast<size_t>(n);
      }
    };
    if (method == "POST" && path == "/report") {
      const auto cl = req.find("Content-Length: ");
      const size_t length = cl == std::string::npos ? 0 : std::stoul(req.substr(cl + 16));
      std::string body = req.substr(head_end);
      while (body.size() < length && body.size() < (8u << 20)) {
        if (!read_some(c, body, stop_)) return;
      }
      {
        std::lock_guard lock(mu_);
        report_ = body.substr(0, length);
        cv_.notify_all();
      }
      return respond(204, "text/plain", "");
    }
    if (path == "/gate") {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return released_; });
      lock.unlock();
      return respond(404, "text/plain", "released");
    }
    if (path.find("..") != std::string::npos || path.size() < 2) return respond(404, "text/plain", "no");
    std::ifstream in(root_ / path.substr(1), std::ios::binary);
    if (!in) return respond(404, "text/plain", "not found");
    const std::string body((std::istreambuf_iterator<char>(in)), {});
    const std::string type = path.ends_with(".html") ? "text/html; charset=utf-8"
                             : path.ends_with(".js") ? "text/javascript"
                                                     : "application/octet-stream";
    respond(200, type, body);
  }

  fs::path root_;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::vector<std::thread> connections_;  // joined at the end (the acceptor alone adds)
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
  std::string report_;
};

HttpResponse admin(uint16_t port, const std::string& method, const std::string& target, const std::string& body = "") {
  HttpClient c(port);
  return c.request(method, target, {{"Authorization", "Bearer admin-secret"}}, body);
}

TEST(Player, DashJsInChromiumPlaysThroughTheLossOfPipelineA) {
  const std::string ffmpeg = find_program("ffmpeg");
  const std::string chromium = find_program("chromium");
  ASSERT_FALSE(ffmpeg.empty()) << "ffmpeg is not installed: run ./scripts/setup";
  ASSERT_FALSE(chromium.empty()) << "chromium is not installed: run ./scripts/setup";
  const fs::path assets = fs::path(LIVEORIGIN_SOURCE_DIR) / "tests/assets/player";
  ASSERT_TRUE(fs::exists(assets / "node_modules/dashjs/dist/modern/umd/dash.all.min.js"))
      << "dash.js is not vendored: run ./scripts/setup (npm ci in tests/assets/player)";

  TempDir dir("player");
  OriginProcess origin(dir, kRealClientsAuth);
  ASSERT_NE(origin.port, 0);
  const int64_t t0 = next_boundary_ms(1500);
  ASSERT_EQ(admin(origin.port, "PUT", std::string("/admin/events/") + kEvent, ffmpeg_event_json(kEvent, t0)).status,
            201);
  FfmpegPipeline a{origin.url(), kEvent, "a"};
  FfmpegPipeline b{origin.url(), kEvent, "b"};
  b.persistent = false;
  b.path_form = true;
  sleep_until_ms(t0);
  Process proc_a(a.argv(ffmpeg), dir / "ffmpeg-a.log");
  Process proc_b(b.argv(ffmpeg), dir / "ffmpeg-b.log");

  // The player starts once two segments are out (6 s), plays for 20 s.
  PageServer page(assets);
  ASSERT_NE(page.port, 0);
  const char* keep = std::getenv("LIVEORIGIN_PLAYER_SCREENSHOT");
  const fs::path screenshot = keep ? fs::path(keep) : dir / "player.png";
  const std::string url = page.url() + "/index.html?seconds=20&mpd=" + origin.url() + "/live/" + kEvent +
                          "/_dash.mpd&report=" + page.url() + "/report&hold_load=" + page.url() + "/gate";
  sleep_until_ms(t0 + 6000);
  const int64_t browser_started = wall_ms();
  Process browser({chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                   "--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-extensions",
                   "--no-first-run", "--no-default-browser-check", "--user-data-dir=" + (dir / "profile").string(),
                   "--autoplay-policy=no-user-gesture-required", "--mute-audio", "--window-size=1280,720",
                   // No network but loopback: every other name resolves to nothing.
                   "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                   "--screenshot=" + screenshot.string(), url},
                  dir / "chromium.log");

  // Pipeline a's encoder dies about 8 s into playback.
  sleep_until_ms(t0 + 16000);
  proc_a.kill(SIGKILL);
  const int64_t killed = wall_ms();

  const std::string text = page.wait_report(std::chrono::seconds(60));
  // Let the page's load event fire: Chromium takes the screenshot (mid-playback) and exits.
  page.release();
  const int browser_exit = browser.wait_exit(std::chrono::seconds(20));
  const std::string logs = "\n--- chromium\n" + browser.log_tail() + "\n--- origin\n" + origin.log();
  ASSERT_FALSE(text.empty()) << "the player sent no report within 60 s" << logs;
  EXPECT_EQ(browser_exit, 0) << logs;

  const auto report = boost::json::parse(text).as_object();
  const auto& errors = report.at("errors").as_array();
  EXPECT_TRUE(errors.empty()) << boost::json::serialize(errors);
  ASSERT_FALSE(report.at("started_ms").is_null()) << text;
  const double played = report.at("played_s").to_number<double>();
  const int64_t longest = report.at("longest_stall_ms").to_number<int64_t>();
  EXPECT_GE(played, 19.5) << text;
  // No stall longer than one segment.
  EXPECT_LT(longest, 2000) << boost::json::serialize(report.at("stalls"));

  // Every segment the player loaded, and which pipeline's copy it got.
  std::map<std::string, std::string> by_media;  // "aaaabbbbb"
  std::string switched_at;
  for (const auto& v : report.at("segments").as_array()) {
    const auto& s = v.as_object();
    if (!s.at("type").is_string() || s.at("type").as_string() != "MediaSegment") {
      EXPECT_EQ(s.at("status").to_number<int>(), 200) << boost::json::serialize(s);
      continue;
    }
    EXPECT_EQ(s.at("status").to_number<int>(), 200) << boost::json::serialize(s);
    const std::string media(s.at("media").as_string());
    const std::string p = s.at("pipeline").is_string() ? std::string(s.at("pipeline").as_string()) : "-";
    if (media == "video" && p == "b" && switched_at.empty()) switched_at = std::string(s.at("url").as_string());
    by_media[media] += p;
  }
  std::cout << "[ player   ] dash.js " << std::string(report.at("dashjs").as_string()) << " played " << played
            << " s; stalls after start: " << report.at("stalls").as_array().size() << ", longest " << longest
            << " ms; segments by pipeline: video " << by_media["video"] << ", audio " << by_media["audio"]
            << "; first from b: " << switched_at << " (a killed " << (killed - browser_started)
            << " ms after the browser started)" << std::endl;
  for (const char* media : {"video", "audio"}) {
    SCOPED_TRACE(media);
    const std::string& p = by_media[media];
    // Served from a while it was up, then from b: one switch, and nothing missing.
    const size_t first_b = p.find('b');
    ASSERT_NE(first_b, std::string::npos) << p;
    EXPECT_GE(first_b, 2u) << p;
    EXPECT_EQ(p.find_first_not_of('a'), first_b) << p;
    EXPECT_EQ(p.find_first_not_of('b', first_b), std::string::npos) << p;
    EXPECT_GE(p.size() - first_b, 3u) << p;
  }
  EXPECT_NE(report.at("mse_support").at("video/mp4; codecs=\"avc1.64000d\"").as_bool(), false);

  // The screenshot: a PNG of the page mid-playback.
  std::ifstream png(screenshot, std::ios::binary);
  std::string head(8, '\0');
  png.read(head.data(), 8);
  EXPECT_EQ(head, std::string("\x89PNG\r\n\x1a\n", 8)) << screenshot;
  EXPECT_GT(fs::exists(screenshot) ? fs::file_size(screenshot) : 0, 20000u);
}

}  // namespace
}  // namespace liveorigin::testing
