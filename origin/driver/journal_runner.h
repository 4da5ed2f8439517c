// Runs an origin over a journaled store (origin/core/journal.h): appends the core's
// entries to the store's journal, applies every instance's entries — its own and the
// others' — in journal order on its own thread, recovers the state at start-up from
// the newest snapshot and the entries after it, and writes snapshots as it goes.
//
// Threads: append() from any driver thread; everything else on the runner's thread,
// which owns an OriginThread of its own. The waiting appends and the delivery queue
// are under mu_ (a leaf lock, taken after none of the core's).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "origin/core/origin.h"
#include "origin/driver/journal.h"
#include "origin/store/store.h"

namespace liveorigin {

class JournalRunner final : public Journal {
 public:
  struct Options {
    int64_t timeout_ms = 2000;            // an append not applied by then is answered "not stored"
    int64_t snapshot_every_ms = 30'000;   // per event with new entries
    int64_t snapshot_every_entries = 20'000;
    int64_t keep_entries = 50'000;        // entries kept behind the newest snapshot
    int64_t tail_check_ms = 1000;         // how often to read what the subscription may have missed
  };

  // `origin`, `store` (its journal()) must outlive the runner.
  JournalRunner(Origin& origin, Store& store, Options options, Logger log = {});
  ~JournalRunner() override;
  JournalRunner(const JournalRunner&) = delete;
  JournalRunner& operator=(const JournalRunner&) = delete;

  // Loads every event's newest snapshot and applies the entries after it (blocking,
  // before the server accepts requests). Errors name what failed.
  Result<int64_t> recover();  // the number of entries applied
  // Starts the subscription and the runner's thread.
  void start();
  void stop();

  void append(JournalEntry entry, std::function<void(std::optional<Response>)> done) override;

  // For tests and /metrics: the last entry applied of `event`.
  int64_t applied(const std::string& event) const;

 private:
  using Done = std::function<void(std::optional<Response>)>;
  struct Item {
    std::string event;
    int64_t seq = 0;
    std::string text;
    Done done;  // set for this instance's own appends
  };
  struct EventLog {
    int64_t applied = 0;
    std::map<int64_t, Item> buffered;  // arrived ahead of a gap
    std::map<int64_t, std::pair<Done, int64_t>> waiting;  // seq -> (done, deadline)
    std::map<int64_t, Response> recent;  // answers of the latest entries, for appends answered late
    int64_t snapshot_seq = 0;
    int64_t snapshot_ms = 0;
  };

  void run();
  void take(Item&& item);
  void drain(const std::string& event, EventLog& log);
  bool catch_up(const std::string& event, EventLog& log, int64_t through);
  void apply(const std::string& event, EventLog& log, int64_t seq, const std::string& text);
  void housekeeping(int64_t now_ms);
  void carry_out_effects();

  Origin& origin_;
  Store& store_;
  JournalStore& journal_;
  const Options options_;
  Logger log_;
  std::unique_ptr<OriginThread> thread_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;  // guarded by mu_
  bool stopping_ = false;   // guarded by mu_
  std::map<std::string, EventLog, std::less<>> events_;  // guarded by mu_ for applied(); written by the runner
  std::thread worker_;
};

}  // namespace liveorigin
