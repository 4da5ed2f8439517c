// Invalidation (docs/http-api.md §11): un-commits the choices of a range
// of segments so they are selected afresh with a new version, optionally keeping a
// pipeline out of the range (an exclusion) until lifted; and the feed CDN nodes
// follow to purge, /live/{event}/_invalidations?since=V.
//
// State: an event's exclusions live in its EventState (a new snapshot per change,
// published under the ledger's writer lock); its feed in its EventRuntime, under
// the runtime's feed mutex (a leaf lock).
#pragma once

#include <string_view>

#include "origin/core/actions.h"
#include "origin/core/core_context.h"
#include "origin/core/ledger.h"
#include "origin/core/routing.h"

namespace liveorigin {

class OriginThread;

class Invalidation {
 public:
  Invalidation(const CoreContext& core, Ledger& ledger) : core_(core), ledger_(ledger) {}

  // POST /admin/invalidate (the caller checked the admin token and the method): applied
  // now (memory store) or appended (Append).
  Outcome invalidate(std::string_view body);
  // Applies an invalidate entry (journal.h).
  Response apply(Ledger::Writer& w, const JournalEntry& entry);

  // GET /live/{event}/_invalidations?since=V: the entries newer than V, oldest first.
  Response feed(OriginThread& t, const RequestHead& head, const Route& route);

 private:
  const CoreContext& core_;
  Ledger& ledger_;
};

}  // namespace liveorigin
