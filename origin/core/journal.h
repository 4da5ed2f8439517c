// The journal: every change to the state origin instances share — a candidate
// stored, a choice committed, an invalidation, a marker, an event created or deleted
// through the admin API — as an entry of its event's journal. With a store that
// outlives the process or is shared by instances (sqlite, redis), the core does not
// apply such a change when it decides it: it answers an Append action, the driver
// appends the entry to the store's journal, and every instance applies the entries
// of an event in journal order (Origin::apply). Applying is deterministic — it never
// reads the clock, and versions count entries, not local events — so instances that
// applied the same entries hold the same choices, versions and markers, and serve the
// same bytes. The first commit appended for an uncommitted segment is the one that
// applies everywhere: the journal's order is the compare-and-set.
//
// With the memory store the same apply functions run inline, at the moment of the
// decision, as one process's journal would.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "origin/core/digest.h"
#include "origin/core/manifests.h"
#include "origin/core/result.h"
#include "origin/core/state.h"

namespace liveorigin {

// What an instance needs of a stored copy to select and serve it.
struct CandidateMeta {
  std::string pipeline;
  std::string defects;  // Segment-Defects, canonical; empty: clean
  Sha256 sha256{};
  int64_t bytes = 0;
  int64_t arrived_ms = 0;
  std::string key;  // store key of the bytes
  std::optional<InitInfo> init;
};

struct JournalEntry {
  enum class Kind : uint8_t { candidate, commit, invalidate, marker_put, marker_delete, event_put, event_delete };
  Kind kind = Kind::candidate;
  std::string event;

  // candidate, commit; invalidate (empty: every stream)
  std::string stream;
  std::optional<int64_t> number;  // a numbered segment, in the origin's numbering
  std::string object;             // else a plain object's name
  CandidateMeta candidate;

  // commit: the pipeline chosen; invalidate: the pipeline filtered (empty: any)
  std::string pipeline;
  std::string reason;  // commit: clean | least-defective
  int64_t at_ms = 0;   // commit: when it was decided (first_served_ms, committed_ms)

  // invalidate
  std::optional<int64_t> from, to;
  std::optional<bool> exclude;

  // marker_put (the marker as posted, `seq` assigned when applied); marker_delete: its id
  Marker marker;

  // event_put: the event config as JSON (to_json of EventConfig)
  std::string config_json;
};

std::string encode(const JournalEntry& e);
// Errors read "journal entry: <what>".
Result<JournalEntry> decode_journal_entry(std::string_view text);

}  // namespace liveorigin
