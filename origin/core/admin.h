// The admin API (docs/http-api.md §9, §12.3): the admin token, events created,
// replaced and deleted at run time, the per-segment audit; markers and invalidation
// are handed to their units. And the SIGHUP reload of the config file's events and
// tokens.
//
// State: none of its own; every change is a new registry published under the
// ledger's writer lock.
#pragma once

#include <string>
#include <string_view>

#include "origin/core/core_context.h"
#include "origin/core/ingest.h"
#include "origin/core/invalidation.h"
#include "origin/core/ledger.h"
#include "origin/core/markers.h"
#include "origin/core/routing.h"

namespace liveorigin {

class OriginThread;

class Admin {
 public:
  Admin(const CoreContext& core, Ledger& ledger, Ingest& ingest, Markers& markers, Invalidation& invalidation)
      : core_(core), ledger_(ledger), ingest_(ingest), markers_(markers), invalidation_(invalidation) {}

  // Every /admin/ path (route.admin()). Changes are applied now (memory store) or
  // appended (Append).
  Outcome handle(OriginThread& t, const RequestHead& head, const Route& route, std::string_view body);

  // Apply event_put and event_delete entries (journal.h).
  Response apply_event_put(Ledger::Writer& w, OriginThread& t, const JournalEntry& entry);
  Response apply_event_delete(Ledger::Writer& w, OriginThread& t, const JournalEntry& entry);

  // Applies a re-read config file: its events are created or replaced, events it
  // defined before and no longer does are deleted, events created through the admin
  // API are left alone; tokens are replaced. Returns a one-line summary that names the
  // changed settings a running server cannot apply.
  std::string reload(OriginThread& t, const OriginConfig& next);

 private:
  Outcome put_event(OriginThread& t, std::string_view id, std::string_view body);
  Outcome delete_event(OriginThread& t, std::string_view id);
  Outcome append_or_apply(OriginThread& t, JournalEntry&& entry);
  Response segment_audit(OriginThread& t, const Route& route);
  // Streams of `previous` that `next` no longer has are dropped.
  void drop_removed_streams(Ledger::Writer& w, OriginThread& t, const EventState& previous, const EventState& next);

  const CoreContext& core_;
  Ledger& ledger_;
  Ingest& ingest_;
  Markers& markers_;
  Invalidation& invalidation_;
};

}  // namespace liveorigin
