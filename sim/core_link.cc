#include "sim/core_link.h"

namespace liveorigin::sim {

// One request in progress: owns the strings its RequestHead points into, and is the
// HeldRequest the core keeps while it waits.
struct CoreLink::Exchange final : CoreExchange {
  Exchange(CoreLink& link, LinkRequest request, std::function<void(LinkResponse)> done)
      : CoreExchange(link.driver_), link(link), request(std::move(request)), done(std::move(done)) {
    RequestHeadBuilder& b = head_builder();
    b.start(method_of(this->request.method), this->request.target);
    for (const auto& [k, v] : this->request.headers) b.field(k, v);
    if (this->request.body) b.content_length(this->request.body->size());
  }

  void start() {
    if (!is_ingest()) return run(request.body ? std::string_view(*request.body) : std::string_view());
    if (auto rejected = begin_ingest()) return respond(std::move(*rejected));
    SharedBytes body = request.body ? request.body : std::make_shared<const std::string>();
    if (static_cast<int64_t>(body->size()) > ticket().body_limit) return respond(ingest_too_large());
    finish_ingest(std::move(body));
  }

  void wake() override {
    auto me = std::static_pointer_cast<Exchange>(shared_from_this());
    link.scheduler_.run_at(link.scheduler_.now_ms(), [me] { me->on_wake(); });
  }

  void on_wake() {
    if (!holding || finished) return;
    link.scheduler_.cancel(hold_timer);
    holding = false;
    resume();
  }

  void respond(Response&& r) override {
    if (finished) return;
    finished = true;
    --link.in_flight_;
    LinkResponse out;
    out.status = r.status;
    out.headers.reserve(r.headers.size());
    for (const auto& h : r.headers) out.headers.emplace_back(std::string(h.name), h.value);
    const bool head_only = head().method == Method::head || !r.send_body;
    if (!head_only && r.body && r.body_length > 0) {
      if (r.body_offset == 0 && r.body_length == r.body->size()) {
        out.body = r.body;  // shared, as the server sends it
      } else {
        out.body = std::make_shared<const std::string>(r.body->substr(r.body_offset, r.body_length));
      }
    }
    auto callback = std::move(done);
    callback(std::move(out));
  }

  void hold_until(int64_t wake_at_ms) override {
    holding = true;
    auto me = std::static_pointer_cast<Exchange>(shared_from_this());
    hold_timer = link.scheduler_.run_at(wake_at_ms, [me] { me->on_wake(); });
  }

  void run_here(std::function<void()> fn) override { link.scheduler_.run_at(link.scheduler_.now_ms(), std::move(fn)); }

  CoreLink& link;
  LinkRequest request;
  std::function<void(LinkResponse)> done;
  TimerId hold_timer = 0;
  bool holding = false;
  bool finished = false;
};

CoreLink::CoreLink(Scheduler& scheduler, Origin& origin, Store& store)
    : scheduler_(scheduler), thread_(origin.make_thread()), driver_(origin, store, *thread_) {}

CoreLink::~CoreLink() { stop_ticks(); }

void CoreLink::send(LinkRequest request, std::function<void(LinkResponse)> done) {
  auto x = std::make_shared<Exchange>(*this, std::move(request), std::move(done));
  ++in_flight_;
  // Never answer from inside send(): callers expect an asynchronous link.
  const int64_t start = scheduler_.now_ms() + x->request.body_delay_ms;
  scheduler_.run_at(start, [x] { x->start(); });
}

void CoreLink::start_ticks() {
  ticking_ = true;
  tick_timer_ = scheduler_.run_after(1000, [this] { tick(); });
}

void CoreLink::stop_ticks() {
  ticking_ = false;
  scheduler_.cancel(tick_timer_);
}

void CoreLink::tick() {
  if (!ticking_) return;
  driver_.tick();
  tick_timer_ = scheduler_.run_after(1000, [this] { tick(); });
}

}  // namespace liveorigin::sim
