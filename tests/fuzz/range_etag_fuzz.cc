// Range and If-None-Match as CDNs send them. A range that parses lies inside the
// object.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "origin/core/representation.h"
#include "tests/fuzz/core_rig.h"

using namespace liveorigin;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The first 8 bytes are the object's size: any that a stored object can have.
  uint64_t raw = 0;
  if (size >= sizeof raw) {
    std::memcpy(&raw, data, sizeof raw);
    data += sizeof raw;
    size -= sizeof raw;
  }
  const int64_t object_size = static_cast<int64_t>(raw >> 1);
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  for (int64_t n : {object_size, int64_t{0}, int64_t{1}, int64_t{100000}}) {
    ByteRange r{-1, -1};
    if (parse_range(in, n, r) == RangeResult::ok) {
      if (r.first < 0 || r.last < r.first || r.last >= n) {
        fuzz::fail("range " + std::to_string(r.first) + "-" + std::to_string(r.last) + " of " + std::to_string(n) +
                   " bytes from '" + std::string(in) + "'");
      }
    }
  }
  (void)if_none_match_hits(in, "\"0-245584ce43758931\"");
  (void)if_none_match_hits(in, "W/\"1-0\"");
  return 0;
}
