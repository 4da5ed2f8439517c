// DASH SegmentTemplate media names (ISO/IEC 23009-1 §5.3.9.4.4) restricted to
// what numbered live segments need: exactly one $Number$ or $Number%0<w>d$,
// optional $RepresentationID$ (replaced by the stream id), and $$ for '$'.
// $Time$ and $Bandwidth$ are refused: the origin locates segments by number.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "origin/core/result.h"

namespace liveorigin {

class SegmentTemplate {
 public:
  // Errors name the offending identifier, e.g. "unsupported identifier $Time$".
  static Result<SegmentTemplate> parse(std::string_view text, std::string_view representation_id);

  // The segment number if `object` is exactly what format() would produce for it.
  // Non-canonical spellings ("007.m4s" for $Number$) do not match: they are plain objects.
  std::optional<int64_t> match(std::string_view object) const;
  std::string format(int64_t number) const;

  const std::string& text() const { return text_; }
  int width() const { return width_; }
  // The literal text around the number ($RepresentationID$ and $$ already expanded).
  const std::string& prefix() const { return prefix_; }
  const std::string& suffix() const { return suffix_; }

 private:
  std::string text_;
  std::string prefix_;
  std::string suffix_;
  int width_ = 0;
};

}  // namespace liveorigin
