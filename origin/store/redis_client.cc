#include "origin/store/redis_client.h"

#include <hiredis/hiredis.h>

#include <chrono>
#include <thread>

namespace liveorigin {

namespace {

constexpr size_t kSlots = 16384;

uint16_t crc16_xmodem(std::string_view data) {
  uint16_t crc = 0;
  for (unsigned char byte : data) {
    crc ^= static_cast<uint16_t>(byte) << 8;
    for (int i = 0; i < 8; ++i) crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021) : static_cast<uint16_t>(crc << 1);
  }
  return crc;
}

timeval to_timeval(int64_t ms) {
  timeval tv{};
  tv.tv_sec = ms / 1000;
  tv.tv_usec = (ms % 1000) * 1000;
  return tv;
}

RedisReply convert(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::string;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::status;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::error;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::integer;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::array;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
      break;
    default:
      out.type = RedisReply::Type::nil;
      break;
  }
  return out;
}

// "host:port" (the form MOVED and ASK name nodes in).
bool parse_address(std::string_view text, RedisNode& out) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return false;
  out.host = std::string(text.substr(0, colon));
  try {
    const int port = std::stoi(std::string(text.substr(colon + 1)));
    if (port <= 0 || port > 65535) return false;
    out.port = static_cast<uint16_t>(port);
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

}  // namespace

int64_t RedisClient::steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

uint16_t redis_slot(std::string_view key) {
  const size_t open = key.find('{');
  if (open != std::string_view::npos) {
    const size_t close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) key = key.substr(open + 1, close - open - 1);
  }
  return static_cast<uint16_t>(crc16_xmodem(key) % kSlots);
}

RedisClient::RedisClient(std::vector<RedisNode> seeds, bool cluster, int64_t timeout_ms)
    : seeds_(std::move(seeds)), cluster_(cluster), timeout_ms_(timeout_ms) {
  for (const auto& s : seeds_) node_index(s);
  if (cluster_) slots_.assign(kSlots, Slots{});
}

RedisClient::~RedisClient() {
  for (redisContext* c : connections_) {
    if (c) redisFree(c);
  }
}

int RedisClient::node_index(const RedisNode& n) {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i] == n) return static_cast<int>(i);
  }
  nodes_.push_back(n);
  connections_.push_back(nullptr);
  return static_cast<int>(nodes_.size() - 1);
}

std::vector<RedisNode> RedisClient::nodes() { return nodes_; }

redisContext* RedisClient::connection(int node, std::string& error) {
  if (connections_[node]) return connections_[node];
  std::string host = nodes_[node].host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  redisContext* c = redisConnectWithTimeout(host.c_str(), nodes_[node].port, to_timeval(timeout_ms_));
  if (!c || c->err) {
    error = "cannot reach " + nodes_[node].address() + ": " + (c ? c->errstr : "out of memory");
    if (c) redisFree(c);
    return nullptr;
  }
  redisSetTimeout(c, to_timeval(timeout_ms_));
  redisEnableKeepAlive(c);
  connections_[node] = c;
  ++counts_.reconnects;
  return c;
}

void RedisClient::drop(int node) {
  if (connections_[node]) redisFree(connections_[node]);
  connections_[node] = nullptr;
}

Result<std::vector<RedisReply>> RedisClient::send(int node, bool asking,
                                                  const std::vector<std::vector<std::string_view>>& commands,
                                                  std::string& error) {
  redisContext* c = connection(node, error);
  if (!c) return make_error(error);
  auto append = [&](const std::vector<std::string_view>& args) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    return redisAppendCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()) == REDIS_OK;
  };
  bool ok = !asking || append({"ASKING"});
  for (const auto& cmd : commands) ok = ok && append(cmd);
  std::vector<RedisReply> replies;
  const size_t expected = commands.size() + (asking ? 1 : 0);
  for (size_t i = 0; ok && i < expected; ++i) {
    void* raw = nullptr;
    if (redisGetReply(c, &raw) != REDIS_OK || raw == nullptr) {
      ok = false;
      break;
    }
    if (!asking || i > 0) replies.push_back(convert(static_cast<redisReply*>(raw)));
    freeReplyObject(raw);
  }
  if (!ok) {
    error = nodes_[node].address() + ": " + (c->err ? std::string(c->errstr) : std::string("connection lost"));
    drop(node);
    return make_error(error);
  }
  return replies;
}

bool RedisClient::refresh_slots(std::string& error) {
  ++counts_.slot_refreshes;
  // Every node known, then the seeds again: after a failover the map comes from a survivor.
  std::vector<RedisNode> candidates = nodes_;
  for (const auto& s : seeds_) candidates.push_back(s);
  for (const auto& candidate : candidates) {
    auto replies = send(node_index(candidate), false, {{"CLUSTER", "SLOTS"}}, error);
    if (!replies || replies->empty() || (*replies)[0].type != RedisReply::Type::array) continue;
    std::vector<Slots> next(kSlots);
    size_t covered = 0;
    for (const auto& range : (*replies)[0].elements) {
      if (range.elements.size() < 3) continue;
      const int64_t from = range.elements[0].integer;
      const int64_t to = range.elements[1].integer;
      const auto& primary = range.elements[2].elements;
      if (primary.size() < 2 || from < 0 || to >= static_cast<int64_t>(kSlots)) continue;
      RedisNode node{primary[0].str.empty() ? candidate.host : primary[0].str, static_cast<uint16_t>(primary[1].integer)};
      const int index = node_index(node);
      for (int64_t s = from; s <= to; ++s) {
        next[s] = Slots{index, static_cast<int>(range.elements.size()) - 3};
        ++covered;
      }
    }
    if (covered == 0) {
      error = candidate.address() + ": CLUSTER SLOTS lists no slots";
      continue;
    }
    slots_ = std::move(next);
    slots_known_ = true;
    topology_read_ms_ = steady_ms();
    return true;
  }
  if (error.empty()) error = "no node answered CLUSTER SLOTS";
  return false;
}

int RedisClient::route(std::string_view key) {
  if (!cluster_ || key.empty()) return 0;
  std::string error;
  if (!slots_known_) refresh_slots(error);
  const int primary = slots_[redis_slot(key)].primary;
  return primary >= 0 ? primary : 0;
}

Result<RedisReply> RedisClient::command(std::string_view key, const std::vector<std::string_view>& args,
                                        int64_t deadline_ms) {
  auto replies = pipeline(key, {args}, deadline_ms);
  if (!replies) return replies.error();
  return std::move((*replies)[0]);
}

std::vector<RedisReply> RedisClient::pipeline_once(std::string_view key,
                                                   const std::vector<std::vector<std::string_view>>& commands) {
  ++counts_.commands;
  std::string error;
  auto replies = send(route(key), false, commands, error);
  if (replies) return std::move(*replies);
  if (cluster_) refresh_slots(error);
  RedisReply lost;
  lost.type = RedisReply::Type::error;
  lost.str = "connection lost: " + error;
  return std::vector<RedisReply>(commands.size(), lost);
}

Result<std::vector<RedisReply>> RedisClient::pipeline(std::string_view key,
                                                      const std::vector<std::vector<std::string_view>>& commands,
                                                      int64_t deadline_ms) {
  const int64_t deadline = deadline_ms > 0 ? deadline_ms : steady_ms() + timeout_ms_;
  int node = route(key);
  int ask = -1;
  int64_t backoff_ms = 10;
  std::string error;
  for (;;) {
    ++counts_.commands;
    auto replies = send(ask >= 0 ? ask : node, ask >= 0, commands, error);
    ask = -1;
    bool wait = !replies;
    if (replies) {
      bool redirected = false;
      for (const auto& r : *replies) {
        if (!r.is_error()) continue;
        const std::string_view e = r.str;
        RedisNode target;
        if (e.starts_with("MOVED ") && parse_address(e.substr(e.rfind(' ') + 1), target)) {
          // The slot moved (a failover, a reshard): this one now, the whole map soon.
          const int index = node_index(target);
          if (cluster_) slots_[redis_slot(key)].primary = index;
          node = index;
          redirected = true;
          slots_known_ = false;
        } else if (e.starts_with("ASK ") && parse_address(e.substr(e.rfind(' ') + 1), target)) {
          ask = node_index(target);  // once, to the importing node
          redirected = true;
        } else if (e.starts_with("TRYAGAIN") || e.starts_with("CLUSTERDOWN")) {
          error = nodes_[node].address() + ": " + std::string(e);
          redirected = true;
          wait = true;
          slots_known_ = false;
        }
        if (redirected) break;
      }
      if (!redirected) return replies;
      ++counts_.redirects;
    } else if (cluster_) {
      std::string ignored;
      refresh_slots(ignored);
      node = route(key);
    }
    if (steady_ms() >= deadline) return make_error(error.empty() ? "deadline passed" : error);
    ++counts_.retries;
    if (wait) {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(backoff_ms, deadline - steady_ms())));
      backoff_ms = std::min<int64_t>(backoff_ms * 2, 200);
      if (!slots_known_ && cluster_) {
        std::string ignored;
        refresh_slots(ignored);
        node = route(key);
      }
    }
  }
}

int RedisClient::replicas_of(std::string_view key, bool fresh) {
  const bool stale = fresh || steady_ms() - topology_read_ms_ > kTopologyMaxAgeMs;
  if (cluster_) {
    if (!slots_known_ || stale) {
      std::string error;
      refresh_slots(error);
    }
    return slots_[redis_slot(key)].replicas;
  }
  if (single_replicas_ < 0 || stale) {
    auto info = command("", {"INFO", "replication"});
    topology_read_ms_ = steady_ms();
    single_replicas_ = 0;
    if (info && info->type == RedisReply::Type::string) {
      const size_t at = info->str.find("connected_slaves:");
      if (at != std::string::npos) single_replicas_ = std::atoi(info->str.c_str() + at + 17);
    }
  }
  return single_replicas_;
}

}  // namespace liveorigin
