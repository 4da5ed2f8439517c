#include "origin/core/origin.h"

#include "origin/core/metrics_page.h"
#include "origin/core/representation.h"
#include "origin/core/routing.h"
#include "origin/core/snapshot.h"
#include "origin/core/timing.h"

namespace liveorigin {

namespace {

std::shared_ptr<const Registry> initial_registry(const OriginConfig& config) {
  auto reg = std::make_shared<Registry>();
  for (const auto& e : config.events) {
    auto state = make_event_state(e, nullptr);
    state->from_file = true;
    reg->events.emplace(e.id, std::move(state));
  }
  reg->auth = std::make_shared<const AuthConfig>(config.auth);
  return reg;
}

// Answers on the public paths, which CDNs cache: CORS for players, and nginx's expiry.
Outcome with_cors(Outcome o, int64_t now_ms) {
  Response* r = std::get_if<Response>(&o);
  if (auto* f = std::get_if<Fetch>(&o)) r = &f->response;
  if (r) {
    add_cors(*r);
    set_nginx_expiry(*r, now_ms);
  }
  return o;
}

// The CORS preflight of the public paths: a page may send CMCD and range headers.
Response preflight() {
  Response r = empty_response(204, 86'400'000);
  r.set("Allow", "GET, HEAD, OPTIONS");
  r.set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
  r.set("Access-Control-Allow-Headers",
        "CMCD-Request, CMCD-Object, CMCD-Status, CMCD-Session, Range, If-None-Match, If-Range, Sec-Purpose, "
        "Live-Priority");
  r.set("Access-Control-Max-Age", "86400");
  add_cors(r);
  return r;
}

}  // namespace

Origin::Origin(const Clock& clock, OriginConfig config, Logger log)
    : clock_(clock),
      config_(std::move(config)),
      log_(std::move(log)),
      ledger_(initial_registry(config_)),
      holds_(config_.hold_requests_max),
      priority_(clock_, config_.overload, config_.server_id, counters_),
      delivery_(core_, ledger_, holds_, priority_),
      ingest_(core_, ledger_),
      markers_(core_, ledger_),
      invalidation_(core_, ledger_),
      admin_(core_, ledger_, ingest_, markers_, invalidation_),
      streams_(core_, ledger_) {
  priority_.watch_store(&store_status_);
}

Origin::~Origin() = default;

std::unique_ptr<OriginThread> Origin::make_thread() {
  return std::unique_ptr<OriginThread>(new OriginThread(counters_.add()));
}

bool Origin::is_ingest(const RequestHead& head) const { return liveorigin::is_ingest(head); }

Outcome Origin::handle(OriginThread& t, const RequestHead& head, std::string_view body,
                       const std::shared_ptr<HeldRequest>& held) {
  // A repeat of a request shed moments ago gets the same answer without any work.
  if (auto r = priority_.suppressed(t, head, held)) return with_cors(std::move(*r), clock_.now_ms());
  auto parsed = Route::of(head.target);
  if (!parsed) {
    Response r = text_response(400, "bad request: " + parsed.error().message, 0);
    count_request(t.counters(), ZoneLabel::bad_request, 400);
    return r;
  }
  const Route& route = *parsed;
  const bool get_like = head.method == Method::get || head.method == Method::head;

  auto simple = [&](ZoneLabel zone, Response r) -> Outcome {
    count_request(t.counters(), zone, r.status);
    return r;
  };
  auto not_allowed = [&](ZoneLabel zone, std::string_view allow) -> Outcome {
    Response r = text_response(405, "method not allowed", 0);
    r.set("Allow", std::string(allow));
    return simple(zone, std::move(r));
  };

  if (head.method == Method::options && route.is_public()) return simple(ZoneLabel::api, preflight());

  switch (route.kind) {
    case Route::live_object:
      if (get_like) return with_cors(delivery_.get(t, head, route, held), clock_.now_ms());
      if (head.method == Method::del) {  // ffmpeg deletes old segments: accepted, ignored
        return simple(ZoneLabel::ingest, empty_response(204, 0));
      }
      return not_allowed(ZoneLabel::bad_request, "GET, HEAD, PUT, DELETE");
    case Route::ingest_prefix:
      if (head.method == Method::del) return simple(ZoneLabel::ingest, empty_response(204, 0));
      return not_allowed(ZoneLabel::bad_request, "PUT, DELETE");
    case Route::timeline:
      if (!get_like) return not_allowed(ZoneLabel::api, "GET, HEAD");
      return with_cors(simple(ZoneLabel::api, streams_.timeline(t, route)), clock_.now_ms());
    case Route::invalidations:
      if (!get_like) return not_allowed(ZoneLabel::api, "GET, HEAD");
      return with_cors(simple(ZoneLabel::api, invalidation_.feed(t, head, route)), clock_.now_ms());
    case Route::dash_manifest:
    case Route::hls_multivariant:
    case Route::hls_media:
      if (!get_like) return not_allowed(ZoneLabel::api, "GET, HEAD");
      return with_cors(simple(ZoneLabel::api, streams_.manifest(t, head, route)), clock_.now_ms());
    case Route::time: {
      if (!get_like) return not_allowed(ZoneLabel::api, "GET, HEAD");
      Response r;
      r.set_text(format_iso8601_ms(clock_.now_ms()));
      set_cache_ttl(r, 0);
      return with_cors(simple(ZoneLabel::api, std::move(r)), clock_.now_ms());
    }
    case Route::healthz:
      if (!get_like) return not_allowed(ZoneLabel::api, "GET, HEAD");
      return simple(ZoneLabel::api, health());
    case Route::metrics:
      if (!get_like) return not_allowed(ZoneLabel::api, "GET, HEAD");
      return simple(ZoneLabel::api, metrics(t));
    case Route::admin_events:
    case Route::admin_event:
    case Route::admin_segment:
    case Route::admin_markers:
    case Route::admin_invalidate: {
      Outcome o = admin_.handle(t, head, route, body);
      if (auto* r = std::get_if<Response>(&o)) count_request(t.counters(), ZoneLabel::admin, r->status);
      return o;  // an Append is counted when it completes
    }
    case Route::not_found:
      break;
  }
  return simple(ZoneLabel::bad_request, text_response(404, "no such path", 0));
}

Response Origin::complete_fetch(OriginThread& t, Fetch&& fetch, SharedBytes bytes) {
  Response r = delivery_.complete_fetch(t, std::move(fetch), std::move(bytes));
  // A failed read is answered afresh (503), after handle() set nginx's expiry.
  if (!r.find("X-Accel-Expires")) set_nginx_expiry(r, clock_.now_ms());
  return r;
}

void Origin::cancel(const std::shared_ptr<HeldRequest>& held) { holds_.cancel(held); }

std::variant<Response, IngestTicket> Origin::begin_put(OriginThread& t, const RequestHead& head) {
  return ingest_.begin(t, head);
}

std::variant<Response, StoreWrite> Origin::finish_put(OriginThread& t, IngestTicket&& ticket, SharedBytes body,
                                                      const BodyHasher::Final& hashes) {
  return ingest_.finish(t, std::move(ticket), std::move(body), hashes);
}

std::variant<Response, Append> Origin::complete_put(OriginThread& t, StoreWrite&& write, bool stored) {
  return ingest_.complete(t, std::move(write), stored);
}

Response Origin::apply(OriginThread& t, int64_t seq, const JournalEntry& e) {
  Ledger::Writer w(ledger_);
  Response r;
  switch (e.kind) {
    case JournalEntry::Kind::candidate: r = ingest_.apply_candidate(w, t, e); break;
    case JournalEntry::Kind::commit: r = delivery_.apply_commit(w, t, e); break;
    case JournalEntry::Kind::invalidate: r = invalidation_.apply(w, e); break;
    case JournalEntry::Kind::marker_put: r = markers_.apply_put(w, e); break;
    case JournalEntry::Kind::marker_delete: r = markers_.apply_delete(w, e); break;
    case JournalEntry::Kind::event_put: r = admin_.apply_event_put(w, t, e); break;
    case JournalEntry::Kind::event_delete: r = admin_.apply_event_delete(w, t, e); break;
  }
  if (auto it = w.registry().events.find(e.event); it != w.registry().events.end()) {
    it->second->runtime->applied_seq = seq;
  }
  return r;
}

std::string Origin::snapshot(std::string_view event) {
  Ledger::Writer w(ledger_);
  return snapshot_event(w, event);
}

Result<int64_t> Origin::restore(std::string_view snapshot) {
  Ledger::Writer w(ledger_);
  return restore_event(w, core_, snapshot);
}

std::vector<std::string> Origin::event_ids() {
  Ledger::Writer w(ledger_);
  std::vector<std::string> ids;
  for (const auto& [id, e] : w.registry().events) ids.push_back(id);
  return ids;
}

Response Origin::complete_append(OriginThread& t, const Append& append, std::optional<Response> applied) {
  if (append.entry.kind == JournalEntry::Kind::candidate) return ingest_.finish_append(t, append, std::move(applied));
  if (append.entry.kind == JournalEntry::Kind::commit && !applied) delivery_.abandon_commit(t, append.entry);
  Response r = applied ? std::move(*applied) : text_response(503, "store unavailable: not stored; retry", 0);
  count_request(t.counters(), append.zone, r.status);
  return r;
}

void Origin::tick(OriginThread& t) { ingest_.tick(t); }

std::string Origin::reload(OriginThread& t, const OriginConfig& next) { return admin_.reload(t, next); }

void Origin::count_transport_reject(OriginThread& t, int status) {
  count_request(t.counters(), ZoneLabel::bad_request, status);
}

void Origin::count_put_reject(OriginThread& t, int status) { t.counters().puts[status_index(status)].add(); }

Response Origin::health() const {
  if (draining()) return text_response(503, "draining", 0);
  // A store in trouble is shown, not failed on: the live edge is still served from the
  // hot cache, and taking every instance out of the balancer would serve nothing.
  const StoreStatus* store = store_status_.load(std::memory_order_acquire);
  if (store && !store->up()) {
    Response r = text_response(200, "ok; store " + std::string(store->url()) + " failing since " +
                                        format_iso8601_ms(store->changed_ms()) + ": " + store->last_error(), 0);
    r.set("Live-Store", "down");
    return r;
  }
  return text_response(200, "ok", 0);
}

Response Origin::metrics(OriginThread& t) {
  MetricsInputs in;
  in.threads = counters_.all();
  in.registry = &ledger_.view(t.registry_view);
  in.held_requests = holds_.held();
  in.stored_bytes = ledger_.stored_bytes();
  in.budget_bytes = config_.store.budget_bytes;
  in.draining = draining();
  in.shared = &shared_metrics_;
  in.store = store_status_.load(std::memory_order_acquire);
  return metrics_page(in);
}

}  // namespace liveorigin
