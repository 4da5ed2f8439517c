#include "sim/child_process.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace liveorigin::sim {

Result<bool> ChildProcess::start(const std::vector<std::string>& argv, const std::string& log_path) {
  kill(9);
  log_path_ = log_path;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  std::vector<std::string> copy = argv;
  std::vector<char*> args;
  for (auto& a : copy) args.push_back(a.data());
  args.push_back(nullptr);
  const int rc = posix_spawn(&pid_, copy[0].c_str(), &actions, &attr, args.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    pid_ = -1;
    return make_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  }
  exited_ = false;
  return true;
}

bool ChildProcess::reap(bool block) {
  if (pid_ <= 0 || exited_) return true;
  int status = 0;
  if (::waitpid(pid_, &status, block ? 0 : WNOHANG) != pid_) return false;
  exited_ = true;
  code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  ::kill(-pid_, SIGKILL);  // what it left behind in its group
  return true;
}

bool ChildProcess::running() { return pid_ > 0 && !reap(false); }

void ChildProcess::kill(int signal) {
  if (pid_ <= 0 || exited_) return;
  ::kill(-pid_, signal);
  if (signal == SIGKILL) reap(true);
}

int ChildProcess::wait_exit(std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (reap(false)) return code_;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return reap(false) ? code_ : -1;
}

std::string ChildProcess::log() const {
  std::ifstream in(log_path_);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

int run_program(const std::vector<std::string>& argv, std::string& output, std::chrono::milliseconds limit) {
  char path[] = "/tmp/liveorigin-run-XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) return -1;
  ::close(fd);
  ChildProcess p;
  if (!p.start(argv, path)) {
    ::unlink(path);
    return -1;
  }
  int code = p.wait_exit(limit);
  if (code < 0) {
    p.kill(SIGKILL);
    code = -1;
  }
  output = p.log();
  ::unlink(path);
  return code;
}

std::string find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string p = dir + "/" + name;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return "";
}

namespace {
bool bindable(uint16_t port) {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  const bool ok = ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(s);
  return ok;
}
}  // namespace

uint16_t free_port(uint16_t bus_offset) {
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    if (s < 0 || ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      if (s >= 0) ::close(s);
      continue;
    }
    const uint16_t port = ntohs(a.sin_port);
    ::close(s);
    if (bus_offset == 0) return port;
    if (port + bus_offset <= 65535 && bindable(static_cast<uint16_t>(port + bus_offset))) return port;
  }
  return 0;
}

}  // namespace liveorigin::sim
