// Redis for a run or a test, as real redis-server processes on free loopback ports: one
// server, or a Redis Cluster of primaries with a replica each (Debian's redis-server and
// redis-cli, installed by scripts/setup). Optionally every node sits behind a FaultProxy
// and announces the proxy's port, so each client — origins, replicas — goes through it
// and the harness can make the store slow or unreachable (`store-slow`, `store-down`).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "origin/core/result.h"
#include "sim/child_process.h"
#include "sim/fault_proxy.h"

namespace liveorigin::sim {

class RedisDeployment {
 public:
  struct Options {
    std::string dir;  // where the nodes keep their files and logs (must exist)
    bool cluster = false;
    int primaries = 3;             // cluster
    int replicas_per_primary = 1;  // cluster
    bool proxied = false;
    int64_t node_timeout_ms = 1000;  // cluster-node-timeout: how soon a dead primary fails over
    std::string appendfsync = "everysec";
  };

  // Starts the nodes and, for a cluster, creates it and waits until every slot is
  // served and every replica in sync. Errors name the node and quote its log.
  static Result<std::unique_ptr<RedisDeployment>> start(const Options& options);
  ~RedisDeployment();
  RedisDeployment(const RedisDeployment&) = delete;
  RedisDeployment& operator=(const RedisDeployment&) = delete;

  // The store URL origins use: redis://127.0.0.1:P or redis-cluster://127.0.0.1:P1,...
  std::string url() const;
  size_t nodes() const { return nodes_.size(); }
  // The node that is the primary of `key`'s slot now.
  Result<size_t> primary_of(std::string_view key);
  // kill -9 of a node; restart() brings it back with its files (a cluster node rejoins
  // as a replica of whoever took over).
  void kill(size_t node);
  Result<bool> restart(size_t node);
  bool running(size_t node) { return nodes_[node]->process.running(); }
  // Until every slot is served (a cluster) and the running replicas are in sync.
  Result<bool> wait_healthy(std::chrono::milliseconds limit);
  // `redis-cli -p <node> args...`; the output, or an Error.
  Result<std::string> cli(size_t node, const std::vector<std::string>& args);

  // Faults on every node's proxy (proxied deployments only; otherwise no effect).
  void set_delay_ms(int64_t ms);
  void set_down(bool down);

 private:
  struct Node {
    uint16_t port = 0;     // redis-server's own
    uint16_t address = 0;  // what clients use: the proxy's port, or `port`
    std::unique_ptr<FaultProxy> proxy;
    ChildProcess process;
  };
  explicit RedisDeployment(Options options) : options_(std::move(options)) {}
  Result<bool> launch(Node& node);
  Result<bool> wait_ping(size_t node, std::chrono::milliseconds limit);

  Options options_;
  std::string redis_server_;
  std::string redis_cli_;
  std::vector<std::unique_ptr<Node>> nodes_;
};

}  // namespace liveorigin::sim
