// The way to one of several origin instances, as a load balancer with passive health
// checks gives it: requests go to the link's own instance; one that is not answered
// (the instance is down) is sent to the next, and the silent instance is skipped for
// kRetryDownMs before it is tried again. What each instance answered is recorded
// (results table instance_intervals), so a run shows per-instance traffic and when an
// instance went away and came back.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/origin_link.h"
#include "sim/results.h"
#include "sim/scheduler.h"

namespace liveorigin::sim {

class InstanceLink final : public OriginLink {
 public:
  // `instances` (not owned) are the links to instances 1..N; `preferred` is 0-based.
  InstanceLink(Scheduler& scheduler, Recorder& recorder, std::vector<OriginLink*> instances, size_t preferred);

  static constexpr int64_t kRetryDownMs = 1000;

  void send(LinkRequest request, std::function<void(LinkResponse)> done) override;
  size_t in_flight() const override { return in_flight_; }

 private:
  void attempt(std::shared_ptr<LinkRequest> request, std::function<void(LinkResponse)> done, size_t tried);

  Scheduler& scheduler_;
  Recorder& recorder_;
  std::vector<OriginLink*> instances_;
  std::vector<int64_t> down_until_ms_;  // per instance: skipped until then
  size_t preferred_;
  size_t in_flight_ = 0;
};

}  // namespace liveorigin::sim
