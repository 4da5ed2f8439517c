// Real time: the Scheduler on an Asio io_context and the system clock, and HttpLink,
// which talks HTTP/1.1 to any origin over real sockets (keep-alive connection pool).
// Beast lives only in realtime.cc.
#pragma once

#include <memory>
#include <string>

#include "sim/origin_link.h"
#include "sim/scheduler.h"

namespace boost::asio {
class io_context;
}

namespace liveorigin::sim {

class AsioScheduler final : public Scheduler {
 public:
  explicit AsioScheduler(boost::asio::io_context& ioc);
  ~AsioScheduler() override;
  int64_t now_ms() const override { return clock_.now_ms(); }
  TimerId run_at(int64_t at_ms, Task fn) override;
  void cancel(TimerId id) override;
  const Clock& clock() const override { return clock_; }
  size_t pending() const;
  // How far behind its due time the latest-running timer ran: the harness keeping up
  // (a few ms) or not (the machine is saturated and the run no longer means much).
  int64_t max_lag_ms() const;
  int64_t timers_run() const;
  // The lag below which `fraction` of the timers ran (an upper bucket bound, ms).
  int64_t lag_percentile_ms(double fraction) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  SystemClock clock_;
};

class HttpLink final : public OriginLink {
 public:
  // `base_url`: "http://host:port" (IP literal or localhost). At most `connections_max`
  // requests are on the wire at once; the rest wait in order. Every request times out
  // after `timeout_ms` (answered with status 0). Callbacks run on the io_context.
  HttpLink(boost::asio::io_context& ioc, const std::string& base_url, size_t connections_max = 512,
           int64_t timeout_ms = 30000);
  ~HttpLink() override;
  void send(LinkRequest request, std::function<void(LinkResponse)> done) override;
  size_t in_flight() const override;
  // Stops accepting work and closes every connection; pending callbacks get status 0.
  void close();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace liveorigin::sim
