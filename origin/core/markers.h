// Markers (docs/http-api.md §10): stream metadata such as ad breaks, posted
// through the admin API and carried on every segment response whose media interval
// they overlap, in Live-Markers. A change that covers already-served segments gives
// them a new version, so caches holding them revalidate.
//
// State: an event's markers live in its EventState (a new snapshot per change,
// published under the ledger's writer lock); the posting sequence lives in its
// EventRuntime, changed under the same lock.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "origin/core/actions.h"
#include "origin/core/core_context.h"
#include "origin/core/ledger.h"
#include "origin/core/routing.h"
#include "origin/core/state.h"

namespace liveorigin {

class OriginThread;

inline constexpr size_t kLiveMarkersMax = 8;
inline constexpr size_t kLiveMarkersBytesMax = 4096;

// Live-Markers for segment n: the markers overlapping its media interval, at most 8
// and 4 KiB (the most recently posted are kept), in start order; empty if none.
std::string live_markers(const EventState& event, const StreamConfig& sc, int64_t n);

// Gives every served segment of `event` whose media interval overlaps [from_ms, to_ms)
// the version `version`, allocating it from the event's counter when 0 (so one change
// is one version however many calls it takes). Returns how many segments changed.
int64_t bump_served(Ledger::Writer& w, EventState& event, int64_t from_ms, int64_t to_ms, int64_t& version);

class Markers {
 public:
  Markers(const CoreContext& core, Ledger& ledger) : core_(core), ledger_(ledger) {}

  // /admin/events/{event}/markers[/{id}]: GET, HEAD, POST, DELETE (the caller checked
  // the admin token). A change is applied now (memory store) or appended (Append).
  Outcome handle(OriginThread& t, const RequestHead& head, const Route& route, std::string_view body);

  // Apply marker_put and marker_delete entries (journal.h).
  Response apply_put(Ledger::Writer& w, const JournalEntry& entry);
  Response apply_delete(Ledger::Writer& w, const JournalEntry& entry);

 private:
  const CoreContext& core_;
  Ledger& ledger_;
};

}  // namespace liveorigin
