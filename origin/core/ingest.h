// Ingest (docs/http-api.md §6): PUTs of segments and plain objects from the
// packagers, in three steps around the body and the store write: begin (auth, zone
// of the number, headers), finish (digest, size, the re-PUT rules, a place in the
// byte budget), complete (the candidate exists; waiters are woken; the PUT is
// acknowledged only now). Also the store's housekeeping: DVR expiry and the byte
// budget's oldest-first eviction, which never touches the live window.
//
// State: none of its own. The byte budget and the eviction index are the ledger's,
// changed under its writer lock; candidates under their stream's mutex.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "origin/core/actions.h"
#include "origin/core/core_context.h"
#include "origin/core/digest.h"
#include "origin/core/journal.h"
#include "origin/core/ledger.h"

namespace liveorigin {

class OriginThread;

class Ingest {
 public:
  Ingest(const CoreContext& core, Ledger& ledger) : core_(core), ledger_(ledger) {}

  std::variant<Response, IngestTicket> begin(OriginThread& t, const RequestHead& head);
  std::variant<Response, StoreWrite> finish(OriginThread& t, IngestTicket&& ticket, SharedBytes body,
                                            const BodyHasher::Final& hashes);
  // The bytes are stored (or not). With the memory store the candidate is applied now
  // and the PUT answered; with a journaled store the answer is the Append of its
  // candidate entry, and finish_append() answers the PUT once it is applied.
  std::variant<Response, Append> complete(OriginThread& t, StoreWrite&& write, bool stored);
  // The answer to a PUT whose candidate entry was applied (`applied`: its answer) or
  // could not be appended (nothing): counted as PUTs are.
  Response finish_append(OriginThread& t, const Append& append, std::optional<Response> applied);

  // Applies a candidate entry (journal.h): the candidate joins its segment (or plain
  // object), a committed defective choice may move to it (new version), and waiters
  // are woken. Answers 201 (new), 204 (replaced, or the same bytes again), 409 (a
  // committed clean candidate would change) or 404 (no such event or stream).
  Response apply_candidate(Ledger::Writer& w, OriginThread& t, const JournalEntry& entry);

  // Counts a PUT answered without reaching the store.
  Response reject(OriginThread& t, Response r);

  // Drops segments that left the DVR window of every event.
  void tick(OriginThread& t);

  // Forgets every object of a stream whose event or stream was deleted: its bytes
  // leave the budget, its keys are erased and its waiters woken.
  void drop_stream(Ledger::Writer& w, OriginThread& t, StreamState& ss);

 private:
  void expire(Ledger::Writer& w, OriginThread& t, EventState& event, int64_t now_ms);
  JournalEntry candidate_entry(const StoreWrite& write, int64_t now) const;
  // Makes room for `bytes`; false if even evicting everything evictable would not.
  bool reserve(Ledger::Writer& w, OriginThread& t, int64_t bytes, int64_t now_ms);
  std::string next_key(Ledger::Writer& w, const IngestTicket& ticket);

  const CoreContext& core_;
  Ledger& ledger_;
};

}  // namespace liveorigin
