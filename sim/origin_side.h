// The origin side of a real-time run, as the scenario's `origin:` section asks for it:
// an origin in this process, `liveorigin serve` child instances, or an external URL;
// the store they use and what it needs (a SQLite file, redis-server processes); and the
// faults the scenario schedules on them (store slow or down, an instance killed and
// started again). The run talks to the instances through InstanceLinks.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "origin/core/result.h"
#include "sim/scenario.h"

namespace liveorigin::sim {

class OriginSide {
 public:
  struct Options {
    std::string liveorigin_binary;  // for child instances
    std::string work_dir;           // files of the run (store, logs, configs); must exist
  };

  OriginSide();
  ~OriginSide();
  OriginSide(const OriginSide&) = delete;
  OriginSide& operator=(const OriginSide&) = delete;

  // Starts everything and waits until each instance listens. Errors name the part:
  // "origin: ...", "store: ...", "redis: ...".
  Result<bool> start(const Scenario& scenario, const Options& options);

  // The base URL of each instance ("http://127.0.0.1:port"), 1..N in order.
  const std::vector<std::string>& urls() const { return urls_; }
  std::string store_url() const;

  // A scenario fault (origin.faults) beginning or ending, at its time in the run (the
  // runner schedules it), as ModelledOrigin::apply does in virtual time.
  void apply(const OriginSpec::Fault& fault, bool begin);

  void stop();

 private:
  void store_slow(int64_t delay_ms);
  void store_down(bool down);
  void kill(int instance);     // kill -9, from 1
  void restart(int instance);  // on its port again; returns at once, it starts by itself
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::vector<std::string> urls_;
};

}  // namespace liveorigin::sim
