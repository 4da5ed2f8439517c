// The origin core: every decision of docs/http-api.md (zones, selection, commit,
// holds, ingest rules, markers, invalidation, priority, the admin API) as one state
// machine with no I/O and no wall clock. This class is the façade the drivers call —
// the Beast server, the virtual-time simulator's CoreLink and the tests' harness,
// all through the adapter of origin/driver/exchange.h. Each concern lives in its own
// unit (docs/architecture.md has the map):
//
//   routing.h       which path a request names
//   delivery.h      zones, selection and commit, plain objects
//   holds.h         held requests and their bounds
//   ingest.h        PUTs, the byte budget, DVR expiry
//   priority.h      request classes, overload shedding, suppression
//   markers.h       Live-Markers and the markers API
//   invalidation.h  invalidation and its feed
//   admin.h         the admin API and SIGHUP reload
//   stream_endpoints.h  _timeline and the generated manifests
//   metrics_page.h  GET /metrics
//   ledger.h        the write side: the registry's snapshots and the store's books
//
// A driver feeds it requests, bodies and store completions and carries out what it
// answers:
//
//   handle()        -> Response | Fetch (read the store, then complete_fetch) | Hold
//                      | Append (journaled stores: append, then resume or complete_append)
//   begin_put()     -> Response (rejected before the body) | IngestTicket (read the body)
//   finish_put()    -> Response (rejected after the body) | StoreWrite (write, then complete_put)
//   complete_put()  -> Response (the acknowledgement) | Append (journaled stores)
//
// Secondary actions produced by a call (wake these held requests, erase these store
// keys) are collected in the caller's OriginThread; the driver takes them with
// take_effects() after each call and carries them out outside any core lock.
//
// Time comes only from the injected Clock. Thread-safety: Origin is safe to call from
// many threads, each with its own OriginThread. The GET path takes no global lock: it
// reads a per-thread snapshot of the registry and locks one stream.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <optional>
#include <string_view>
#include <variant>

#include "origin/core/actions.h"
#include "origin/core/admin.h"
#include "origin/core/clock.h"
#include "origin/core/config.h"
#include "origin/core/core_context.h"
#include "origin/core/delivery.h"
#include "origin/core/holds.h"
#include "origin/core/ingest.h"
#include "origin/core/invalidation.h"
#include "origin/core/ledger.h"
#include "origin/core/markers.h"
#include "origin/core/messages.h"
#include "origin/core/metrics.h"
#include "origin/core/origin_thread.h"
#include "origin/core/priority.h"
#include "origin/core/store_status.h"
#include "origin/core/stream_endpoints.h"

namespace liveorigin {

class Origin {
 public:
  using Logger = liveorigin::Logger;

  // `clock` must outlive the Origin. `config.events` are the initial events.
  Origin(const Clock& clock, OriginConfig config, Logger log = {});
  ~Origin();
  Origin(const Origin&) = delete;
  Origin& operator=(const Origin&) = delete;

  std::unique_ptr<OriginThread> make_thread();

  // True for PUTs whose body is a media object (/live/... or /ingest/...): the driver
  // streams those through begin_put/finish_put instead of handle().
  bool is_ingest(const RequestHead& head) const;

  // Everything but ingest PUTs. `body` is the (small) request body, for admin calls.
  // `held` is the request's waiter, kept by the core only when the outcome is Hold;
  // pass the same waiter again when resuming after wake() or at wake_at_ms.
  Outcome handle(OriginThread& t, const RequestHead& head, std::string_view body,
                 const std::shared_ptr<HeldRequest>& held);

  // `bytes` null means the store did not have the key (503, a transient race with
  // replacement or eviction).
  Response complete_fetch(OriginThread& t, Fetch&& fetch, SharedBytes bytes);

  // The client went away: frees the hold slot.
  void cancel(const std::shared_ptr<HeldRequest>& held);

  std::variant<Response, IngestTicket> begin_put(OriginThread& t, const RequestHead& head);
  std::variant<Response, StoreWrite> finish_put(OriginThread& t, IngestTicket&& ticket, SharedBytes body,
                                                const BodyHasher::Final& hashes);
  // The answer to the PUT, or (with a journaled store) the Append of its candidate.
  std::variant<Response, Append> complete_put(OriginThread& t, StoreWrite&& write, bool stored);

  // Journaled stores (journal.h): every store but memory. Appends come back here:
  //   apply()           every instance applies each entry of an event in journal order
  //                     (`seq`), its own and the others'; answers what it decided
  //   complete_append() the answer to the request that appended (`applied`: apply()'s
  //                     answer on this instance; nothing: the append failed)
  bool journaled() const { return config_.store.journaled(); }
  Response apply(OriginThread& t, int64_t seq, const JournalEntry& entry);
  Response complete_append(OriginThread& t, const Append& append, std::optional<Response> applied);
  // An event's state as of the last entry applied (snapshot.h); empty if unknown.
  std::string snapshot(std::string_view event);
  // Restores a snapshot at start-up, before any entry of its event is applied; returns
  // its sequence number.
  Result<int64_t> restore(std::string_view snapshot);
  // The ids of the events in the registry now.
  std::vector<std::string> event_ids();

  // Periodic housekeeping (the driver calls it about once a second): expires
  // segments that left the DVR window.
  void tick(OriginThread& t);

  // Applies a re-read config file (SIGHUP); see Admin::reload.
  std::string reload(OriginThread& t, const OriginConfig& next);

  // Counts a request the transport answered itself (unparseable, too large, timed out).
  void count_transport_reject(OriginThread& t, int status);
  // Counts an ingest PUT the transport answered itself (a body over the limit).
  void count_put_reject(OriginThread& t, int status);

  // /healthz answers 503 from now on, no new request is held, and held requests are
  // answered (not-yet) by `hold_until_ms` at the latest, before the server stops.
  void set_draining(int64_t hold_until_ms) { holds_.set_draining(hold_until_ms); }
  bool draining() const { return holds_.draining(); }

  // Before the first request: a tag in every store key this instance writes, so that
  // instances sharing a store never write one key (the serve command gives a random one).
  void set_key_tag(std::string tag) { ledger_.set_key_tag(std::move(tag)); }

  // What /healthz and /metrics show of the store (null: nothing); must outlive the Origin.
  void set_store_status(const StoreStatus* status) { store_status_.store(status, std::memory_order_release); }

  int64_t held_requests() const { return holds_.held(); }
  int64_t stored_bytes() const { return ledger_.stored_bytes(); }
  const OriginConfig& config() const { return config_; }
  const Clock& clock() const { return clock_; }

 private:
  Response metrics(OriginThread& t);
  Response health() const;

  const Clock& clock_;
  const OriginConfig config_;
  const Logger log_;
  SharedMetrics shared_metrics_;
  const CoreContext core_{clock_, config_, log_, shared_metrics_};

  std::atomic<const StoreStatus*> store_status_{nullptr};
  CounterBlocks counters_;
  Ledger ledger_;
  HoldTable holds_;
  Priority priority_;
  Delivery delivery_;
  Ingest ingest_;
  Markers markers_;
  Invalidation invalidation_;
  Admin admin_;
  StreamEndpoints streams_;
};

}  // namespace liveorigin
