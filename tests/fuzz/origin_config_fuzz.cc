// The origin config YAML (what `serve --config` and SIGHUP read) and one event as
// the admin API takes it (YAML or JSON). A config that parses is written back
// (to_yaml, as check-config prints it) and must parse again.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "origin/core/config.h"
#include "tests/fuzz/core_rig.h"

using namespace liveorigin;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto config = parse_origin_config(in, "fuzz.yaml")) {
    const std::string text = to_yaml(*config);
    auto again = parse_origin_config(text, "to_yaml");
    if (!again) fuzz::fail("to_yaml of a parsed config does not parse: " + again.error().message + "\n" + text);
    (void)restart_only_changes(*config, *again);
  }
  (void)parse_event_config(in, "body", "");
  (void)parse_event_config(in, "body", "final");
  return 0;
}
