// A program the harness runs beside itself — `liveorigin serve` instances, redis-server
// nodes — each in its own process group, its output in a log file, killed with its
// group when its owner goes. Every wait is bounded.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "origin/core/result.h"

namespace liveorigin::sim {

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess() { kill(9); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts `argv[0]` (a full path) with stdout and stderr appended to `log_path`.
  // Errors: "cannot start <program>: <why>".
  Result<bool> start(const std::vector<std::string>& argv, const std::string& log_path);
  bool running();
  // Signals the process group; for SIGKILL (9) also waits for the exit.
  void kill(int signal);
  // The exit code (128 + signal when killed), or -1 if still running after `limit`.
  int wait_exit(std::chrono::milliseconds limit);
  std::string log() const;
  pid_t pid() const { return pid_; }

 private:
  bool reap(bool block);

  pid_t pid_ = -1;
  bool exited_ = true;
  int code_ = -1;
  std::string log_path_;
};

// Runs a program to completion (at most `limit`) and returns its exit code, with its
// output in `output`. For redis-cli.
int run_program(const std::vector<std::string>& argv, std::string& output, std::chrono::milliseconds limit);

// The full path of `name` on PATH, or "" when it is not installed.
std::string find_on_path(const std::string& name);

// A loopback port nothing listens on now (and, with `bus_offset`, neither on port +
// bus_offset: a Redis Cluster node's bus).
uint16_t free_port(uint16_t bus_offset = 0);

}  // namespace liveorigin::sim
