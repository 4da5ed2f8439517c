// The embedded durable store (`store.url: sqlite:PATH`, docs/storage.md): objects in
// chunks and the journal of the shared state in one SQLite database in WAL mode.
//
// Durability: a PUT is acknowledged only after the transaction holding its chunks
// (and then the one holding its journal entry) commits. With `store.sqlite_synchronous:
// full` (the default) each commit is on disk before it returns: nothing acknowledged is
// lost, even on power loss. `normal` syncs at checkpoints only: nothing is lost when the
// process dies (kill -9), the last commits may be lost when the machine does.
//
// Threads: one writer thread takes every write (objects, erasures, journal appends,
// snapshots) from a bounded queue and commits them in batches — one fsync for all the
// PUTs that arrived meanwhile; two reader threads answer get() on their own
// connections; blocking journal reads use a third connection. WAL lets readers run
// beside the writer, and a reader sees an object only once its transaction committed:
// never part of one.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "origin/store/store.h"

struct sqlite3;

namespace liveorigin {

class SqliteStore final : public Store, public JournalStore, public StoreStatus {
 public:
  // Opens (creating if needed) the database at `path`. Errors read
  // "store sqlite:PATH: cannot open: ...".
  static Result<std::unique_ptr<SqliteStore>> open(const std::string& path, const StoreConfig& config,
                                                   std::function<void(std::string_view)> log = {});
  ~SqliteStore() override;

  // Store
  using Store::put;
  void put(std::string key, SharedBytes bytes, int64_t expires_at_ms, std::function<void(bool ok)> done) override;
  void get(std::string key, std::function<void(SharedBytes)> done) override;
  void erase(std::string_view key) override;
  std::string_view name() const override { return "sqlite"; }
  JournalStore* journal() override { return this; }
  const StoreStatus* status() const override { return this; }

  // JournalStore
  void append(std::string event, std::string text, std::function<void(Result<int64_t>)> done) override;
  Result<std::vector<Entry>> read(const std::string& event, int64_t after, size_t limit) override;
  Result<std::vector<std::string>> events() override;
  Result<std::optional<Snapshot>> load_snapshot(const std::string& event) override;
  Result<bool> save_snapshot(const std::string& event, const Snapshot& snapshot, int64_t keep_entries) override;
  void subscribe(Sink sink) override;

  // StoreStatus
  std::string_view url() const override { return url_; }
  bool up() const override { return up_.load(std::memory_order_relaxed); }
  int64_t changed_ms() const override { return changed_ms_.load(std::memory_order_relaxed); }
  std::string last_error() const override;
  std::string metrics_text() const override;

  // Objects whose expiry passed are deleted by the writer every this often.
  static constexpr int64_t kSweepEveryMs = 10'000;
  // At most this many writes wait for the writer; more are refused (done(false)).
  static constexpr size_t kWriteQueueMax = 4096;

 private:
  struct Write {
    enum class Kind { object, erase, append, snapshot } kind = Kind::object;
    std::string key;  // object key, or event
    SharedBytes bytes;
    int64_t expires_at_ms = 0;
    std::string text;  // journal entry or snapshot
    int64_t seq = 0;   // snapshot
    int64_t keep_entries = 0;
    std::function<void(bool)> done_object;
    std::function<void(Result<int64_t>)> done_append;
  };
  struct Read {
    std::string key;
    std::function<void(SharedBytes)> done;
  };

  SqliteStore(std::string path, const StoreConfig& config, std::function<void(std::string_view)> log);
  Result<bool> start();
  void writer_loop();
  void reader_loop(sqlite3* db);
  bool execute(sqlite3* db, Write& w, std::map<std::string, int64_t>& next_seq, std::string& error);
  void sweep(sqlite3* db, int64_t now_ms);
  bool enqueue(Write&& w);
  void note(bool ok, const std::string& error);

  const std::string path_;
  const std::string url_;
  const StoreConfig config_;
  std::function<void(std::string_view)> log_;

  sqlite3* writer_db_ = nullptr;
  sqlite3* control_db_ = nullptr;  // blocking journal reads, under control_mu_
  std::vector<sqlite3*> reader_dbs_;
  std::mutex control_mu_;

  std::mutex write_mu_;
  std::condition_variable write_cv_;
  std::deque<Write> writes_;  // guarded by write_mu_
  bool stopping_ = false;     // guarded by write_mu_ and read_mu_

  std::mutex read_mu_;
  std::condition_variable read_cv_;
  std::deque<Read> reads_;  // guarded by read_mu_

  std::mutex sink_mu_;
  Sink sink_;  // guarded by sink_mu_

  std::map<std::string, int64_t> next_seq_;  // writer thread only

  std::atomic<bool> up_{true};
  std::atomic<int64_t> changed_ms_{0};
  mutable std::mutex error_mu_;
  std::string last_error_;  // guarded by error_mu_
  std::atomic<uint64_t> commits_{0}, objects_written_{0}, objects_read_{0}, bytes_written_{0}, swept_{0},
      write_errors_{0};

  std::thread writer_;
  std::vector<std::thread> readers_;
};

}  // namespace liveorigin
