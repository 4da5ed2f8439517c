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

  // The value below which a share u (in (0, 1)) of the distribution lies. Groups that
  // each stand for an equal share of a population take stratified quantiles
  // ((g + U) / groups) rather than independent draws: a few groups then cover the
  // distribution about as well as many, which keeps aggregation's error small.
  static double quantile(const Distribution& d, double u) {
    switch (d.kind) {
      case Distribution::Kind::fixed: return d.a;
      case Distribution::Kind::uniform: return d.a + (d.b - d.a) * u;
      case Distribution::Kind::normal: return d.a + d.b * normal_quantile(u);
      case Distribution::Kind::lognormal: {
        const double sigma = d.b > d.a ? std::log(d.b / d.a) / 2.3263478740408408 : 0.0;
        return d.a * std::exp(sigma * normal_quantile(u));
      }
      case Distribution::Kind::exponential: return -d.a * std::log1p(-u);
    }
    return d.a;
  }
  // The standard normal's inverse CDF (Acklam's rational approximation, relative error
  // below 1.2e-9).
  static double normal_quantile(double u) {
    static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                                   1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
    static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                                   6.680131188771972e+01,  -1.328068155288572e+01};
    static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                                   -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
    static constexpr double e[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                                   3.754408661907416e+00};
    constexpr double low = 0.02425;
    if (u <= 0) return -INFINITY;
    if (u >= 1) return INFINITY;
    if (u < low || u > 1 - low) {
      const double q = std::sqrt(-2 * std::log(u < low ? u : 1 - u));
      const double x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
                       ((((e[0] * q + e[1]) * q + e[2]) * q + e[3]) * q + 1);
      return u < low ? x : -x;
    }
    const double q = u - 0.5;
    const double r = q * q;
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
           (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }

 private:
  static uint64_t mix(uint64_t seed, std::string_view name) {
    uint64_t h = 1469598103934665603ull ^ seed;  // FNV-1a over the name, keyed by the seed
    for (char c : name) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    return h;
  }
  std::mt19937_64 engine_;
};

}  // namespace liveorigin::sim
