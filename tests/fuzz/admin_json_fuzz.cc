// Admin JSON bodies through the core, as an operator's tooling sends them: the first
// byte picks the endpoint (an event created with PUT /admin/events/fz, a marker, an
// invalidation), the rest is the body. What they change is then read back the way a
// CDN reads it: the new event's timeline and generated manifests, a segment's
// Live-Markers (which must be a valid RFC 8941 list), the invalidation feed.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "origin/core/structured_fields.h"
#include "tests/fuzz/core_rig.h"

using namespace liveorigin;
using namespace liveorigin::fuzz;

namespace {

const Fields kAdmin = {{"Authorization", "Bearer admin-secret"}};
const std::string kSegment = "/live/final/video/" + std::to_string(kEdge) + ".m4s";

// A fresh core now and then, so state that piles up across inputs (markers,
// invalidations) does not make later inputs slower and slower.
constexpr int kInputsPerRig = 500;

std::unique_ptr<CoreRig> make_rig() {
  auto rig = std::make_unique<CoreRig>();
  const Fields a = {{"Authorization", "Bearer ingest-secret"}, {"Live-Pipeline", "a"}};
  auto r = rig->request(Method::put, kSegment, a, "segment bytes");
  if (!r || r->status != 201) fail("setup PUT");
  return rig;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::unique_ptr<CoreRig> rig;
  static int inputs = 0;
  if (!rig || ++inputs % kInputsPerRig == 0) rig = make_rig();
  if (size == 0) return 0;
  const std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      auto r = rig->request(Method::put, "/admin/events/fz", kAdmin, body);
      if (r && r->status >= 200 && r->status < 300) {
        for (const char* path : {"/live/fz/_timeline", "/live/fz/_dash.mpd", "/live/fz/_hls.m3u8"}) {
          (void)rig->request(Method::get, path, {});
        }
        (void)rig->request(Method::del, "/admin/events/fz", kAdmin);
      }
      break;
    }
    case 1: {
      (void)rig->request(Method::post, "/admin/events/final/markers", kAdmin, body);
      auto r = rig->request(Method::get, kSegment, {});
      if (r) {
        if (const std::string* markers = r->find("Live-Markers")) {
          auto list = sf::parse_list(*markers);
          if (!list) fail("Live-Markers is not an RFC 8941 list: " + *markers + ": " + list.error().message);
        }
      }
      break;
    }
    default:
      (void)rig->request(Method::post, "/admin/invalidate", kAdmin, body);
      (void)rig->request(Method::get, "/live/final/_invalidations?since=0", {});
      (void)rig->request(Method::get, kSegment, {});
      break;
  }
  return 0;
}
