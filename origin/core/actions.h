// What the origin core answers a driver with (docs/architecture.md, "The core's
// contract"): a response to send, a store read or write to carry out and report
// back, a request to keep, and the secondary effects of a call.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "origin/core/config.h"
#include "origin/core/defects.h"
#include "origin/core/digest.h"
#include "origin/core/journal.h"
#include "origin/core/messages.h"
#include "origin/core/metrics.h"

namespace liveorigin {

class HeldRequest;
struct EventState;
struct StreamState;

// Secondary actions to carry out after a call, in any order, outside any core lock.
struct Effects {
  std::vector<std::shared_ptr<HeldRequest>> wake;
  std::vector<std::string> erase;  // store keys no longer referenced

  bool empty() const { return wake.empty() && erase.empty(); }
};

// Read `key` from the store; then complete_fetch() fills the body.
struct Fetch {
  std::string key;
  Response response;  // complete except the body pointer; body_offset/length already set
  ZoneLabel zone = ZoneLabel::select;  // for metrics, counted when the fetch completes
  size_t class_label = kNoClass;       // ditto (index for class_label())
};

// Keep the request until `wake_at_ms` (or an earlier wake()), then call handle() again.
struct Hold {
  int64_t wake_at_ms;
};

// Append `entry` to its event's journal (journal.h; stores other than memory). Once it
// is applied here, `respond`: answer with Origin::complete_append(); `resume`: call
// handle() again (a GET whose commit was appended is then served the committed choice).
// If it could not be appended, complete_append() gives the answer either way.
struct Append {
  enum class Then { respond, resume };
  JournalEntry entry;
  Then then = Then::respond;
  ZoneLabel zone = ZoneLabel::admin;  // where the request is counted
  int64_t started_ms = 0;             // a PUT's head, for liveorigin_put_ms
};

using Outcome = std::variant<Response, Fetch, Hold, Append>;

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
  // When the store may drop the bytes by itself (epoch ms; 0: never): a numbered
  // segment once it has left the DVR window (with the journal's margin).
  int64_t expires_at_ms = 0;
};

}  // namespace liveorigin
