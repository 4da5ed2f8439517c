// The origin core in-process, on the scheduler's time, with no sockets: what the
// Beast server does with a request, done by calls through the same driver adapter
// (origin/driver/exchange.h). Holds wait on scheduler timers and wake-ups, so a held
// request is answered the moment a packager's PUT publishes its segment, in virtual
// time as in real time. Single-threaded (the scheduler's thread).
#pragma once

#include <memory>

#include "origin/core/origin.h"
#include "origin/driver/exchange.h"
#include "origin/store/store.h"
#include "sim/origin_link.h"
#include "sim/scheduler.h"

namespace liveorigin::sim {

class CoreLink final : public OriginLink {
 public:
  // `origin` must use `scheduler.clock()`. All three must outlive the link.
  CoreLink(Scheduler& scheduler, Origin& origin, Store& store);
  ~CoreLink() override;

  void send(LinkRequest request, std::function<void(LinkResponse)> done) override;
  size_t in_flight() const override { return in_flight_; }

  // Starts the core's once-a-second housekeeping (DVR expiry).
  void start_ticks();
  void stop_ticks();

 private:
  struct Exchange;
  void tick();

  Scheduler& scheduler_;
  std::unique_ptr<OriginThread> thread_;
  CoreDriver driver_;
  size_t in_flight_ = 0;
  TimerId tick_timer_ = 0;
  bool ticking_ = false;
};

}  // namespace liveorigin::sim
