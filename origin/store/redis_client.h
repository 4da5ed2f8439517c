// A blocking client for one Redis server or a Redis Cluster, on hiredis 0.14 (which
// knows nothing of clusters). For a cluster it routes each command by the CRC16 hash
// slot of its key (a {hash tag} keeps related keys in one slot) to the primary that owns
// the slot, follows MOVED (and refreshes the slot map) and ASK, and after a lost
// connection or CLUSTERDOWN — a primary failing over — refreshes the map from any node
// that answers and tries again, until the deadline. Replicas are known per slot, so a
// write can WAIT for them.
//
// One RedisClient is used by one thread at a time; it keeps one connection per node.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "origin/core/result.h"

struct redisContext;

namespace liveorigin {

// The cluster hash slot of a key (the Redis Cluster specification: CRC16/XMODEM of the
// key, or of the part between the first '{' and the next '}' when not empty, mod 16384).
uint16_t redis_slot(std::string_view key);

struct RedisReply {
  enum class Type { nil, string, integer, array, status, error };
  Type type = Type::nil;
  std::string str;  // string, status, error
  int64_t integer = 0;
  std::vector<RedisReply> elements;

  bool is_error() const { return type == Type::error; }
};

struct RedisNode {
  std::string host;
  uint16_t port = 0;

  std::string address() const { return host + ":" + std::to_string(port); }
  bool operator==(const RedisNode& o) const { return host == o.host && port == o.port; }
};

class RedisClient {
 public:
  // `seeds`: the nodes to start from (one for a single server). `timeout_ms` bounds
  // each call, retries included.
  RedisClient(std::vector<RedisNode> seeds, bool cluster, int64_t timeout_ms);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Deadlines are steady-clock milliseconds (steady_ms()); 0: `timeout_ms` from now.
  static int64_t steady_ms();

  // Runs one command on the node owning `key` (any node when `key` is empty). A Redis
  // error reply is returned as a reply (is_error()), except those that mean "ask
  // another node" (MOVED, ASK, TRYAGAIN, CLUSTERDOWN), which are followed. An Error
  // when no node answered before the deadline: "cannot reach 127.0.0.1:7000: ...".
  Result<RedisReply> command(std::string_view key, const std::vector<std::string_view>& args, int64_t deadline_ms = 0);
  // Several commands for keys of one slot (that of `key`), in one round trip. Replies in
  // order; a redirect or a lost connection re-sends the whole pipeline, until the
  // deadline.
  Result<std::vector<RedisReply>> pipeline(std::string_view key,
                                           const std::vector<std::vector<std::string_view>>& commands,
                                           int64_t deadline_ms = 0);
  // One attempt at a pipeline, for callers that retry its commands one by one: a
  // command without an answer (a lost connection, a redirect) has an error reply.
  std::vector<RedisReply> pipeline_once(std::string_view key, const std::vector<std::vector<std::string_view>>& commands);

  // Replicas of the primary owning `key` (cluster: from the slot map; single server:
  // connected replicas as INFO reports them), read again when older than
  // kTopologyMaxAgeMs or when `fresh`: a failover or a replica rejoining changes it.
  int replicas_of(std::string_view key, bool fresh = false);
  static constexpr int64_t kTopologyMaxAgeMs = 5000;
  // The nodes known (primaries first), for a subscriber to pick from.
  std::vector<RedisNode> nodes();

  // Counters, for /metrics.
  struct Counts {
    uint64_t commands = 0, redirects = 0, reconnects = 0, slot_refreshes = 0, retries = 0;
  };
  const Counts& counts() const { return counts_; }

 private:
  struct Slots {
    int primary = -1;  // index into nodes_
    int replicas = 0;
  };
  redisContext* connection(int node, std::string& error);
  void drop(int node);
  int node_index(const RedisNode& n);
  bool refresh_slots(std::string& error);
  int route(std::string_view key);
  Result<std::vector<RedisReply>> send(int node, bool asking, const std::vector<std::vector<std::string_view>>& commands,
                                       std::string& error);

  std::vector<RedisNode> seeds_;
  const bool cluster_;
  const int64_t timeout_ms_;
  std::vector<RedisNode> nodes_;
  std::vector<redisContext*> connections_;  // parallel to nodes_
  std::vector<Slots> slots_;                // 16384 for a cluster
  bool slots_known_ = false;
  int single_replicas_ = -1;  // single server: connected replicas
  int64_t topology_read_ms_ = 0;  // when slots_ or single_replicas_ were last read
  Counts counts_;
};

}  // namespace liveorigin
