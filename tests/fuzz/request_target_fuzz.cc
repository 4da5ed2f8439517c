// Request targets as the transport and the core read them: the form check of
// RFC 9112 §3.2 (origin, absolute, asterisk, authority), the path split and decode,
// the routes, query parameters; and the raw-head checks of framing.h (obs-fold,
// Host). A target the form check passes or rewrites must be one the path parser
// can be handed.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "origin/core/routing.h"
#include "origin/core/target.h"
#include "origin/http/framing.h"
#include "tests/fuzz/core_rig.h"

using namespace liveorigin;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string origin_form;
  const bool ok = !request_target_error("GET", in, origin_form);
  const std::string_view target = origin_form.empty() ? in : std::string_view(origin_form);
  if (ok && !target.starts_with('/')) fuzz::fail("a routable target that is not origin-form: " + std::string(target));
  if (auto t = parse_target(target)) {
    for (size_t i = 0; i < t->count; ++i) {
      if ((*t)[i].empty()) fuzz::fail("empty path segment accepted");
      if ((*t)[i] == "." || (*t)[i] == "..") fuzz::fail("dot segment accepted");
    }
    (void)query_param(t->query, "since");
    (void)query_param(t->query, "CMCD");
  }
  (void)Route::of(target);

  RequestFraming f;
  f.host_lines = 1;
  f.host = in;
  (void)framing_error(f);
  f.host_lines = 0;
  f.transfer_encoding.push_back(in);
  (void)framing_error(f);
  if (auto folded = obs_folded_field(in)) {
    if (folded->size() > in.size()) fuzz::fail("folded field name outside the input");
  }
  return 0;
}
