// What the origin core knows: events, their streams, each segment's candidates and
// choice, plain objects, markers and exclusions. Nothing here decides anything; the
// units (delivery.h, ingest.h, markers.h, ...) read and change this state under the
// locks named on each part.
//
// Lock order, outermost first (docs/architecture.md, "State and locking"):
//   1. the ledger's writer lock (ledger.h): ingest bookkeeping and every registry change
//   2. one stream's mutex (StreamState::mu)
//   3. leaf locks, under which no other lock is taken: the registry snapshot pointer
//      (ledger.h), an event's feed (EventRuntime::feed_mu), the thread list
//      (metrics.h), SharedMetrics
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "origin/core/config.h"
#include "origin/core/defects.h"
#include "origin/core/digest.h"
#include "origin/core/manifests.h"
#include "origin/core/mutex.h"

namespace liveorigin {

class HeldRequest;

// One pipeline's copy of a segment or plain object. Immutable once stored: a
// replacement is a new Candidate, so a response built from a shared_ptr copied out
// under the stream lock needs no lock afterwards.
struct Candidate {
  std::string pipeline;
  Defects defects;
  int64_t arrived_ms = 0;
  int64_t bytes = 0;
  Sha256 sha256{};
  std::string key;  // store key
  // Plain objects that parse as an ISO-BMFF init segment: what it says, for the
  // generated manifests (read once at PUT; the bytes stay in the store only).
  std::shared_ptr<const InitInfo> init;
};
using CandidatePtr = std::shared_ptr<const Candidate>;

// The choice served for one segment (docs/http-api.md §7.3, §7.4).
struct Decision {
  std::string committed;  // pipeline of the committed choice; empty: none
  int64_t committed_ms = -1;
  std::string reason;
  int64_t version = 0;
  int64_t first_served_ms = -1;
};

struct SegmentState {
  std::vector<CandidatePtr> candidates;  // stored, at most one per pipeline
  std::vector<std::string> pending;      // pipelines with a store write in flight
  Decision decision;
  std::vector<std::shared_ptr<HeldRequest>> waiters;
  int64_t indexed_avail_ms = -1;  // key in the ledger's eviction index when >= 0
  // A commit of this segment is being appended to the journal by this instance;
  // other requests for it wait (local, not shared state).
  bool commit_pending = false;
};

struct PlainObjectState {
  std::vector<CandidatePtr> copies;
  std::vector<std::string> pending;
};

// Init segments and manifests are few per stream; a packager writing endless distinct
// names (a misconfigured template) must not fill the store with objects never expired.
inline constexpr size_t kPlainObjectsMax = 256;

struct StreamState {
  Mutex mu;
  std::map<int64_t, SegmentState> segments GUARDED_BY(mu);
  std::map<std::string, PlainObjectState, std::less<>> objects GUARDED_BY(mu);
  std::vector<std::pair<std::string, int64_t>> last_put_ms GUARDED_BY(mu);  // pipeline -> last accepted PUT
  // Numbers up to this one were evicted to stay within the byte budget.
  int64_t evicted_through GUARDED_BY(mu) = std::numeric_limits<int64_t>::min();
  // A segment is protected from budget eviction while avail(n) + this > now.
  int64_t live_protect_ms GUARDED_BY(mu) = 0;

  bool live(std::string_view pipeline, int64_t now_ms, int64_t liveness_ms) const REQUIRES(mu);
  void mark_live(std::string_view pipeline, int64_t now_ms) REQUIRES(mu);
};

// Stream metadata carried in Live-Markers (docs/http-api.md §10).
struct Marker {
  std::string id;
  std::string kind;
  int64_t start_ms = 0;
  std::optional<int64_t> duration_ms;  // none: in force from start_ms on
  std::string data_b64;                // as posted
  uint64_t seq = 0;                    // posting order: the newest are kept when capped
  std::string item;                    // the RFC 8941 list member, serialized once

  int64_t end_ms() const {
    return duration_ms ? start_ms + *duration_ms : std::numeric_limits<int64_t>::max();
  }
  bool overlaps(int64_t from_ms, int64_t to_ms) const { return start_ms < to_ms && from_ms < end_ms(); }
};

// A pipeline kept out of a range of segments by invalidation (docs/http-api.md
// §11).
struct Exclusion {
  std::string pipeline;
  std::string stream;  // empty: every stream of the event
  int64_t from = std::numeric_limits<int64_t>::min();
  int64_t to = std::numeric_limits<int64_t>::max();

  bool covers(std::string_view p, std::string_view s, int64_t n) const {
    return p == pipeline && (stream.empty() || stream == s) && from <= n && n <= to;
  }
};

struct InvalidationEntry {
  int64_t version = 0;
  std::string stream;
  std::optional<int64_t> from, to;
  std::string pipeline;
  std::optional<bool> exclude;
};

// Per-event state that outlives each snapshot of the event (a config replacement
// through the admin API keeps it).
struct EventRuntime {
  std::atomic<int64_t> version{0};  // one increasing integer per event
  Mutex feed_mu;
  std::deque<InvalidationEntry> feed GUARDED_BY(feed_mu);  // newest last, at most invalidations_max
  int64_t feed_dropped_through GUARDED_BY(feed_mu) = 0;     // newest version dropped from the feed
  uint64_t marker_seq = 0;  // changed only under the ledger's writer lock
  int64_t applied_seq = 0;  // journaled stores: the last journal entry applied (writer lock)
};

// Immutable once published in a Registry; changed by publishing a new EventState
// (which shares the streams and the runtime of the one it replaces).
struct EventState {
  std::shared_ptr<const EventConfig> config;
  std::vector<std::shared_ptr<StreamState>> streams;  // parallel to config->streams
  std::shared_ptr<EventRuntime> runtime;
  std::vector<Marker> markers;
  std::vector<Exclusion> exclusions;
  bool from_file = false;  // defined by the config file (a SIGHUP reload manages it)

  bool excluded(std::string_view pipeline, std::string_view stream, int64_t n) const;
  int find_stream(std::string_view id) const;  // -1 if unknown
  // The stream config of a stream state of this event (a ticket keeps the state).
  const StreamConfig* config_of(const StreamState* stream) const;
};

// Events and tokens: one immutable snapshot, published by the ledger (ledger.h).
struct Registry {
  std::map<std::string, std::shared_ptr<EventState>, std::less<>> events;
  std::shared_ptr<const AuthConfig> auth;
};

// A new snapshot of `config`; with `previous`, its streams (by id), runtime, markers
// and exclusions carry over, so stored segments and versions survive a replacement.
std::shared_ptr<EventState> make_event_state(const EventConfig& config, const EventState* previous);

const CandidatePtr* find_candidate(const std::vector<CandidatePtr>& v, std::string_view pipeline);
bool erase_string(std::vector<std::string>& v, std::string_view s);
bool contains(const std::vector<std::string>& v, std::string_view s);

// Holds create entries for segments not yet published; one nobody waits for and
// nobody published is dropped again.
void drop_if_unused(StreamState& ss, std::map<int64_t, SegmentState>::iterator it) REQUIRES(ss.mu);

}  // namespace liveorigin
