#include "sim/scheduler.h"

#include <new>

namespace liveorigin::sim {

namespace {

// A TimerId names a generation cell and the generation it had when the timer was set.
TimerId make_id(uint32_t slot, uint32_t gen) { return static_cast<uint64_t>(gen) << 32 | slot; }

constexpr int64_t kMask = ManualScheduler::kWheelMs - 1;

}  // namespace

ManualScheduler::ManualScheduler(int64_t start_ms)
    : clock_(start_ms), wheel_(kWheelMs), occupied_(kWheelMs / 64, 0) {}

ManualScheduler::~ManualScheduler() {
  for (Bucket& bucket : wheel_) {
    for (Block* b = bucket.head; b != nullptr;) {
      Block* next = b->next;
      release(b, b == bucket.tail ? bucket.tail_count : kBlockEntries);
      b = next;
    }
  }
  while (free_blocks_ != nullptr) {
    Block* next = free_blocks_->next;
    delete free_blocks_;
    free_blocks_ = next;
  }
}

TimerId ManualScheduler::run_at(int64_t at_ms, std::function<void()> fn) {
  const int64_t due = at_ms < now_ms() ? now_ms() : at_ms;
  uint32_t slot;
  if (!free_cells_.empty()) {
    slot = free_cells_.back();
    free_cells_.pop_back();
  } else {
    slot = static_cast<uint32_t>(gens_.size());
    gens_.push_back(0);
  }
  const uint32_t gen = ++gens_[slot];  // odd: pending
  ++live_;
  if (due - now_ms() < kWheelMs) {
    append(due, Entry{std::move(fn), slot, gen});
  } else {
    far_push(Far{due, next_seq_++, Entry{std::move(fn), slot, gen}});
  }
  return make_id(slot, gen);
}

void ManualScheduler::cancel(TimerId id) {
  const uint32_t slot = static_cast<uint32_t>(id & 0xffffffffu);
  const uint32_t gen = static_cast<uint32_t>(id >> 32);
  if (slot >= gens_.size() || gens_[slot] != gen || (gen & 1) == 0) return;
  // The callback stays where it is (a bucket, the heap) and is dropped when reached.
  retire(slot);
}

void ManualScheduler::retire(uint32_t slot) {
  ++gens_[slot];
  free_cells_.push_back(slot);
  --live_;
}

ManualScheduler::Block* ManualScheduler::new_block() {
  Block* b = free_blocks_;
  if (b != nullptr) {
    free_blocks_ = b->next;
  } else {
    b = new Block;
  }
  b->next = nullptr;
  return b;
}

void ManualScheduler::release(Block* b, uint32_t count) {
  for (uint32_t i = 0; i < count; ++i) b->at(i)->~Entry();
  b->next = free_blocks_;
  free_blocks_ = b;
}

void ManualScheduler::append(int64_t due, Entry&& e) {
  const size_t i = static_cast<size_t>(due & kMask);
  Bucket& bucket = wheel_[i];
  if (bucket.tail == nullptr) {
    bucket.head = bucket.tail = new_block();
    bucket.tail_count = 0;
    occupied_[i / 64] |= uint64_t{1} << (i % 64);
  } else if (bucket.tail_count == kBlockEntries) {
    bucket.tail->next = new_block();
    bucket.tail = bucket.tail->next;
    bucket.tail_count = 0;
  }
  new (bucket.tail->at(bucket.tail_count)) Entry(std::move(e));
  ++bucket.tail_count;
}

void ManualScheduler::pull_far() {
  while (!far_.empty() && far_.front().due - now_ms() < kWheelMs) {
    const int64_t due = far_.front().due;
    Entry e = std::move(far_.front().entry);
    far_pop();
    if (live(e)) append(due, std::move(e));
  }
}

int64_t ManualScheduler::next_due(int64_t to) const {
  const int64_t now = now_ms();
  if (to - now >= kWheelMs) to = now + kWheelMs - 1;
  int64_t t = now;
  while (t <= to) {
    const size_t b = static_cast<size_t>(t & kMask);
    // The rest of this 64-bucket word, from b.
    const uint64_t word = occupied_[b / 64] >> (b % 64);
    if (word != 0) {
      const int64_t found = t + __builtin_ctzll(word);
      return found <= to ? found : -1;
    }
    t += 64 - static_cast<int64_t>(b % 64);
  }
  return -1;
}

void ManualScheduler::run_until(int64_t until_ms) {
  while (true) {
    const int64_t t = next_due(until_ms);
    if (t < 0) {
      // Nothing in the wheel up to until_ms: the next far timer, if it is due by then.
      if (!far_.empty() && far_.front().due <= until_ms) {
        const int64_t window_start = far_.front().due - kWheelMs + 1;
        clock_.set_ms(window_start > now_ms() ? window_start : now_ms());
        pull_far();
        continue;
      }
      break;
    }
    if (t > now_ms()) {
      clock_.set_ms(t);
      pull_far();
    }
    const size_t i = static_cast<size_t>(t & kMask);
    Bucket& bucket = wheel_[i];
    // Callbacks may append to this very bucket (a timer for now): the loop reaches
    // them too, since it re-reads the tail and its fill after every call.
    Block* b = bucket.head;
    for (uint32_t k = 0;; ++k) {
      if (k == (b == bucket.tail ? bucket.tail_count : kBlockEntries)) {
        if (b == bucket.tail) break;
        Block* next = b->next;
        release(b, kBlockEntries);
        bucket.head = b = next;
        k = 0;
        if (bucket.tail == b && bucket.tail_count == 0) break;
      }
      Entry& e = *b->at(k);
      if (!live(e)) continue;
      std::function<void()> fn = std::move(e.fn);
      retire(e.slot);
      ++events_run_;
      fn();
    }
    release(b, bucket.tail_count);
    bucket.head = bucket.tail = nullptr;
    occupied_[i / 64] &= ~(uint64_t{1} << (i % 64));
  }
  if (until_ms > now_ms()) {
    clock_.set_ms(until_ms);
    pull_far();
  }
}

void ManualScheduler::far_push(Far&& f) {
  size_t i = far_.size();
  far_.push_back(std::move(f));
  Far moving = std::move(far_.back());
  while (i > 0) {
    const size_t parent = (i - 1) / 4;
    if (!before(moving, far_[parent])) break;
    far_[i] = std::move(far_[parent]);
    i = parent;
  }
  far_[i] = std::move(moving);
}

void ManualScheduler::far_pop() {
  Far last = std::move(far_.back());
  far_.pop_back();
  const size_t n = far_.size();
  if (n == 0) return;
  size_t i = 0;
  while (true) {
    const size_t first = 4 * i + 1;
    if (first >= n) break;
    size_t best = first;
    const size_t end = first + 4 < n ? first + 4 : n;
    for (size_t c = first + 1; c < end; ++c) {
      if (before(far_[c], far_[best])) best = c;
    }
    if (!before(far_[best], last)) break;
    far_[i] = std::move(far_[best]);
    i = best;
  }
  far_[i] = std::move(last);
}

}  // namespace liveorigin::sim
