#include "origin/http/framing.h"

#include <cctype>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace liveorigin {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

// Host = uri-host [ ":" port ] (RFC 9110 §7.2); empty when the target URI has no authority.
bool valid_host(std::string_view host) {
  if (host.empty()) return true;
  auto a = boost::urls::parse_authority(host);
  if (!a) return false;
  if (a->has_userinfo()) return false;
  return !(a->has_port() && a->encoded_host().empty());
}

// At most this much of a value the client sent is echoed in a 400 body.
constexpr size_t kEchoBytesMax = 200;

std::string echo(std::string_view s) {
  if (s.size() <= kEchoBytesMax) return std::string(s);
  return std::string(s.substr(0, kEchoBytesMax)) + "...";
}

}  // namespace

std::optional<std::string> framing_error(const RequestFraming& r) {
  // RFC 9112 §3.2: exactly one Host in HTTP/1.1.
  if (r.host_lines > 1) return "more than one Host field";
  if (r.version >= 11 && r.host_lines == 0) return "missing Host field (required in HTTP/1.1)";
  if (r.host_lines == 1 && !valid_host(r.host)) return "invalid Host field '" + echo(r.host) + "'";
  if (r.transfer_encoding.empty()) return std::nullopt;

  std::string sent;
  std::vector<std::string_view> codings;
  for (std::string_view line : r.transfer_encoding) {
    if (!sent.empty()) sent += ", ";
    sent += line;
    while (true) {
      const size_t comma = line.find(',');
      const std::string_view coding = trim(line.substr(0, comma));
      if (!coding.empty()) codings.push_back(coding);  // empty list elements are allowed
      if (comma == std::string_view::npos) break;
      line.remove_prefix(comma + 1);
    }
  }
  const std::string named = "Transfer-Encoding '" + sent + "'";
  // §6.1: an HTTP/1.0 recipient cannot trust a transfer coding an older hop may have
  // ignored; the framing is faulty.
  if (r.version < 11) return named + " in an HTTP/1.0 request";
  if (codings.empty()) return named + ": no transfer coding";
  // §6.3 (4): without a final chunked the body's length cannot be determined.
  if (!iequals(codings.back(), "chunked")) return named + ": chunked must be the final coding";
  for (size_t i = 0; i + 1 < codings.size(); ++i) {
    if (iequals(codings[i], "chunked")) return named + ": chunked applied more than once";
    // §6.1: a coding the server does not implement. Segments are sent as they are.
    return named + ": only chunked is supported";
  }
  return std::nullopt;
}

std::optional<std::string_view> obs_folded_field(std::string_view head) {
  size_t line = 0;  // where the current line starts
  for (size_t i = 0; i + 2 < head.size(); ++i) {
    if (head[i] != '\r' || head[i + 1] != '\n') continue;
    if (head[i + 2] == ' ' || head[i + 2] == '\t') {
      const std::string_view folded = head.substr(line, i - line);
      const size_t colon = folded.find(':');
      return colon == std::string_view::npos ? std::string_view{} : folded.substr(0, colon);
    }
    line = i + 2;
  }
  return std::nullopt;
}

std::optional<std::string> request_target_error(std::string_view method, std::string_view target,
                                                std::string& origin_form) {
  origin_form.clear();
  if (target.starts_with('/')) return std::nullopt;
  const std::string named = "request target '" + echo(target) + "'";
  if (target == "*") {
    if (method == "OPTIONS") return "asterisk-form target '*': no server-wide OPTIONS here, ask OPTIONS of a path";
    return "asterisk-form target '*' is only for OPTIONS";
  }
  auto absolute = boost::urls::parse_absolute_uri(target);
  const bool web = absolute && (absolute->scheme_id() == boost::urls::scheme::http ||
                                absolute->scheme_id() == boost::urls::scheme::https);
  if (web) {
    // RFC 9110 §4.2.1: an http URI with an empty host is invalid.
    if (!absolute->has_authority() || absolute->encoded_host().empty()) return named + ": absolute-form without a host";
    const std::string_view path = absolute->encoded_path();
    // Boost.URL 1.81 reads "http://h:8080x/y" as port 8080 and the path "x/y" (found by
    // tests/fuzz/request_target): the authority is not host[:port].
    if (!path.empty() && path.front() != '/') return named + ": absolute-form with a malformed authority";
    origin_form = path.empty() ? "/" : std::string(path);
    if (absolute->has_query()) {
      origin_form += '?';
      origin_form += absolute->encoded_query();
    }
    return std::nullopt;
  }
  auto authority = boost::urls::parse_authority(target);
  if (authority && authority->has_port() && !authority->has_userinfo()) {
    return named + ": authority-form is only for CONNECT";
  }
  if (absolute) return named + ": absolute-form with scheme '" + echo(absolute->scheme()) + "', not http or https";
  return named + ": not origin-form (a path starting with '/') nor absolute-form";
}

}  // namespace liveorigin
