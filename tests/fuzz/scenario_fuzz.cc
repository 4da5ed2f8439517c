// Scenario YAML (`liveorigin run`, `validate`): the parse entry point, which does no
// file I/O; a scenario that parses is turned into its parameters JSON as a run
// records it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sim/scenario.h"

using namespace liveorigin;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto s = parse_scenario(in, "fuzz.yaml")) (void)to_json(*s);
  return 0;
}
