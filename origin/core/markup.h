// Escaping text for XML and HTML (MPDs, JUnit, the HTML report): one function, so every
// document escapes the same way. Pure, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace liveorigin {

// & < > " ' become entities (&#39; for ', valid in XML and HTML alike); control
// characters XML 1.0 forbids (all below 0x20 but tab, newline, carriage return) become
// a space.
inline std::string markup_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        out += static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r' ? ' ' : c;
    }
  }
  return out;
}

}  // namespace liveorigin
