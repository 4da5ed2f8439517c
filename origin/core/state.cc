#include "origin/core/state.h"

#include <algorithm>

namespace liveorigin {

bool StreamState::live(std::string_view pipeline, int64_t now_ms, int64_t liveness_ms) const {
  for (const auto& [p, t] : last_put_ms) {
    if (p == pipeline) return now_ms - t < liveness_ms;
  }
  return false;
}

void StreamState::mark_live(std::string_view pipeline, int64_t now_ms) {
  for (auto& [p, t] : last_put_ms) {
    if (p == pipeline) {
      t = std::max(t, now_ms);
      return;
    }
  }
  last_put_ms.emplace_back(std::string(pipeline), now_ms);
}

bool EventState::excluded(std::string_view pipeline, std::string_view stream, int64_t n) const {
  for (const auto& x : exclusions) {
    if (x.covers(pipeline, stream, n)) return true;
  }
  return false;
}

int EventState::find_stream(std::string_view id) const {
  for (size_t i = 0; i < config->streams.size(); ++i) {
    if (config->streams[i].id == id) return static_cast<int>(i);
  }
  return -1;
}

const StreamConfig* EventState::config_of(const StreamState* stream) const {
  for (size_t i = 0; i < streams.size(); ++i) {
    if (streams[i].get() == stream) return &config->streams[i];
  }
  return nullptr;
}

namespace {
int64_t live_protect_ms(const StreamConfig& s) { return (s.live_window_segments + 1) * s.segment_duration_ms; }
}  // namespace

std::shared_ptr<EventState> make_event_state(const EventConfig& config, const EventState* previous) {
  auto e = std::make_shared<EventState>();
  e->config = std::make_shared<const EventConfig>(config);
  e->runtime = previous ? previous->runtime : std::make_shared<EventRuntime>();
  if (previous) {
    e->markers = previous->markers;
    e->exclusions = previous->exclusions;
    e->from_file = previous->from_file;
  }
  for (const auto& s : config.streams) {
    std::shared_ptr<StreamState> state;
    if (previous) {
      const int i = previous->find_stream(s.id);
      if (i >= 0) state = previous->streams[i];
    }
    if (!state) state = std::make_shared<StreamState>();
    {
      MutexLock lock(state->mu);
      state->live_protect_ms = live_protect_ms(s);
    }
    e->streams.push_back(std::move(state));
  }
  return e;
}

const CandidatePtr* find_candidate(const std::vector<CandidatePtr>& v, std::string_view pipeline) {
  for (const auto& c : v) {
    if (c->pipeline == pipeline) return &c;
  }
  return nullptr;
}

bool erase_string(std::vector<std::string>& v, std::string_view s) {
  auto it = std::find(v.begin(), v.end(), s);
  if (it == v.end()) return false;
  v.erase(it);
  return true;
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

void drop_if_unused(StreamState& ss, std::map<int64_t, SegmentState>::iterator it) {
  const SegmentState& seg = it->second;
  if (seg.candidates.empty() && seg.pending.empty() && seg.waiters.empty() && seg.decision.committed.empty() &&
      seg.indexed_avail_ms < 0 && !seg.commit_pending) {
    ss.segments.erase(it);
  }
}

}  // namespace liveorigin
