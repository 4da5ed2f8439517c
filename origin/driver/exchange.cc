#include "origin/driver/exchange.h"

namespace liveorigin {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
  }
  return true;
}

}  // namespace

Method method_of(std::string_view name) {
  if (name == "GET") return Method::get;
  if (name == "HEAD") return Method::head;
  if (name == "PUT") return Method::put;
  if (name == "POST") return Method::post;
  if (name == "DELETE") return Method::del;
  if (name == "OPTIONS") return Method::options;
  return Method::other;
}

void RequestHeadBuilder::start(Method method, std::string_view target) {
  head_ = RequestHead{};
  head_.method = method;
  head_.target = target;
  segment_defects_.clear();
  repr_digest_.clear();
  cmcd_request_.clear();
  cmcd_session_.clear();
  sec_purpose_ = {};
  purpose_ = {};
}

void RequestHeadBuilder::field(std::string_view name, std::string_view value) {
  // By length first: most field lines of a request match none of these.
  auto first = [](std::string_view& slot, std::string_view v) {
    if (slot.empty()) slot = v;
  };
  auto joined = [](std::string_view& slot, std::string& storage, std::string_view v) {
    if (slot.empty() && storage.empty()) {
      slot = v;
      return;
    }
    if (storage.empty()) storage = slot;
    storage += ", ";
    storage += v;
    slot = storage;
  };
  switch (name.size()) {
    case 5:
      if (iequals(name, "Range")) first(head_.range, value);
      break;
    case 7:
      if (iequals(name, "Purpose")) {
        first(purpose_, value);
        head_.sec_purpose = sec_purpose_.empty() ? purpose_ : sec_purpose_;
      }
      break;
    case 8:
      if (iequals(name, "If-Range")) first(head_.if_range, value);
      break;
    case 11:
      if (iequals(name, "Repr-Digest")) joined(head_.repr_digest, repr_digest_, value);
      if (iequals(name, "Sec-Purpose")) {
        first(sec_purpose_, value);
        head_.sec_purpose = sec_purpose_.empty() ? purpose_ : sec_purpose_;
      }
      break;
    case 12:
      if (iequals(name, "CMCD-Request")) joined(head_.cmcd_request, cmcd_request_, value);
      if (iequals(name, "CMCD-Session")) joined(head_.cmcd_session, cmcd_session_, value);
      break;
    case 13:
      if (iequals(name, "Authorization")) first(head_.authorization, value);
      if (iequals(name, "If-None-Match")) first(head_.if_none_match, value);
      if (iequals(name, "Live-Pipeline")) first(head_.live_pipeline, value);
      if (iequals(name, "Live-Priority")) first(head_.live_priority, value);
      break;
    case 15:
      if (iequals(name, "Segment-Defects")) joined(head_.segment_defects, segment_defects_, value);
      break;
    default:
      break;
  }
}

void CoreDriver::apply_effects() {
  Effects e = thread_.take_effects();
  for (auto& w : e.wake) {
    w->wake();
    on_woken(w);
  }
  for (const auto& k : e.erase) store_.erase(k);
}

void CoreDriver::tick() {
  origin_.tick(thread_);
  apply_effects();
}

void CoreExchange::run(std::string_view body) {
  Outcome o = driver_.origin().handle(driver_.thread(), head(), body, self_as_held());
  driver_.apply_effects();
  on_outcome(std::move(o));
}

void CoreExchange::resume() {
  Outcome o = driver_.origin().handle(driver_.thread(), head(), std::string_view(), self_as_held());
  driver_.apply_effects();
  on_outcome(std::move(o));
}

void CoreExchange::cancel() { driver_.origin().cancel(self_as_held()); }

void CoreExchange::on_outcome(Outcome&& outcome) {
  if (auto* r = std::get_if<Response>(&outcome)) return respond(std::move(*r));
  if (auto* f = std::get_if<Fetch>(&outcome)) return fetch(std::move(*f));
  if (auto* a = std::get_if<Append>(&outcome)) return append(std::move(*a));
  hold_until(std::get<Hold>(outcome).wake_at_ms);
}

void CoreExchange::append(Append&& a) {
  Journal* journal = driver_.journal();
  if (journal == nullptr) {  // a journaled config over a store without a journal: refuse, do not guess
    return respond(driver_.origin().complete_append(driver_.thread(), a, std::nullopt));
  }
  auto pending = std::make_shared<Append>(std::move(a));
  journal->append(pending->entry, [self = shared_from_this(), pending](std::optional<Response> applied) {
    self->run_here([self, pending, applied = std::move(applied)]() mutable {
      CoreDriver& d = self->driver_;
      if (pending->then == Append::Then::resume && applied) return self->resume();
      Response r = d.origin().complete_append(d.thread(), *pending, std::move(applied));
      d.apply_effects();
      self->respond(std::move(r));
    });
  });
}

void CoreExchange::fetch(Fetch&& f) {
  if (auto bytes = driver_.store().try_get(f.key)) {
    return respond(driver_.origin().complete_fetch(driver_.thread(), std::move(f), std::move(*bytes)));
  }
  std::string key = f.key;
  auto pending = std::make_shared<Fetch>(std::move(f));
  driver_.store().get(std::move(key), [self = shared_from_this(), pending](SharedBytes bytes) {
    self->run_here([self, pending, bytes = std::move(bytes)]() mutable {
      CoreDriver& d = self->driver_;
      self->respond(d.origin().complete_fetch(d.thread(), std::move(*pending), std::move(bytes)));
    });
  });
}

std::optional<Response> CoreExchange::begin_ingest() {
  auto started = driver_.origin().begin_put(driver_.thread(), head());
  driver_.apply_effects();
  if (auto* r = std::get_if<Response>(&started)) return std::move(*r);
  ticket_ = std::move(std::get<IngestTicket>(started));
  return std::nullopt;
}

void CoreExchange::finish_ingest(SharedBytes body) {
  BodyHasher hasher(ticket_->want_sha512);
  hasher.update(body->data(), body->size());
  finish_ingest(std::move(body), hasher.finish());
}

void CoreExchange::finish_ingest(SharedBytes body, const BodyHasher::Final& hashes) {
  auto finished = driver_.origin().finish_put(driver_.thread(), std::move(*ticket_), std::move(body), hashes);
  ticket_.reset();
  driver_.apply_effects();
  if (auto* r = std::get_if<Response>(&finished)) return respond(std::move(*r));
  auto write = std::make_shared<StoreWrite>(std::move(std::get<StoreWrite>(finished)));
  std::string key = write->key;
  SharedBytes bytes = write->bytes;
  const int64_t expires_at_ms = write->expires_at_ms;
  driver_.store().put(std::move(key), std::move(bytes), expires_at_ms, [self = shared_from_this(), write](bool ok) {
    self->run_here([self, write, ok] {
      CoreDriver& d = self->driver_;
      auto done = d.origin().complete_put(d.thread(), std::move(*write), ok);
      d.apply_effects();
      if (auto* a = std::get_if<Append>(&done)) return self->append(std::move(*a));
      self->respond(std::move(std::get<Response>(done)));
    });
  });
}

Response CoreExchange::ingest_too_large() {
  ticket_.reset();
  driver_.origin().count_put_reject(driver_.thread(), 413);
  return text_response(413, "body larger than body_limit_bytes", 0);
}

}  // namespace liveorigin
