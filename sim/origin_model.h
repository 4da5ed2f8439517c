// The origin side of virtual time as it is deployed: N instances behind the balancer,
// each the real origin core, with what the core cannot give in virtual time — time —
// from a performance model (scenario `origin.model`, docs/simulation.md):
//   - an instance serves `workers` requests at once for a service time each, then
//     sends the body at `egress_gbps`: past what it can do, requests queue and latency
//     grows, as on a real host (held requests wait in the core and take no worker);
//   - the store is shared: every read an instance's hot cache does not answer, and
//     every write, is one of the store's `ops_per_s`, done after its latency; faults
//     slow it or stop it;
//   - what one instance accepts (a PUT, an admin action, once its store writes are
//     done) reaches the others after `journal_ms`, as the journal's publication
//     carries it (docs/storage.md).
// An instance killed answers nothing (its in-flight requests get no answer, new ones
// are refused) until it is started again; its core keeps its state, as a restart that
// replays the journal would have it.
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "origin/core/origin.h"
#include "origin/store/memory_store.h"
#include "sim/core_link.h"
#include "sim/results.h"
#include "sim/rng.h"
#include "sim/scenario.h"

namespace liveorigin::sim {

class ModelledOrigin;

// The store all instances share: its queue, latencies and faults.
class StoreModel {
 public:
  StoreModel(const OriginModel::Store& params, uint64_t seed);

  // When an operation started at `now_ms` completes (the queue, then its latency).
  int64_t read_done_at(int64_t now_ms);
  int64_t write_done_at(int64_t now_ms);
  // A read an instance's hot cache answers.
  bool hot(Rng& rng) const { return rng.chance(params_.hot_cache_hit_ratio); }
  // False when another instance wrote `key` already: this write is its journal replay.
  bool first_write(const std::string& key) { return written_.insert(key).second; }

  void set_slow(int64_t delay_ms) { slow_ms_ = delay_ms; }
  void set_down(bool down) { down_ = down; }
  bool down() const { return down_; }

  int64_t reads = 0;      // reads that reached the store
  int64_t writes = 0;
  int64_t hot_reads = 0;  // answered by an instance's hot cache
  int64_t failed = 0;     // refused while the store was down

 private:
  int64_t done_at(int64_t now_ms, const Distribution& latency);

  OriginModel::Store params_;
  Rng rng_;
  double free_at_ms_ = 0;  // the store's queue: when it can start the next operation
  int64_t slow_ms_ = 0;
  bool down_ = false;
  std::unordered_set<std::string> written_;
};

// One instance: the real core, its bytes, and its host's workers and network.
class ModelledInstance final : public OriginLink {
 public:
  ModelledInstance(Scheduler& scheduler, ModelledOrigin& cluster, const OriginConfig& config, int index);
  ~ModelledInstance() override;

  void send(LinkRequest request, std::function<void(LinkResponse)> done) override;
  size_t in_flight() const override { return pending_.size(); }

  // What another instance accepted, as its journal entry arrives here.
  void replay(const LinkRequest& request);
  void kill();
  void restart() { down_ = false; }

  void start_ticks() { core_.start_ticks(); }
  void stop_ticks() { core_.stop_ticks(); }

 private:
  class BytesStore;
  void answered(uint64_t id, uint64_t generation, std::shared_ptr<const LinkRequest> kept, LinkResponse response);

  // The host's egress shares its rate among the responses leaving at once, as TCP
  // shares a NIC among connections (processor sharing): with n sending, each gets 1/n.
  // Each response's finish is a point on the service every sending response has had
  // since the start (egress_served_bits_); the next to finish is the smallest, due
  // when the served bits reach it at the current share.
  struct Leaving {
    double finish_bits;
    uint64_t order;
    uint64_t id;
    LinkResponse response;
  };
  struct LeavesLater {
    bool operator()(const Leaving& a, const Leaving& b) const {
      return a.finish_bits != b.finish_bits ? a.finish_bits > b.finish_bits : a.order > b.order;
    }
  };
  void egress_advance(double now_ms);
  void egress_schedule();
  void egress_due();

  Scheduler& scheduler_;
  ModelledOrigin& cluster_;
  int index_;
  Rng rng_;
  std::unique_ptr<BytesStore> store_;
  Origin origin_;
  CoreLink core_;
  std::vector<double> worker_free_at_ms_;
  std::vector<double> ingest_free_at_ms_;  // empty: state changes use worker_free_at_ms_
  std::vector<Leaving> leaving_;  // a heap by LeavesLater: the next to finish on top
  double egress_served_bits_ = 0;
  double egress_updated_ms_ = 0;
  uint64_t leaving_order_ = 0;
  TimerId egress_timer_ = 0;
  std::unordered_map<uint64_t, std::function<void(LinkResponse)>> pending_;
  uint64_t next_id_ = 1;
  uint64_t generation_ = 0;  // bumped by kill(): answers from before it are dropped
  bool down_ = false;
};

class ModelledOrigin {
 public:
  // `config` must be the origin config every instance runs.
  ModelledOrigin(Scheduler& scheduler, const OriginSpec& spec, const OriginConfig& config, uint64_t seed);

  std::vector<OriginLink*> instances();
  StoreModel& store() { return store_; }
  const OriginModel& model() const { return model_; }
  uint64_t seed() const { return seed_; }

  // Sends what instance `from` accepted to every other instance, through the journal.
  void replicate(int from, const LinkRequest& request);
  // A scenario fault (origin.faults) beginning or ending.
  void apply(const OriginSpec::Fault& fault, bool begin);

  void start_ticks();
  void stop_ticks();
  // What the model counted, as origin_metrics rows (liveorigin_model_*).
  void record(Recorder& recorder) const;

 private:
  Scheduler& scheduler_;
  uint64_t seed_;
  OriginModel model_;
  StoreModel store_;
  Rng rng_;
  std::vector<std::unique_ptr<ModelledInstance>> instances_;
};

}  // namespace liveorigin::sim
