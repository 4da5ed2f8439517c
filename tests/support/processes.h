// Real programs as child processes, for the tests that prove the origin against
// software nobody here wrote: `liveorigin serve` itself, ffmpeg as a packager, Chromium
// as a player. Every child runs in its own process group (Chromium starts helpers) with
// its output in a log file, is killed with its group when its owner goes, and every
// wait is bounded.
#pragma once

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace liveorigin::testing {

namespace fs = std::filesystem;

inline int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Sleeps until the wall clock reaches `epoch_ms` (returns at once if it has).
inline void sleep_until_ms(int64_t epoch_ms) {
  const int64_t left = epoch_ms - wall_ms();
  if (left > 0) std::this_thread::sleep_for(std::chrono::milliseconds(left));
}

// The full path of `name` on PATH, or "" if it is not installed.
inline std::string find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const fs::path p = fs::path(dir) / name;
    if (::access(p.c_str(), X_OK) == 0) return p.string();
  }
  return "";
}

// A scratch directory removed with its contents at the end of the test.
class TempDir {
 public:
  explicit TempDir(const std::string& name) {
    path_ = fs::temp_directory_path() / ("liveorigin-" + name + "-" + std::to_string(::getpid()) + "-" +
                                         std::to_string(wall_ms()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    if (!std::getenv("LIVEORIGIN_KEEP_TEST_FILES")) fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

class Process {
 public:
  // Starts `argv[0]` (a full path) with its stdout and stderr in `log`.
  Process(std::vector<std::string> argv, fs::path log) : log_(std::move(log)) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);  // its own group, so its helpers go with it
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    const int rc = posix_spawn(&pid_, argv[0].c_str(), &actions, &attr, args.data(), environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      ADD_FAILURE() << "cannot start " << argv[0] << ": " << std::strerror(rc);
      pid_ = -1;
    }
  }
  ~Process() { kill(SIGKILL); }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running() {
    reap(false);
    return pid_ > 0 && !exited_;
  }

  // Signals the process group and, for SIGKILL, waits for the process.
  void kill(int sig) {
    if (pid_ <= 0 || exited_) return;
    ::kill(-pid_, sig);
    if (sig == SIGKILL) reap(true);
  }

  // Exit code (128 + signal when killed by one), or -1 if still running after `limit`.
  int wait_exit(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (reap(false)) return code_;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return reap(false) ? code_ : -1;
  }

  std::string log() const {
    std::ifstream in(log_);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  // The last `bytes` of the log, for failure messages.
  std::string log_tail(size_t bytes = 3000) const {
    std::string text = log();
    return text.size() > bytes ? text.substr(text.size() - bytes) : text;
  }

 private:
  // Records the exit (waiting for it when `block`); true once it exited.
  bool reap(bool block) {
    if (pid_ <= 0) return false;
    if (exited_) return true;
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
    if (r != pid_) return false;
    exited_ = true;
    code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    ::kill(-pid_, SIGKILL);  // helpers it left behind in its group
    return true;
  }

  pid_t pid_ = -1;
  bool exited_ = false;
  int code_ = -1;
  fs::path log_;
};

// `liveorigin serve` on 127.0.0.1 with the given config (its `listen` is replaced by
// 127.0.0.1:0), as an operator runs it.
class OriginProcess {
 public:
  // `name` names its config and log files in `dir` (several instances share a dir).
  OriginProcess(const TempDir& dir, const std::string& yaml, const std::string& name = "origin") {
    const fs::path config = dir / (name + ".yaml");
    std::ofstream(config) << "listen: 127.0.0.1:0\nthreads: 2\n" << yaml;
    process_ = std::make_unique<Process>(
        std::vector<std::string>{LIVEORIGIN_BINARY, "serve", "--config", config.string()}, dir / (name + ".log"));
    const std::regex re(R"(listening on [0-9.]+:(\d+))");
    for (int i = 0; i < 500 && port == 0; ++i) {
      std::smatch m;
      const std::string text = process_->log();
      if (std::regex_search(text, m, re)) port = static_cast<uint16_t>(std::stoi(m[1]));
      if (port == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (port == 0) ADD_FAILURE() << "liveorigin did not start:\n" << process_->log();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
  std::string log() const { return process_->log(); }
  Process& process() { return *process_; }

  uint16_t port = 0;

 private:
  std::unique_ptr<Process> process_;
};

// One ffmpeg pipeline, as a real packaging pipeline runs: it encodes a test source (a picture
// and a tone) and pushes DASH with -method PUT into the origin, one DASH output per
// liveorigin stream (`video`, `audio`), with ffmpeg's default object names
// (init-stream0.m4s, chunk-stream0-$Number%05d$.m4s, manifest.mpd).
struct FfmpegPipeline {
  std::string origin_url;  // http://127.0.0.1:port
  std::string event;
  std::string pipeline;          // a, b, ...
  std::string token = "ingest-secret";
  bool persistent = true;        // -http_persistent 1 (else 0: a connection per object)
  bool path_form = false;        // /ingest/{pipeline}/{token}/... instead of headers
  int64_t media_offset_s = 0;    // a restarted pipeline continues the event's timeline
  int64_t seconds = 60;          // stops by itself after this much media
  std::string size = "320x240";

  std::vector<std::string> argv(const std::string& ffmpeg) const {
    const std::string base = path_form ? origin_url + "/ingest/" + pipeline + "/" + token + "/" + event
                                       : origin_url + "/live/" + event;
    std::vector<std::string> dash = {"-f", "dash", "-seg_duration", "2", "-use_timeline", "0", "-use_template", "1",
                                     "-method", "PUT", "-http_persistent", persistent ? "1" : "0",
                                     "-fflags", "+bitexact"};
    if (!path_form) {
      // An ffmpeg dictionary: ':' escaped, each header ending with CR LF.
      dash.insert(dash.end(), {"-http_opts", "headers=Live-Pipeline\\: " + pipeline + "\r\nAuthorization\\: Bearer " +
                                                 token + "\r\n"});
    }
    if (media_offset_s > 0) {
      // ffmpeg 5.1's DASH muxer starts tfdt at 0 whatever the input: only
      // -output_ts_offset together with the mp4 muxer's frag_discont moves it.
      dash.insert(dash.end(), {"-output_ts_offset", std::to_string(media_offset_s), "-format_options",
                               "movflags=+frag_discont"});
    }
    std::vector<std::string> a = {ffmpeg, "-hide_banner", "-loglevel", "warning", "-nostdin",
                                  "-re", "-f", "lavfi", "-i", "testsrc2=size=" + size + ":rate=25",
                                  "-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
                                  "-t", std::to_string(seconds),
                                  "-map", "0:v", "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency",
                                  "-pix_fmt", "yuv420p", "-b:v", "400k", "-g", "50", "-keyint_min", "50",
                                  "-sc_threshold", "0", "-threads", "1"};
    a.insert(a.end(), dash.begin(), dash.end());
    a.push_back(base + "/video/manifest.mpd");
    a.insert(a.end(), {"-map", "1:a", "-c:a", "aac", "-b:a", "64k", "-ac", "2", "-t", std::to_string(seconds)});
    a.insert(a.end(), dash.begin(), dash.end());
    a.push_back(base + "/audio/manifest.mpd");
    return a;
  }
};

// The event both ffmpeg pipelines publish into: ffmpeg numbers segments from 1 at its
// own start, so both start at `t0_ms` (a 2 s boundary), which is the streams'
// availability_start_ms, with start_number 1. A restarted pipeline gets its
// number_offset. Segments arrive ~0.3 s after their media ends; publish_latency_ms
// 1000 leaves room for a loaded machine.
inline std::string ffmpeg_event_json(const std::string& event, int64_t t0_ms, int64_t offset_a = 0,
                                     int64_t offset_b = 0) {
  std::string streams;
  for (const char* id : {"video", "audio"}) {
    if (!streams.empty()) streams += ", ";
    streams += std::string("{\"id\": \"") + id +
               "\", \"segment_duration_ms\": 2000, \"start_number\": 1, \"availability_start_ms\": " +
               std::to_string(t0_ms) +
               ", \"publish_latency_ms\": 1000, \"segment_template\": \"chunk-stream0-$Number%05d$.m4s\"}";
  }
  return "{\"id\": \"" + event + "\", \"dvr_window_s\": 600, \"pipelines\": [{\"id\": \"a\", \"number_offset\": " +
         std::to_string(offset_a) + "}, {\"id\": \"b\", \"number_offset\": " + std::to_string(offset_b) +
         "}], \"streams\": [" + streams + "]}";
}

inline const char* kRealClientsAuth = "auth: {ingest_tokens: [ingest-secret], admin_tokens: [admin-secret]}\n";

// A 2 s boundary at least `lead_ms` from now.
inline int64_t next_boundary_ms(int64_t lead_ms) { return (wall_ms() + lead_ms + 1999) / 2000 * 2000; }

}  // namespace liveorigin::testing
