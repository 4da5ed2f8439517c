#include "origin/core/ingest.h"

#include <cassert>

#include "origin/core/holds.h"
#include "origin/core/journal.h"
#include "origin/core/manifests.h"
#include "origin/core/origin_thread.h"
#include "origin/core/representation.h"
#include "origin/core/routing.h"
#include "origin/core/selection.h"
#include "origin/core/timing.h"

namespace liveorigin {

namespace {

// Plain objects up to this size are read as possible init segments (manifests.h).
constexpr size_t kInitBytesMax = 256 * 1024;

// An upload that will not be stored (budget, failed write): it is no longer pending,
// and a plain object's name whose first upload it was is free again.
void abandon_upload(StreamState& ss, const IngestTicket& ticket) REQUIRES(ss.mu) {
  if (ticket.number) {
    erase_string(ss.segments[*ticket.number].pending, ticket.pipeline);
    return;
  }
  auto it = ss.objects.find(ticket.object);
  if (it == ss.objects.end()) return;
  erase_string(it->second.pending, ticket.pipeline);
  if (it->second.pending.empty() && it->second.copies.empty()) ss.objects.erase(it);
}

// The object's stored copies leave the budget and the store.
void forget(Ledger::Writer& w, OriginThread& t, const std::vector<CandidatePtr>& copies) {
  for (const auto& c : copies) {
    w.add_stored_bytes(-c->bytes);
    t.effects.erase.push_back(c->key);
  }
}

}  // namespace

Response Ingest::reject(OriginThread& t, Response r) {
  t.counters().puts[status_index(r.status)].add();
  return r;
}

std::variant<Response, IngestTicket> Ingest::begin(OriginThread& t, const RequestHead& head) {
  auto parsed = Route::of(head.target);
  if (!parsed) return reject(t, text_response(400, "bad request: " + parsed.error().message, 0));
  const Route& route = *parsed;
  std::string_view token;
  std::string_view pipeline;
  if (route.kind == Route::live_object) {
    token = bearer_token(head.authorization);
    pipeline = head.live_pipeline;
  } else if (route.kind == Route::ingest_prefix) {
    token = route.token;
    pipeline = route.pipeline;
  } else {
    return reject(t, text_response(404, "no such ingest path", 0));
  }

  if (token.empty()) {
    Response r = text_response(401, "ingest token required", 0);
    r.set("WWW-Authenticate", "Bearer realm=\"liveorigin-ingest\"");
    return reject(t, std::move(r));
  }
  const Registry& reg = ledger_.view(t.registry_view);
  const IngestToken* tok = nullptr;
  for (const auto& it : reg.auth->ingest_tokens) {
    if (it.token == token) tok = &it;
  }
  if (!tok) {
    Response r = text_response(401, "unknown ingest token", 0);
    r.set("WWW-Authenticate", "Bearer realm=\"liveorigin-ingest\", error=\"invalid_token\"");
    return reject(t, std::move(r));
  }
  if (pipeline.empty()) return reject(t, text_response(400, "Live-Pipeline header required", 0));

  const auto eit = reg.events.find(route.event);
  if (eit == reg.events.end()) return reject(t, text_response(404, "unknown event", 0, "unknown-event"));
  const std::shared_ptr<EventState>& event = eit->second;
  const EventConfig& ec = *event->config;
  const int si = event->find_stream(route.stream);
  if (si < 0) return reject(t, text_response(404, "unknown stream", 0, "unknown-stream"));
  const StreamConfig& sc = ec.streams[si];
  const int pi = ec.pipeline_index(pipeline);
  if (pi < 0) {
    return reject(t, text_response(403, "pipeline '" + std::string(pipeline) + "' is not configured for this event", 0));
  }
  if ((!tok->events.empty() && !contains(tok->events, ec.id)) ||
      (!tok->pipelines.empty() && !contains(tok->pipelines, pipeline))) {
    return reject(t, text_response(403, "token not allowed for this event or pipeline", 0));
  }
  const int64_t limit = core_.config.body_limit_bytes;
  if (head.content_length && *head.content_length > static_cast<uint64_t>(limit)) {
    return reject(t, text_response(413, "body larger than body_limit_bytes (" + std::to_string(limit) + ")", 0));
  }

  IngestTicket ticket;
  if (!head.segment_defects.empty()) {
    auto d = parse_segment_defects(head.segment_defects);
    if (!d) return reject(t, text_response(400, d.error().message, 0));
    ticket.defects = std::move(*d);
  }
  if (!head.repr_digest.empty()) {
    auto d = parse_repr_digest(head.repr_digest);
    if (!d) return reject(t, text_response(400, d.error().message, 0));
    ticket.expected = std::move(*d);
  }

  const int64_t now = core_.clock.now_ms();
  StreamState& ss = *event->streams[si];
  if (auto raw = sc.parsed_template.match(route.object)) {
    const int64_t n = *raw + ec.pipelines[pi].number_offset;
    const int64_t edge = live_edge(sc, now);
    const int64_t floor = dvr_floor(ec, sc, edge);
    if (n < floor) {
      return reject(t, text_response(422, "segment " + std::to_string(n) + " is older than the DVR window (oldest " +
                                              std::to_string(floor) + ")", 0, "expired"));
    }
    if (n > edge + sc.ingest_ahead_segments) {
      return reject(t, text_response(422, "segment " + std::to_string(n) + " is more than " +
                                              std::to_string(sc.ingest_ahead_segments) + " ahead of the live edge (" +
                                              std::to_string(edge) + ")", 0, "too-early"));
    }
    ticket.number = n;
  } else {
    ticket.object = std::string(route.object);
  }
  {
    MutexLock lock(ss.mu);
    if (ticket.number && *ticket.number <= ss.evicted_through) {
      return reject(t, text_response(422, "segment was evicted for the store budget", 0, "evicted"));
    }
    ss.mark_live(pipeline, now);
  }
  ticket.event = event;
  ticket.stream = event->streams[si];
  ticket.pipeline = std::string(pipeline);
  ticket.want_sha512 = !ticket.expected.sha512.empty();
  ticket.body_limit = limit;
  ticket.started_ms = now;
  return ticket;
}

std::string Ingest::next_key(Ledger::Writer& w, const IngestTicket& ticket) {
  const StreamConfig* sc = ticket.event->config_of(ticket.stream.get());
  std::string key = ticket.event->config->id + "/" + (sc ? sc->id : std::string()) + "/";
  key += ticket.number ? std::to_string(*ticket.number) : "o/" + ticket.object;
  key += "/" + ticket.pipeline + "/" + w.next_key_id();
  return key;
}

std::variant<Response, StoreWrite> Ingest::finish(OriginThread& t, IngestTicket&& ticket, SharedBytes body,
                                                  const BodyHasher::Final& hashes) {
  assert(body);
  const std::string mismatch = verify_digest(ticket.expected, hashes);
  if (!mismatch.empty()) return reject(t, text_response(400, mismatch, 0));
  if (static_cast<int64_t>(body->size()) > ticket.body_limit) {
    return reject(t, text_response(413, "body larger than body_limit_bytes", 0));
  }
  const int64_t size = static_cast<int64_t>(body->size());
  if (size == 0) return reject(t, text_response(400, "empty body: nothing to store", 0));
  const int64_t now = core_.clock.now_ms();

  Ledger::Writer w(ledger_);
  StreamState& ss = *ticket.stream;
  bool replaces = false;
  {
    MutexLock lock(ss.mu);
    std::vector<CandidatePtr>* copies;
    std::vector<std::string>* pending;
    const std::string* committed = nullptr;
    if (ticket.number) {
      if (*ticket.number <= ss.evicted_through) {
        return reject(t, text_response(422, "segment was evicted for the store budget", 0, "evicted"));
      }
      SegmentState& seg = ss.segments[*ticket.number];
      copies = &seg.candidates;
      pending = &seg.pending;
      committed = &seg.decision.committed;
    } else {
      if (!ss.objects.contains(ticket.object) && ss.objects.size() >= kPlainObjectsMax) {
        return reject(t, text_response(507, "stream already holds " + std::to_string(kPlainObjectsMax) +
                                                " plain objects (names not matching segment_template)", 0));
      }
      PlainObjectState& obj = ss.objects[ticket.object];
      copies = &obj.copies;
      pending = &obj.pending;
    }
    if (contains(*pending, ticket.pipeline)) {
      return reject(t, text_response(409, "an upload of this object from pipeline '" + ticket.pipeline +
                                              "' is in progress", 0));
    }
    if (const CandidatePtr* existing = find_candidate(*copies, ticket.pipeline)) {
      // The same bytes with the same inspection verdict: a retry of what we hold. (A
      // changed verdict on the same bytes is a new candidate, like different bytes.)
      if ((*existing)->sha256 == hashes.sha256 && (*existing)->defects.header == ticket.defects.header) {
        ss.mark_live(ticket.pipeline, now);
        return reject(t, empty_response(204, 0));
      }
      if (committed && *committed == ticket.pipeline && (*existing)->defects.clean()) {
        return reject(t, text_response(409, "different bytes or defects for a committed clean segment; "
                                            "change it through invalidation", 0));
      }
      replaces = true;
    }
    pending->push_back(ticket.pipeline);
  }
  // The byte budget bounds the memory store; the others hold their bytes elsewhere.
  const bool budgeted = !core_.config.store.journaled();
  if (budgeted && !reserve(w, t, size, now)) {
    MutexLock lock(ss.mu);
    abandon_upload(ss, ticket);
    return reject(t, text_response(507, "store budget exhausted (store.budget_bytes)", 0));
  }
  StoreWrite write;
  write.key = next_key(w, ticket);
  write.ticket = std::move(ticket);
  write.bytes = std::move(body);
  write.sha256 = hashes.sha256;
  write.replaces = replaces;
  write.reserved_bytes = budgeted ? size : 0;
  if (write.ticket.number) {
    const StreamConfig* sc = write.ticket.event->config_of(write.ticket.stream.get());
    write.expires_at_ms = avail_ms(*sc, *write.ticket.number) + write.ticket.event->config->dvr_window_s * 1000 +
                          core_.config.body_timeout_ms + 4 * sc->segment_duration_ms;
  }
  return write;
}

bool Ingest::reserve(Ledger::Writer& w, OriginThread& t, int64_t bytes, int64_t now_ms) {
  const int64_t budget = core_.config.store.budget_bytes;
  if (bytes > budget) return false;
  AgeIndex& by_age = w.by_age();
  while (w.stored_bytes() + bytes > budget && !by_age.empty()) {
    const auto [avail, stream, n] = *by_age.begin();
    MutexLock lock(stream->mu);
    if (avail + stream->live_protect_ms > now_ms) return false;  // never evict the live window
    auto it = stream->segments.find(n);
    if (it != stream->segments.end() && !it->second.pending.empty()) return false;  // mid-write
    by_age.erase(by_age.begin());
    if (it == stream->segments.end()) continue;
    forget(w, t, it->second.candidates);
    HoldTable::wake_all(it->second.waiters, t.effects, -1);
    stream->segments.erase(it);
    stream->evicted_through = std::max(stream->evicted_through, n);
    core_.metrics.count("liveorigin_evicted_segments_total", "");
  }
  if (w.stored_bytes() + bytes > budget) return false;
  w.add_stored_bytes(bytes);
  return true;
}

JournalEntry Ingest::candidate_entry(const StoreWrite& write, int64_t now) const {
  const IngestTicket& ticket = write.ticket;
  JournalEntry e;
  e.kind = JournalEntry::Kind::candidate;
  e.event = ticket.event->config->id;
  const StreamConfig* sc = ticket.event->config_of(ticket.stream.get());
  e.stream = sc ? sc->id : std::string();
  e.number = ticket.number;
  e.object = ticket.object;
  CandidateMeta& c = e.candidate;
  c.pipeline = ticket.pipeline;
  c.defects = ticket.defects.header;
  c.sha256 = write.sha256;
  c.bytes = static_cast<int64_t>(write.bytes->size());
  c.arrived_ms = now;
  c.key = write.key;
  // Init segments are small; what the manifests need of one is read now, once.
  if (!ticket.number && !is_manifest(ticket.object) && write.bytes->size() <= kInitBytesMax) {
    if (auto info = parse_init_segment(*write.bytes)) c.init = std::move(*info);
  }
  return e;
}

std::variant<Response, Append> Ingest::complete(OriginThread& t, StoreWrite&& write, bool stored) {
  const IngestTicket& ticket = write.ticket;
  const int64_t now = core_.clock.now_ms();
  StreamState& ss = *ticket.stream;

  Ledger::Writer w(ledger_);
  if (!stored) {
    w.add_stored_bytes(-write.reserved_bytes);
    MutexLock lock(ss.mu);
    abandon_upload(ss, ticket);
    return reject(t, text_response(503, "store write failed; retry", 0));
  }
  JournalEntry entry = candidate_entry(write, now);
  {
    MutexLock lock(ss.mu);
    if (ticket.number) {
      erase_string(ss.segments[*ticket.number].pending, ticket.pipeline);
    } else {
      erase_string(ss.objects[ticket.object].pending, ticket.pipeline);
    }
  }
  if (core_.config.store.journaled()) {
    // The bytes are stored; the PUT is acknowledged once its entry is in the journal
    // and applied here (finish_append).
    return Append{std::move(entry), Append::Then::respond, ZoneLabel::ingest, ticket.started_ms};
  }
  Response r = apply_candidate(w, t, entry);
  expire(w, t, *ticket.event, now);
  return finish_append(t, Append{std::move(entry), Append::Then::respond, ZoneLabel::ingest, ticket.started_ms}, r);
}

Response Ingest::finish_append(OriginThread& t, const Append& append, std::optional<Response> applied) {
  Response r = applied ? std::move(*applied) : text_response(503, "store unavailable: not stored; retry", 0);
  t.counters().puts[status_index(r.status)].add();
  if (r.status == 201 || r.status == 204) {
    t.counters().put_ms.observe(core_.clock.now_ms() - append.started_ms);
    t.counters().bytes_ingested.add(static_cast<uint64_t>(append.entry.candidate.bytes));
  }
  return r;
}

Response Ingest::apply_candidate(Ledger::Writer& w, OriginThread& t, const JournalEntry& e) {
  const auto eit = w.registry().events.find(e.event);
  if (eit == w.registry().events.end()) {
    t.effects.erase.push_back(e.candidate.key);
    return text_response(404, "unknown event", 0, "unknown-event");
  }
  const EventState& event = *eit->second;
  const EventConfig& ec = *event.config;
  const int si = event.find_stream(e.stream);
  if (si < 0) {
    t.effects.erase.push_back(e.candidate.key);
    return text_response(404, "unknown stream", 0, "unknown-stream");
  }
  const StreamConfig& sc = ec.streams[si];
  StreamState& ss = *event.streams[si];
  const CandidateMeta& meta = e.candidate;

  auto fresh = std::make_shared<Candidate>();
  fresh->pipeline = meta.pipeline;
  if (!meta.defects.empty()) {
    auto d = parse_segment_defects(meta.defects);
    if (d) fresh->defects = std::move(*d);
  }
  fresh->arrived_ms = meta.arrived_ms;
  fresh->bytes = meta.bytes;
  fresh->sha256 = meta.sha256;
  fresh->key = meta.key;
  if (meta.init) fresh->init = std::make_shared<const InitInfo>(*meta.init);
  // With the memory store the bytes were counted when they were reserved (finish).
  const bool count_bytes = core_.config.store.journaled();
  auto drop_fresh = [&] {
    t.effects.erase.push_back(fresh->key);
    if (!count_bytes) w.add_stored_bytes(-fresh->bytes);
  };
  if (count_bytes) w.add_stored_bytes(fresh->bytes);

  int64_t version = 0;
  bool replaced = false;
  MutexLock lock(ss.mu);
  ss.mark_live(meta.pipeline, meta.arrived_ms);
  if (e.number) {
    const int64_t n = *e.number;
    SegmentState& seg = ss.segments[n];
    Decision& d = seg.decision;
    bool replaced_committed = false;
    if (CandidatePtr* old = const_cast<CandidatePtr*>(find_candidate(seg.candidates, meta.pipeline))) {
      // The re-PUT rules, as finish checked them; applied again here because another
      // instance's entry may have come first.
      if ((*old)->sha256 == fresh->sha256 && (*old)->defects.header == fresh->defects.header) {
        drop_fresh();
        return empty_response(204, 0);
      }
      if (d.committed == meta.pipeline && (*old)->defects.clean()) {
        drop_fresh();
        return text_response(409, "different bytes or defects for a committed clean segment; "
                                  "change it through invalidation", 0);
      }
      forget(w, t, {*old});
      replaced_committed = d.committed == meta.pipeline;
      *old = fresh;
      replaced = true;
    } else {
      seg.candidates.push_back(fresh);
    }
    if (seg.indexed_avail_ms < 0) {
      seg.indexed_avail_ms = avail_ms(sc, n);
      w.by_age().emplace(seg.indexed_avail_ms, &ss, n);
    }
    // A committed defective choice moves to a strictly better candidate; a replaced
    // committed candidate is re-chosen. Either way the bytes served change: new version.
    if (!d.committed.empty()) {
      const CandidatePtr* cur = find_candidate(seg.candidates, d.committed);
      const CandidatePtr best = best_candidate(event, sc.id, n, seg);
      const bool upgrade = cur && !replaced_committed && !(*cur)->defects.clean() && best &&
                           better_defects(best->defects, (*cur)->defects);
      if ((upgrade || replaced_committed) && best) {
        record_choice(d, best->pipeline, upgrade ? "upgraded" : "replaced", meta.arrived_ms, core_.metrics, ec.id,
                      sc.id);
        d.version = event.runtime->version.fetch_add(1) + 1;
      }
    }
    version = d.version;
    HoldTable::wake_all(seg.waiters, t.effects, meta.arrived_ms);
  } else {
    PlainObjectState& obj = ss.objects[e.object];
    if (CandidatePtr* old = const_cast<CandidatePtr*>(find_candidate(obj.copies, meta.pipeline))) {
      forget(w, t, {*old});
      *old = fresh;
      replaced = true;
    } else {
      obj.copies.push_back(fresh);
    }
    // Epoch-locked pipelines should produce identical init segments.
    if (!is_manifest(e.object)) {
      for (const auto& c : obj.copies) {
        if (c->pipeline != meta.pipeline && c->sha256 != fresh->sha256) {
          core_.metrics.count("liveorigin_init_mismatch_total",
                              "event=" + prom_label(ec.id) + ",stream=" + prom_label(sc.id));
          core_.note("init mismatch: " + ec.id + "/" + sc.id + "/" + e.object + " from pipeline " + meta.pipeline +
                     " differs from pipeline " + c->pipeline);
          break;
        }
      }
    }
  }
  Response r = replaced ? empty_response(204, 0) : text_response(201, "created", 0);
  if (e.number) r.set("Live-Version", std::to_string(version));
  return r;
}

void Ingest::expire(Ledger::Writer& w, OriginThread& t, EventState& event, int64_t now_ms) {
  const EventConfig& ec = *event.config;
  for (size_t i = 0; i < ec.streams.size(); ++i) {
    const StreamConfig& sc = ec.streams[i];
    StreamState& ss = *event.streams[i];
    int64_t floor = dvr_floor(ec, sc, live_edge(sc, now_ms));
    if (core_.config.store.journaled()) {
      // Instances expire on their own clocks; an entry may still name a segment just
      // past the window (a slow upload). Keeping that margin longer makes every
      // instance apply it to the same state (journal.h).
      floor -= (core_.config.body_timeout_ms + 2 * sc.segment_duration_ms) / sc.segment_duration_ms + 1;
    }
    MutexLock lock(ss.mu);
    while (!ss.segments.empty() && ss.segments.begin()->first < floor) {
      SegmentState& seg = ss.segments.begin()->second;
      if (!seg.pending.empty()) break;  // its store write completes first
      forget(w, t, seg.candidates);
      if (seg.indexed_avail_ms >= 0) w.by_age().erase({seg.indexed_avail_ms, &ss, ss.segments.begin()->first});
      HoldTable::wake_all(seg.waiters, t.effects, -1);
      ss.segments.erase(ss.segments.begin());
    }
  }
}

void Ingest::tick(OriginThread& t) {
  const Registry& reg = ledger_.view(t.registry_view);
  const int64_t now = core_.clock.now_ms();
  Ledger::Writer w(ledger_);
  for (const auto& [id, event] : reg.events) expire(w, t, *event, now);
}

void Ingest::drop_stream(Ledger::Writer& w, OriginThread& t, StreamState& ss) {
  MutexLock lock(ss.mu);
  for (auto& [n, seg] : ss.segments) {
    forget(w, t, seg.candidates);
    if (seg.indexed_avail_ms >= 0) w.by_age().erase({seg.indexed_avail_ms, &ss, n});
    HoldTable::wake_all(seg.waiters, t.effects, -1);
  }
  for (auto& [name, obj] : ss.objects) forget(w, t, obj.copies);
  ss.segments.clear();
  ss.objects.clear();
}

}  // namespace liveorigin
