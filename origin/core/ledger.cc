#include "origin/core/ledger.h"

namespace liveorigin {

Ledger::Ledger(std::shared_ptr<const Registry> initial) : registry_(std::move(initial)) {}

const Registry& Ledger::view(RegistryView& view) const {
  const uint64_t gen = gen_.load(std::memory_order_acquire);
  if (gen != view.gen) {
    MutexLock lock(snapshot_mu_);
    view.registry = registry_;
    view.gen = gen;
  }
  return *view.registry;
}

Ledger::Writer::Writer(Ledger& ledger) : ledger_(ledger) { ledger_.mu_.lock(); }

Ledger::Writer::~Writer() { ledger_.mu_.unlock(); }

// Only writers replace the pointer, and this one holds the writer lock: no other
// thread can be writing it.
const Registry& Ledger::Writer::registry() const NO_THREAD_SAFETY_ANALYSIS { return *ledger_.registry_; }

std::shared_ptr<Registry> Ledger::Writer::copy() const { return std::make_shared<Registry>(registry()); }

void Ledger::Writer::publish(std::shared_ptr<const Registry> next) {
  MutexLock lock(ledger_.snapshot_mu_);
  ledger_.registry_ = std::move(next);
  ledger_.gen_.fetch_add(1, std::memory_order_release);
}

void Ledger::Writer::replace_event(const std::string& id, std::shared_ptr<EventState> next) {
  auto reg = copy();
  reg->events[id] = std::move(next);
  publish(std::move(reg));
}

void Ledger::Writer::add_stored_bytes(int64_t delta) {
  ledger_.stored_bytes_.store(ledger_.stored_bytes_.load(std::memory_order_relaxed) + delta,
                              std::memory_order_relaxed);
}

AgeIndex& Ledger::Writer::by_age() {
  ledger_.mu_.assert_held();
  return ledger_.by_age_;
}

std::string Ledger::Writer::next_key_id() {
  ledger_.mu_.assert_held();
  const std::string n = std::to_string(++ledger_.key_counter_);
  return ledger_.key_tag_.empty() ? n : ledger_.key_tag_ + "-" + n;
}

}  // namespace liveorigin
