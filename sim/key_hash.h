// A hash for tuple and pair keys of the simulation's per-request maps (records, what
// each pipeline sent), so they can be unordered_maps: written to per request, read by
// key, never iterated in hash order where order matters.
#pragma once

#include <cstddef>
#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>

namespace liveorigin::sim {

struct KeyHash {
  static size_t mix(size_t h, size_t v) { return h ^ (v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2)); }
  template <class... T>
  size_t operator()(const std::tuple<T...>& t) const {
    size_t h = 0;
    std::apply([&](const auto&... x) { ((h = mix(h, std::hash<std::decay_t<decltype(x)>>{}(x))), ...); }, t);
    return h;
  }
  template <class A, class B>
  size_t operator()(const std::pair<A, B>& p) const {
    return mix(std::hash<A>{}(p.first), std::hash<B>{}(p.second));
  }
};

}  // namespace liveorigin::sim
