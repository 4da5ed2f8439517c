// The shared store (`store.url: redis://host:port` or `redis-cluster://host:port,...`,
// docs/storage.md): objects in chunks and the journal of the shared state in Redis, so
// several origin instances serve the same events.
//
// Keys (`{...}` is the cluster hash tag, so what belongs together shares a slot):
//   lo:c:{KEY}:i      chunk i of object KEY              (the object's slot)
//   lo:o:{KEY}        its manifest "size chunks", written after every chunk: a reader
//                     finds an object only once all of it is there
//   lo:j:{EVENT}      the event's journal, a stream with ids "seq-1"   (the event's slot)
//   lo:n:{EVENT}      the last seq given out
//   lo:w:{EVENT}      the newest seq known durable: readers apply entries up to it only
//   lo:s:{EVENT}      "seq KEY": the newest snapshot, an object like the others
//   lo:events         the events that have a journal
// New entries are published on channel lo:journal ("EVENT\nseq\nentry") once durable;
// each instance's subscriber hears every event's, and its journal runner reads what a
// lost connection made it miss.
//
// Durability: a write (the chunks and manifest of an object; a journal entry) is done —
// and the PUT acknowledged — only once it reached `store.redis_wait_replicas` replicas
// (WAIT; default: every replica the primary has, at most one), so a primary killed with
// a replica in place loses nothing acknowledged. Without replicas it is as durable as
// the server's appendfsync makes it.
//
// Threads: a pool of workers, each with its own RedisClient, takes the asynchronous
// operations from a bounded queue; blocking journal reads use a client of their own;
// one subscriber thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "origin/store/redis_client.h"
#include "origin/store/store.h"

namespace liveorigin {

class RedisStore final : public Store, public JournalStore, public StoreStatus {
 public:
  // Connects and checks the server (a cluster: its slot map). Errors read
  // "store redis://127.0.0.1:6379: cannot reach 127.0.0.1:6379: Connection refused".
  static Result<std::unique_ptr<RedisStore>> open(const StoreUrl& url, const StoreConfig& config,
                                                  std::function<void(std::string_view)> log = {});
  ~RedisStore() override;

  // Store
  using Store::put;
  void put(std::string key, SharedBytes bytes, int64_t expires_at_ms, std::function<void(bool ok)> done) override;
  void get(std::string key, std::function<void(SharedBytes)> done) override;
  void erase(std::string_view key) override;
  std::string_view name() const override { return cluster_ ? "redis-cluster" : "redis"; }
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

  static constexpr size_t kWorkers = 4;
  static constexpr size_t kQueueMax = 8192;  // operations waiting for a worker; more fail at once

 private:
  using Job = std::function<void(RedisClient&)>;

  RedisStore(const StoreUrl& url, const StoreConfig& config, std::function<void(std::string_view)> log);
  bool submit(Job job);
  void worker();
  void subscriber();
  // Writes an object (chunks, then manifest) and waits for the replicas; each chunk
  // that fails is written again on its own. An error says what failed.
  Result<bool> write_object(RedisClient& c, const std::string& key, const std::string& data, int64_t expires_at_ms);
  SharedBytes read_object(RedisClient& c, const std::string& key, std::string& error);
  Result<bool> wait_replicas(RedisClient& c, const std::string& key, int64_t before);
  int replicas_to_wait(RedisClient& c, const std::string& key);
  static std::string wait_timeout(int64_t deadline);
  // Whether a WAIT for `need` replicas answered enough (see the .cc for a primary left
  // without its replica).
  Result<bool> replicated(RedisClient& c, const std::string& key, int need, const RedisReply& wait,
                          const std::string& what);
  void note(bool ok, const std::string& error);

  const std::string url_;
  const std::string writer_id_;  // tells this process's snapshots from the others'
  const bool cluster_;
  const std::vector<RedisNode> seeds_;
  const StoreConfig config_;
  std::function<void(std::string_view)> log_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;  // guarded by mu_
  bool stopping_ = false;  // guarded by mu_

  std::mutex control_mu_;
  std::unique_ptr<RedisClient> control_;  // blocking journal calls, under control_mu_

  std::mutex events_mu_;
  std::set<std::string> known_events_;  // registered in lo:events by this process

  std::mutex sink_mu_;
  Sink sink_;  // guarded by sink_mu_

  std::atomic<bool> up_{true};
  std::atomic<int64_t> changed_ms_{0};
  mutable std::mutex error_mu_;
  std::string last_error_;
  std::atomic<uint64_t> objects_written_{0}, objects_read_{0}, bytes_written_{0}, chunk_retries_{0},
      entries_appended_{0}, entries_published_{0}, wait_failures_{0}, unreplicated_writes_{0}, errors_{0},
      subscriber_reconnects_{0};

  std::vector<std::thread> workers_;
  std::thread subscriber_;
};

}  // namespace liveorigin
