#include "origin/driver/journal_runner.h"

#include <chrono>
#include <limits>

#include "origin/core/clock.h"

namespace liveorigin {

namespace {

constexpr size_t kRecentAnswers = 1024;
constexpr size_t kReadPage = 1000;

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

JournalRunner::JournalRunner(Origin& origin, Store& store, Options options, Logger log)
    : origin_(origin),
      store_(store),
      journal_(*store.journal()),
      options_(options),
      log_(std::move(log)),
      thread_(origin.make_thread()) {}

JournalRunner::~JournalRunner() { stop(); }

void JournalRunner::start() {
  journal_.subscribe([this](const std::string& event, int64_t seq, const std::string& text) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      queue_.push_back(Item{event, seq, text, nullptr});
    }
    cv_.notify_one();
  });
  worker_ = std::thread([this] { run(); });
}

void JournalRunner::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  journal_.subscribe(nullptr);
  if (worker_.joinable()) worker_.join();
  // Appends still waiting get their answer: not stored as far as this instance knows.
  std::deque<Item> left;
  {
    std::lock_guard lock(mu_);
    left.swap(queue_);
  }
  for (auto& item : left) {
    if (item.done) item.done(std::nullopt);
  }
  for (auto& [event, log] : events_) {
    for (auto& [seq, w] : log.waiting) w.first(std::nullopt);
    log.waiting.clear();
  }
}

void JournalRunner::append(JournalEntry entry, Done done) {
  std::string event = entry.event;
  std::string text = encode(entry);
  journal_.append(event, text, [this, event, text, done = std::move(done)](Result<int64_t> seq) mutable {
    if (!seq) return done(std::nullopt);
    {
      std::lock_guard lock(mu_);
      if (!stopping_) {
        queue_.push_back(Item{std::move(event), *seq, std::move(text), std::move(done)});
        done = nullptr;
      }
    }
    if (done) return done(std::nullopt);
    cv_.notify_one();
  });
}

int64_t JournalRunner::applied(const std::string& event) const {
  std::lock_guard lock(mu_);
  auto it = events_.find(event);
  return it == events_.end() ? 0 : it->second.applied;
}

Result<int64_t> JournalRunner::recover() {
  auto events = journal_.events();
  if (!events) return events.error();
  int64_t entries = 0;
  for (const auto& event : *events) {
    EventLog* log;
    {
      std::lock_guard lock(mu_);
      log = &events_[event];
    }
    auto snapshot = journal_.load_snapshot(event);
    if (!snapshot && log_) {
      log_(snapshot.error().message + "; replaying the journal of " + event + " instead");
    }
    if (snapshot && *snapshot) {
      auto seq = origin_.restore((*snapshot)->text);
      if (!seq) return seq.error();
      log->applied = *seq;
      log->snapshot_seq = *seq;
    }
    for (;;) {
      auto page = journal_.read(event, log->applied, kReadPage);
      if (!page) return page.error();
      if (page->empty()) break;
      if (page->front().seq != log->applied + 1) {
        return make_error("journal of " + event + " starts at entry " + std::to_string(page->front().seq) +
                          " and no snapshot covers the entries before it");
      }
      for (const auto& e : *page) {
        apply(event, *log, e.seq, e.text);
        ++entries;
      }
    }
    log->snapshot_ms = steady_ms();
  }
  carry_out_effects();
  return entries;
}

void JournalRunner::run() {
  int64_t last_housekeeping = steady_ms();
  for (;;) {
    std::deque<Item> batch;
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(100), [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      batch.swap(queue_);
    }
    for (auto& item : batch) take(std::move(item));
    carry_out_effects();
    const int64_t now = steady_ms();
    if (now - last_housekeeping >= std::min<int64_t>(options_.tail_check_ms, 250)) {
      housekeeping(now);
      carry_out_effects();
      last_housekeeping = now;
    }
  }
}

void JournalRunner::take(Item&& item) {
  EventLog* log;
  {
    std::lock_guard lock(mu_);
    log = &events_[item.event];
  }
  if (item.done) {
    if (item.seq <= log->applied) {
      // Applied already (the subscription delivered it first): the answer it had.
      auto answer = log->recent.find(item.seq);
      item.done(answer != log->recent.end() ? std::optional<Response>(answer->second)
                                            : std::optional<Response>(text_response(200, "applied", 0)));
      return;
    }
    log->waiting[item.seq] = {std::move(item.done), steady_ms() + options_.timeout_ms};
  }
  if (item.seq <= log->applied) return;
  const std::string event = item.event;
  log->buffered.emplace(item.seq, std::move(item));
  drain(event, *log);
}

void JournalRunner::drain(const std::string& event, EventLog& log) {
  while (!log.buffered.empty()) {
    auto it = log.buffered.begin();
    if (it->first <= log.applied) {
      log.buffered.erase(it);
    } else if (it->first == log.applied + 1) {
      apply(event, log, it->first, it->second.text);
      log.buffered.erase(it);
    } else if (!catch_up(event, log, it->first - 1)) {
      return;  // the store does not answer: try again at the next housekeeping
    }
  }
}

bool JournalRunner::catch_up(const std::string& event, EventLog& log, int64_t through) {
  while (log.applied < through) {
    const size_t want = static_cast<size_t>(std::min<int64_t>(through - log.applied, kReadPage));
    auto page = journal_.read(event, log.applied, want);
    if (!page) return false;
    if (page->empty()) return through == std::numeric_limits<int64_t>::max();
    for (const auto& e : *page) {
      if (e.seq != log.applied + 1 && log_) {
        log_("journal of " + event + ": entries " + std::to_string(log.applied + 1) + " to " +
             std::to_string(e.seq - 1) +
             " were trimmed before this instance applied them; restart it to load the newest snapshot");
      }
      apply(event, log, e.seq, e.text);
    }
  }
  return true;
}

void JournalRunner::apply(const std::string& event, EventLog& log, int64_t seq, const std::string& text) {
  Response answer;
  if (auto entry = decode_journal_entry(text)) {
    answer = origin_.apply(*thread_, seq, *entry);
  } else {
    // Not ours to guess: skip it, say so, and keep the journal moving.
    if (log_) log_("journal of " + event + ": entry " + std::to_string(seq) + " skipped: " + entry.error().message);
    answer = text_response(500, entry.error().message, 0);
  }
  {
    std::lock_guard lock(mu_);
    log.applied = seq;
  }
  if (auto w = log.waiting.find(seq); w != log.waiting.end()) {
    w->second.first(answer);
    log.waiting.erase(w);
  }
  log.recent.emplace(seq, std::move(answer));
  while (log.recent.size() > kRecentAnswers) log.recent.erase(log.recent.begin());
}

void JournalRunner::housekeeping(int64_t now) {
  for (auto& [event, log] : events_) {
    // What the subscription may have missed (a dropped connection, a gap).
    if (!log.buffered.empty()) drain(event, log);
    catch_up(event, log, std::numeric_limits<int64_t>::max());
    for (auto it = log.waiting.begin(); it != log.waiting.end();) {
      if (it->second.second > now) {
        ++it;
        continue;
      }
      it->second.first(std::nullopt);
      it = log.waiting.erase(it);
    }
    const bool due = log.applied - log.snapshot_seq >= options_.snapshot_every_entries ||
                     (log.applied > log.snapshot_seq && now - log.snapshot_ms >= options_.snapshot_every_ms);
    if (!due) continue;
    std::string text = origin_.snapshot(event);
    if (text.empty()) continue;
    auto saved = journal_.save_snapshot(event, JournalStore::Snapshot{log.applied, std::move(text)},
                                        options_.keep_entries);
    if (saved) {
      log.snapshot_seq = log.applied;
      log.snapshot_ms = now;
    }
  }
}

void JournalRunner::carry_out_effects() {
  Effects e = thread_->take_effects();
  for (auto& w : e.wake) w->wake();
  for (const auto& k : e.erase) store_.erase(k);
}

}  // namespace liveorigin
