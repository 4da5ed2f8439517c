// The init-segment box reader behind the manifests' codec strings (avcC, hvcC, esds,
// mdhd...): it must never read outside the bytes a packager PUT (libFuzzer's input is
// a heap buffer of exactly `size` bytes, so ASan sees a read one past the end).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "origin/core/manifests.h"

using namespace liveorigin;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)parse_init_segment(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
