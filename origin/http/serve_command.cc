#include "origin/http/serve_command.h"

#include <sys/resource.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include "origin/core/clock.h"
#include "origin/core/origin.h"
#include "origin/core/timing.h"
#include "origin/http/server.h"
#include "origin/driver/journal_runner.h"
#include "origin/store/store.h"

namespace liveorigin {

namespace {

std::string timestamp() {
  return format_iso8601_ms(SystemClock().now_ms());
}

void log_line(std::string_view msg) {
  std::fprintf(stderr, "%s %.*s\n", timestamp().c_str(), static_cast<int>(msg.size()), msg.data());
}

Result<OriginConfig> load_config(const std::string& path) {
  if (path.empty()) return parse_origin_config(kDefaultConfigYaml, "(embedded default config)");
  std::ifstream in(path);
  if (!in) return make_error("cannot read config " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_origin_config(ss.str(), path);
}

// Eight hex digits: two instances on one store sharing a tag is a 1 in 4e9 chance.
std::string random_key_tag() {
  std::random_device rd;
  char tag[9];
  std::snprintf(tag, sizeof tag, "%08x", static_cast<unsigned>(rd()));
  return tag;
}

// Every connection and every held request is a descriptor, and the soft limit
// (often 1024) is a default for interactive shells, not a bound the operator chose:
// the hard limit is. Said on stderr either way, so a refused connection can be
// traced to the limit.
void raise_open_files_limit() {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) != 0) return log_line(std::string("open files: getrlimit: ") + std::strerror(errno));
  rlim_t target = r.rlim_max;
  if (target == RLIM_INFINITY) {
    // The kernel refuses an infinite RLIMIT_NOFILE; its ceiling is fs.nr_open.
    std::ifstream nr_open("/proc/sys/fs/nr_open");
    unsigned long long n = 0;
    target = (nr_open >> n) ? static_cast<rlim_t>(n) : r.rlim_cur;
  }
  if (r.rlim_cur >= target) return log_line("open files: soft limit " + std::to_string(r.rlim_cur) + " (the hard limit)");
  const rlim_t before = r.rlim_cur;
  r.rlim_cur = target;
  if (::setrlimit(RLIMIT_NOFILE, &r) != 0) {
    return log_line("open files: cannot raise the soft limit from " + std::to_string(before) + " to " +
                    std::to_string(target) + ": " + std::strerror(errno));
  }
  log_line("open files: soft limit raised from " + std::to_string(before) + " to " + std::to_string(target) +
           " (the hard limit)");
}

}  // namespace

int serve_command(const ServeArgs& args) {
  const std::string& config_path = args.config_path;
  const std::string source = config_path.empty() ? "(embedded default config)" : config_path;
  auto config = load_config(config_path);
  if (!config) {
    std::cerr << "liveorigin: " << config.error().message << "\n";
    return 2;
  }
  // The command line overrides the file, across reloads too.
  auto override_from_args = [&](OriginConfig& c) {
    if (!args.listen.empty()) c.listen = args.listen;
    if (args.threads > 0) c.threads = args.threads;
    if (!args.store_url.empty()) c.store.url = args.store_url;
  };
  override_from_args(*config);
  if (auto url = StoreUrl::parse(config->store.url); !url) {
    std::cerr << "liveorigin: --store: " << url.error().message << "\n";
    return 2;
  }

  raise_open_files_limit();
  SystemClock clock;
  auto store = open_store(config->store, log_line);
  if (!store) {
    std::cerr << "liveorigin: " << store.error().message << "\n";
    return 1;
  }
  Origin origin(clock, *config, log_line);
  origin.set_key_tag(random_key_tag());
  origin.set_store_status((*store)->status());
  std::unique_ptr<JournalRunner> journal;
  if ((*store)->journal()) {
    JournalRunner::Options options;
    options.timeout_ms = config->store.timeout_ms;
    journal = std::make_unique<JournalRunner>(origin, **store, options, log_line);
    auto recovered = journal->recover();
    if (!recovered) {
      std::cerr << "liveorigin: " << recovered.error().message << "\n";
      return 1;
    }
    log_line("store " + config->store.url + ": " + std::to_string(*recovered) + " journal entries applied");
    journal->start();
  }
  Server server(origin, **store, ServerOptions::from(*config), journal.get());
  auto port = server.bind();
  if (!port) {
    std::cerr << "liveorigin: " << port.error().message << "\n";
    return 1;
  }
  std::string where = config->listen.substr(0, config->listen.rfind(':')) + ":" + std::to_string(*port);
  if (!config->ingest_listen.empty()) {
    where += ", ingest on " + config->ingest_listen.substr(0, config->ingest_listen.rfind(':')) + ":" +
             std::to_string(server.ingest_port());
  }
  log_line("liveorigin listening on " + where + " (" + source + ", " +
           std::to_string(ServerOptions::from(*config).threads) + " threads, store " + config->store.url + ", " +
           std::to_string(origin.event_ids().size()) + " events)");
  std::signal(SIGPIPE, SIG_IGN);
  server.handle_signals([&](OriginThread& thread) {
    if (config_path.empty()) return log_line("SIGHUP: no config file to reload (running the embedded default)");
    auto next = load_config(config_path);
    if (!next) return log_line("SIGHUP: config not reloaded, the running one stays: " + next.error().message);
    override_from_args(*next);
    log_line(origin.reload(thread, *next));
  });
  server.start();
  server.wait();
  if (journal) journal->stop();
  log_line("liveorigin stopped");
  return 0;
}

int check_config_command(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto config = parse_origin_config(ss.str(), path);
  if (!config) {
    std::cerr << config.error().message << "\n";
    return 1;
  }
  std::cout << path << ": ok (" << config->events.size() << " events)\n";
  return 0;
}

}  // namespace liveorigin
