// The network between a CDN tier and the origin: a request reaches the origin half a
// round trip after it is sent, and its answer arrives half a round trip after the
// origin sent it (scenario `cdn.tiers.<t>.origin_rtt_ms`).
#pragma once

#include <cstdint>

#include "sim/origin_link.h"
#include "sim/scheduler.h"

namespace liveorigin::sim {

class DelayLink final : public OriginLink {
 public:
  DelayLink(Scheduler& scheduler, OriginLink& next, int64_t rtt_ms)
      : scheduler_(scheduler), next_(next), there_ms_(rtt_ms / 2), back_ms_(rtt_ms - rtt_ms / 2) {}

  void send(LinkRequest request, std::function<void(LinkResponse)> done) override;
  size_t in_flight() const override { return in_flight_; }

 private:
  Scheduler& scheduler_;
  OriginLink& next_;
  int64_t there_ms_;
  int64_t back_ms_;
  size_t in_flight_ = 0;
};

}  // namespace liveorigin::sim
