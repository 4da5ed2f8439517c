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

void SharedMetrics::count(std::string_view name, std::string labels, int64_t n) {
  std::lock_guard lock(mu_);
  auto it = values_.find(name);
  if (it == values_.end()) it = values_.emplace(std::string(name), std::map<std::string, int64_t>{}).first;
  it->second[std::move(labels)] += n;
}

void SharedMetrics::append_text(std::string& out) const {
  std::lock_guard lock(mu_);
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
