// Time math of docs/http-api.md §2: when each segment of an epoch-locked stream should
// exist, which is the live edge now, and which delivery zone a number falls in.
// Pure functions of the stream config and a time; no clock is read here.
#pragma once

#include <cstdint>
#include <limits>
#include <string>

#include "origin/core/config.h"

namespace liveorigin {

// Floor division (numbers before availability_start_ms are negative offsets).
constexpr int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// Times up to this are computed without overflow, with room for the sums made on them
// (TTLs, expiry): far beyond any time an epoch-locked stream reaches, whatever its
// segment duration.
inline constexpr int64_t kTimeMsMax = std::numeric_limits<int64_t>::max() / 4;

// Whether n's times (below) stay within kTimeMsMax. A request may name any number of
// up to 18 digits; one beyond is too early (delivery) or refused (audit), and its
// times are never computed: n * d would overflow.
constexpr bool computable_number(const StreamConfig& s, int64_t n) {
  const int64_t span = kTimeMsMax / s.segment_duration_ms;
  return n < s.start_number + span && n > s.start_number - span;
}

// Segment n covers media time [media_start_ms(n), media_start_ms(n) + d).
constexpr int64_t media_start_ms(const StreamConfig& s, int64_t n) {
  return s.availability_start_ms + (n - s.start_number) * s.segment_duration_ms;
}

// avail(n) = start + (n - first + 1) * d + publish_latency_ms
constexpr int64_t avail_ms(const StreamConfig& s, int64_t n) {
  return media_start_ms(s, n + 1) + s.publish_latency_ms;
}

// The largest n with avail(n) <= now. Before the stream starts it is below start_number
// (the formula extends backwards); dvr_floor clamps, so such numbers are expired.
constexpr int64_t live_edge(const StreamConfig& s, int64_t now_ms) {
  return floor_div(now_ms - s.availability_start_ms - s.publish_latency_ms, s.segment_duration_ms) +
         s.start_number - 1;
}

// The oldest number still served and accepted: edge - dvr_segments, never before start_number.
inline int64_t dvr_floor(const EventConfig& e, const StreamConfig& s, int64_t edge) {
  const int64_t f = edge - e.dvr_segments(s);
  return f < s.start_number ? s.start_number : f;
}

// Delivery zones of docs/http-api.md §7.2 for a numbered segment of a known stream, in table order.
enum class Zone { expired, select, hold, not_yet, too_early };

struct ZoneDecision {
  Zone zone;
  int64_t edge;
  int64_t ttl_ms;  // cache TTL for expired / not_yet / too_early
};

inline constexpr int64_t kExpiredTtlMs = 3'600'000;
inline constexpr int64_t kTooEarlyTtlMsMax = 60'000;
inline constexpr int64_t kUnknownTtlMs = 10'000;

inline ZoneDecision classify(const EventConfig& e, const StreamConfig& s, int64_t n, int64_t now_ms) {
  const int64_t edge = live_edge(s, now_ms);
  if (n < dvr_floor(e, s, edge)) return {Zone::expired, edge, kExpiredTtlMs};
  if (n <= edge) return {Zone::select, edge, 0};
  if (!computable_number(s, n)) return {Zone::too_early, edge, kTooEarlyTtlMsMax};
  const int64_t until_avail = avail_ms(s, n) - now_ms;
  if (until_avail <= s.hold_window_ms) return {Zone::hold, edge, 0};
  // A CDN that retries after this TTL lands inside the hold window.
  const int64_t ttl = until_avail - s.hold_window_ms;
  if (n <= edge + s.lookahead_segments) return {Zone::not_yet, edge, ttl};
  return {Zone::too_early, edge, ttl < kTooEarlyTtlMsMax ? ttl : kTooEarlyTtlMsMax};
}

// The not-yet TTL hint for n (0 once inside the hold window): used when a hold
// cannot be granted or times out, so the CDN retries when it can be held.
inline int64_t not_yet_ttl_ms(const StreamConfig& s, int64_t n, int64_t now_ms) {
  const int64_t ttl = avail_ms(s, n) - s.hold_window_ms - now_ms;
  return ttl > 0 ? ttl : 0;
}

// ISO 8601 UTC with milliseconds, "2026-11-25T09:37:38.123Z" (DASH http-iso UTCTiming).
std::string format_iso8601_ms(int64_t epoch_ms);

}  // namespace liveorigin
