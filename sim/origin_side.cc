#include "sim/origin_side.h"

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "origin/core/clock.h"
#include "origin/core/origin.h"
#include "origin/driver/journal_runner.h"
#include "origin/http/server.h"
#include "origin/store/fault_store.h"
#include "origin/store/store.h"
#include "sim/child_process.h"
#include "sim/redis_deployment.h"

namespace liveorigin::sim {

namespace fs = std::filesystem;

struct OriginSide::Impl {
  struct Child {
    ChildProcess process;
    std::vector<std::string> argv;
    std::string log;
  };

  std::string store_url = "memory";
  std::unique_ptr<RedisDeployment> redis;
  // In this process:
  SystemClock clock;
  std::unique_ptr<Store> store;
  std::unique_ptr<FaultStore> faults;  // between the origin and its store
  std::unique_ptr<Origin> origin;
  std::unique_ptr<JournalRunner> journal;
  std::unique_ptr<Server> server;
  // Or as child processes:
  std::vector<std::unique_ptr<Child>> children;

  Result<bool> start_store(const Scenario& s, const Options& o) {
    switch (s.origin.store) {
      case OriginSpec::Store::memory:
        store_url = "memory";
        return true;
      case OriginSpec::Store::sqlite:
        store_url = "sqlite:" + o.work_dir + "/store.db";
        return true;
      case OriginSpec::Store::redis:
      case OriginSpec::Store::redis_cluster: {
        RedisDeployment::Options r;
        r.dir = o.work_dir + "/redis";
        fs::create_directories(r.dir);
        r.cluster = s.origin.store == OriginSpec::Store::redis_cluster;
        // Child instances reach Redis through fault proxies: the store's faults.
        r.proxied = s.origin.mode == OriginSpec::Mode::child;
        auto started = RedisDeployment::start(r);
        if (!started) return make_error("store: " + started.error().message);
        redis = std::move(*started);
        store_url = redis->url();
        return true;
      }
    }
    return true;
  }

  Result<std::string> start_in_process(const Scenario& s) {
    auto config = s.effective_origin_config();
    if (!config) return config.error();
    config->store.url = store_url;
    auto opened = open_store(config->store);
    if (!opened) return make_error("store: " + opened.error().message);
    store = std::move(*opened);
    faults = std::make_unique<FaultStore>(*store);
    origin = std::make_unique<Origin>(clock, *config);
    origin->set_store_status(store->status());
    if (store->journal()) {
      JournalRunner::Options jo;
      jo.timeout_ms = config->store.timeout_ms;
      journal = std::make_unique<JournalRunner>(*origin, *faults, jo);
      if (auto r = journal->recover(); !r) return make_error("store: " + r.error().message);
      journal->start();
    }
    ServerOptions so = ServerOptions::from(*config);
    so.listen = "127.0.0.1:0";
    so.ingest_listen.clear();
    so.threads = s.origin.threads;
    server = std::make_unique<Server>(*origin, *faults, so, journal.get());
    auto port = server->bind();
    if (!port) return make_error("origin: " + port.error().message);
    server->start();
    return "http://127.0.0.1:" + std::to_string(*port);
  }

  Result<std::vector<std::string>> start_children(const Scenario& s, const Options& o) {
    std::string config_path = s.origin.config_path;
    if (config_path.empty()) {
      OriginConfig c = s.origin_config();
      c.store.url = store_url;
      config_path = o.work_dir + "/origin.yaml";
      std::ofstream(config_path) << to_yaml(c);
    }
    std::vector<std::string> urls;
    for (int i = 0; i < s.origin.instances; ++i) {
      auto child = std::make_unique<Child>();
      const uint16_t port = free_port();
      child->argv = {o.liveorigin_binary, "serve",   "--config", config_path, "--listen", "127.0.0.1:" + std::to_string(port),
                     "--threads",          std::to_string(s.origin.threads)};
      child->log = o.work_dir + "/instance-" + std::to_string(i + 1) + ".log";
      if (auto started = child->process.start(child->argv, child->log); !started) {
        return make_error("origin: " + started.error().message);
      }
      children.push_back(std::move(child));
      urls.push_back("http://127.0.0.1:" + std::to_string(port));
    }
    // Each says when it listens (after loading its store's state).
    for (size_t i = 0; i < children.size(); ++i) {
      bool up = false;
      for (int k = 0; k < 1000 && !up; ++k) {
        up = children[i]->process.log().find("listening on") != std::string::npos;
        if (!up && !children[i]->process.running()) break;
        if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      if (!up) {
        return make_error("origin: instance " + std::to_string(i + 1) + " did not start: " +
                          children[i]->process.log());
      }
    }
    return urls;
  }
};

OriginSide::OriginSide() : impl_(std::make_unique<Impl>()) {}

OriginSide::~OriginSide() { stop(); }

Result<bool> OriginSide::start(const Scenario& s, const Options& o) {
  if (s.origin.mode == OriginSpec::Mode::external) {
    urls_ = {s.origin.url};
    return true;
  }
  if (auto ok = impl_->start_store(s, o); !ok) return ok;
  if (s.origin.mode == OriginSpec::Mode::in_process) {
    auto url = impl_->start_in_process(s);
    if (!url) return url.error();
    urls_ = {*url};
    return true;
  }
  auto urls = impl_->start_children(s, o);
  if (!urls) return urls.error();
  urls_ = std::move(*urls);
  return true;
}

std::string OriginSide::store_url() const { return impl_->store_url; }

void OriginSide::apply(const OriginSpec::Fault& f, bool begin) {
  switch (f.kind) {
    case OriginSpec::Fault::Kind::store_slow: store_slow(begin ? f.delay_ms : 0); break;
    case OriginSpec::Fault::Kind::store_down: store_down(begin); break;
    case OriginSpec::Fault::Kind::origin_kill:
      if (begin) {
        kill(f.instance);
      } else {
        restart(f.instance);
      }
      break;
  }
}

void OriginSide::store_slow(int64_t delay_ms) {
  if (impl_->faults) {
    impl_->faults->set_get_delay_ms(delay_ms);
    impl_->faults->set_put_delay_ms(delay_ms);
  }
  if (impl_->redis) impl_->redis->set_delay_ms(delay_ms);
}

void OriginSide::store_down(bool down) {
  if (impl_->faults) impl_->faults->set_down(down);
  if (impl_->redis) impl_->redis->set_down(down);
}

void OriginSide::kill(int instance) {
  if (instance >= 1 && instance <= static_cast<int>(impl_->children.size())) {
    impl_->children[instance - 1]->process.kill(SIGKILL);
  }
}

void OriginSide::restart(int instance) {
  if (instance < 1 || instance > static_cast<int>(impl_->children.size())) return;
  auto& child = *impl_->children[instance - 1];
  (void)child.process.start(child.argv, child.log);
}

void OriginSide::stop() {
  if (impl_->server) {
    impl_->server->stop();
    impl_->server->wait();
  }
  if (impl_->journal) impl_->journal->stop();
  impl_->faults.reset();  // delayed store completions run now, while the server's io_contexts exist
  impl_->server.reset();
  impl_->journal.reset();
  impl_->origin.reset();
  impl_->store.reset();
  for (auto& c : impl_->children) {
    c->process.kill(SIGTERM);
    if (c->process.wait_exit(std::chrono::seconds(5)) < 0) c->process.kill(SIGKILL);
  }
  impl_->children.clear();
  impl_->redis.reset();
}

}  // namespace liveorigin::sim
