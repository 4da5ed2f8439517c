// The origin core: every decision of DESIGN §2 (zones, selection, commit, holds,
// ingest rules, admin API) as a state machine with no I/O and no wall clock.
//
// A driver (the Beast server, or the virtual-time simulator) feeds it requests,
// bodies and store completions and carries out what it answers:
//
//   handle()        -> Response | Fetch (read the store, then complete_fetch) | Hold
//   begin_put()     -> Response (rejected before the body) | IngestTicket (read the body)
//   finish_put()    -> Response (rejected after the body) | StoreWrite (write, then complete_put)
//   complete_put()  -> Response (the acknowledgement)
//
// Secondary actions produced by a call (wake these held requests, erase these store
// keys) are collected in the caller's OriginThread; the driver takes them with
// take_effects() after each call and carries them out outside any core lock.
//
// Time comes only from the injected Clock. Thread-safety: Origin is safe to call
// from many threads, each with its own OriginThread. The GET path takes no global
// lock: it reads a per-thread snapshot of the event registry and locks one stream.
#pragma once

#include <atomic>
#include <cstdint>
#include <array>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <variant>
#include <vector>

#include "origin/core/clock.h"
#include "origin/core/config.h"
#include "origin/core/defects.h"
#include "origin/core/digest.h"
#include "origin/core/messages.h"
#include "origin/core/metrics.h"

namespace liveorigin {

struct EventState;
struct StreamState;
struct Registry;
class Origin;

// A request the core decided to hold. The driver subclasses it; the core keeps a
// reference while the request waits for its segment.
class HeldRequest {
 public:
  virtual ~HeldRequest() = default;
  // Called by the driver (never by the core) for each waiter in Effects::wake. The
  // implementation must call Origin::handle again for this request on its own
  // executor, not from inside wake().
  virtual void wake() = 0;

 private:
  friend class Origin;
  // Guarded by the owning stream's mutex.
  bool registered_ = false;
  // Written only by calls made for this request (serialized by its driver).
  int64_t held_since_ms_ = -1;
  bool counted_ = false;  // occupies one of hold_requests_max slots
  int64_t woken_ms_ = -1;  // when a PUT woke it (guarded by the stream's mutex while registered)
  ZoneLabel zone_ = ZoneLabel::hold;
  RequestClass class_ = RequestClass::live;
  std::weak_ptr<StreamState> stream_;  // weak: the stream's waiter list owns us
  int64_t number_ = 0;
};

// Secondary actions to carry out after a call, in any order.
struct Effects {
  std::vector<std::shared_ptr<HeldRequest>> wake;
  std::vector<std::string> erase;  // store keys no longer referenced

  bool empty() const { return wake.empty() && erase.empty(); }
};

// Per-driver-thread context: registry snapshot, counters and pending effects.
// Used by one thread at a time.
class OriginThread {
 public:
  ~OriginThread();
  Effects take_effects() { return std::exchange(effects_, {}); }
  ThreadCounters& counters() { return *counters_; }

 private:
  friend class Origin;
  OriginThread() = default;
  uint64_t registry_gen_ = ~uint64_t{0};
  std::shared_ptr<const Registry> registry_;
  std::shared_ptr<ThreadCounters> counters_;
  Effects effects_;

  // Suppression cache (DESIGN §2.6): paths answered 503 for overload, and until when a
  // repeat gets the same answer without any work. Direct-mapped, per thread: no lock.
  struct Suppressed {
    uint64_t path_hash = 0;
    int64_t until_ms = 0;
    uint8_t class_label = 0;
  };
  static constexpr size_t kSuppressSlots = 4096;
  std::vector<Suppressed> suppressed_;
  int64_t suppress_active_until_ms_ = 0;
};

// Read `key` from the store; then complete_fetch() fills the body.
struct Fetch {
  std::string key;
  Response response;  // complete except the body pointer; body_offset/length already set
  ZoneLabel zone = ZoneLabel::select;  // for metrics, counted when the fetch completes
  size_t class_label = 3;              // ditto (index for class_label())
};

// Keep the request until `wake_at_ms` (or an earlier wake()), then call handle() again.
struct Hold {
  int64_t wake_at_ms;
};

using Outcome = std::variant<Response, Fetch, Hold>;

// An accepted ingest PUT whose body the driver now reads (at most body_limit bytes),
// hashing it with BodyHasher(want_sha512).
struct IngestTicket {
  std::shared_ptr<EventState> event;
  std::shared_ptr<StreamState> stream;
  std::optional<int64_t> number;  // in the origin's numbering (number_offset applied)
  std::string object;             // plain object name when !number
  std::string pipeline;
  Defects defects;
  ExpectedDigest expected;
  bool want_sha512 = false;
  int64_t body_limit = 0;
  int64_t started_ms = 0;
};

// Write `bytes` under `key`, then call complete_put() with the outcome.
struct StoreWrite {
  IngestTicket ticket;
  std::string key;
  SharedBytes bytes;
  Sha256 sha256{};
  bool replaces = false;  // 204 rather than 201
  int64_t reserved_bytes = 0;
};

class Origin {
 public:
  using Logger = std::function<void(std::string_view)>;

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
  std::variant<Response, StoreWrite> finish_put(OriginThread& t, IngestTicket&& ticket,
                                                SharedBytes body, const BodyHasher::Final& hashes);
  Response complete_put(OriginThread& t, StoreWrite&& write, bool stored);

  // Periodic housekeeping (the driver calls it about once a second): expires
  // segments that left the DVR window.
  void tick(OriginThread& t);

  // Applies a re-read config file (SIGHUP): events defined in it are created or
  // replaced, events it defined before and no longer does are deleted, events
  // created through the admin API are left alone; ingest and admin tokens are
  // replaced. Returns a one-line summary for the log. Settings that need a restart
  // (listen, threads, limits) are not applied and named in the summary.
  std::string reload(OriginThread& t, const OriginConfig& next);

  // Counts a request the transport answered itself (unparseable, too large, timed out).
  void count_transport_reject(OriginThread& t, int status);
  // Counts an ingest PUT the transport answered itself (a chunked body over the limit).
  void count_put_reject(OriginThread& t, int status);

  // /healthz answers 503 from now on, no new request is held, and held requests are
  // answered (not-yet) by `hold_until_ms` at the latest, before the server stops.
  void set_draining(int64_t hold_until_ms);
  bool draining() const { return draining_.load(std::memory_order_acquire); }

  int64_t held_requests() const { return held_count_.load(std::memory_order_relaxed); }
  int64_t stored_bytes() const;
  const OriginConfig& config() const { return config_; }
  const Clock& clock() const { return clock_; }

 private:
  struct Route;
  struct Selection;

  const Registry& registry(OriginThread& t);
  void publish_registry(std::shared_ptr<const Registry> next);

  Outcome handle_live_get(OriginThread& t, const RequestHead& head, const Route& route,
                          const std::shared_ptr<HeldRequest>& held);
  Outcome evaluate_segment(OriginThread& t, const RequestHead& head, EventState& event,
                           size_t stream_index, int64_t n, const std::shared_ptr<HeldRequest>& held);
  Outcome serve_plain_object(OriginThread& t, const RequestHead& head, EventState& event,
                             size_t stream_index, std::string_view object);
  Outcome hold_or_refuse(OriginThread& t, EventState& event, size_t stream_index, int64_t n,
                         int64_t wake_at_ms, const std::shared_ptr<HeldRequest>& held, ZoneLabel zone,
                         RequestClass cls, std::unique_lock<std::mutex>& stream_lock);
  Outcome finish(OriginThread& t, ZoneLabel zone, Outcome outcome,
                 const std::shared_ptr<HeldRequest>& held, size_t class_label = 3);
  RequestClass request_class(const RequestHead& head, const StreamConfig& sc, int64_t n, int64_t edge) const;
  bool overloaded(RequestClass c, int64_t now_ms);
  Response shed_response() const;
  std::optional<Response> suppressed(OriginThread& t, std::string_view path, int64_t now_ms);
  void remember_shed(OriginThread& t, std::string_view path, int64_t now_ms, RequestClass cls);
  void release_hold(const std::shared_ptr<HeldRequest>& held);

  Response handle_admin(OriginThread& t, const RequestHead& head, const Route& route,
                        std::string_view body);
  Response admin_put_event(OriginThread& t, std::string_view id, std::string_view body);
  Response admin_delete_event(OriginThread& t, std::string_view id);
  Response admin_segment_audit(OriginThread& t, const Route& route);
  Response admin_markers(OriginThread& t, const RequestHead& head, const Route& route, std::string_view body);
  Response admin_invalidate(OriginThread& t, std::string_view body);
  Response invalidations_feed(OriginThread& t, const RequestHead& head, const Route& route);
  // Publishes a registry in which `event` is replaced by `next` (same streams and runtime).
  void replace_event_locked(const std::string& id, std::shared_ptr<EventState> next);
  // Gives every served segment of `event` whose media interval overlaps
  // [from_ms, to_ms) the version `version`, allocating it from the event's counter
  // when 0 (so one change is one version however many calls it takes). Caller holds
  // ingest_mu_. Returns how many segments changed.
  int64_t bump_served_locked(EventState& event, int64_t from_ms, int64_t to_ms, int64_t& version);
  Response timeline(OriginThread& t, const Route& route);
  // The generated DASH MPD and HLS playlists (manifests.h) of /live/{event}/_dash.mpd,
  // _hls.m3u8 and _hls_{stream}.m3u8.
  Response manifest(OriginThread& t, const RequestHead& head, const Route& route);
  Response metrics_text(OriginThread& t);

  Response reject_put(OriginThread& t, Response r);
  // Drops segments below the DVR floor of every stream of `event`. Caller holds ingest_mu_.
  void expire_locked(OriginThread& t, EventState& event, int64_t now_ms);
  // Makes room for `bytes`; false if even evicting everything evictable would not.
  bool reserve_locked(OriginThread& t, int64_t bytes, int64_t now_ms);
  void drop_stream_locked(OriginThread& t, StreamState& stream);
  std::string next_key(const IngestTicket& ticket);

  const Clock& clock_;
  const OriginConfig config_;  // server-level settings; events live in the registry
  Logger log_;

  // Registry snapshots: writers publish under registry_mu_ and bump registry_gen_;
  // readers reload their per-thread copy only when the generation changed.
  std::mutex registry_mu_;
  std::shared_ptr<const Registry> registry_;
  std::atomic<uint64_t> registry_gen_{0};

  // Serializes ingest bookkeeping (byte budget, eviction index, expiry, admin changes).
  // Lock order: ingest_mu_, then a stream's mutex. Never taken on the GET path.
  mutable std::mutex ingest_mu_;
  int64_t stored_bytes_ = 0;
  // Oldest-first index of stored numbered segments, for eviction under the byte budget.
  std::set<std::tuple<int64_t, StreamState*, int64_t>> by_age_;
  uint64_t key_counter_ = 0;

  std::atomic<int64_t> held_count_{0};
  std::atomic<bool> draining_{false};
  std::atomic<int64_t> drain_hold_until_ms_{0};

  // Per-class request budgets: requests counted in the current one-second window.
  struct Budget {
    std::atomic<int64_t> window_s{0};
    std::atomic<int64_t> used{0};
  };
  std::array<Budget, kRequestClasses> budgets_;

  std::mutex threads_mu_;
  std::vector<std::shared_ptr<ThreadCounters>> thread_counters_;
  // The same counters, readable without threads_mu_ on the request path (the
  // overload check sums in-flight store reads). Append-only; kept alive above.
  static constexpr size_t kMaxThreads = 1024;
  std::array<std::atomic<ThreadCounters*>, kMaxThreads> counters_view_{};
  std::atomic<size_t> counters_view_size_{0};
  SharedMetrics shared_metrics_;
};

}  // namespace liveorigin
