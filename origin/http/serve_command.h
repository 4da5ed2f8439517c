// `liveorigin serve` and `liveorigin check-config`: the origin as a program — its
// config file (or the embedded default), the store, the server, signals (SIGTERM
// drains, SIGHUP reloads) and the log on stderr.
#pragma once

#include <string>

namespace liveorigin {

struct ServeArgs {
  std::string config_path;  // empty: the embedded default
  // Override the file when set (non-empty, > 0), also across reloads.
  std::string listen;
  int threads = 0;
  std::string store_url;
};

// Runs until drained. Returns the exit code: 0 after a drain, 1 when the store cannot
// be opened or the listener bound, 2 for a config that does not parse.
int serve_command(const ServeArgs& args);

// Prints "FILE: ok (N events)" and returns 0, or the error and 1.
int check_config_command(const std::string& path);

}  // namespace liveorigin
