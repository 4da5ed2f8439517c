// RFC 8941 structured fields as packagers and players send them: the generic parser
// (List, Dictionary, Item) with a round trip — what we parse, we serialize into a
// value that parses back to the same thing — and the fields built on it:
// Segment-Defects and Repr-Digest.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "origin/core/defects.h"
#include "origin/core/digest.h"
#include "origin/core/structured_fields.h"
#include "tests/fuzz/core_rig.h"

using namespace liveorigin;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto list = sf::parse_list(in)) {
    const std::string text = sf::serialize_list(*list);
    auto again = sf::parse_list(text);
    if (!again) fuzz::fail("serialized list does not parse: " + text + ": " + again.error().message);
    if (!(*again == *list)) fuzz::fail("list round trip differs: " + text);
  }
  if (auto dict = sf::parse_dictionary(in)) {
    const std::string text = sf::serialize_dictionary(*dict);
    auto again = sf::parse_dictionary(text);
    if (!again) fuzz::fail("serialized dictionary does not parse: " + text + ": " + again.error().message);
    if (!(*again == *dict)) fuzz::fail("dictionary round trip differs: " + text);
  }
  if (auto item = sf::parse_item(in)) {
    const std::string text = sf::serialize_item(*item);
    auto again = sf::parse_item(text);
    if (!again) fuzz::fail("serialized item does not parse: " + text + ": " + again.error().message);
    if (!(*again == *item)) fuzz::fail("item round trip differs: " + text);
  }
  (void)sf::parse_dictionary_members(in);
  (void)parse_segment_defects(in);
  (void)parse_repr_digest(in);
  return 0;
}
