// Where a driver sends the core's Append actions (journaled stores, origin/core/journal.h).
#pragma once

#include <functional>
#include <optional>

#include "origin/core/journal.h"
#include "origin/core/messages.h"

namespace liveorigin {

class Journal {
 public:
  virtual ~Journal() = default;
  // Appends `entry` to its event's journal; `done` gets the answer of applying it on
  // this instance — in journal order, after every entry before it — or nothing when it
  // could not be stored within the store's timeout. `done` may run on another thread.
  virtual void append(JournalEntry entry, std::function<void(std::optional<Response>)> done) = 0;
};

}  // namespace liveorigin
