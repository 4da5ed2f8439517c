#include "origin/core/representation.h"

#include <algorithm>
#include <charconv>

#include <boost/json.hpp>

namespace liveorigin {

std::string etag_of(const Candidate& c, int64_t version) {
  return "\"" + std::to_string(version) + "-" + to_hex(c.sha256.data(), 8) + "\"";
}

bool if_none_match_hits(std::string_view field, std::string_view etag) {
  size_t i = 0;
  while (i < field.size()) {
    while (i < field.size() && (field[i] == ' ' || field[i] == ',' || field[i] == '\t')) ++i;
    if (i >= field.size()) break;
    if (field[i] == '*') return true;
    if (field.substr(i).starts_with("W/")) i += 2;
    if (i >= field.size() || field[i] != '"') return false;
    const size_t close = field.find('"', i + 1);
    if (close == std::string_view::npos) return false;
    if (field.substr(i, close - i + 1) == etag) return true;
    i = close + 1;
  }
  return false;
}

RangeResult parse_range(std::string_view field, int64_t size, ByteRange& out) {
  if (!field.starts_with("bytes=")) return RangeResult::none;
  std::string_view spec = field.substr(6);
  if (spec.find(',') != std::string_view::npos) return RangeResult::none;
  const size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return RangeResult::none;
  const std::string_view a = spec.substr(0, dash);
  const std::string_view b = spec.substr(dash + 1);
  auto num = [](std::string_view s, int64_t& v) {
    if (s.empty() || s.size() > 18) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && p == s.data() + s.size() && v >= 0;
  };
  int64_t first = 0;
  int64_t last = 0;
  if (a.empty()) {  // suffix: the last N bytes
    if (!num(b, last)) return RangeResult::none;
    if (last == 0 || size == 0) return RangeResult::unsatisfiable;
    out = {std::max<int64_t>(0, size - last), size - 1};
    return RangeResult::ok;
  }
  if (!num(a, first)) return RangeResult::none;
  if (b.empty()) {
    last = size - 1;
  } else if (!num(b, last) || last < first) {
    return RangeResult::none;
  }
  if (first >= size) return RangeResult::unsatisfiable;
  out = {first, std::min(last, size - 1)};
  return RangeResult::ok;
}

namespace {
bool ends_with_ci(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  for (size_t i = 0; i < suffix.size(); ++i) {
    if ((s[s.size() - suffix.size() + i] | 0x20) != suffix[i]) return false;
  }
  return true;
}
}  // namespace

bool is_manifest(std::string_view object) { return ends_with_ci(object, ".mpd") || ends_with_ci(object, ".m3u8"); }

std::string content_type_of(std::string_view object, ContentType type) {
  if (ends_with_ci(object, ".mpd")) return "application/dash+xml";
  if (ends_with_ci(object, ".m3u8")) return "application/vnd.apple.mpegurl";
  if (ends_with_ci(object, ".m4s") || ends_with_ci(object, ".mp4") || ends_with_ci(object, ".cmfv") ||
      ends_with_ci(object, ".cmfa") || ends_with_ci(object, ".m4v") || ends_with_ci(object, ".m4a")) {
    return type == ContentType::audio ? "audio/mp4" : "video/mp4";
  }
  if (ends_with_ci(object, ".ts")) return "video/mp2t";
  if (ends_with_ci(object, ".vtt")) return "text/vtt";
  return "application/octet-stream";
}

namespace {
constexpr std::string_view kCorsExposed =
    "Date, ETag, Content-Range, Live-Pipeline, Live-Version, Live-Reject, Live-Markers, CMSD-Static, "
    "CMSD-Dynamic, Segment-Defects, Retry-After, CDN-Cache-Control";
}  // namespace

void add_cors(Response& r) {
  r.set("Access-Control-Allow-Origin", "*");
  r.set("Access-Control-Expose-Headers", std::string(kCorsExposed));
}

Response json_response(int status, const boost::json::value& v, int64_t ttl_ms) {
  Response r;
  r.status = status;
  r.set_text(boost::json::serialize(v) + "\n", "application/json");
  set_cache_ttl(r, ttl_ms);
  return r;
}

}  // namespace liveorigin
