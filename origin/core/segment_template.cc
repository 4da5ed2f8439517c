#include "origin/core/segment_template.h"

#include <charconv>

namespace liveorigin {

namespace {
// Digits of a number no wider than this cannot overflow int64_t.
constexpr size_t kMaxDigits = 18;
constexpr int kMaxWidth = 18;
}  // namespace

Result<SegmentTemplate> SegmentTemplate::parse(std::string_view text,
                                               std::string_view representation_id) {
  SegmentTemplate t;
  t.text_ = std::string(text);
  bool have_number = false;
  std::string* out = &t.prefix_;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c != '$') {
      out->push_back(c);
      ++i;
      continue;
    }
    const size_t close = text.find('$', i + 1);
    if (close == std::string_view::npos) {
      return make_error("unterminated '$' at offset " + std::to_string(i));
    }
    const std::string_view ident = text.substr(i + 1, close - i - 1);
    i = close + 1;
    if (ident.empty()) {
      out->push_back('$');
    } else if (ident == "RepresentationID") {
      out->append(representation_id);
    } else if (ident.starts_with("Number")) {
      if (have_number) return make_error("more than one $Number$");
      const std::string_view fmt = ident.substr(6);
      if (!fmt.empty()) {
        // DASH allows only %0<width>d.
        if (fmt.size() < 4 || fmt[0] != '%' || fmt[1] != '0' || fmt.back() != 'd') {
          return make_error("unsupported format '" + std::string(fmt) + "' in $" +
                            std::string(ident) + "$ (expected %0<width>d)");
        }
        const std::string_view w = fmt.substr(2, fmt.size() - 3);
        int width = 0;
        auto [p, ec] = std::from_chars(w.data(), w.data() + w.size(), width);
        if (ec != std::errc() || p != w.data() + w.size() || width < 1 || width > kMaxWidth) {
          return make_error("bad width in $" + std::string(ident) + "$");
        }
        t.width_ = width;
      }
      have_number = true;
      out = &t.suffix_;
    } else {
      return make_error("unsupported identifier $" + std::string(ident) +
                        "$ (segments are located by $Number$)");
    }
  }
  if (!have_number) return make_error("no $Number$ in segment_template");
  if (t.prefix_.find('/') != std::string::npos || t.suffix_.find('/') != std::string::npos) {
    return make_error("segment_template must not contain '/'");
  }
  return t;
}

std::optional<int64_t> SegmentTemplate::match(std::string_view object) const {
  if (object.size() <= prefix_.size() + suffix_.size()) return std::nullopt;
  if (!object.starts_with(prefix_) || !object.ends_with(suffix_)) return std::nullopt;
  const std::string_view digits =
      object.substr(prefix_.size(), object.size() - prefix_.size() - suffix_.size());
  if (digits.size() > kMaxDigits) return std::nullopt;
  int64_t n = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || p != digits.data() + digits.size() || n < 0) return std::nullopt;
  // Canonical form only: exactly the width-padded digits, no extra leading zeros.
  const size_t canonical = std::max<size_t>(static_cast<size_t>(width_),
                                            n == 0 ? 1 : std::to_string(n).size());
  if (digits.size() != canonical) return std::nullopt;
  return n;
}

std::string SegmentTemplate::format(int64_t number) const {
  std::string digits = std::to_string(number);
  std::string out = prefix_;
  if (static_cast<int>(digits.size()) < width_) out.append(width_ - digits.size(), '0');
  out += digits;
  out += suffix_;
  return out;
}

}  // namespace liveorigin
