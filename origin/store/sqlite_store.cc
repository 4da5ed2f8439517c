#include "origin/store/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>

#include "origin/core/clock.h"

namespace liveorigin {

namespace {

constexpr const char* kSchema = R"SQL(
CREATE TABLE IF NOT EXISTS objects (
  key        TEXT PRIMARY KEY,
  size       INTEGER NOT NULL,
  chunks     INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS objects_expiry ON objects (expires_ms) WHERE expires_ms > 0;
CREATE TABLE IF NOT EXISTS chunks (
  key  TEXT NOT NULL,
  i    INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (key, i)
);
CREATE TABLE IF NOT EXISTS journal (
  event TEXT NOT NULL,
  seq   INTEGER NOT NULL,
  entry TEXT NOT NULL,
  PRIMARY KEY (event, seq)
);
CREATE TABLE IF NOT EXISTS snapshots (
  event TEXT PRIMARY KEY,
  seq   INTEGER NOT NULL,
  data  TEXT NOT NULL
);
)SQL";

constexpr size_t kReaders = 2;
constexpr size_t kBatchMax = 256;

int64_t now_ms() { return SystemClock().now_ms(); }

// A prepared statement, finalized on scope exit.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) { rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  bool ok() const { return rc_ == SQLITE_OK; }
  Stmt& bind(int i, int64_t v) {
    if (ok()) rc_ = sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& bind(int i, std::string_view v) {
    if (ok()) rc_ = sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  Stmt& blob(int i, const char* data, size_t size) {
    if (ok()) rc_ = sqlite3_bind_blob64(s_, i, data, size, SQLITE_STATIC);
    return *this;
  }
  // SQLITE_ROW or SQLITE_DONE; anything else is an error (see error()).
  int step() {
    if (!ok()) return rc_;
    return sqlite3_step(s_);
  }
  bool run() {
    const int rc = step();
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
      rc_ = rc;
      return false;
    }
    return true;
  }
  sqlite3_stmt* get() { return s_; }
  std::string error() const { return sqlite3_errmsg(db_); }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
  int rc_ = SQLITE_OK;
};

bool exec(sqlite3* db, const char* sql, std::string& error) {
  char* msg = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) == SQLITE_OK) return true;
  error = msg ? msg : sqlite3_errmsg(db);
  sqlite3_free(msg);
  return false;
}

Result<sqlite3*> open_db(const std::string& path, const std::string& synchronous, const std::string& url) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return make_error("store " + url + ": cannot open: " + msg);
  }
  sqlite3_busy_timeout(db, 5000);
  std::string error;
  const std::string pragmas = "PRAGMA journal_mode = WAL; PRAGMA synchronous = " + synchronous + ";";
  if (!exec(db, pragmas.c_str(), error)) {
    sqlite3_close_v2(db);
    return make_error("store " + url + ": " + error);
  }
  return db;
}

}  // namespace

SqliteStore::SqliteStore(std::string path, const StoreConfig& config, std::function<void(std::string_view)> log)
    : path_(std::move(path)), url_("sqlite:" + path_), config_(config), log_(std::move(log)) {}

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path, const StoreConfig& config,
                                                       std::function<void(std::string_view)> log) {
  std::unique_ptr<SqliteStore> s(new SqliteStore(path, config, std::move(log)));
  auto started = s->start();
  if (!started) return started.error();
  return s;
}

Result<bool> SqliteStore::start() {
  auto writer = open_db(path_, config_.sqlite_synchronous, url_);
  if (!writer) return writer.error();
  writer_db_ = *writer;
  std::string error;
  if (!exec(writer_db_, kSchema, error)) return make_error("store " + url_ + ": cannot create its tables: " + error);
  {
    Stmt seqs(writer_db_, "SELECT event, MAX(seq) FROM journal GROUP BY event");
    while (seqs.step() == SQLITE_ROW) {
      next_seq_[reinterpret_cast<const char*>(sqlite3_column_text(seqs.get(), 0))] =
          sqlite3_column_int64(seqs.get(), 1) + 1;
    }
    Stmt snaps(writer_db_, "SELECT event, seq FROM snapshots");
    while (snaps.step() == SQLITE_ROW) {
      auto& next = next_seq_[reinterpret_cast<const char*>(sqlite3_column_text(snaps.get(), 0))];
      next = std::max<int64_t>(next, sqlite3_column_int64(snaps.get(), 1) + 1);
    }
  }
  auto control = open_db(path_, config_.sqlite_synchronous, url_);
  if (!control) return control.error();
  control_db_ = *control;
  for (size_t i = 0; i < kReaders; ++i) {
    auto reader = open_db(path_, config_.sqlite_synchronous, url_);
    if (!reader) return reader.error();
    reader_dbs_.push_back(*reader);
  }
  writer_ = std::thread([this] { writer_loop(); });
  for (sqlite3* db : reader_dbs_) readers_.emplace_back([this, db] { reader_loop(db); });
  return true;
}

SqliteStore::~SqliteStore() {
  {
    std::lock_guard w(write_mu_);
    std::lock_guard r(read_mu_);
    stopping_ = true;
  }
  write_cv_.notify_all();
  read_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  for (auto& t : readers_) t.join();
  for (sqlite3* db : reader_dbs_) sqlite3_close_v2(db);
  sqlite3_close_v2(control_db_);
  sqlite3_close_v2(writer_db_);
}

bool SqliteStore::enqueue(Write&& w) {
  {
    std::lock_guard lock(write_mu_);
    if (!stopping_ && writes_.size() < kWriteQueueMax) {
      writes_.push_back(std::move(w));
      write_cv_.notify_one();
      return true;
    }
  }
  return false;
}

void SqliteStore::put(std::string key, SharedBytes bytes, int64_t expires_at_ms, std::function<void(bool ok)> done) {
  Write w;
  w.kind = Write::Kind::object;
  w.key = std::move(key);
  w.bytes = std::move(bytes);
  w.expires_at_ms = expires_at_ms;
  w.done_object = done;
  if (!enqueue(std::move(w))) done(false);
}

void SqliteStore::erase(std::string_view key) {
  Write w;
  w.kind = Write::Kind::erase;
  w.key = std::string(key);
  enqueue(std::move(w));
}

void SqliteStore::append(std::string event, std::string text, std::function<void(Result<int64_t>)> done) {
  Write w;
  w.kind = Write::Kind::append;
  w.key = std::move(event);
  w.text = std::move(text);
  w.done_append = done;
  if (!enqueue(std::move(w))) done(make_error("store " + url_ + ": too many writes waiting"));
}

void SqliteStore::get(std::string key, std::function<void(SharedBytes)> done) {
  {
    std::lock_guard lock(read_mu_);
    if (!stopping_) {
      reads_.push_back(Read{std::move(key), std::move(done)});
      read_cv_.notify_one();
      return;
    }
  }
  done(nullptr);
}

void SqliteStore::subscribe(Sink sink) {
  std::lock_guard lock(sink_mu_);
  sink_ = std::move(sink);
}

void SqliteStore::note(bool ok, const std::string& error) {
  if (!ok) {
    write_errors_.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(error_mu_);
    last_error_ = error;
  }
  if (up_.exchange(ok) != ok) {
    changed_ms_.store(now_ms(), std::memory_order_relaxed);
    if (log_) log_(ok ? "store " + url_ + ": writes succeed again" : "store " + url_ + ": writes fail: " + error);
  }
}

std::string SqliteStore::last_error() const {
  std::lock_guard lock(error_mu_);
  return last_error_;
}

bool SqliteStore::execute(sqlite3* db, Write& w, std::map<std::string, int64_t>& next_seq, std::string& error) {
  switch (w.kind) {
    case Write::Kind::object: {
      const std::string& data = *w.bytes;
      const size_t chunk = static_cast<size_t>(config_.chunk_bytes);
      const size_t n = data.empty() ? 1 : (data.size() + chunk - 1) / chunk;
      for (size_t i = 0; i < n; ++i) {
        Stmt s(db, "INSERT OR REPLACE INTO chunks (key, i, data) VALUES (?1, ?2, ?3)");
        const size_t at = i * chunk;
        s.bind(1, w.key).bind(2, static_cast<int64_t>(i)).blob(3, data.data() + at, std::min(chunk, data.size() - at));
        if (!s.run()) {
          error = s.error();
          return false;
        }
      }
      // The object row last: a reader finds the object only with all its chunks.
      Stmt o(db, "INSERT OR REPLACE INTO objects (key, size, chunks, expires_ms) VALUES (?1, ?2, ?3, ?4)");
      o.bind(1, w.key).bind(2, static_cast<int64_t>(data.size())).bind(3, static_cast<int64_t>(n)).bind(4, w.expires_at_ms);
      if (!o.run()) {
        error = o.error();
        return false;
      }
      return true;
    }
    case Write::Kind::erase: {
      Stmt o(db, "DELETE FROM objects WHERE key = ?1");
      Stmt c(db, "DELETE FROM chunks WHERE key = ?1");
      if (!o.bind(1, w.key).run() || !c.bind(1, w.key).run()) {
        error = o.error();
        return false;
      }
      return true;
    }
    case Write::Kind::append: {
      int64_t& next = next_seq[w.key];
      if (next == 0) next = 1;
      w.seq = next;
      Stmt s(db, "INSERT INTO journal (event, seq, entry) VALUES (?1, ?2, ?3)");
      if (!s.bind(1, w.key).bind(2, w.seq).bind(3, w.text).run()) {
        error = s.error();
        return false;
      }
      ++next;
      return true;
    }
    case Write::Kind::snapshot: {
      Stmt s(db,
             "INSERT INTO snapshots (event, seq, data) VALUES (?1, ?2, ?3) "
             "ON CONFLICT (event) DO UPDATE SET seq = excluded.seq, data = excluded.data WHERE excluded.seq > seq");
      Stmt trim(db, "DELETE FROM journal WHERE event = ?1 AND seq <= ?2");
      if (!s.bind(1, w.key).bind(2, w.seq).bind(3, w.text).run() ||
          !trim.bind(1, w.key).bind(2, w.seq - w.keep_entries).run()) {
        error = s.error();
        return false;
      }
      return true;
    }
  }
  return false;
}

void SqliteStore::sweep(sqlite3* db, int64_t now) {
  std::string error;
  Stmt c(db, "DELETE FROM chunks WHERE key IN (SELECT key FROM objects WHERE expires_ms > 0 AND expires_ms < ?1)");
  Stmt o(db, "DELETE FROM objects WHERE expires_ms > 0 AND expires_ms < ?1");
  if (exec(db, "BEGIN IMMEDIATE", error) && c.bind(1, now).run() && o.bind(1, now).run() &&
      exec(db, "COMMIT", error)) {
    swept_.fetch_add(static_cast<uint64_t>(sqlite3_changes(db)), std::memory_order_relaxed);
  } else {
    exec(db, "ROLLBACK", error);
  }
}

void SqliteStore::writer_loop() {
  int64_t last_sweep = 0;
  for (;;) {
    std::vector<Write> batch;
    {
      std::unique_lock lock(write_mu_);
      write_cv_.wait_for(lock, std::chrono::milliseconds(kSweepEveryMs), [&] { return stopping_ || !writes_.empty(); });
      while (!writes_.empty() && batch.size() < kBatchMax) {
        batch.push_back(std::move(writes_.front()));
        writes_.pop_front();
      }
      if (batch.empty() && stopping_) return;
    }
    const int64_t now = now_ms();
    if (now - last_sweep >= kSweepEveryMs) {
      sweep(writer_db_, now);
      last_sweep = now;
    }
    if (batch.empty()) continue;
    // One transaction, one sync, for every write that arrived meanwhile.
    std::map<std::string, int64_t> next_seq = next_seq_;
    std::vector<bool> ok(batch.size(), false);
    std::string error;
    bool committed = exec(writer_db_, "BEGIN IMMEDIATE", error);
    for (size_t i = 0; committed && i < batch.size(); ++i) {
      std::string e;
      ok[i] = execute(writer_db_, batch[i], next_seq, e);
      if (!ok[i]) error = e;
    }
    if (committed) committed = exec(writer_db_, "COMMIT", error);
    if (!committed) {
      std::string ignored;
      exec(writer_db_, "ROLLBACK", ignored);
      ok.assign(batch.size(), false);
    } else {
      next_seq_ = std::move(next_seq);
      commits_.fetch_add(1, std::memory_order_relaxed);
    }
    note(committed && std::find(ok.begin(), ok.end(), false) == ok.end(), error);
    Sink sink;
    {
      std::lock_guard lock(sink_mu_);
      sink = sink_;
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      Write& w = batch[i];
      switch (w.kind) {
        case Write::Kind::object:
          if (ok[i]) {
            objects_written_.fetch_add(1, std::memory_order_relaxed);
            bytes_written_.fetch_add(w.bytes->size(), std::memory_order_relaxed);
          }
          if (w.done_object) w.done_object(ok[i]);
          break;
        case Write::Kind::append:
          if (!ok[i]) {
            if (w.done_append) w.done_append(make_error("store " + url_ + ": " + error));
            break;
          }
          if (w.done_append) w.done_append(w.seq);
          if (sink) sink(w.key, w.seq, w.text);
          break;
        case Write::Kind::erase:
        case Write::Kind::snapshot:
          break;
      }
    }
  }
}

void SqliteStore::reader_loop(sqlite3* db) {
  for (;;) {
    Read r;
    {
      std::unique_lock lock(read_mu_);
      read_cv_.wait(lock, [&] { return stopping_ || !reads_.empty(); });
      if (reads_.empty()) return;
      r = std::move(reads_.front());
      reads_.pop_front();
    }
    SharedBytes out;
    std::string error;
    // One read transaction: the object row and its chunks as of one commit.
    if (exec(db, "BEGIN", error)) {
      Stmt o(db, "SELECT size, chunks FROM objects WHERE key = ?1");
      if (o.bind(1, r.key).step() == SQLITE_ROW) {
        const int64_t size = sqlite3_column_int64(o.get(), 0);
        const int64_t chunks = sqlite3_column_int64(o.get(), 1);
        auto data = std::make_shared<std::string>();
        data->reserve(static_cast<size_t>(size));
        Stmt c(db, "SELECT data FROM chunks WHERE key = ?1 ORDER BY i");
        c.bind(1, r.key);
        int64_t seen = 0;
        while (c.step() == SQLITE_ROW) {
          data->append(static_cast<const char*>(sqlite3_column_blob(c.get(), 0)),
                       static_cast<size_t>(sqlite3_column_bytes(c.get(), 0)));
          ++seen;
        }
        if (seen == chunks && static_cast<int64_t>(data->size()) == size) out = std::move(data);
      }
      exec(db, "COMMIT", error);
    }
    if (out) objects_read_.fetch_add(1, std::memory_order_relaxed);
    r.done(std::move(out));
  }
}

Result<std::vector<JournalStore::Entry>> SqliteStore::read(const std::string& event, int64_t after, size_t limit) {
  std::lock_guard lock(control_mu_);
  Stmt s(control_db_, "SELECT seq, entry FROM journal WHERE event = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3");
  s.bind(1, event).bind(2, after).bind(3, static_cast<int64_t>(limit));
  std::vector<Entry> out;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) {
    out.push_back(Entry{sqlite3_column_int64(s.get(), 0),
                        std::string(reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 1)),
                                    static_cast<size_t>(sqlite3_column_bytes(s.get(), 1)))});
  }
  if (rc != SQLITE_DONE) return make_error("store " + url_ + ": cannot read the journal of " + event + ": " + s.error());
  return out;
}

Result<std::vector<std::string>> SqliteStore::events() {
  std::lock_guard lock(control_mu_);
  Stmt s(control_db_, "SELECT event FROM journal UNION SELECT event FROM snapshots");
  std::vector<std::string> out;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 0)));
  if (rc != SQLITE_DONE) return make_error("store " + url_ + ": cannot list the journals: " + s.error());
  return out;
}

Result<std::optional<JournalStore::Snapshot>> SqliteStore::load_snapshot(const std::string& event) {
  std::lock_guard lock(control_mu_);
  Stmt s(control_db_, "SELECT seq, data FROM snapshots WHERE event = ?1");
  s.bind(1, event);
  const int rc = s.step();
  if (rc == SQLITE_DONE) return std::optional<Snapshot>();
  if (rc != SQLITE_ROW) return make_error("store " + url_ + ": cannot read the snapshot of " + event + ": " + s.error());
  return std::optional<Snapshot>(Snapshot{sqlite3_column_int64(s.get(), 0),
                                          std::string(reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 1)),
                                                      static_cast<size_t>(sqlite3_column_bytes(s.get(), 1)))});
}

Result<bool> SqliteStore::save_snapshot(const std::string& event, const Snapshot& snapshot, int64_t keep_entries) {
  Write w;
  w.kind = Write::Kind::snapshot;
  w.key = event;
  w.seq = snapshot.seq;
  w.text = snapshot.text;
  w.keep_entries = keep_entries;
  if (!enqueue(std::move(w))) return make_error("store " + url_ + ": too many writes waiting");
  return true;
}

std::string SqliteStore::metrics_text() const {
  std::string out;
  auto counter = [&](const char* name, const char* help, const std::atomic<uint64_t>& v) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" + name + " " +
           std::to_string(v.load(std::memory_order_relaxed)) + "\n";
  };
  counter("liveorigin_sqlite_commits_total", "Transactions committed by the writer (one sync each).", commits_);
  counter("liveorigin_sqlite_objects_written_total", "Objects written, chunks and all.", objects_written_);
  counter("liveorigin_sqlite_bytes_written_total", "Bytes of objects written.", bytes_written_);
  counter("liveorigin_sqlite_objects_read_total", "Objects read back.", objects_read_);
  counter("liveorigin_sqlite_swept_total", "Objects deleted after their expiry.", swept_);
  counter("liveorigin_sqlite_write_errors_total", "Writes that failed.", write_errors_);
  return out;
}

}  // namespace liveorigin
