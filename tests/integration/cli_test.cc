// `liveorigin serve` as an operator runs it: a child process, its config file,
// its log line, SIGTERM.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "tests/support/http_client.h"
#include "tests/support/processes.h"


namespace liveorigin::testing {
namespace {

namespace fs = std::filesystem;

// `liveorigin` with these arguments, its output in a scratch directory.
class Child {
 public:
  explicit Child(std::vector<std::string> args) : dir_("cli"), process_(with_binary(std::move(args)), dir_ / "liveorigin.log") {}

  std::string log() const { return process_.log(); }

  // The port from the "listening on host:port" line, 0 if it did not appear in time.
  uint16_t wait_for_port() {
    const std::regex re(R"(listening on [0-9.]+:(\d+))");
    for (int i = 0; i < 500; ++i) {
      std::smatch m;
      const std::string text = log();
      if (std::regex_search(text, m, re)) return static_cast<uint16_t>(std::stoi(m[1]));
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return 0;
  }

  // Exit code, or -1 if still running after `limit`.
  int wait_exit(std::chrono::milliseconds limit) { return process_.wait_exit(limit); }
  void signal(int sig) { process_.kill(sig); }
  pid_t pid() const { return process_.pid(); }

 private:
  static std::vector<std::string> with_binary(std::vector<std::string> args) {
    args.insert(args.begin(), LIVEORIGIN_BINARY);
    return args;
  }
  TempDir dir_;  // outlives the process writing into it
  Process process_;
};

fs::path write_config(const std::string& name, const std::string& text) {
  fs::path p = fs::temp_directory_path() / (name + "-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(p) << text;
  return p;
}

const char* kConfig = R"(listen: 127.0.0.1:0
threads: 2
drain_ms_max: 600
auth:
  ingest_tokens: [ingest-secret]
  admin_tokens: [admin-secret]
events:
  - id: final
    pipelines: [a, b]
    streams:
      - id: video
        segment_duration_ms: 2000
)";

TEST(CliServe, StartsFromItsConfigAndExitsAtOnceOnSigtermWhenIdle) {
  const fs::path config = write_config("serve-idle", kConfig);
  Child child({"serve", "--config", config.string()});
  const uint16_t port = child.wait_for_port();
  ASSERT_NE(port, 0) << child.log();
  EXPECT_EQ(http_request(port, "GET", "/healthz").status, 200);
  EXPECT_EQ(http_request(port, "GET", "/live/final/_timeline").status, 200);
  const auto start = std::chrono::steady_clock::now();
  child.signal(SIGTERM);
  EXPECT_EQ(child.wait_exit(std::chrono::seconds(5)), 0) << child.log();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
  EXPECT_NE(child.log().find("liveorigin stopped"), std::string::npos);
  fs::remove(config);
}

TEST(CliServe, DrainWaitsForInFlightRequestsAtMostDrainMsMax) {
  const fs::path config = write_config("serve-drain", kConfig);
  Child child({"serve", "--config", config.string()});
  const uint16_t port = child.wait_for_port();
  ASSERT_NE(port, 0) << child.log();
  // A request for the next segment is held (nobody publishes it).
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  HttpClient held(port);
  held.send_raw("GET /live/final/video/" + std::to_string(now_ms / 2000) + ".m4s HTTP/1.1\r\nHost: x\r\n\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto start = std::chrono::steady_clock::now();
  child.signal(SIGTERM);
  const int code = child.wait_exit(std::chrono::seconds(5));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(code, 0) << child.log();
  EXPECT_LT(took, std::chrono::milliseconds(1500));
  // The held request was answered before the exit (404: not yet, or missing once due).
  HttpResponse r = held.read_response(std::chrono::milliseconds(500));
  EXPECT_EQ(r.status, 404);
  fs::remove(config);
}

TEST(CliServe, EmbeddedDefaultConfigAndListenOverride) {
  Child child({"serve", "--listen", "127.0.0.1:0", "--threads", "1"});
  const uint16_t port = child.wait_for_port();
  ASSERT_NE(port, 0) << child.log();
  EXPECT_NE(child.log().find("embedded default config"), std::string::npos);
  HttpResponse tl = http_request(port, "GET", "/live/final/_timeline");
  EXPECT_NE(tl.body.find("video-1080p"), std::string::npos);
  EXPECT_NE(tl.body.find("audio-en"), std::string::npos);
  child.signal(SIGTERM);
  EXPECT_EQ(child.wait_exit(std::chrono::seconds(5)), 0);
}

// Every connection is a descriptor: serve runs with its soft RLIMIT_NOFILE at the hard
// limit, whatever soft limit it was started with, and says so.
TEST(CliServe, RaisesTheSoftOpenFilesLimitToTheHardLimit) {
  rlimit mine{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &mine), 0);
  if (mine.rlim_max == RLIM_INFINITY || mine.rlim_max <= 256) GTEST_SKIP() << "needs a finite hard limit over 256";
  rlimit lowered = mine;
  lowered.rlim_cur = 256;  // inherited by the child
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &lowered), 0);
  Child child({"serve", "--listen", "127.0.0.1:0", "--threads", "1"});
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &mine), 0);
  ASSERT_NE(child.wait_for_port(), 0) << child.log();
  const std::string hard = std::to_string(mine.rlim_max);
  EXPECT_NE(child.log().find("open files: soft limit raised from 256 to " + hard + " (the hard limit)"),
            std::string::npos)
      << child.log();
  std::ifstream limits("/proc/" + std::to_string(child.pid()) + "/limits");
  std::string line;
  std::smatch m;
  bool seen = false;
  while (std::getline(limits, line)) {
    if (!std::regex_search(line, m, std::regex(R"(^Max open files\s+(\S+)\s+(\S+))"))) continue;
    seen = true;
    EXPECT_EQ(m[1].str(), hard) << line;  // soft
    EXPECT_EQ(m[2].str(), hard) << line;
  }
  EXPECT_TRUE(seen);
  child.signal(SIGTERM);
  EXPECT_EQ(child.wait_exit(std::chrono::seconds(5)), 0);
}

TEST(CliServe, BadConfigIsRefusedWithFileLineAndKey) {
  const fs::path config = write_config("serve-bad", R"(listen: 127.0.0.1:0
events:
  - id: final
    pipelines: [a]
    streams:
      - id: video
        segment_duration_ms: two
)");
  Child child({"serve", "--config", config.string()});
  EXPECT_EQ(child.wait_exit(std::chrono::seconds(5)), 2);
  EXPECT_NE(child.log().find(config.string() +
                             ":7:30: events[0].streams[0].segment_duration_ms: expected an integer in [1, 3600000], got 'two'"),
            std::string::npos)
      << child.log();
  fs::remove(config);
}

TEST(CliCheckConfig, DuplicateKeyIsRefusedWithFileLineAndKey) {
  const fs::path config = write_config("check-dup", "listen: 127.0.0.1:0\nthreads: 2\nthreads: 4\n");
  Child child({"check-config", config.string()});
  EXPECT_EQ(child.wait_exit(std::chrono::seconds(5)), 1);
  EXPECT_NE(child.log().find(config.string() + ":3:1: threads: duplicate key 'threads'"), std::string::npos)
      << child.log();
  fs::remove(config);
}

TEST(CliServe, SighupReloadsEventsAndTokensWithoutDroppingConnections) {
  const fs::path config = write_config("serve-hup", kConfig);
  Child child({"serve", "--config", config.string()});
  const uint16_t port = child.wait_for_port();
  ASSERT_NE(port, 0) << child.log();
  HttpClient kept(port);
  ASSERT_EQ(kept.request("GET", "/live/final/_timeline").status, 200);
  EXPECT_EQ(kept.request("GET", "/live/encore/_timeline").status, 404);

  std::string next = kConfig;
  next += R"(  - id: encore
    pipelines: [a]
    streams:
      - id: video
)";
  std::ofstream(config) << next;
  child.signal(SIGHUP);
  bool reloaded = false;
  for (int i = 0; i < 200 && !reloaded; ++i) {
    reloaded = kept.request("GET", "/live/encore/_timeline").status == 200;
    if (!reloaded) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(reloaded) << child.log();
  EXPECT_TRUE(kept.connected());  // the same keep-alive connection throughout
  EXPECT_NE(child.log().find("config reloaded: 1 events created, 1 replaced, 0 deleted"), std::string::npos)
      << child.log();

  // A broken file is refused and the running config stays.
  std::ofstream(config) << "events: [ {id: broken";
  child.signal(SIGHUP);
  for (int i = 0; i < 200 && child.log().find("not reloaded") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_NE(child.log().find("SIGHUP: config not reloaded, the running one stays: " + config.string()),
            std::string::npos)
      << child.log();
  EXPECT_EQ(kept.request("GET", "/live/encore/_timeline").status, 200);
  child.signal(SIGTERM);
  EXPECT_EQ(child.wait_exit(std::chrono::seconds(5)), 0);
  fs::remove(config);
}

TEST(CliServe, PortInUseIsAClearError) {
  // Another program holds the port (without SO_REUSEPORT, so it cannot be shared).
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const std::string listen = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  Child child({"serve", "--listen", listen, "--threads", "1"});
  EXPECT_EQ(child.wait_exit(std::chrono::seconds(5)), 1);
  EXPECT_NE(child.log().find("cannot listen on " + listen + ": Address already in use"), std::string::npos)
      << child.log();
  ::close(fd);
}

}  // namespace
}  // namespace liveorigin::testing
