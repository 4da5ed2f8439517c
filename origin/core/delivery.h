// Delivery of /live/{event}/{stream}/{object} (docs/http-api.md §7): the
// zones of a numbered segment checked from metadata alone, selection among the
// candidates, the commit of the choice, holds, and plain objects. The store is
// reached only through the Fetch it returns, once a zone says "select".
//
// State: none of its own. It reads the registry snapshot (no lock), and a segment's
// candidates and decision under its stream's mutex, which it takes once per request
// and releases before building the response.
#pragma once

#include <cstddef>
#include <memory>

#include "origin/core/actions.h"
#include "origin/core/core_context.h"
#include "origin/core/holds.h"
#include "origin/core/ledger.h"
#include "origin/core/priority.h"
#include "origin/core/routing.h"

namespace liveorigin {

class OriginThread;

class Delivery {
 public:
  // Every argument must outlive this.
  Delivery(const CoreContext& core, Ledger& ledger, HoldTable& holds, Priority& priority);

  // GET or HEAD of a live object. `held` is kept only when the answer is Hold.
  Outcome get(OriginThread& t, const RequestHead& head, const Route& route, const std::shared_ptr<HeldRequest>& held);

  // The store read of a Fetch finished; `bytes` null means the store did not have the
  // key (503, a transient race with replacement or eviction).
  Response complete_fetch(OriginThread& t, Fetch&& fetch, SharedBytes bytes);

  // Applies a commit entry (journal.h): the segment's choice, unless another commit
  // applied first; requests waiting for it are woken.
  Response apply_commit(Ledger::Writer& w, OriginThread& t, const JournalEntry& entry);
  // A commit this instance appended did not reach the journal: its waiters try again.
  void abandon_commit(OriginThread& t, const JournalEntry& entry);

 private:
  Outcome segment(OriginThread& t, const RequestHead& head, EventState& event, size_t stream_index, int64_t n,
                  const std::shared_ptr<HeldRequest>& held);
  Outcome plain_object(OriginThread& t, const RequestHead& head, EventState& event, size_t stream_index,
                       std::string_view object);
  // Counts the answer (a Response now, a Fetch when it completes) and ends a hold.
  Outcome finish(OriginThread& t, ZoneLabel zone, Outcome outcome, const std::shared_ptr<HeldRequest>& held,
                 size_t class_label = kNoClass);

  static JournalEntry commit_entry(std::string_view event, std::string_view stream, int64_t n,
                                   std::string_view pipeline, std::string_view reason, int64_t now);

  const CoreContext& core_;
  Ledger& ledger_;
  HoldTable& holds_;
  Priority& priority_;
};

}  // namespace liveorigin
