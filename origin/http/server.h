// The HTTP/1.1 transport: Boost.Beast on Asio, one io_context thread per core,
// each with its own SO_REUSEPORT acceptor. It only carries bytes: every decision
// is the origin core's. This header includes no Beast, so only server.cc pays
// Beast's compile time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "origin/core/origin.h"
#include "origin/core/result.h"
#include "origin/driver/journal.h"
#include "origin/store/store.h"

namespace liveorigin {

struct ServerOptions {
  std::string listen = "127.0.0.1:8080";  // host:port, [v6]:port; port 0 picks a free one
  // A separate listener for packagers, with its own thread, so a flood of delivery
  // requests cannot starve ingest. Empty: none.
  std::string ingest_listen;
  int threads = 1;  // delivery threads
  int64_t header_timeout_ms = 10000;
  int64_t body_timeout_ms = 60000;
  int64_t idle_timeout_ms = 60000;
  int64_t drain_ms_max = 2000;
  int64_t admin_body_limit_bytes = 1 << 20;
  bool log_requests = false;

  static ServerOptions from(const OriginConfig& config);
};

class Server {
 public:
  // `origin`, `store` and `journal` must outlive the Server. `journal` carries the
  // core's appends for a journaled store (origin/driver/journal_runner.h); null with
  // the memory store.
  Server(Origin& origin, Store& store, ServerOptions options, Journal* journal = nullptr);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the listeners. Errors name the address: "cannot listen on 127.0.0.1:80: Permission denied".
  // Returns the delivery port.
  Result<uint16_t> bind();
  uint16_t port() const;
  uint16_t ingest_port() const;  // 0 without ingest_listen

  // Starts the worker threads (after bind()); returns at once.
  void start();
  // Graceful stop: /healthz fails, listeners close, in-flight requests finish
  // (at most drain_ms_max), then the threads stop. Thread-safe, callable from any thread.
  void drain();
  // Stops at once. Thread-safe.
  void stop();
  // Blocks until the worker threads have stopped.
  void wait();
  // Installs SIGTERM/SIGINT handlers that call drain() and, if given, a SIGHUP handler
  // that calls `on_reload` on a worker thread with that thread's OriginThread (for
  // `liveorigin serve`); the effects it leaves there are carried out after it returns.
  void handle_signals(std::function<void(OriginThread&)> on_reload = {});

  size_t open_connections() const;

  struct Impl;  // defined in server.cc

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace liveorigin
