#include "sim/redis_deployment.h"

#include <signal.h>

#include <sstream>
#include <thread>

namespace liveorigin::sim {

namespace {

constexpr uint16_t kBusOffset = 10000;

std::string tail(const std::string& text, size_t bytes = 1500) {
  return text.size() > bytes ? text.substr(text.size() - bytes) : text;
}

}  // namespace

Result<std::unique_ptr<RedisDeployment>> RedisDeployment::start(const Options& options) {
  std::unique_ptr<RedisDeployment> d(new RedisDeployment(options));
  d->redis_server_ = find_on_path("redis-server");
  d->redis_cli_ = find_on_path("redis-cli");
  if (d->redis_server_.empty() || d->redis_cli_.empty()) {
    return make_error("redis-server and redis-cli are needed (Debian packages redis-server, redis-tools: scripts/setup)");
  }
  const int count = options.cluster ? options.primaries * (1 + options.replicas_per_primary) : 1;
  for (int i = 0; i < count; ++i) {
    auto node = std::make_unique<Node>();
    node->port = free_port(options.cluster ? kBusOffset : 0);
    if (node->port == 0) return make_error("redis: no free loopback port");
    node->address = node->port;
    if (options.proxied) {
      node->proxy = std::make_unique<FaultProxy>("127.0.0.1", node->port);
      node->address = node->proxy->port();
    }
    d->nodes_.push_back(std::move(node));
  }
  for (size_t i = 0; i < d->nodes_.size(); ++i) {
    if (auto ok = d->launch(*d->nodes_[i]); !ok) return ok.error();
  }
  for (size_t i = 0; i < d->nodes_.size(); ++i) {
    if (auto ok = d->wait_ping(i, std::chrono::seconds(10)); !ok) return ok.error();
  }
  if (options.cluster) {
    std::vector<std::string> create = {d->redis_cli_, "--cluster", "create"};
    for (const auto& n : d->nodes_) create.push_back("127.0.0.1:" + std::to_string(n->port));
    create.insert(create.end(), {"--cluster-replicas", std::to_string(options.replicas_per_primary), "--cluster-yes"});
    std::string out;
    if (run_program(create, out, std::chrono::seconds(60)) != 0) {
      return make_error("redis: cannot create the cluster: " + tail(out));
    }
    if (auto ok = d->wait_healthy(std::chrono::seconds(30)); !ok) return ok.error();
  }
  return d;
}

RedisDeployment::~RedisDeployment() {
  for (auto& n : nodes_) n->process.kill(SIGKILL);
}

Result<bool> RedisDeployment::launch(Node& node) {
  const std::string port = std::to_string(node.port);
  std::vector<std::string> argv = {redis_server_, "--port", port, "--bind", "127.0.0.1", "--protected-mode", "no",
                                   "--dir", options_.dir, "--save", "", "--appendonly", "yes",
                                   "--appendfilename", "appendonly-" + port + ".aof", "--appenddirname",
                                   "aof-" + port, "--appendfsync", options_.appendfsync, "--daemonize", "no"};
  if (options_.cluster) {
    argv.insert(argv.end(), {"--cluster-enabled", "yes", "--cluster-config-file", "nodes-" + port + ".conf",
                             "--cluster-node-timeout", std::to_string(options_.node_timeout_ms),
                             "--cluster-announce-ip", "127.0.0.1", "--cluster-replica-validity-factor", "0"});
    if (node.proxy) {
      argv.insert(argv.end(), {"--cluster-announce-port", std::to_string(node.address), "--cluster-announce-bus-port",
                               std::to_string(node.port + kBusOffset)});
    }
  }
  return node.process.start(argv, options_.dir + "/redis-" + port + ".log");
}

Result<bool> RedisDeployment::wait_ping(size_t i, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    auto pong = cli(i, {"PING"});
    if (pong && pong->find("PONG") != std::string::npos) return true;
    if (!nodes_[i]->process.running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return make_error("redis node 127.0.0.1:" + std::to_string(nodes_[i]->port) +
                    " did not start: " + tail(nodes_[i]->process.log()));
}

Result<std::string> RedisDeployment::cli(size_t node, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {redis_cli_, "-h", "127.0.0.1", "-p", std::to_string(nodes_[node]->port)};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string out;
  if (run_program(argv, out, std::chrono::seconds(10)) != 0) return make_error("redis-cli: " + tail(out));
  return out;
}

std::string RedisDeployment::url() const {
  if (!options_.cluster) return "redis://127.0.0.1:" + std::to_string(nodes_[0]->address);
  std::string url = "redis-cluster://";
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (i) url += ",";
    url += "127.0.0.1:" + std::to_string(nodes_[i]->address);
  }
  return url;
}

Result<size_t> RedisDeployment::primary_of(std::string_view key) {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (!nodes_[i]->process.running()) continue;
    auto slot = cli(i, {"CLUSTER", "KEYSLOT", std::string(key)});
    auto slots = cli(i, {"CLUSTER", "SLOTS"});
    if (!slot || !slots) continue;
    const int wanted = std::stoi(*slot);
    // redis-cli prints CLUSTER SLOTS flat: start, end, ip, port, id, (replica ip, port, id)...
    std::istringstream in(*slots);
    std::vector<std::string> words;
    for (std::string w; in >> w;) words.push_back(w);
    for (size_t k = 0; k + 4 < words.size(); ++k) {
      try {
        const int from = std::stoi(words[k]);
        const int to = std::stoi(words[k + 1]);
        if (words[k + 2] != "127.0.0.1" || from > to || wanted < from || wanted > to) continue;
        const int port = std::stoi(words[k + 3]);
        for (size_t n = 0; n < nodes_.size(); ++n) {
          if (nodes_[n]->address == port || nodes_[n]->port == port) return n;
        }
      } catch (const std::exception&) {
      }
    }
  }
  return make_error("redis: no node owns the slot of " + std::string(key));
}

void RedisDeployment::kill(size_t node) { nodes_[node]->process.kill(SIGKILL); }

Result<bool> RedisDeployment::restart(size_t node) {
  if (auto ok = launch(*nodes_[node]); !ok) return ok;
  return wait_ping(node, std::chrono::seconds(10));
}

Result<bool> RedisDeployment::wait_healthy(std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  std::string why;
  while (std::chrono::steady_clock::now() < deadline) {
    bool ok = true;
    for (size_t i = 0; i < nodes_.size() && ok; ++i) {
      if (!nodes_[i]->process.running()) continue;
      if (options_.cluster) {
        auto info = cli(i, {"CLUSTER", "INFO"});
        if (!info || info->find("cluster_state:ok") == std::string::npos ||
            info->find("cluster_slots_ok:16384") == std::string::npos) {
          ok = false;
          why = "node " + std::to_string(nodes_[i]->port) + ": cluster not ok";
          break;
        }
      }
      auto repl = cli(i, {"INFO", "replication"});
      if (!repl) {
        ok = false;
        why = repl.error().message;
      } else if (repl->find("role:slave") != std::string::npos && repl->find("master_link_status:up") == std::string::npos) {
        ok = false;
        why = "replica " + std::to_string(nodes_[i]->port) + " not in sync";
      }
    }
    if (ok) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return make_error("redis: not healthy in time: " + why);
}

void RedisDeployment::set_delay_ms(int64_t ms) {
  for (auto& n : nodes_) {
    if (n->proxy) n->proxy->set_delay_ms(ms);
  }
}

void RedisDeployment::set_down(bool down) {
  for (auto& n : nodes_) {
    if (n->proxy) n->proxy->set_down(down);
  }
}

}  // namespace liveorigin::sim
