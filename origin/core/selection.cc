#include "origin/core/selection.h"

namespace liveorigin {

CandidatePtr best_candidate(const EventState& event, std::string_view stream, int64_t n, const SegmentState& seg) {
  const EventConfig& ec = *event.config;
  CandidatePtr best;
  int best_rank = 0;
  for (const auto& c : seg.candidates) {
    const int rank = ec.pipeline_index(c->pipeline);
    if (rank < 0 || event.excluded(c->pipeline, stream, n)) continue;
    if (!best || better_defects(c->defects, best->defects) ||
        (same_quality(c->defects, best->defects) && rank < best_rank)) {
      best = c;
      best_rank = rank;
    }
  }
  return best;
}

CandidatePtr served_copy(const EventConfig& ec, const StreamConfig& sc, const StreamState& ss,
                         const PlainObjectState& obj, int64_t now_ms) {
  CandidatePtr any;
  for (const auto& p : ec.pipelines) {
    const CandidatePtr* c = find_candidate(obj.copies, p.id);
    if (!c) continue;
    if (!any) any = *c;
    if (ss.live(p.id, now_ms, sc.pipeline_liveness_ms)) return *c;
  }
  return any;
}

void record_choice(Decision& d, std::string_view pipeline, std::string_view reason, int64_t now_ms,
                   SharedMetrics& metrics, std::string_view event, std::string_view stream) {
  d.committed = std::string(pipeline);
  d.committed_ms = now_ms;
  d.reason = std::string(reason);
  metrics.count("liveorigin_selections_total", "event=" + prom_label(event) + ",stream=" + prom_label(stream) +
                                                   ",pipeline=" + prom_label(pipeline) + ",reason=" + prom_label(reason));
}

}  // namespace liveorigin
