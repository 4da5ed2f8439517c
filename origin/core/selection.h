// Which candidate is served (docs/http-api.md §7.3, §7.6), and
// recording the choice. Pure functions over the state of state.h; the caller holds
// the stream's mutex where a function reads stream state.
#pragma once

#include <cstdint>
#include <string_view>

#include "origin/core/config.h"
#include "origin/core/metrics.h"
#include "origin/core/state.h"

namespace liveorigin {

// The best candidate of segment `n` by (defect tier, magnitude, other keys, pipeline
// rank), skipping excluded pipelines and pipelines no longer configured; null if
// none is left.
CandidatePtr best_candidate(const EventState& event, std::string_view stream, int64_t n, const SegmentState& seg);

// The copy of a plain object that is served: the highest-rank live pipeline's; when
// no pipeline is live (after the event), the highest-rank copy.
CandidatePtr served_copy(const EventConfig& ec, const StreamConfig& sc, const StreamState& ss,
                         const PlainObjectState& obj, int64_t now_ms) REQUIRES(ss.mu);

// Commits `pipeline` as the choice of a segment, with its reason, and counts it in
// liveorigin_selections_total.
void record_choice(Decision& d, std::string_view pipeline, std::string_view reason, int64_t now_ms,
                   SharedMetrics& metrics, std::string_view event, std::string_view stream);

}  // namespace liveorigin
