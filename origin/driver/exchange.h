// The driver side of the origin core, written once. Every driver — the Beast server
// (origin/http/server.cc), the simulator's CoreLink (sim/core_link.cc) and the
// tests' CoreHarness (tests/support/core_harness.h) — turns header fields into a
// RequestHead, carries out the core's answers against the Store, applies the effects
// and counts the rejections it makes itself, through the two classes here. So a
// virtual-time run makes the very decisions the server makes, at the edges too.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "origin/core/origin.h"
#include "origin/driver/journal.h"
#include "origin/store/store.h"

namespace liveorigin {

// "GET" -> Method::get; unknown methods are Method::other.
Method method_of(std::string_view name);

// Header field lines -> RequestHead, the same for every driver. The head's views
// point into the values given to field() (which must outlive the head) or into this
// builder.
class RequestHeadBuilder {
 public:
  // Starts a new request; `target` must outlive the head.
  void start(Method method, std::string_view target);
  // One field line, in the order received; names compare case-insensitively.
  void field(std::string_view name, std::string_view value);
  // The body's declared size; absent for a chunked body.
  void content_length(std::optional<uint64_t> length) { head_.content_length = length; }

  const RequestHead& head() const { return head_; }

 private:
  RequestHead head_;
  // A structured field may come in several lines: they form one value joined by ", "
  // (RFC 9110 §5.3), so a second Repr-Digest line is checked like the first.
  std::string segment_defects_, repr_digest_, cmcd_request_, cmcd_session_;
  // Sec-Purpose, else the older Purpose.
  std::string_view sec_purpose_, purpose_;
};

// One driver thread's way to the core and the store.
class CoreDriver {
 public:
  // All must outlive the driver; `thread` is this driver thread's. `journal` takes the
  // core's Append actions (journaled stores; null with the memory store).
  CoreDriver(Origin& origin, Store& store, OriginThread& thread, Journal* journal = nullptr)
      : origin_(origin), store_(store), thread_(thread), journal_(journal) {}

  Origin& origin() { return origin_; }
  Store& store() { return store_; }
  OriginThread& thread() { return thread_; }
  Journal* journal() { return journal_; }

  // Carries out what the last core calls left in the thread: wakes held requests
  // (each is then re-evaluated on its own executor) and erases unreferenced keys.
  void apply_effects();
  // Periodic housekeeping (about once a second).
  void tick();

 protected:
  // Each woken request, after wake() was called (the tests' harness records them).
  virtual void on_woken(const std::shared_ptr<HeldRequest>&) {}

 private:
  Origin& origin_;
  Store& store_;
  OriginThread& thread_;
  Journal* journal_;
};

// One request through the core. The transport derives from it and implements the
// three hooks; everything between the head and the answer is done here. An exchange
// may be reused for the next request of the same connection.
class CoreExchange : public HeldRequest, public std::enable_shared_from_this<CoreExchange> {
 public:
  explicit CoreExchange(CoreDriver& driver) : driver_(driver) {}

  RequestHeadBuilder& head_builder() { return builder_; }
  const RequestHead& head() const { return builder_.head(); }
  bool is_ingest() const { return liveorigin::is_ingest(builder_.head()); }

  // A request other than an ingest PUT, with its (small) body; answered through
  // respond(), now or after a hold or a store read.
  void run(std::string_view body);
  // Re-evaluates a held request: after wake(), or at the time hold_until() named.
  void resume();
  // The client went away while held: frees the hold slot.
  void cancel();

  // An ingest PUT, in two steps around its body. begin_ingest() answers a rejection
  // (the transport sends it, knowing whether a body must be skipped) or nothing: then
  // read a body of at most ticket().body_limit bytes and call finish_ingest().
  std::optional<Response> begin_ingest();
  const IngestTicket& ticket() const { return *ticket_; }
  void finish_ingest(SharedBytes body, const BodyHasher::Final& hashes);
  void finish_ingest(SharedBytes body);  // hashes it here
  // The body outgrew ticket().body_limit while arriving (chunked): the 413 to send,
  // counted as a rejected PUT. Ends the ingest.
  Response ingest_too_large();

 protected:
  // The answer to send.
  virtual void respond(Response&& r) = 0;
  // Keep the request: call resume() at `wake_at_ms`, or earlier after wake().
  virtual void hold_until(int64_t wake_at_ms) = 0;
  // Runs `fn` on this exchange's executor (store completions may come from other
  // threads); may run it inline when already there.
  virtual void run_here(std::function<void()> fn) = 0;

  CoreDriver& driver() { return driver_; }

 private:
  void on_outcome(Outcome&& outcome);
  void fetch(Fetch&& f);
  void append(Append&& a);
  std::shared_ptr<HeldRequest> self_as_held() { return std::static_pointer_cast<HeldRequest>(shared_from_this()); }

  CoreDriver& driver_;
  RequestHeadBuilder builder_;
  std::optional<IngestTicket> ticket_;
};

}  // namespace liveorigin
