#include "origin/core/target.h"

#include <algorithm>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace liveorigin {

Result<Target> parse_target(std::string_view target) {
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) return make_error("bad request target");
  const boost::urls::url_view& u = *parsed;
  Target t;
  t.query = u.encoded_query();
  // Boost.URL hides a leading "." segment ("/./a" reads as "/a"); refuse it like any other.
  const std::string_view path = u.encoded_path();
  if (path.starts_with("/./")) return make_error("'.' or '..' path segment");
  const auto segs = u.encoded_segments();
  bool any_escaped = false;
  size_t n = 0;
  for (auto s : segs) {
    if (n == Target::kMaxSegments) return make_error("too many path segments");
    if (s.empty()) return make_error("empty path segment");
    if (s == "." || s == "..") return make_error("'.' or '..' path segment");
    any_escaped = any_escaped || s.find('%') != std::string_view::npos;
    ++n;
  }
  t.count = n;
  if (!any_escaped) {
    size_t i = 0;
    for (auto s : segs) t.segments[i++] = std::string_view(s.data(), s.size());
    return t;
  }
  // Decode everything into one heap buffer reserved up front (never the small-string
  // buffer), so the views survive both appends and moving the Target.
  t.decoded_.reserve(std::max<size_t>(target.size(), 64));
  size_t i = 0;
  for (auto s : segs) {
    const size_t begin = t.decoded_.size();
    s.decode({}, boost::urls::string_token::append_to(t.decoded_));
    t.segments[i++] = std::string_view(t.decoded_.data() + begin, t.decoded_.size() - begin);
  }
  for (size_t k = 0; k < n; ++k) {
    if (t.segments[k] == "." || t.segments[k] == "..") return make_error("'.' or '..' path segment");
    if (t.segments[k].find('/') != std::string_view::npos || t.segments[k].empty()) {
      return make_error("bad path segment");
    }
  }
  return t;
}

std::optional<std::string> query_param(std::string_view query, std::string_view key) {
  const std::string target = "/?" + std::string(query);  // the url_view below points into it
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) return std::nullopt;
  for (auto p : parsed->params()) {
    if (p.key == key) return std::string(p.value);
  }
  return std::nullopt;
}

}  // namespace liveorigin
