#include "sim/scheduler.h"

#include <algorithm>

namespace liveorigin::sim {

namespace {

constexpr int64_t kFineMask = ManualScheduler::kBlockMs - 1;

void set_bit(std::vector<uint64_t>& bits, size_t i) { bits[i / 64] |= uint64_t{1} << (i % 64); }
void clear_bit(std::vector<uint64_t>& bits, size_t i) { bits[i / 64] &= ~(uint64_t{1} << (i % 64)); }

}  // namespace

ManualScheduler::ManualScheduler(int64_t start_ms)
    : clock_(start_ms),
      block_(block_of(start_ms)),
      fine_(kBlockMs),
      fine_occupied_(kBlockMs / 64, 0),
      coarse_(kBlocks),
      coarse_occupied_(kBlocks / 64, 0) {}

ManualScheduler::~ManualScheduler() = default;

TimerId ManualScheduler::run_at(int64_t at_ms, Task fn) {
  const int64_t due = at_ms < now_ms() ? now_ms() : at_ms;
  const uint64_t seq = next_seq_++;
  if ((seq >> kChunkBits) >= done_.size()) done_.push_back(std::make_unique<DoneChunk>());
  ++live_;
  place(Entry{std::move(fn), due, seq});
  return seq;
}

void ManualScheduler::cancel(TimerId id) {
  if (id == 0 || id >= next_seq_ || done(id)) return;
  // The callback stays where it is (a bucket, the heap) and is dropped when reached.
  mark_done(id);
}

bool ManualScheduler::done(uint64_t seq) const {
  const DoneChunk* c = done_[seq >> kChunkBits].get();
  if (c == nullptr) return true;
  const size_t bit = seq & ((uint64_t{1} << kChunkBits) - 1);
  return (c->bits[bit / 64] >> (bit % 64) & 1) != 0;
}

void ManualScheduler::mark_done(uint64_t seq) {
  std::unique_ptr<DoneChunk>& c = done_[seq >> kChunkBits];
  const size_t bit = seq & ((uint64_t{1} << kChunkBits) - 1);
  c->bits[bit / 64] |= uint64_t{1} << (bit % 64);
  // Chunk 0 never fills (seq 0 is no timer): it is 8 KiB, once.
  if (++c->done == (uint32_t{1} << kChunkBits)) c.reset();
  --live_;
}

void ManualScheduler::place(Entry&& e) {
  const int64_t b = block_of(e.due);
  if (b == block_) {
    fine_push(std::move(e));
  } else if (b - block_ < kBlocks) {
    coarse_push(b, std::move(e));
  } else {
    far_push(std::move(e));
  }
}

void ManualScheduler::fine_push(Entry&& e) {
  const size_t i = static_cast<size_t>(e.due & kFineMask);
  fine_[i].push_back(std::move(e));
  set_bit(fine_occupied_, i);
}

void ManualScheduler::enter_block(int64_t block) {
  block_ = block;
  while (!far_.empty() && block_of(far_.front().due) - block_ < kBlocks) {
    Entry e = std::move(far_.front());
    far_pop();
    if (!done(e.seq)) coarse_push(block_of(e.due), std::move(e));
  }
  const size_t i = static_cast<size_t>(block % kBlocks);
  std::vector<Entry>& bucket = coarse_[i];
  for (Entry& e : bucket) {
    if (!done(e.seq)) fine_push(std::move(e));
  }
  bucket.clear();
  clear_bit(coarse_occupied_, i);
  if (bucket.capacity() > 0) spare_.push_back(std::move(bucket));
}

void ManualScheduler::coarse_push(int64_t block, Entry&& e) {
  const size_t i = static_cast<size_t>(block % kBlocks);
  std::vector<Entry>& bucket = coarse_[i];
  if (bucket.capacity() == 0 && !spare_.empty()) {
    bucket = std::move(spare_.back());
    spare_.pop_back();
  }
  bucket.push_back(std::move(e));
  set_bit(coarse_occupied_, i);
}

int64_t ManualScheduler::next_fine(int64_t to) const {
  const int64_t block_start = block_ << kBlockBits;
  const int64_t block_end = block_start + kBlockMs - 1;
  if (to > block_end) to = block_end;
  for (int64_t t = now_ms(); t <= to;) {
    const size_t b = static_cast<size_t>(t & kFineMask);
    const uint64_t word = fine_occupied_[b / 64] >> (b % 64);  // the rest of this word, from b
    if (word != 0) {
      const int64_t found = t + __builtin_ctzll(word);
      return found <= to ? found : -1;
    }
    t += 64 - static_cast<int64_t>(b % 64);
  }
  return -1;
}

int64_t ManualScheduler::next_block() const {
  int64_t found = -1;
  // Coarse buckets after the current one, in window order: words from (block_+1) % kBlocks, wrapping.
  for (int64_t d = 1; d < kBlocks;) {
    const size_t i = static_cast<size_t>((block_ + d) % kBlocks);
    const uint64_t word = coarse_occupied_[i / 64] >> (i % 64);
    if (word != 0) {
      const int64_t at = d + __builtin_ctzll(word);
      if (at < kBlocks) found = block_ + at;
      break;
    }
    d += 64 - static_cast<int64_t>(i % 64);
  }
  if (found < 0 && !far_.empty()) found = block_of(far_.front().due);
  return found;
}

void ManualScheduler::run_until(int64_t until_ms) {
  while (true) {
    const int64_t t = next_fine(until_ms);
    if (t >= 0) {
      clock_.set_ms(t);
      const size_t i = static_cast<size_t>(t & kFineMask);
      std::vector<Entry>& bucket = fine_[i];
      // Callbacks may append to this very bucket (a timer for now): the loop reaches
      // them too, since it re-reads the size after every call, and moves each
      // callback out before calling it, since an append may move the bucket's storage.
      for (size_t k = 0; k < bucket.size(); ++k) {
        Entry& e = bucket[k];
        if (done(e.seq)) continue;
        Task fn = std::move(e.fn);
        mark_done(e.seq);
        ++events_run_;
        fn();
      }
      bucket.clear();
      clear_bit(fine_occupied_, i);
      continue;
    }
    // Nothing more in the current block up to until_ms.
    const int64_t until_block = block_of(until_ms);
    if (until_block <= block_) break;
    int64_t next = next_block();
    if (next < 0 || next > until_block) next = until_block;
    const int64_t next_start = next << kBlockBits;
    if (next_start > now_ms()) clock_.set_ms(next_start);
    enter_block(next);
  }
  if (until_ms > now_ms()) clock_.set_ms(until_ms);
}

void ManualScheduler::far_push(Entry&& e) {
  size_t i = far_.size();
  far_.push_back(std::move(e));
  Entry moving = std::move(far_.back());
  while (i > 0) {
    const size_t parent = (i - 1) / 4;
    if (!before(moving, far_[parent])) break;
    far_[i] = std::move(far_[parent]);
    i = parent;
  }
  far_[i] = std::move(moving);
}

void ManualScheduler::far_pop() {
  Entry last = std::move(far_.back());
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
