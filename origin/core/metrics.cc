#include "origin/core/metrics.h"

#include <algorithm>

namespace liveorigin {

const char* to_string(ZoneLabel z) {
  switch (z) {
    case ZoneLabel::unknown_event: return "unknown-event";
    case ZoneLabel::unknown_stream: return "unknown-stream";
    case ZoneLabel::expired: return "expired";
    case ZoneLabel::select: return "select";
    case ZoneLabel::hold: return "hold";
    case ZoneLabel::not_yet: return "not-yet";
    case ZoneLabel::too_early: return "too-early";
    case ZoneLabel::plain_object: return "plain-object";
    case ZoneLabel::ingest: return "ingest";
    case ZoneLabel::admin: return "admin";
    case ZoneLabel::api: return "api";
    case ZoneLabel::bad_request: return "bad-request";
    case ZoneLabel::count_: break;
  }
  return "unknown";
}

const char* class_label(size_t c) {
  static constexpr const char* kNames[kClassLabels] = {"live", "dvr", "background", "none"};
  return c < kClassLabels ? kNames[c] : "none";
}

size_t status_index(int status) {
  const auto it = std::find(kStatusCodes.begin(), kStatusCodes.end(), status);
  return it == kStatusCodes.end() ? kStatusOther : static_cast<size_t>(it - kStatusCodes.begin());
}

std::shared_ptr<ThreadCounters> CounterBlocks::add() {
  auto block = std::make_shared<ThreadCounters>();
  MutexLock lock(mu_);
  blocks_.push_back(block);
  const size_t i = view_size_.load(std::memory_order_relaxed);
  if (i < kViewMax) {
    view_[i].store(block.get(), std::memory_order_relaxed);
    view_size_.store(i + 1, std::memory_order_release);
  }
  return block;
}

std::vector<std::shared_ptr<ThreadCounters>> CounterBlocks::all() const {
  MutexLock lock(mu_);
  return blocks_;
}

int64_t CounterBlocks::store_reads_in_flight() const {
  int64_t reads = 0;
  const size_t n = view_size_.load(std::memory_order_acquire);
  for (size_t i = 0; i < n; ++i) {
    reads += view_[i].load(std::memory_order_relaxed)->store_reads.load(std::memory_order_relaxed);
  }
  return reads;
}

void SharedMetrics::count(std::string_view name, std::string labels, int64_t n) {
  MutexLock lock(mu_);
  auto it = values_.find(name);
  if (it == values_.end()) it = values_.emplace(std::string(name), std::map<std::string, int64_t>{}).first;
  it->second[std::move(labels)] += n;
}

void SharedMetrics::append_text(std::string& out) const {
  MutexLock lock(mu_);
  for (const auto& [name, samples] : values_) {
    out += "# TYPE " + name + " counter\n";
    for (const auto& [labels, v] : samples) {
      out += name + "{" + labels + "} " + std::to_string(v) + "\n";
    }
  }
}

std::string prom_label(std::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

}  // namespace liveorigin
