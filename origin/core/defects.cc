#include "origin/core/defects.h"

#include <tuple>

#include "origin/core/structured_fields.h"

namespace liveorigin {

const char* to_string(DefectTier t) {
  switch (t) {
    case DefectTier::corrupt: return "corrupt";
    case DefectTier::discontinuity: return "discontinuity";
    case DefectTier::short_ms: return "short-ms";
    case DefectTier::missing_frames: return "missing-frames";
    case DefectTier::missing_samples: return "missing-samples";
    case DefectTier::clean: return "clean";
  }
  return "clean";
}

DefectTier Defects::tier() const {
  if (corrupt) return DefectTier::corrupt;
  if (discontinuity) return DefectTier::discontinuity;
  if (short_ms > 0) return DefectTier::short_ms;
  if (missing_frames > 0) return DefectTier::missing_frames;
  if (missing_samples > 0) return DefectTier::missing_samples;
  // Only unknown keys: something is wrong, but less than any known defect.
  if (unknown_keys > 0) return DefectTier::missing_samples;
  return DefectTier::clean;
}

int64_t Defects::magnitude() const {
  switch (tier()) {
    case DefectTier::short_ms: return short_ms;
    case DefectTier::missing_frames: return missing_frames;
    case DefectTier::missing_samples: return missing_samples;
    case DefectTier::clean: return 0;
    default: return 1;
  }
}

int Defects::other_keys() const {
  const int total = static_cast<int>(corrupt) + static_cast<int>(discontinuity) +
                    static_cast<int>(short_ms > 0) + static_cast<int>(missing_frames > 0) +
                    static_cast<int>(missing_samples > 0) + unknown_keys;
  return total > 0 ? total - 1 : 0;
}

namespace {

Result<int64_t> count_value(const sf::Member& m, std::string_view key) {
  const auto* item = std::get_if<sf::Item>(&m);
  const auto* v = item ? std::get_if<int64_t>(&item->value) : nullptr;
  if (v == nullptr || *v < 0) {
    return make_error("Segment-Defects: " + std::string(key) + " must be a non-negative integer");
  }
  return *v;
}

Result<bool> flag_value(const sf::Member& m, std::string_view key) {
  const auto* item = std::get_if<sf::Item>(&m);
  const auto* v = item ? std::get_if<bool>(&item->value) : nullptr;
  if (v == nullptr) return make_error("Segment-Defects: " + std::string(key) + " must be a boolean flag");
  return *v;
}

}  // namespace

Result<Defects> parse_segment_defects(std::string_view field_value) {
  auto dict = sf::parse_dictionary(field_value);
  if (!dict) return make_error("Segment-Defects: " + dict.error().message);
  Defects d;
  sf::Dictionary present;
  for (auto& [key, member] : *dict) {
    bool keep = true;
    if (key == "missing-samples" || key == "missing-frames" || key == "short-ms") {
      auto v = count_value(member, key);
      if (!v) return v.error();
      int64_t& slot = key == "missing-samples" ? d.missing_samples
                      : key == "missing-frames" ? d.missing_frames
                                                : d.short_ms;
      slot = *v;
      keep = *v > 0;
    } else if (key == "discontinuity" || key == "corrupt") {
      auto v = flag_value(member, key);
      if (!v) return v.error();
      (key == "corrupt" ? d.corrupt : d.discontinuity) = *v;
      keep = *v;
    } else {
      ++d.unknown_keys;
    }
    if (keep) present.emplace_back(key, std::move(member));
  }
  if (!present.empty()) d.header = sf::serialize_dictionary(present);
  return d;
}

bool better_defects(const Defects& a, const Defects& b) {
  // Higher tier is better; then smaller magnitude; then fewer other keys.
  return std::make_tuple(-static_cast<int>(a.tier()), a.magnitude(), a.other_keys()) <
         std::make_tuple(-static_cast<int>(b.tier()), b.magnitude(), b.other_keys());
}

bool same_quality(const Defects& a, const Defects& b) {
  return !better_defects(a, b) && !better_defects(b, a);
}

}  // namespace liveorigin
