#include "origin/http/framing.h"

#include <cctype>

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

}  // namespace

std::optional<std::string> framing_error(const RequestFraming& r) {
  // RFC 9112 §3.2: exactly one Host in HTTP/1.1.
  if (r.host_lines > 1) return "more than one Host field";
  if (r.version >= 11 && r.host_lines == 0) return "missing Host field (required in HTTP/1.1)";
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

}  // namespace liveorigin
