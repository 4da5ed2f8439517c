// A request's head fields through the core, where each parser meets its context:
// CMCD (header and query), Segment-Defects and Repr-Digest on a PUT, Range and
// If-None-Match on a GET of a stored candidate, Sec-Purpose, routes. The input is
// lines: the first is a method letter (G GET, H HEAD, P PUT, O OPTIONS, D DELETE,
// S POST) and the target; then "name:value" field lines; after an empty line, the body.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "tests/fuzz/core_rig.h"

using namespace liveorigin;
using namespace liveorigin::fuzz;

namespace {

constexpr int kInputsPerRig = 1000;

std::unique_ptr<CoreRig> make_rig() {
  auto rig = std::make_unique<CoreRig>();
  const std::string n = std::to_string(kEdge);
  auto put = [&](const std::string& target, const std::string& pipeline, const std::string& defects) {
    Fields f = {{"Authorization", "Bearer ingest-secret"}, {"Live-Pipeline", pipeline}};
    if (!defects.empty()) f.emplace_back("Segment-Defects", defects);
    auto r = rig->request(Method::put, target, f, std::string(3000, 'x') + pipeline);
    if (!r || r->status != 201) fail("setup PUT " + target);
  };
  put("/live/final/video/" + n + ".m4s", "a", "");
  put("/live/final/video/" + std::to_string(kEdge - 1) + ".m4s", "a", "missing-frames=3");
  put("/live/final/video/" + std::to_string(kEdge - 1) + ".m4s", "b", "short-ms=10");
  return rig;
}

Method method_of(char c) {
  switch (c) {
    case 'H': return Method::head;
    case 'P': return Method::put;
    case 'O': return Method::options;
    case 'D': return Method::del;
    case 'S': return Method::post;
    default: return Method::get;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::unique_ptr<CoreRig> rig;
  static int inputs = 0;
  if (!rig || ++inputs % kInputsPerRig == 0) rig = make_rig();
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto [first, rest] = split(in, '\n');
  if (first.empty()) return 0;
  const Method m = method_of(first[0]);
  const std::string target(first.substr(1));
  Fields fields;
  std::string body;
  while (!rest.empty()) {
    auto [line, next] = split(rest, '\n');
    rest = next;
    if (line.empty()) {
      body = std::string(rest);
      break;
    }
    auto [name, value] = split(line, ':');
    fields.emplace_back(std::string(name), std::string(value));
  }
  (void)rig->request(m, target, fields, body);
  return 0;
}
