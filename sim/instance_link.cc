#include "sim/instance_link.h"

namespace liveorigin::sim {

InstanceLink::InstanceLink(Scheduler& scheduler, Recorder& recorder, std::vector<OriginLink*> instances,
                           size_t preferred)
    : scheduler_(scheduler),
      recorder_(recorder),
      instances_(std::move(instances)),
      down_until_ms_(instances_.size(), 0),
      preferred_(preferred) {}

void InstanceLink::send(LinkRequest request, std::function<void(LinkResponse)> done) {
  ++in_flight_;
  attempt(std::make_shared<LinkRequest>(std::move(request)), std::move(done), 0);
}

void InstanceLink::attempt(std::shared_ptr<LinkRequest> request, std::function<void(LinkResponse)> done, size_t tried) {
  // The first instance from the preferred one not known to be down; when all are, the
  // next in turn (one of them may be back).
  const size_t n = instances_.size();
  const int64_t now = scheduler_.now_ms();
  size_t skip = tried;
  while (skip < n - 1 && down_until_ms_[(preferred_ + skip) % n] > now) ++skip;
  const size_t instance = (preferred_ + skip) % n;
  instances_[instance]->send(*request, [this, request, done = std::move(done), skip, instance](LinkResponse r) mutable {
    const int64_t at = scheduler_.now_ms();
    recorder_.instance_request(InstanceRecord{at, static_cast<int>(instance) + 1, r.status});
    if (r.status == 0) down_until_ms_[instance] = at + kRetryDownMs;
    // No answer at all: that instance is gone. The next one, as a balancer would.
    if (r.status == 0 && skip + 1 < instances_.size()) return attempt(request, std::move(done), skip + 1);
    --in_flight_;
    done(std::move(r));
  });
}

}  // namespace liveorigin::sim
