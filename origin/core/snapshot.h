// Snapshots of an event's shared state (journal.h), so a journal need not be replayed
// from its first entry: everything applying its entries decided — candidates,
// choices, versions, markers, exclusions, the invalidation feed — as of one journal
// sequence number. Every instance that applied the journal up to that number holds
// the same state, so any instance's snapshot serves any instance that starts.
//
// Locks: taken as the ledger's writer (level 1), then each stream's mutex in turn.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "origin/core/core_context.h"
#include "origin/core/ledger.h"
#include "origin/core/result.h"

namespace liveorigin {

class OriginThread;

// The event's state as JSON (docs/storage.md, "Snapshots"); empty if the event is unknown.
std::string snapshot_event(Ledger::Writer& w, std::string_view event);

// Restores a snapshot into this instance, which has applied nothing of the event's
// journal yet. An event the config file defines keeps the file's settings; one the
// admin API created is created from the snapshot. Returns the snapshot's sequence
// number. Errors read "snapshot of <event>: <what>".
Result<int64_t> restore_event(Ledger::Writer& w, const CoreContext& core, std::string_view text);

}  // namespace liveorigin
