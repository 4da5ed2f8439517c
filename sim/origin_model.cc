#include "sim/origin_model.h"

#include <algorithm>
#include <cmath>

#include "sim/actors.h"

namespace liveorigin::sim {

namespace {

int64_t at_ms(double t) { return static_cast<int64_t>(std::ceil(t)); }

// The bytes a response puts on the wire: a compact body (virtual time) stands for its
// segment's size.
int64_t wire_bytes(const LinkResponse& r) {
  if (!r.body) return 0;
  const auto size = static_cast<int64_t>(r.body->size());
  if (size <= 4096) {
    if (auto tag = parse_segment_tag(*r.body); tag && tag->size >= 0) return tag->size;
  }
  return size;
}

bool changes_state(const LinkRequest& r) { return r.method != "GET" && r.method != "HEAD"; }

}  // namespace

// ---------------------------------------------------------------------------------------

StoreModel::StoreModel(const OriginModel::Store& params, uint64_t seed) : params_(params), rng_(seed, "store-model") {}

int64_t StoreModel::done_at(int64_t now_ms, const Distribution& latency) {
  // One queue in front of the store's throughput: an operation takes 1/ops_per_s of it.
  free_at_ms_ = std::max(free_at_ms_, static_cast<double>(now_ms)) + 1000.0 / params_.ops_per_s;
  return at_ms(free_at_ms_ + std::max(0.0, rng_.sample(latency)) + static_cast<double>(slow_ms_));
}

int64_t StoreModel::read_done_at(int64_t now_ms) {
  ++reads;
  return done_at(now_ms, params_.read_ms);
}

int64_t StoreModel::write_done_at(int64_t now_ms) {
  ++writes;
  return done_at(now_ms, params_.write_ms);
}

// ---------------------------------------------------------------------------------------

// An instance's view of the shared store: its own copy of the bytes (shared pointers,
// never copied) with the store model's timing and faults in front.
class ModelledInstance::BytesStore final : public Store {
 public:
  BytesStore(Scheduler& scheduler, StoreModel& model, Rng& rng) : scheduler_(scheduler), model_(model), rng_(rng) {}

  void put(std::string key, SharedBytes bytes, int64_t expires_at_ms, std::function<void(bool ok)> done) override {
    // The key ends in the instance's own ledger sequence, which replays need not share.
    const std::string_view candidate = std::string_view(key).substr(0, key.rfind('/'));
    if (!model_.first_write(std::string(candidate))) {  // a journal replay of another instance's write
      bytes_.put(std::move(key), std::move(bytes), expires_at_ms, std::move(done));
      return;
    }
    if (model_.down()) return fail(std::move(done));
    const int64_t at = model_.write_done_at(scheduler_.now_ms());
    scheduler_.run_at(at, [this, key = std::move(key), bytes = std::move(bytes), expires_at_ms,
                           done = std::move(done)]() mutable {
      bytes_.put(std::move(key), std::move(bytes), expires_at_ms, std::move(done));
    });
  }

  void get(std::string key, std::function<void(SharedBytes)> done) override {
    if (model_.down()) {
      ++model_.failed;
      scheduler_.run_at(scheduler_.now_ms() + 1, [done = std::move(done)] { done(nullptr); });
      return;
    }
    const int64_t at = model_.read_done_at(scheduler_.now_ms());
    scheduler_.run_at(at, [this, key = std::move(key), done = std::move(done)] { done(*bytes_.try_get(key)); });
  }

  std::optional<SharedBytes> try_get(std::string_view key) override {
    if (!model_.hot(rng_)) return std::nullopt;
    ++model_.hot_reads;
    return bytes_.try_get(key);
  }

  void erase(std::string_view key) override { bytes_.erase(key); }
  std::string_view name() const override { return "model"; }

 private:
  void fail(std::function<void(bool)> done) {
    ++model_.failed;
    scheduler_.run_at(scheduler_.now_ms() + 1, [done = std::move(done)] { done(false); });
  }

  Scheduler& scheduler_;
  StoreModel& model_;
  Rng& rng_;
  MemoryStore bytes_;
};

ModelledInstance::ModelledInstance(Scheduler& scheduler, ModelledOrigin& cluster, const OriginConfig& config, int index)
    : scheduler_(scheduler),
      cluster_(cluster),
      index_(index),
      rng_(cluster.seed(), "instance-" + std::to_string(index)),
      store_(std::make_unique<BytesStore>(scheduler, cluster.store(), rng_)),
      origin_(scheduler.clock(), config),
      core_(scheduler, origin_, *store_),
      worker_free_at_ms_(static_cast<size_t>(cluster.model().instance.workers), 0.0),
      ingest_free_at_ms_(static_cast<size_t>(cluster.model().instance.ingest_workers), 0.0) {}

ModelledInstance::~ModelledInstance() { core_.stop_ticks(); }

void ModelledInstance::send(LinkRequest request, std::function<void(LinkResponse)> done) {
  const int64_t now = scheduler_.now_ms();
  if (down_) {
    scheduler_.run_at(now, [done = std::move(done)] {
      LinkResponse r;
      r.error = "connection refused (instance down)";
      done(std::move(r));
    });
    return;
  }
  const uint64_t id = next_id_++;
  pending_.emplace(id, std::move(done));
  // The first free worker takes it for its service time; then the core decides.
  auto& workers = changes_state(request) && !ingest_free_at_ms_.empty() ? ingest_free_at_ms_ : worker_free_at_ms_;
  auto worker = std::min_element(workers.begin(), workers.end());
  const double start = std::max(*worker, static_cast<double>(now));
  *worker = start + std::max(0.0, rng_.sample(cluster_.model().instance.service_ms));
  auto kept = changes_state(request) ? std::make_shared<const LinkRequest>(request) : nullptr;
  const uint64_t gen = generation_;
  scheduler_.run_at(at_ms(*worker), [this, id, gen, kept, request = std::move(request)]() mutable {
    if (gen != generation_) return;
    core_.send(std::move(request), [this, id, gen, kept](LinkResponse r) { answered(id, gen, kept, std::move(r)); });
  });
}

void ModelledInstance::answered(uint64_t id, uint64_t generation, std::shared_ptr<const LinkRequest> kept,
                                LinkResponse response) {
  if (generation != generation_) return;
  if (kept && response.status >= 200 && response.status < 300) cluster_.replicate(index_, *kept);
  const double bits = static_cast<double>(wire_bytes(response)) * 8;
  egress_advance(static_cast<double>(scheduler_.now_ms()));
  leaving_.push_back(Leaving{egress_served_bits_ + bits, leaving_order_++, id, std::move(response)});
  std::push_heap(leaving_.begin(), leaving_.end(), LeavesLater{});
  egress_schedule();
}

void ModelledInstance::egress_advance(double now_ms) {
  if (!leaving_.empty() && now_ms > egress_updated_ms_) {
    const double bits_per_ms = cluster_.model().instance.egress_gbps * 1e6;
    egress_served_bits_ += (now_ms - egress_updated_ms_) * bits_per_ms / static_cast<double>(leaving_.size());
  }
  egress_updated_ms_ = now_ms;
}

void ModelledInstance::egress_schedule() {
  scheduler_.cancel(egress_timer_);
  egress_timer_ = 0;
  if (leaving_.empty()) return;
  const double bits_per_ms = cluster_.model().instance.egress_gbps * 1e6;
  const double left = std::max(0.0, leaving_.front().finish_bits - egress_served_bits_);
  const double due = egress_updated_ms_ + left * static_cast<double>(leaving_.size()) / bits_per_ms;
  egress_timer_ = scheduler_.run_at(at_ms(due), [this] { egress_due(); });
}

void ModelledInstance::egress_due() {
  egress_timer_ = 0;
  egress_advance(static_cast<double>(scheduler_.now_ms()));
  // Timers are whole milliseconds: what finished within this one leaves now, and at
  // least the one the timer was set for (rounding must not leave it for later).
  if (!leaving_.empty()) egress_served_bits_ = std::max(egress_served_bits_, leaving_.front().finish_bits);
  std::vector<Leaving> done;
  while (!leaving_.empty() && leaving_.front().finish_bits <= egress_served_bits_) {
    std::pop_heap(leaving_.begin(), leaving_.end(), LeavesLater{});
    done.push_back(std::move(leaving_.back()));
    leaving_.pop_back();
  }
  egress_schedule();
  for (Leaving& l : done) {
    auto it = pending_.find(l.id);
    if (it == pending_.end()) continue;
    auto deliver = std::move(it->second);
    pending_.erase(it);
    deliver(std::move(l.response));
  }
}

void ModelledInstance::replay(const LinkRequest& request) {
  LinkRequest r = request;
  r.body_delay_ms = 0;  // the journal carries the whole body
  core_.send(std::move(r), [](LinkResponse) {});
}

void ModelledInstance::kill() {
  down_ = true;
  ++generation_;
  auto pending = std::move(pending_);
  pending_.clear();
  std::fill(worker_free_at_ms_.begin(), worker_free_at_ms_.end(), 0.0);
  std::fill(ingest_free_at_ms_.begin(), ingest_free_at_ms_.end(), 0.0);
  leaving_.clear();
  egress_served_bits_ = 0;
  scheduler_.cancel(egress_timer_);
  egress_timer_ = 0;
  for (auto& [id, done] : pending) {
    scheduler_.run_at(scheduler_.now_ms(), [done = std::move(done)] {
      LinkResponse r;
      r.error = "connection reset (instance killed)";
      done(std::move(r));
    });
  }
}

// ---------------------------------------------------------------------------------------

ModelledOrigin::ModelledOrigin(Scheduler& scheduler, const OriginSpec& spec, const OriginConfig& config, uint64_t seed)
    : scheduler_(scheduler), seed_(seed), model_(spec.model), store_(spec.model.store, seed), rng_(seed, "journal") {
  for (int i = 0; i < spec.instances; ++i) {
    instances_.push_back(std::make_unique<ModelledInstance>(scheduler, *this, config, i + 1));
  }
}

std::vector<OriginLink*> ModelledOrigin::instances() {
  std::vector<OriginLink*> out;
  for (auto& i : instances_) out.push_back(i.get());
  return out;
}

void ModelledOrigin::replicate(int from, const LinkRequest& request) {
  if (instances_.size() < 2) return;
  const int64_t at = scheduler_.now_ms() + at_ms(std::max(0.0, rng_.sample(model_.store.journal_ms)));
  auto shared = std::make_shared<const LinkRequest>(request);
  scheduler_.run_at(at, [this, from, shared] {
    for (size_t i = 0; i < instances_.size(); ++i) {
      if (static_cast<int>(i) + 1 != from) instances_[i]->replay(*shared);
    }
  });
}

void ModelledOrigin::apply(const OriginSpec::Fault& f, bool begin) {
  switch (f.kind) {
    case OriginSpec::Fault::Kind::store_slow: store_.set_slow(begin ? f.delay_ms : 0); break;
    case OriginSpec::Fault::Kind::store_down: store_.set_down(begin); break;
    case OriginSpec::Fault::Kind::origin_kill: {
      ModelledInstance& i = *instances_.at(static_cast<size_t>(f.instance - 1));
      if (begin) {
        i.kill();
      } else {
        i.restart();
      }
      break;
    }
  }
}

void ModelledOrigin::start_ticks() {
  for (auto& i : instances_) i->start_ticks();
}

void ModelledOrigin::stop_ticks() {
  for (auto& i : instances_) i->stop_ticks();
}

void ModelledOrigin::record(Recorder& recorder) const {
  recorder.origin_metric({"liveorigin_model_instances", static_cast<double>(instances_.size())});
  recorder.origin_metric({"liveorigin_model_store_reads_total", static_cast<double>(store_.reads)});
  recorder.origin_metric({"liveorigin_model_store_writes_total", static_cast<double>(store_.writes)});
  recorder.origin_metric({"liveorigin_model_store_hot_reads_total", static_cast<double>(store_.hot_reads)});
  recorder.origin_metric({"liveorigin_model_store_failed_total", static_cast<double>(store_.failed)});
}

}  // namespace liveorigin::sim
