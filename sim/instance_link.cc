#include "sim/instance_link.h"

namespace liveorigin::sim {

InstanceLink::InstanceLink(Scheduler& scheduler, Recorder& recorder, std::vector<OriginLink*> instances,
                           size_t preferred)
    : scheduler_(scheduler), recorder_(recorder), instances_(std::move(instances)), preferred_(preferred) {}

void InstanceLink::send(LinkRequest request, std::function<void(LinkResponse)> done) {
  ++in_flight_;
  attempt(std::make_shared<LinkRequest>(std::move(request)), std::move(done), 0);
}

void InstanceLink::attempt(std::shared_ptr<LinkRequest> request, std::function<void(LinkResponse)> done, size_t tried) {
  const size_t instance = (preferred_ + tried) % instances_.size();
  instances_[instance]->send(*request, [this, request, done = std::move(done), tried, instance](LinkResponse r) mutable {
    recorder_.instance_request(InstanceRecord{scheduler_.now_ms(), static_cast<int>(instance) + 1, r.status});
    // No answer at all: that instance is gone. The next one, as a balancer would.
    if (r.status == 0 && tried + 1 < instances_.size()) return attempt(request, std::move(done), tried + 1);
    --in_flight_;
    done(std::move(r));
  });
}

}  // namespace liveorigin::sim
