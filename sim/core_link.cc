#include "sim/core_link.h"

#include <cctype>

namespace liveorigin::sim {

namespace {

Method method_of(const std::string& m) {
  if (m == "GET") return Method::get;
  if (m == "HEAD") return Method::head;
  if (m == "PUT") return Method::put;
  if (m == "POST") return Method::post;
  if (m == "DELETE") return Method::del;
  if (m == "OPTIONS") return Method::options;
  return Method::other;
}


}  // namespace

// One request in progress: owns the strings the RequestHead points into, and is the
// HeldRequest the core keeps while it waits.
struct CoreLink::Exchange final : HeldRequest {
  CoreLink* link = nullptr;
  LinkRequest request;
  std::function<void(LinkResponse)> done;
  RequestHead head;
  std::string defects_joined;
  TimerId hold_timer = 0;
  bool holding = false;
  bool finished = false;

  void build_head() {
    head = RequestHead{};
    head.method = method_of(request.method);
    head.target = request.target;
    for (const auto& [k, v] : request.headers) {
      if (header_name_equals(k, "Authorization")) head.authorization = v;
      else if (header_name_equals(k, "Live-Pipeline")) head.live_pipeline = v;
      else if (header_name_equals(k, "Segment-Defects")) head.segment_defects = v;
      else if (header_name_equals(k, "Repr-Digest")) head.repr_digest = v;
      else if (header_name_equals(k, "If-None-Match")) head.if_none_match = v;
      else if (header_name_equals(k, "Range")) head.range = v;
      else if (header_name_equals(k, "If-Range")) head.if_range = v;
      else if (header_name_equals(k, "CMCD-Request")) head.cmcd_request = v;
      else if (header_name_equals(k, "CMCD-Session")) head.cmcd_session = v;
      else if (header_name_equals(k, "Sec-Purpose")) head.sec_purpose = v;
      else if (header_name_equals(k, "Live-Priority")) head.live_priority = v;
    }
    if (request.body) head.content_length = request.body->size();
  }

  void wake() override {
    if (auto me = self.lock()) link->scheduler_.run_at(link->scheduler_.now_ms(), [me] { me->link->resume(me); });
  }

  std::weak_ptr<Exchange> self;  // HeldRequest is not enable_shared_from_this
};

CoreLink::CoreLink(Scheduler& scheduler, Origin& origin, Store& store)
    : scheduler_(scheduler), origin_(origin), store_(store), thread_(origin.make_thread()) {}

CoreLink::~CoreLink() { stop_ticks(); }

void CoreLink::send(LinkRequest request, std::function<void(LinkResponse)> done) {
  auto x = std::make_shared<Exchange>();
  x->self = x;
  x->link = this;
  x->request = std::move(request);
  x->done = std::move(done);
  x->build_head();
  ++in_flight_;
  // Never answer from inside send(): callers expect an asynchronous link.
  const int64_t start = scheduler_.now_ms() + x->request.body_delay_ms;
  scheduler_.run_at(start, [this, x] { run(x); });
}

void CoreLink::run(const std::shared_ptr<Exchange>& x) {
  if (origin_.is_ingest(x->head)) {
    auto started = origin_.begin_put(*thread_, x->head);
    apply_effects();
    if (auto* r = std::get_if<Response>(&started)) return finish(x, *r);
    auto ticket = std::get<IngestTicket>(std::move(started));
    SharedBytes body = x->request.body ? x->request.body : std::make_shared<const std::string>();
    if (static_cast<int64_t>(body->size()) > ticket.body_limit) {
      return finish(x, text_response(413, "body larger than body_limit_bytes", 0));
    }
    BodyHasher hasher(ticket.want_sha512);
    hasher.update(body->data(), body->size());
    auto finished = origin_.finish_put(*thread_, std::move(ticket), body, hasher.finish());
    apply_effects();
    if (auto* r = std::get_if<Response>(&finished)) return finish(x, *r);
    auto write = std::make_shared<StoreWrite>(std::get<StoreWrite>(std::move(finished)));
    store_.put(write->key, write->bytes, [this, x, write](bool ok) {
      scheduler_.run_at(scheduler_.now_ms(), [this, x, write, ok] {
        Response r = origin_.complete_put(*thread_, std::move(*write), ok);
        apply_effects();
        finish(x, r);
      });
    });
    return;
  }
  const std::string body = x->request.body ? *x->request.body : std::string();
  Outcome o = origin_.handle(*thread_, x->head, body, x);
  apply_effects();
  on_outcome(x, std::move(o));
}

void CoreLink::resume(const std::shared_ptr<Exchange>& x) {
  if (!x->holding || x->finished) return;
  scheduler_.cancel(x->hold_timer);
  Outcome o = origin_.handle(*thread_, x->head, {}, x);
  apply_effects();
  on_outcome(x, std::move(o));
}

void CoreLink::on_outcome(const std::shared_ptr<Exchange>& x, Outcome outcome) {
  if (auto* r = std::get_if<Response>(&outcome)) {
    x->holding = false;
    return finish(x, *r);
  }
  if (auto* f = std::get_if<Fetch>(&outcome)) {
    x->holding = false;
    if (auto bytes = store_.try_get(f->key)) return finish(x, origin_.complete_fetch(*thread_, std::move(*f), *bytes));
    auto fetch = std::make_shared<Fetch>(std::move(*f));
    store_.get(fetch->key, [this, x, fetch](SharedBytes bytes) {
      scheduler_.run_at(scheduler_.now_ms(), [this, x, fetch, bytes] {
        finish(x, origin_.complete_fetch(*thread_, std::move(*fetch), bytes));
      });
    });
    return;
  }
  x->holding = true;
  x->hold_timer = scheduler_.run_at(std::get<Hold>(outcome).wake_at_ms, [this, x] { resume(x); });
}

void CoreLink::finish(const std::shared_ptr<Exchange>& x, const Response& r) {
  if (x->finished) return;
  x->finished = true;
  --in_flight_;
  LinkResponse out;
  out.status = r.status;
  out.headers.reserve(r.headers.size());
  for (const auto& h : r.headers) out.headers.emplace_back(std::string(h.name), h.value);
  const bool head_only = x->head.method == Method::head || !r.send_body;
  if (!head_only && r.body && r.body_length > 0) {
    if (r.body_offset == 0 && r.body_length == r.body->size()) {
      out.body = r.body;  // shared, as the server sends it
    } else {
      out.body = std::make_shared<const std::string>(r.body->substr(r.body_offset, r.body_length));
    }
  }
  auto done = std::move(x->done);
  done(std::move(out));
}

void CoreLink::apply_effects() {
  Effects e = thread_->take_effects();
  for (auto& w : e.wake) w->wake();
  for (const auto& k : e.erase) store_.erase(k);
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
  origin_.tick(*thread_);
  apply_effects();
  tick_timer_ = scheduler_.run_after(1000, [this] { tick(); });
}

}  // namespace liveorigin::sim
