#include "sim/origin_link.h"

#include <cctype>

#include "origin/core/structured_fields.h"

namespace liveorigin::sim {

bool header_name_equals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

namespace {

// A Cache-Control style list: "max-age=5, public" -> value of `key` in ms factor.
int64_t directive(std::string_view field, std::string_view key) {
  size_t i = 0;
  while (i < field.size()) {
    while (i < field.size() && (field[i] == ' ' || field[i] == ',')) ++i;
    size_t end = field.find(',', i);
    if (end == std::string_view::npos) end = field.size();
    std::string_view item = field.substr(i, end - i);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.size() > key.size() && item.substr(0, key.size()) == key && item[key.size()] == '=') {
      int64_t v = 0;
      for (char c : item.substr(key.size() + 1)) {
        if (c < '0' || c > '9') return -1;
        v = v * 10 + (c - '0');
      }
      return v;
    }
    i = end + 1;
  }
  return -1;
}
}  // namespace

std::string LinkResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (header_name_equals(k, name)) return v;
  }
  return {};
}

int64_t cache_ttl_ms(const LinkResponse& r) {
  const std::string cdn = r.header("CDN-Cache-Control");
  if (!cdn.empty()) {
    if (int64_t ms = directive(cdn, "max-age-ms"); ms >= 0) return ms;
    if (int64_t s = directive(cdn, "max-age"); s >= 0) return s * 1000;
  }
  const std::string cc = r.header("Cache-Control");
  if (int64_t s = directive(cc, "max-age"); s >= 0) return s * 1000;
  return -1;
}

}  // namespace liveorigin::sim
