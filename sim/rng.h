// Seeded randomness for actors: one Rng per actor, derived from the scenario seed and
// the actor's name, so adding an actor does not change the others' draws.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <string_view>

#include "sim/scenario.h"

namespace liveorigin::sim {

class Rng {
 public:
  Rng(uint64_t seed, std::string_view stream_name) : engine_(mix(seed, stream_name)) {}

  double uniform01() { return std::uniform_real_distribution<double>(0.0, 1.0)(engine_); }
  bool chance(double p) { return p > 0 && uniform01() < p; }
  int64_t uniform_int(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(engine_); }

  double sample(const Distribution& d) {
    switch (d.kind) {
      case Distribution::Kind::fixed: return d.a;
      case Distribution::Kind::uniform: return d.a + (d.b - d.a) * uniform01();
      case Distribution::Kind::normal: return std::normal_distribution<double>(d.a, d.b)(engine_);
      case Distribution::Kind::lognormal: {
        // median m, 99th percentile p: sigma = ln(p/m) / z(0.99)
        const double mu = std::log(d.a);
        const double sigma = d.b > d.a ? std::log(d.b / d.a) / 2.3263478740408408 : 0.0;
        return std::exp(std::normal_distribution<double>(mu, sigma)(engine_));
      }
      case Distribution::Kind::exponential: return std::exponential_distribution<double>(1.0 / d.a)(engine_);
    }
    return d.a;
  }
  int64_t sample_ms(const Distribution& d) { return static_cast<int64_t>(std::llround(sample(d))); }

 private:
  static uint64_t mix(uint64_t seed, std::string_view name) {
    uint64_t h = 1469598103934665603ull ^ seed;  // FNV-1a over the name, keyed by the seed
    for (char c : name) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    return h;
  }
  std::mt19937_64 engine_;
};

}  // namespace liveorigin::sim
