#include "origin/store/redis_store.h"

#include <hiredis/hiredis.h>
#include <poll.h>
#include <signal.h>

#include <chrono>
#include <random>

#include "origin/core/clock.h"

namespace liveorigin {

namespace {

constexpr const char* kChannel = "lo:journal";
constexpr const char* kEvents = "lo:events";

// The next seq, and the entry under it; with ARGV[2] == "1" (no replica to wait for)
// it is durable at once, so the watermark moves too.
constexpr const char* kAppendScript = R"LUA(
local seq = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[1], seq .. '-1', 'e', ARGV[1])
if ARGV[2] == '1' then
  local w = tonumber(redis.call('GET', KEYS[3]) or '0')
  if seq > w then redis.call('SET', KEYS[3], seq) end
end
return seq
)LUA";

// Moves the watermark forward (never back): entries up to it are durable.
constexpr const char* kMarkScript = R"LUA(
local w = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > w then redis.call('SET', KEYS[1], ARGV[1]) end
return w
)LUA";

// Writes an object's manifest (KEYS[1]) only if every chunk (KEYS[2..]) is there with
// the length this write gave it (ARGV[3..]): sent in the same round trip as the chunks,
// it leaves no manifest behind a chunk whose SET failed. ARGV[1] is the manifest,
// ARGV[2] its PXAT ('' for none). Answers 1 when written.
constexpr const char* kManifestScript = R"LUA(
for i = 2, #KEYS do
  if redis.call('STRLEN', KEYS[i]) ~= tonumber(ARGV[i + 1]) then return 0 end
end
if ARGV[2] == '' then
  redis.call('SET', KEYS[1], ARGV[1])
else
  redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
end
return 1
)LUA";

// Points the event at a newer snapshot; answers the key of the one it replaced ('' if
// none, false if the stored one is as new).
constexpr const char* kSnapshotScript = R"LUA(
local cur = redis.call('GET', KEYS[1])
local cur_seq = 0
local cur_key = ''
if cur then
  local sp = string.find(cur, ' ')
  cur_seq = tonumber(string.sub(cur, 1, sp - 1))
  cur_key = string.sub(cur, sp + 1)
end
if tonumber(ARGV[1]) <= cur_seq then return false end
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. ARGV[2])
return cur_key
)LUA";

std::string tag(std::string_view prefix, std::string_view id) { return std::string(prefix) + "{" + std::string(id) + "}"; }
std::string chunk_key(const std::string& key, size_t i) { return tag("lo:c:", key) + ":" + std::to_string(i); }

int64_t now_ms() { return SystemClock().now_ms(); }

}  // namespace

RedisStore::RedisStore(const StoreUrl& url, const StoreConfig& config, std::function<void(std::string_view)> log)
    : url_(config.url),
      writer_id_(std::to_string(std::random_device{}()) + std::to_string(std::random_device{}())),
      cluster_(url.kind == StoreUrl::Kind::redis_cluster),
      seeds_([&] {
        std::vector<RedisNode> nodes;
        for (const auto& [host, port] : url.nodes) nodes.push_back(RedisNode{host, port});
        return nodes;
      }()),
      config_(config),
      log_(std::move(log)) {}

Result<std::unique_ptr<RedisStore>> RedisStore::open(const StoreUrl& url, const StoreConfig& config,
                                                     std::function<void(std::string_view)> log) {
  // hiredis writes with write(): a connection the server (or a failover) closed must
  // fail the call, not end the process.
  ::signal(SIGPIPE, SIG_IGN);
  std::unique_ptr<RedisStore> s(new RedisStore(url, config, std::move(log)));
  s->control_ = std::make_unique<RedisClient>(s->seeds_, s->cluster_, config.timeout_ms);
  auto pong = s->control_->command("", {"PING"});
  if (!pong) return make_error("store " + s->url_ + ": " + pong.error().message);
  if (pong->is_error()) return make_error("store " + s->url_ + ": " + pong->str);
  if (s->cluster_) {
    auto info = s->control_->command("", {"CLUSTER", "INFO"});
    if (!info) return make_error("store " + s->url_ + ": " + info.error().message);
    if (info->is_error()) return make_error("store " + s->url_ + ": not a cluster node: " + info->str);
    if (info->str.find("cluster_state:ok") == std::string::npos) {
      return make_error("store " + s->url_ + ": the cluster is not ok (CLUSTER INFO: cluster_state is not ok)");
    }
  }
  for (size_t i = 0; i < kWorkers; ++i) s->workers_.emplace_back([p = s.get()] { p->worker(); });
  s->subscriber_ = std::thread([p = s.get()] { p->subscriber(); });
  return s;
}

RedisStore::~RedisStore() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
  if (subscriber_.joinable()) subscriber_.join();
}

bool RedisStore::submit(Job job) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || jobs_.size() >= kQueueMax) return false;
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
  return true;
}

void RedisStore::worker() {
  RedisClient client(seeds_, cluster_, config_.timeout_ms);
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job(client);
  }
}

void RedisStore::note(bool ok, const std::string& error) {
  if (!ok) {
    errors_.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(error_mu_);
    last_error_ = error;
  }
  if (up_.exchange(ok) != ok) {
    changed_ms_.store(now_ms(), std::memory_order_relaxed);
    if (log_) log_(ok ? "store " + url_ + ": answering again" : "store " + url_ + ": failing: " + error);
  }
}

std::string RedisStore::last_error() const {
  std::lock_guard lock(error_mu_);
  return last_error_;
}

int RedisStore::replicas_to_wait(RedisClient& c, const std::string& key) {
  if (config_.redis_wait_replicas >= 0) return static_cast<int>(config_.redis_wait_replicas);
  return std::min(c.replicas_of(key), 1);
}

std::string RedisStore::wait_timeout(int64_t deadline) {
  // Leaves the reply time to arrive before the deadline.
  return std::to_string(std::max<int64_t>(1, deadline - RedisClient::steady_ms() - 100));
}

Result<bool> RedisStore::replicated(RedisClient& c, const std::string& key, int need, const RedisReply& wait,
                                    const std::string& what) {
  if (need == 0) return true;
  if (wait.is_error()) return make_error("WAIT for " + what + ": " + wait.str);
  if (wait.integer >= need) return true;
  // Too few: perhaps the primary lost its replica (a failover promotes the replica and
  // leaves the new primary alone until the old one rejoins). In auto mode a primary with
  // no replica takes writes alone, counted, rather than refusing every PUT.
  if (config_.redis_wait_replicas < 0 && std::min(c.replicas_of(key, true), 1) <= wait.integer) {
    if (unreplicated_writes_.fetch_add(1, std::memory_order_relaxed) == 0 && log_) {
      log_("store " + url_ + ": the primary of " + key + " has no replica; writes are on one node until one is back");
    }
    return true;
  }
  wait_failures_.fetch_add(1, std::memory_order_relaxed);
  return make_error("WAIT: " + std::to_string(wait.integer) + " of " + std::to_string(need) +
                    " replicas acknowledged " + what);
}

Result<bool> RedisStore::wait_replicas(RedisClient& c, const std::string& key, int64_t deadline) {
  const int need = replicas_to_wait(c, key);
  if (need == 0) return true;
  if (deadline <= 0) deadline = RedisClient::steady_ms() + config_.timeout_ms;
  auto r = c.command(key, {"WAIT", std::to_string(need), wait_timeout(deadline)}, deadline);
  if (!r) return r.error();
  return replicated(c, key, need, *r, key);
}

Result<bool> RedisStore::write_object(RedisClient& c, const std::string& key, const std::string& data,
                                      int64_t expires_at_ms) {
  const std::string manifest_key = tag("lo:o:", key);
  const size_t chunk = static_cast<size_t>(config_.chunk_bytes);
  const size_t n = data.empty() ? 1 : (data.size() + chunk - 1) / chunk;
  const std::string pxat = std::to_string(expires_at_ms);
  std::vector<std::string> keys;
  for (size_t i = 0; i < n; ++i) keys.push_back(chunk_key(key, i));
  auto set_chunk = [&](size_t i) {
    const size_t at = i * chunk;
    std::vector<std::string_view> cmd = {"SET", keys[i], std::string_view(data).substr(at, std::min(chunk, data.size() - at))};
    if (expires_at_ms > 0) {
      cmd.push_back("PXAT");
      cmd.push_back(pxat);
    }
    return cmd;
  };
  const std::string manifest = std::to_string(data.size()) + " " + std::to_string(n);
  std::vector<std::string> lengths;
  for (size_t i = 0; i < n; ++i) lengths.push_back(std::to_string(std::min(chunk, data.size() - i * chunk)));
  const std::string n_keys = std::to_string(n + 1);
  std::vector<std::string_view> manifest_cmd = {"EVAL", kManifestScript, n_keys, manifest_key};
  for (const auto& k : keys) manifest_cmd.push_back(k);
  manifest_cmd.push_back(manifest);
  manifest_cmd.push_back(expires_at_ms > 0 ? std::string_view(pxat) : std::string_view());
  for (const auto& l : lengths) manifest_cmd.push_back(l);
  const int need = replicas_to_wait(c, manifest_key);
  const std::string n_replicas = std::to_string(need);
  const int64_t deadline = RedisClient::steady_ms() + config_.timeout_ms;
  const std::string wait_ms = wait_timeout(deadline);

  // Every chunk, the manifest (written only where every chunk is) and the wait for the
  // replicas in one round trip. A chunk that did not make it (a lost connection, a
  // failover) is written again on its own, within the operation's deadline, and the
  // manifest and the wait follow it.
  std::vector<std::vector<std::string_view>> cmds;
  for (size_t i = 0; i < n; ++i) cmds.push_back(set_chunk(i));
  cmds.push_back(manifest_cmd);
  if (need > 0) cmds.push_back({"WAIT", n_replicas, wait_ms});
  const std::vector<RedisReply> first = c.pipeline_once(manifest_key, cmds);
  const RedisReply& written = first[n];
  if (!written.is_error() && written.integer == 1) {
    return replicated(c, manifest_key, need, need > 0 ? first[n + 1] : written, key);
  }
  for (size_t i = 0; i < n; ++i) {
    if (!first[i].is_error()) continue;
    chunk_retries_.fetch_add(1, std::memory_order_relaxed);
    auto r = c.command(manifest_key, set_chunk(i), deadline);
    if (!r) return make_error("chunk " + std::to_string(i) + " of " + key + " not written: " + r.error().message);
    if (r->is_error()) return make_error("chunk " + std::to_string(i) + " of " + key + " not written: " + r->str);
  }
  // A failover in the middle may also have lost chunks the old primary had acknowledged
  // but not passed on: the script finds them, and they are written again.
  for (int round = 0; round < 2; ++round) {
    const std::string again_ms = wait_timeout(deadline);
    std::vector<std::vector<std::string_view>> last = {manifest_cmd};
    if (need > 0) last.push_back({"WAIT", n_replicas, again_ms});
    auto m = c.pipeline(manifest_key, last, deadline);
    if (!m) return m.error();
    if ((*m)[0].is_error()) return make_error("manifest of " + key + ": " + (*m)[0].str);
    if ((*m)[0].integer == 1) return replicated(c, manifest_key, need, need > 0 ? (*m)[1] : (*m)[0], key);
    std::vector<std::vector<std::string_view>> lens;
    for (const auto& k : keys) lens.push_back({"STRLEN", k});
    auto present = c.pipeline(manifest_key, lens, deadline);
    if (!present) return present.error();
    for (size_t i = 0; i < n; ++i) {
      if ((*present)[i].integer == std::stoll(lengths[i])) continue;
      chunk_retries_.fetch_add(1, std::memory_order_relaxed);
      auto r = c.command(manifest_key, set_chunk(i), deadline);
      if (!r || r->is_error()) return make_error("chunk " + std::to_string(i) + " of " + key + " not written");
    }
  }
  return make_error("manifest of " + key + " not written: its chunks did not stay");
}

SharedBytes RedisStore::read_object(RedisClient& c, const std::string& key, std::string& error) {
  const std::string manifest_key = tag("lo:o:", key);
  auto m = c.command(manifest_key, {"GET", manifest_key});
  if (!m) {
    error = m.error().message;
    return nullptr;
  }
  if (m->type != RedisReply::Type::string) return nullptr;  // absent (or expired): not an error
  size_t size = 0, n = 0;
  if (std::sscanf(m->str.c_str(), "%zu %zu", &size, &n) != 2 || n == 0) {
    error = "bad manifest of " + key;
    return nullptr;
  }
  std::vector<std::string> keys;
  for (size_t i = 0; i < n; ++i) keys.push_back(chunk_key(key, i));
  std::vector<std::string_view> mget = {"MGET"};
  for (const auto& k : keys) mget.push_back(k);
  auto chunks = c.command(manifest_key, mget);
  if (!chunks) {
    error = chunks.error().message;
    return nullptr;
  }
  auto data = std::make_shared<std::string>();
  data->reserve(size);
  for (const auto& part : chunks->elements) {
    if (part.type != RedisReply::Type::string) return nullptr;  // expired while read
    data->append(part.str);
  }
  if (data->size() != size) return nullptr;
  return data;
}

void RedisStore::put(std::string key, SharedBytes bytes, int64_t expires_at_ms, std::function<void(bool ok)> done) {
  const bool queued = submit([this, key = std::move(key), bytes = std::move(bytes), expires_at_ms, done](RedisClient& c) {
    auto written = write_object(c, key, *bytes, expires_at_ms);
    note(static_cast<bool>(written), written ? std::string() : written.error().message);
    if (written) {
      objects_written_.fetch_add(1, std::memory_order_relaxed);
      bytes_written_.fetch_add(bytes->size(), std::memory_order_relaxed);
    }
    done(static_cast<bool>(written));
  });
  if (!queued) done(false);
}

void RedisStore::get(std::string key, std::function<void(SharedBytes)> done) {
  const bool queued = submit([this, key = std::move(key), done](RedisClient& c) {
    std::string error;
    SharedBytes bytes = read_object(c, key, error);
    note(error.empty(), error);
    if (bytes) objects_read_.fetch_add(1, std::memory_order_relaxed);
    done(std::move(bytes));
  });
  if (!queued) done(nullptr);
}

void RedisStore::erase(std::string_view key) {
  submit([this, key = std::string(key)](RedisClient& c) {
    const std::string manifest_key = tag("lo:o:", key);
    auto m = c.command(manifest_key, {"GET", manifest_key});
    size_t size = 0, n = 0;
    if (!m || m->type != RedisReply::Type::string || std::sscanf(m->str.c_str(), "%zu %zu", &size, &n) != 2) return;
    // The manifest first: from then on no reader finds the object.
    std::vector<std::string> keys = {manifest_key};
    for (size_t i = 0; i < n; ++i) keys.push_back(chunk_key(key, i));
    std::vector<std::string_view> unlink = {"UNLINK"};
    for (const auto& k : keys) unlink.push_back(k);
    (void)c.command(manifest_key, unlink);  // a key left behind expires with its TTL
  });
}

void RedisStore::append(std::string event, std::string text, std::function<void(Result<int64_t>)> done) {
  const bool queued = submit([this, event = std::move(event), text = std::move(text), done](RedisClient& c) {
    auto fail = [&](const std::string& why) {
      note(false, why);
      done(make_error("store " + url_ + ": " + why));
    };
    const int64_t deadline = RedisClient::steady_ms() + config_.timeout_ms;
    bool known;
    {
      std::lock_guard lock(events_mu_);
      known = known_events_.contains(event);
    }
    if (!known) {
      auto added = c.command(kEvents, {"SADD", kEvents, event}, deadline);
      if (!added || added->is_error()) return fail(added ? added->str : added.error().message);
      std::lock_guard lock(events_mu_);
      known_events_.insert(event);
    }
    const std::string journal = tag("lo:j:", event);
    const std::string counter = tag("lo:n:", event);
    const std::string watermark = tag("lo:w:", event);
    const int need = replicas_to_wait(c, journal);
    // The entry and the wait for its replicas in one round trip; then the watermark and
    // the news in another.
    const std::string n = std::to_string(need);
    const std::string wait_ms = wait_timeout(deadline);
    std::vector<std::vector<std::string_view>> first = {
        {"EVAL", kAppendScript, "3", journal, counter, watermark, text, need == 0 ? "1" : "0"}};
    if (need > 0) first.push_back({"WAIT", n, wait_ms});
    auto replies = c.pipeline(journal, first, deadline);
    if (!replies) return fail(replies.error().message);
    const RedisReply& appended = (*replies)[0];
    if (appended.is_error()) return fail(appended.str);
    const int64_t seq = appended.integer;
    if (auto ok = replicated(c, journal, need, need > 0 ? (*replies)[1] : appended, "entry " + std::to_string(seq));
        !ok) {
      return fail(ok.error().message);
    }
    entries_appended_.fetch_add(1, std::memory_order_relaxed);
    note(true, {});
    // Durable now: this instance applies it at once (the answer to the PUT waits on
    // that); then it is marked so and every instance told. A lost message, or a mark
    // lost to a failover, is read from the journal later (the next mark covers it).
    done(seq);
    const std::string s = std::to_string(seq);
    const std::string message = event + "\n" + s + "\n" + text;
    std::vector<std::vector<std::string_view>> second;
    if (need > 0) second.push_back({"EVAL", kMarkScript, "1", watermark, s});
    second.push_back({"PUBLISH", kChannel, message});
    if (auto r = c.pipeline(journal, second, deadline); r && !r->back().is_error()) {
      entries_published_.fetch_add(1, std::memory_order_relaxed);
    }
  });
  if (!queued) done(make_error("store " + url_ + ": too many operations waiting"));
}

Result<std::vector<JournalStore::Entry>> RedisStore::read(const std::string& event, int64_t after, size_t limit) {
  std::lock_guard lock(control_mu_);
  const std::string journal = tag("lo:j:", event);
  const std::string watermark = tag("lo:w:", event);
  const std::string from = std::to_string(after + 1) + "-0";
  const std::string count = std::to_string(limit);
  auto replies = control_->pipeline(journal, {{"GET", watermark}, {"XRANGE", journal, from, "+", "COUNT", count}});
  if (!replies) return make_error("store " + url_ + ": cannot read the journal of " + event + ": " + replies.error().message);
  const RedisReply& w = (*replies)[0];
  const int64_t durable = w.type == RedisReply::Type::string ? std::stoll(w.str) : 0;
  const RedisReply& range = (*replies)[1];
  if (range.is_error()) return make_error("store " + url_ + ": " + range.str);
  std::vector<Entry> out;
  for (const auto& item : range.elements) {
    if (item.elements.size() < 2 || item.elements[1].elements.size() < 2) continue;
    const int64_t seq = std::stoll(item.elements[0].str);
    if (seq > durable) break;  // not known durable yet: a failover could still lose it
    out.push_back(Entry{seq, item.elements[1].elements[1].str});
  }
  return out;
}

Result<std::vector<std::string>> RedisStore::events() {
  std::lock_guard lock(control_mu_);
  auto r = control_->command(kEvents, {"SMEMBERS", kEvents});
  if (!r) return make_error("store " + url_ + ": " + r.error().message);
  std::vector<std::string> out;
  for (const auto& e : r->elements) out.push_back(e.str);
  return out;
}

Result<std::optional<JournalStore::Snapshot>> RedisStore::load_snapshot(const std::string& event) {
  std::lock_guard lock(control_mu_);
  const std::string pointer = tag("lo:s:", event);
  auto r = control_->command(pointer, {"GET", pointer});
  if (!r) return make_error("store " + url_ + ": " + r.error().message);
  if (r->type != RedisReply::Type::string) return std::optional<Snapshot>();
  const size_t sp = r->str.find(' ');
  if (sp == std::string::npos) return make_error("store " + url_ + ": bad snapshot pointer of " + event);
  std::string error;
  SharedBytes text = read_object(*control_, r->str.substr(sp + 1), error);
  if (!text) return make_error("store " + url_ + ": cannot read the snapshot of " + event + ": " + (error.empty() ? "missing" : error));
  return std::optional<Snapshot>(Snapshot{std::stoll(r->str.substr(0, sp)), *text});
}

Result<bool> RedisStore::save_snapshot(const std::string& event, const Snapshot& snapshot, int64_t keep_entries) {
  std::lock_guard lock(control_mu_);
  // Unique to this writer: two instances saving the same seq must not erase each other's.
  const std::string key = "snapshot/" + event + "/" + std::to_string(snapshot.seq) + "/" + writer_id_;
  auto written = write_object(*control_, key, snapshot.text, 0);
  if (!written) return make_error("store " + url_ + ": cannot write the snapshot of " + event + ": " + written.error().message);
  const std::string pointer = tag("lo:s:", event);
  const std::string seq = std::to_string(snapshot.seq);
  auto swapped = control_->command(pointer, {"EVAL", kSnapshotScript, "1", pointer, seq, key});
  if (!swapped || swapped->is_error()) return make_error("store " + url_ + ": cannot point at the snapshot of " + event);
  if (auto waited = wait_replicas(*control_, pointer, 0); !waited) return waited.error();
  if (swapped->type == RedisReply::Type::string && !swapped->str.empty()) erase(swapped->str);
  if (swapped->type == RedisReply::Type::nil) erase(key);  // an instance saved a newer one first
  if (snapshot.seq > keep_entries) {
    const std::string journal = tag("lo:j:", event);
    const std::string min = std::to_string(snapshot.seq - keep_entries) + "-0";
    (void)control_->command(journal, {"XTRIM", journal, "MINID", min});  // trimmed at the next snapshot otherwise
  }
  return true;
}

void RedisStore::subscribe(Sink sink) {
  std::lock_guard lock(sink_mu_);
  sink_ = std::move(sink);
}

void RedisStore::subscriber() {
  size_t next = 0;
  auto stopping = [this] {
    std::lock_guard lock(mu_);
    return stopping_;
  };
  while (!stopping()) {
    // Any node hears every message (cluster PUBLISH reaches all): try them in turn.
    const RedisNode node = seeds_[next++ % seeds_.size()];
    std::string host = node.host;
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    timeval tv{static_cast<time_t>(config_.timeout_ms / 1000), static_cast<suseconds_t>((config_.timeout_ms % 1000) * 1000)};
    redisContext* c = redisConnectWithTimeout(host.c_str(), node.port, tv);
    bool ok = c && !c->err;
    if (ok) {
      redisSetTimeout(c, tv);
      void* r = redisCommand(c, "SUBSCRIBE %s", kChannel);
      ok = r != nullptr;
      if (r) freeReplyObject(r);
    }
    while (ok && !stopping()) {
      void* raw = nullptr;
      if (redisGetReplyFromReader(c, &raw) != REDIS_OK) break;
      if (raw == nullptr) {
        pollfd p{c->fd, POLLIN, 0};
        const int ready = ::poll(&p, 1, 200);
        if (ready < 0) break;
        if (ready > 0 && redisBufferRead(c) != REDIS_OK) break;
        continue;
      }
      const redisReply* m = static_cast<redisReply*>(raw);
      if (m->type == REDIS_REPLY_ARRAY && m->elements == 3 && std::string_view(m->element[0]->str) == "message") {
        const std::string_view payload(m->element[2]->str, m->element[2]->len);
        const size_t a = payload.find('\n');
        const size_t b = a == std::string_view::npos ? a : payload.find('\n', a + 1);
        if (b != std::string_view::npos) {
          Sink sink;
          {
            std::lock_guard lock(sink_mu_);
            sink = sink_;
          }
          try {
            if (sink) {
              sink(std::string(payload.substr(0, a)), std::stoll(std::string(payload.substr(a + 1, b - a - 1))),
                   std::string(payload.substr(b + 1)));
            }
          } catch (const std::exception&) {
            // A message not of ours on the channel: ignored.
          }
        }
      }
      freeReplyObject(raw);
    }
    if (c) redisFree(c);
    if (stopping()) return;
    subscriber_reconnects_.fetch_add(1, std::memory_order_relaxed);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::string RedisStore::metrics_text() const {
  std::string out;
  auto counter = [&](const char* name, const char* help, const std::atomic<uint64_t>& v) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" + name + " " +
           std::to_string(v.load(std::memory_order_relaxed)) + "\n";
  };
  counter("liveorigin_redis_objects_written_total", "Objects written, every chunk and the manifest.", objects_written_);
  counter("liveorigin_redis_bytes_written_total", "Bytes of objects written.", bytes_written_);
  counter("liveorigin_redis_objects_read_total", "Objects read.", objects_read_);
  counter("liveorigin_redis_chunk_retries_total", "Chunk writes tried again on their own.", chunk_retries_);
  counter("liveorigin_redis_journal_appended_total", "Journal entries appended.", entries_appended_);
  counter("liveorigin_redis_journal_published_total", "Journal entries published to the other instances.",
          entries_published_);
  counter("liveorigin_redis_wait_failures_total", "Writes the replicas did not acknowledge in time (not acknowledged).",
          wait_failures_);
  counter("liveorigin_redis_unreplicated_writes_total",
          "Writes acknowledged by a primary that had no replica at the time (auto redis_wait_replicas).",
          unreplicated_writes_);
  counter("liveorigin_redis_errors_total", "Operations that failed after their retries.", errors_);
  counter("liveorigin_redis_subscriber_reconnects_total", "Times the journal subscription was established again.",
          subscriber_reconnects_);
  return out;
}

}  // namespace liveorigin
