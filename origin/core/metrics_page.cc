#include "origin/core/metrics_page.h"

#include <string>

namespace liveorigin {

Response metrics_page(const MetricsInputs& in) {
  const auto& threads = in.threads;
  constexpr size_t kZonesCount = static_cast<size_t>(ZoneLabel::count_);
  auto status_label = [](size_t s) {
    return s == kStatusOther ? std::string("other") : std::to_string(kStatusCodes[s]);
  };
  std::string out;
  out += "# HELP liveorigin_requests_total Requests answered (not ingest PUTs), by class, zone and status.\n";
  out += "# TYPE liveorigin_requests_total counter\n";
  for (size_t c = 0; c < kClassLabels; ++c) {
    for (size_t z = 0; z < kZonesCount; ++z) {
      for (size_t s = 0; s <= kStatusOther; ++s) {
        uint64_t v = 0;
        for (const auto& tc : threads) v += tc->requests[c][z][s].get();
        if (v == 0) continue;
        out += "liveorigin_requests_total{class=\"";
        out += class_label(c);
        out += "\",zone=\"";
        out += to_string(static_cast<ZoneLabel>(z));
        out += "\",status=\"" + status_label(s) + "\"} " + std::to_string(v) + "\n";
      }
    }
  }
  out += "# HELP liveorigin_shed_total Requests answered 503 because the origin was overloaded, by class.\n";
  out += "# TYPE liveorigin_shed_total counter\n";
  for (size_t c = 0; c < kRequestClasses; ++c) {
    uint64_t v = 0;
    for (const auto& tc : threads) v += tc->shed[c].get();
    out += std::string("liveorigin_shed_total{class=\"") + class_label(c) + "\"} " + std::to_string(v) + "\n";
  }
  auto histogram = [&](const char* name, const char* help, Histogram ThreadCounters::*field) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " histogram\n";
    uint64_t cumulative = 0;
    uint64_t sum = 0;
    for (size_t b = 0; b <= Histogram::kBoundsMs.size(); ++b) {
      for (const auto& tc : threads) cumulative += ((*tc).*field).bucket(b);
      const std::string le = b == Histogram::kBoundsMs.size() ? "+Inf" : std::to_string(Histogram::kBoundsMs[b]);
      out += std::string(name) + "_bucket{le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
    }
    for (const auto& tc : threads) sum += ((*tc).*field).sum_ms();
    out += std::string(name) + "_sum " + std::to_string(sum) + "\n";
    out += std::string(name) + "_count " + std::to_string(cumulative) + "\n";
  };
  histogram("liveorigin_hold_wake_ms", "Milliseconds from the PUT that published a segment to the held answer.",
            &ThreadCounters::hold_wake_ms);
  histogram("liveorigin_put_ms", "Milliseconds from a PUT's head to its acknowledgement (body transfer included).",
            &ThreadCounters::put_ms);
  {
    int64_t reads = 0;
    for (const auto& tc : threads) reads += tc->store_reads.load(std::memory_order_relaxed);
    out += "# HELP liveorigin_store_reads_in_flight Store reads started and not completed.\n";
    out += "# TYPE liveorigin_store_reads_in_flight gauge\nliveorigin_store_reads_in_flight " +
           std::to_string(reads) + "\n";
  }
  out += "# HELP liveorigin_puts_total Ingest PUTs, by answer.\n";
  out += "# TYPE liveorigin_puts_total counter\n";
  for (size_t s = 0; s <= kStatusOther; ++s) {
    uint64_t v = 0;
    for (const auto& c : threads) v += c->puts[s].get();
    if (v != 0) out += "liveorigin_puts_total{status=\"" + status_label(s) + "\"} " + std::to_string(v) + "\n";
  }
  auto sum = [&](Counter ThreadCounters::*field) {
    uint64_t v = 0;
    for (const auto& c : threads) v += ((*c).*field).get();
    return std::to_string(v);
  };
  auto counter = [&](const char* name, const char* help, Counter ThreadCounters::*field) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" + name + " " +
           sum(field) + "\n";
  };
  counter("liveorigin_defective_served_total", "Responses that served a defective candidate.",
          &ThreadCounters::defective_served);
  counter("liveorigin_served_bytes_total", "Body bytes of object responses.", &ThreadCounters::bytes_served);
  counter("liveorigin_ingested_bytes_total", "Body bytes of accepted PUTs.", &ThreadCounters::bytes_ingested);
  counter("liveorigin_holds_total", "Requests held until their segment was published.",
          &ThreadCounters::holds);
  counter("liveorigin_hold_timeouts_total", "Held requests answered not-yet after hold_ms_max.",
          &ThreadCounters::hold_timeouts);
  counter("liveorigin_holds_refused_total", "Requests not held because hold_requests_max were waiting.",
          &ThreadCounters::holds_refused);
  counter("liveorigin_suppressed_total", "Repeats of shed requests answered from the suppression cache.",
          &ThreadCounters::suppressed);
  counter("liveorigin_store_reads_total", "Object reads from the store (every one serves a response body).",
          &ThreadCounters::store_reads_done);
  {
    const Registry& reg = *in.registry;
    out += "# HELP liveorigin_markers Markers held per event.\n# TYPE liveorigin_markers gauge\n";
    for (const auto& [id, e] : reg.events) {
      out += "liveorigin_markers{event=" + prom_label(id) + "} " + std::to_string(e->markers.size()) + "\n";
    }
    out += "# HELP liveorigin_event_version The event's newest version (ETag, Live-Version).\n";
    out += "# TYPE liveorigin_event_version gauge\n";
    for (const auto& [id, e] : reg.events) {
      out += "liveorigin_event_version{event=" + prom_label(id) + "} " + std::to_string(e->runtime->version.load()) +
             "\n";
    }
  }
  out += "# HELP liveorigin_held_requests Requests waiting now.\n# TYPE liveorigin_held_requests gauge\n";
  out += "liveorigin_held_requests " + std::to_string(in.held_requests) + "\n";
  out += "# HELP liveorigin_store_bytes Bytes of objects held in the store.\n# TYPE liveorigin_store_bytes gauge\n";
  out += "liveorigin_store_bytes " + std::to_string(in.stored_bytes) + "\n";
  out += "# TYPE liveorigin_store_budget_bytes gauge\nliveorigin_store_budget_bytes " +
         std::to_string(in.budget_bytes) + "\n";
  out += "# TYPE liveorigin_draining gauge\nliveorigin_draining " + std::string(in.draining ? "1" : "0") + "\n";
  if (in.store) {
    out += "# HELP liveorigin_store_up 1 while the store answers, 0 while its operations fail.\n";
    out += "# TYPE liveorigin_store_up gauge\nliveorigin_store_up " + std::string(in.store->up() ? "1" : "0") + "\n";
    out += in.store->metrics_text();
  }
  in.shared->append_text(out);
  Response r;
  r.set_text(std::move(out), "text/plain; version=0.0.4; charset=utf-8");
  set_cache_ttl(r, 0);
  return r;
}

}  // namespace liveorigin
