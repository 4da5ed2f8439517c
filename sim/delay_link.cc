#include "sim/delay_link.h"

#include <memory>

namespace liveorigin::sim {

void DelayLink::send(LinkRequest request, std::function<void(LinkResponse)> done) {
  ++in_flight_;
  auto finish = [this, done = std::move(done)](LinkResponse r) mutable {
    scheduler_.run_after(back_ms_, [this, done = std::move(done), r = std::move(r)]() mutable {
      --in_flight_;
      done(std::move(r));
    });
  };
  scheduler_.run_after(there_ms_, [this, request = std::move(request), finish = std::move(finish)]() mutable {
    next_.send(std::move(request), std::move(finish));
  });
}

}  // namespace liveorigin::sim
