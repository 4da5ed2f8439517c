// The real server on loopback (port 0, two worker threads) around a real origin core,
// for integration tests. Time is a ManualClock the test advances, so zone and hold
// outcomes do not depend on the machine's speed.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>

#include "origin/core/clock.h"
#include "origin/core/config.h"
#include "origin/core/origin.h"
#include "origin/http/server.h"
#include "origin/store/fault_store.h"
#include "origin/store/memory_store.h"
#include "tests/support/http_client.h"

namespace liveorigin::testing {

class RunningServer {
 public:
  static constexpr int64_t kT0 = 1'000'000'000;  // a 2 s boundary; edge 499'999 with d = 2000

  // `faulty`: the server reads and writes through a FaultStore (see `fault`).
  explicit RunningServer(const std::string& yaml, int64_t t0 = kT0, int threads = 2, bool faulty = false)
      : clock(t0) {
    auto parsed = parse_origin_config(yaml, "test.yaml");
    if (!parsed) throw std::runtime_error(parsed.error().message);
    config = *parsed;
    origin = std::make_unique<Origin>(clock, config);
    ServerOptions options = ServerOptions::from(config);
    options.listen = "127.0.0.1:0";
    options.threads = threads;
    if (faulty) fault = std::make_unique<FaultStore>(store);
    server = std::make_unique<Server>(*origin, fault ? static_cast<Store&>(*fault) : store, options);
    auto port_or = server->bind();
    if (!port_or) throw std::runtime_error(port_or.error().message);
    port = *port_or;
    server->start();
  }

  ~RunningServer() {
    server->stop();
    server->wait();
    // Delayed store completions still queued run now, while the server's io_contexts
    // exist to receive (and drop) what they post.
    fault.reset();
    server.reset();
  }

  HttpResponse get(const std::string& target, const HeaderList& headers = {}) {
    return http_request(port, "GET", target, headers);
  }

  HttpResponse put(const std::string& target, const std::string& pipeline, const std::string& body,
                   const std::string& defects = "", bool chunked = false, HeaderList extra = {}) {
    HttpClient c(port);
    HeaderList h = {{"Authorization", "Bearer ingest-secret"}, {"Live-Pipeline", pipeline}};
    if (!defects.empty()) h.emplace_back("Segment-Defects", defects);
    for (auto& e : extra) h.push_back(std::move(e));
    return c.request("PUT", target, h, body, chunked);
  }

  HttpResponse admin(const std::string& method, const std::string& target, const std::string& body = "") {
    HttpClient c(port);
    return c.request(method, target, {{"Authorization", "Bearer admin-secret"}}, body);
  }

  // Polls until `pred` holds or ~5 s pass (for effects of another connection).
  template <class Pred>
  static bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return pred();
  }

  // A gauge or counter from /metrics ("name" or "name{labels}"), -1 if absent.
  int64_t metric(const std::string& series) {
    const std::string text = get("/metrics").body;
    const std::string needle = series + " ";
    size_t at = text.find("\n" + needle);
    if (at == std::string::npos) return -1;
    at += needle.size() + 1;
    return std::stoll(text.substr(at, text.find('\n', at) - at));
  }

  ManualClock clock;
  OriginConfig config;
  MemoryStore store;
  std::unique_ptr<FaultStore> fault;
  std::unique_ptr<Origin> origin;
  std::unique_ptr<Server> server;
  uint16_t port = 0;
};

}  // namespace liveorigin::testing
