// `liveorigin serve` and `liveorigin check-config`: the origin as a program — its
// config file (or the embedded default), the store, the server, signals (SIGTERM
// drains, SIGHUP reloads) and the log on stderr.
#pragma once

#include <string>

namespace liveorigin {

// Runs until drained. Returns the exit code: 0 after a drain, 1 when the listener
// cannot be bound, 2 for a config that does not parse. `listen` and `threads`
// (when non-empty / > 0) override the file, also across reloads.
int serve_command(const std::string& config_path, const std::string& listen, int threads);

// Prints "FILE: ok (N events)" and returns 0, or the error and 1.
int check_config_command(const std::string& path);

}  // namespace liveorigin
