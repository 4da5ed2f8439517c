#include "origin/core/delivery.h"

#include <optional>
#include <variant>

#include "origin/core/markers.h"
#include "origin/core/origin_thread.h"
#include "origin/core/representation.h"
#include "origin/core/selection.h"
#include "origin/core/timing.h"

namespace liveorigin {

namespace {

ZoneLabel label_of(Zone z) {
  switch (z) {
    case Zone::expired: return ZoneLabel::expired;
    case Zone::select: return ZoneLabel::select;
    case Zone::hold: return ZoneLabel::hold;
    case Zone::not_yet: return ZoneLabel::not_yet;
    case Zone::too_early: return ZoneLabel::too_early;
  }
  return ZoneLabel::select;
}

// What a response serving a candidate needs, copied out of the stream lock.
struct Serve {
  CandidatePtr candidate;
  int64_t version = 0;
  int64_t ttl_ms = 0;
  bool segment = true;
  std::string markers;  // Live-Markers value; empty: none in force
};

Outcome build_serve(const RequestHead& head, const StreamConfig& sc, std::string_view object, const Serve& s,
                    ZoneLabel zone) {
  const Candidate& c = *s.candidate;
  Response r;
  const std::string etag = etag_of(c, s.version);
  set_cache_ttl(r, s.ttl_ms);
  r.set("ETag", etag);
  r.set("Live-Version", std::to_string(s.version));
  r.set("Live-Pipeline", c.pipeline);
  std::string cmsd = "at=" + std::to_string(c.arrived_ms);
  if (s.segment) {
    cmsd += ",d=" + std::to_string(sc.segment_duration_ms);
    cmsd += sc.content_type == ContentType::audio ? ",ot=a" : ",ot=v";
  } else {
    cmsd += is_manifest(object) ? ",ot=m" : ",ot=i";
  }
  cmsd += ",st=l";
  r.set("CMSD-Static", std::move(cmsd));
  if (!c.defects.clean()) r.set("Segment-Defects", c.defects.header);
  if (!s.markers.empty()) r.set("Live-Markers", s.markers);
  r.set("Accept-Ranges", "bytes");
  r.set("Content-Type", content_type_of(object, sc.content_type));

  if (!head.if_none_match.empty() && if_none_match_hits(head.if_none_match, etag)) {
    r.status = 304;
    r.send_body = false;
    r.body_length = 0;
    return r;
  }
  r.body_offset = 0;
  r.body_length = static_cast<size_t>(c.bytes);
  const bool if_range_ok = head.if_range.empty() || head.if_range == etag;
  ByteRange range{};
  const RangeResult rr =
      head.range.empty() || !if_range_ok ? RangeResult::none : parse_range(head.range, c.bytes, range);
  if (rr == RangeResult::unsatisfiable) {
    Response e = text_response(416, "range not satisfiable", 0);
    e.set("Content-Range", "bytes */" + std::to_string(c.bytes));
    return e;
  }
  if (rr == RangeResult::ok) {
    r.status = 206;
    r.body_offset = static_cast<size_t>(range.first);
    r.body_length = static_cast<size_t>(range.last - range.first + 1);
    r.set("Content-Range", "bytes " + std::to_string(range.first) + "-" + std::to_string(range.last) + "/" +
                               std::to_string(c.bytes));
  }
  if (head.method == Method::head) return r;  // Content-Length only: no store read
  return Fetch{c.key, std::move(r), zone};
}

// What the segment rules decided under the stream lock.
struct Choice {
  std::optional<JournalEntry> commit;  // journaled: append this commit, then serve what it decided
  CandidatePtr serve;  // serve this candidate (the committed choice by now)
  int64_t version = 0;
  std::optional<std::variant<Hold, const char*>> hold;  // held, or refused a hold for this reason
  bool evicted = false;
  // none of these: missing
};

}  // namespace

Delivery::Delivery(const CoreContext& core, Ledger& ledger, HoldTable& holds, Priority& priority)
    : core_(core), ledger_(ledger), holds_(holds), priority_(priority) {}

Outcome Delivery::get(OriginThread& t, const RequestHead& head, const Route& route,
                      const std::shared_ptr<HeldRequest>& held) {
  const Registry& reg = ledger_.view(t.registry_view);
  const auto eit = reg.events.find(route.event);
  if (eit == reg.events.end()) {
    return finish(t, ZoneLabel::unknown_event, text_response(404, "unknown event", kUnknownTtlMs, "unknown-event"),
                  held);
  }
  EventState& event = *eit->second;
  const int si = event.find_stream(route.stream);
  if (si < 0) {
    return finish(t, ZoneLabel::unknown_stream,
                  text_response(404, "unknown stream", kUnknownTtlMs, "unknown-stream"), held);
  }
  const StreamConfig& sc = event.config->streams[si];
  if (auto n = sc.parsed_template.match(route.object)) {
    return segment(t, head, event, static_cast<size_t>(si), *n, held);
  }
  return plain_object(t, head, event, static_cast<size_t>(si), route.object);
}

Outcome Delivery::segment(OriginThread& t, const RequestHead& head, EventState& event, size_t si, int64_t n,
                          const std::shared_ptr<HeldRequest>& held) {
  const int64_t now = core_.clock.now_ms();
  const EventConfig& ec = *event.config;
  const StreamConfig& sc = ec.streams[si];
  StreamState& ss = *event.streams[si];
  const bool resumed = held && held->waiting();
  const ZoneDecision z = classify(ec, sc, n, now);
  const ZoneLabel label = resumed ? held->zone() : label_of(z.zone);
  const RequestClass cls = resumed ? held->request_class() : priority_.classify(head, sc, n, z.edge);
  const size_t cl = static_cast<size_t>(cls);

  switch (z.zone) {
    case Zone::expired:
      return finish(t, label, text_response(410, "expired", z.ttl_ms, "expired"), held, cl);
    case Zone::not_yet:
      return finish(t, label, text_response(404, "not yet", z.ttl_ms, "not-yet"), held, cl);
    case Zone::too_early:
      return finish(t, label, text_response(404, "too early", z.ttl_ms, "too-early"), held, cl);
    case Zone::select:
    case Zone::hold:
      break;
  }
  // Shed before any work: no lock, no selection, no store read.
  if (!resumed && z.zone == Zone::select && priority_.overloaded(cls, now)) {
    t.counters().shed[cl].add();
    priority_.remember_shed(t, head.target, now, cls);
    return finish(t, label, priority_.shed_response(), held, cl);
  }

  Choice choice;
  {
    MutexLock lock(ss.mu);
    HoldTable::unregister(ss, n, held);  // a woken request is evaluated afresh
    if (n <= ss.evicted_through) {
      choice.evicted = true;
    } else {
      auto it = ss.segments.find(n);
      SegmentState* seg = it == ss.segments.end() ? nullptr : &it->second;
      std::optional<int64_t> hold_until;  // hold until then, or until a PUT publishes n
      auto serve = [&](CandidatePtr c, const char* reason) {
        Decision& d = seg->decision;
        if (d.committed.empty() && core_.config.store.journaled()) {
          // The commit goes through the journal, so every instance serves the same
          // choice; one request appends it, the others wait for it to apply.
          if (seg->commit_pending) {
            hold_until = now + sc.hold_ms_max;
          } else {
            seg->commit_pending = true;
            choice.commit = commit_entry(ec.id, sc.id, n, c->pipeline, reason, now);
          }
          return;
        }
        if (d.committed.empty()) record_choice(d, c->pipeline, reason, now, core_.metrics, ec.id, sc.id);
        if (d.first_served_ms < 0) d.first_served_ms = now;
        choice.serve = std::move(c);
        choice.version = d.version;
      };
      const CandidatePtr* committed =
          seg && !seg->decision.committed.empty() ? find_candidate(seg->candidates, seg->decision.committed) : nullptr;
      const CandidatePtr best = committed || !seg ? nullptr : best_candidate(event, sc.id, n, *seg);
      const int64_t avail = avail_ms(sc, n);
      const int64_t grace_end = avail + sc.selection_grace_ms;
      if (committed) {
        serve(*committed, "");
      } else if (best && best->defects.clean()) {
        serve(best, "clean");
      } else if (z.zone == Zone::hold) {
        // Not yet due: only a clean copy is served early; anything else waits for avail(n).
        hold_until = avail;
      } else {
        const bool in_grace = now < grace_end;
        bool other_live = false;  // a live, not excluded pipeline that has not delivered n yet
        bool any_live = false;
        for (const auto& p : ec.pipelines) {
          if (!ss.live(p.id, now, sc.pipeline_liveness_ms) || event.excluded(p.id, sc.id, n)) continue;
          any_live = true;
          if (!seg || !find_candidate(seg->candidates, p.id)) other_live = true;
        }
        if (best) {
          if (in_grace && other_live) {
            hold_until = grace_end;
          } else {
            serve(best, "least-defective");
          }
        } else if (in_grace && any_live) {
          hold_until = grace_end;
        }
      }
      if (hold_until) {
        choice.hold = holds_.hold(t, ss, event.streams[si], n, *hold_until, sc.hold_ms_max, now, held, label, cls);
      }
    }
  }

  if (choice.evicted) {
    return finish(t, label, text_response(410, "evicted (store budget)", kExpiredTtlMs, "evicted"), held, cl);
  }
  if (choice.commit) return Append{std::move(*choice.commit), Append::Then::resume, label, now};
  if (choice.serve) {
    Serve s{std::move(choice.serve), choice.version, 0, true};
    s.ttl_ms = s.candidate->defects.clean() ? ec.dvr_window_s * 1000 : sc.segment_duration_ms;
    s.markers = live_markers(event, sc, n);
    if (!s.candidate->defects.clean()) t.counters().defective_served.add();
    Outcome o = build_serve(head, sc, sc.segment_template, s, label);
    if (auto* f = std::get_if<Fetch>(&o)) {
      f->class_label = cl;
      t.counters().store_reads.fetch_add(1, std::memory_order_relaxed);
    }
    return finish(t, label, std::move(o), held, cl);
  }
  if (choice.hold) {
    if (auto* h = std::get_if<Hold>(&*choice.hold)) return *h;
    const char* why = std::get<const char*>(*choice.hold);
    return finish(t, label, text_response(404, why, not_yet_ttl_ms(sc, n, now), "not-yet"), held, cl);
  }
  Response r = text_response(404, "missing", sc.segment_duration_ms, "missing");
  r.set("Segment-Defects", "missing");
  return finish(t, label, std::move(r), held, cl);
}

Outcome Delivery::finish(OriginThread& t, ZoneLabel zone, Outcome outcome, const std::shared_ptr<HeldRequest>& held,
                         size_t class_label) {
  if (std::holds_alternative<Hold>(outcome) || std::holds_alternative<Append>(outcome)) return outcome;
  Response* r = std::get_if<Response>(&outcome);
  if (r == nullptr) r = &std::get<Fetch>(outcome).response;
  if (held) holds_.answered(t, held, *r, core_.clock.now_ms());
  if (std::holds_alternative<Response>(outcome)) count_request(t.counters(), zone, r->status, class_label);
  return outcome;
}

JournalEntry Delivery::commit_entry(std::string_view event, std::string_view stream, int64_t n,
                                   std::string_view pipeline, std::string_view reason, int64_t now) {
  JournalEntry e;
  e.kind = JournalEntry::Kind::commit;
  e.event = std::string(event);
  e.stream = std::string(stream);
  e.number = n;
  e.pipeline = std::string(pipeline);
  e.reason = std::string(reason);
  e.at_ms = now;
  return e;
}

Response Delivery::apply_commit(Ledger::Writer& w, OriginThread& t, const JournalEntry& e) {
  const auto eit = w.registry().events.find(e.event);
  if (eit == w.registry().events.end()) return text_response(404, "unknown event", 0, "unknown-event");
  EventState& event = *eit->second;
  const int si = event.find_stream(e.stream);
  if (si < 0 || !e.number) return text_response(404, "unknown stream", 0, "unknown-stream");
  StreamState& ss = *event.streams[si];
  MutexLock lock(ss.mu);
  auto it = ss.segments.find(*e.number);
  if (it == ss.segments.end()) return text_response(404, "no such segment here", 0);
  SegmentState& seg = it->second;
  seg.commit_pending = false;
  Decision& d = seg.decision;
  bool applied = false;
  // The first commit applied wins; a later one for a committed segment changes nothing.
  if (d.committed.empty() && find_candidate(seg.candidates, e.pipeline) &&
      !event.excluded(e.pipeline, e.stream, *e.number)) {
    record_choice(d, e.pipeline, e.reason, e.at_ms, core_.metrics, e.event, e.stream);
    if (d.first_served_ms < 0) d.first_served_ms = e.at_ms;
    applied = true;
  }
  HoldTable::wake_all(seg.waiters, t.effects, -1);
  return text_response(200, applied ? "committed" : "already committed", 0);
}

void Delivery::abandon_commit(OriginThread& t, const JournalEntry& e) {
  const Registry& reg = ledger_.view(t.registry_view);
  const auto eit = reg.events.find(e.event);
  if (eit == reg.events.end() || !e.number) return;
  const int si = eit->second->find_stream(e.stream);
  if (si < 0) return;
  StreamState& ss = *eit->second->streams[si];
  MutexLock lock(ss.mu);
  auto it = ss.segments.find(*e.number);
  if (it == ss.segments.end()) return;
  it->second.commit_pending = false;
  HoldTable::wake_all(it->second.waiters, t.effects, -1);
}

Response Delivery::complete_fetch(OriginThread& t, Fetch&& fetch, SharedBytes bytes) {
  if (fetch.class_label < kRequestClasses) t.counters().store_reads.fetch_sub(1, std::memory_order_relaxed);
  t.counters().store_reads_done.add();
  Response r = std::move(fetch.response);
  if (!bytes || bytes->size() < r.body_offset + r.body_length) {
    // The store did not answer (or lost the object to a race with its replacement).
    // Live requests try again at once; DVR and background ones are shed for a while,
    // so a store in trouble is not asked again by every cache behind this one.
    const bool live = fetch.class_label == static_cast<size_t>(RequestClass::live);
    if (live || fetch.class_label >= kRequestClasses) {
      r = text_response(503, "object not in store, retry", 0, "store-miss");
    } else {
      r = priority_.shed_response();
      t.counters().shed[fetch.class_label].add();
    }
    add_cors(r);  // fetches serve /live/ objects only
  } else {
    r.body = std::move(bytes);
    t.counters().bytes_served.add(r.body_length);
  }
  count_request(t.counters(), fetch.zone, r.status, fetch.class_label);
  return r;
}

Outcome Delivery::plain_object(OriginThread& t, const RequestHead& head, EventState& event, size_t si,
                               std::string_view object) {
  const int64_t now = core_.clock.now_ms();
  const EventConfig& ec = *event.config;
  const StreamConfig& sc = ec.streams[si];
  StreamState& ss = *event.streams[si];
  const int64_t ttl = sc.segment_duration_ms / 2;
  CandidatePtr chosen;
  {
    MutexLock lock(ss.mu);
    auto it = ss.objects.find(object);
    if (it != ss.objects.end()) chosen = served_copy(ec, sc, ss, it->second, now);
  }
  if (!chosen) {
    Response r = text_response(404, "not found", ttl, "not-found");
    count_request(t.counters(), ZoneLabel::plain_object, 404);
    return r;
  }
  if (!chosen->defects.clean()) t.counters().defective_served.add();
  Serve s{std::move(chosen), 0, ttl, false};
  Outcome o = build_serve(head, sc, object, s, ZoneLabel::plain_object);
  if (auto* r = std::get_if<Response>(&o)) count_request(t.counters(), ZoneLabel::plain_object, r->status);
  return o;
}

}  // namespace liveorigin
