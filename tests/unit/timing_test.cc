#include "origin/core/timing.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "origin/core/config.h"

namespace liveorigin {
namespace {

// A resolved stream as the config parser would produce it (the defaults of docs/http-api.md §3.3 for d).
StreamConfig stream(int64_t d = 2000, int64_t start_ms = 0, int64_t first = 0, int64_t latency = 0) {
  StreamConfig s;
  s.id = "video";
  s.segment_duration_ms = d;
  s.availability_start_ms = start_ms;
  s.start_number = first;
  s.publish_latency_ms = latency;
  s.hold_window_ms = d;
  s.hold_ms_max = 2 * d;
  s.pipeline_liveness_ms = 3 * d;
  return s;
}

EventConfig event(int64_t dvr_window_s = 3600) {
  EventConfig e;
  e.id = "final";
  e.pipelines = {{"a", 0}, {"b", 0}};
  e.dvr_window_s = dvr_window_s;
  return e;
}

const char* name(Zone z) {
  switch (z) {
    case Zone::expired: return "expired";
    case Zone::select: return "select";
    case Zone::hold: return "hold";
    case Zone::not_yet: return "not_yet";
    case Zone::too_early: return "too_early";
  }
  return "?";
}

TEST(TimingFloorDiv, RoundsTowardMinusInfinity) {
  EXPECT_EQ(floor_div(7, 2), 3);
  EXPECT_EQ(floor_div(6, 2), 3);
  EXPECT_EQ(floor_div(0, 2), 0);
  EXPECT_EQ(floor_div(-1, 2), -1);
  EXPECT_EQ(floor_div(-2, 2), -1);
  EXPECT_EQ(floor_div(-3, 2), -2);
  EXPECT_EQ(floor_div(-4000, 2000), -2);
  EXPECT_EQ(floor_div(-4001, 2000), -3);
}

TEST(TimingAvail, EpochLockedSegmentIsDueAtItsEnd) {
  const StreamConfig s = stream();
  EXPECT_EQ(media_start_ms(s, 0), 0);
  EXPECT_EQ(avail_ms(s, 0), 2000);
  EXPECT_EQ(media_start_ms(s, 5), 10000);
  EXPECT_EQ(avail_ms(s, 5), 12000);
  // A real 2025 wall-clock number.
  EXPECT_EQ(avail_ms(s, 882'031'729), int64_t{1'764'063'460'000});
}

TEST(TimingAvail, FollowsStartFirstNumberAndPublishLatency) {
  // start + (n - first + 1) * d + publish_latency_ms
  const StreamConfig s = stream(/*d=*/4000, /*start_ms=*/1'000'000, /*first=*/1, /*latency=*/300);
  EXPECT_EQ(media_start_ms(s, 1), 1'000'000);
  EXPECT_EQ(avail_ms(s, 1), 1'004'300);
  EXPECT_EQ(media_start_ms(s, 3), 1'008'000);
  EXPECT_EQ(avail_ms(s, 3), 1'012'300);
  EXPECT_EQ(avail_ms(s, 0), 1'000'300);  // before the first number: still linear
}

TEST(TimingLiveEdge, StepsExactlyWhenASegmentBecomesDue) {
  const StreamConfig s = stream();
  struct Case {
    int64_t now;
    int64_t edge;
  };
  const std::vector<Case> cases = {
      {2000, 0}, {3999, 0}, {4000, 1}, {4001, 1}, {1'764'063'458'123, 882'031'728},
  };
  for (const auto& c : cases) EXPECT_EQ(live_edge(s, c.now), c.edge) << "now=" << c.now;
}

TEST(TimingLiveEdge, IsFirstMinusOneUntilTheFirstSegmentIsDue) {
  // avail(first - 1) = start + latency, avail(first) = start + d + latency.
  const StreamConfig s = stream(/*d=*/2000, /*start_ms=*/50'000, /*first=*/1, /*latency=*/500);
  EXPECT_EQ(live_edge(s, 50'499), -1);
  EXPECT_EQ(live_edge(s, 50'500), 0);
  EXPECT_EQ(live_edge(s, 52'499), 0);
  EXPECT_EQ(live_edge(s, 52'500), 1);
  EXPECT_EQ(live_edge(s, 54'499), 1);
  EXPECT_EQ(live_edge(s, 54'500), 2);
}

TEST(TimingLiveEdge, IsTheLargestNumberAvailableNow) {
  // edge(now) = the largest n with avail(n) <= now, for every ms over a few segments,
  // including times before availability_start_ms.
  const std::vector<StreamConfig> streams = {
      stream(2000), stream(2000, 0, 0, 700), stream(3003, 10'000, 1, 0), stream(1000, 5'000, 7, 250),
      stream(6006, 123'456, 0, 1999)};
  for (const auto& s : streams) {
    for (int64_t now = 0; now < 40'000; now += 1) {
      const int64_t edge = live_edge(s, now);
      ASSERT_LE(avail_ms(s, edge), now) << "d=" << s.segment_duration_ms << " now=" << now;
      ASSERT_GT(avail_ms(s, edge + 1), now) << "d=" << s.segment_duration_ms << " now=" << now;
    }
  }
}

TEST(TimingDvrFloor, IsEdgeMinusDvrSegmentsButNeverBeforeTheFirstNumber) {
  const EventConfig e = event(3600);  // 1800 segments of 2 s
  EXPECT_EQ(dvr_floor(e, stream(), 5000), 3200);
  EXPECT_EQ(dvr_floor(e, stream(), 1800), 0);
  EXPECT_EQ(dvr_floor(e, stream(), 100), 0);
  EXPECT_EQ(dvr_floor(e, stream(2000, 0, 1), 100), 1);
  EXPECT_EQ(dvr_floor(e, stream(2000, 0, 1), 1801), 1);
  EXPECT_EQ(dvr_floor(e, stream(2000, 0, 1), 1802), 2);
  // ceil(10 * 1000 / 3000) = 4 segments
  EXPECT_EQ(dvr_floor(event(10), stream(3000), 100), 96);
}

struct ZoneCase {
  int64_t n;
  Zone zone;
  int64_t ttl_ms;
};

void expect_zones(const EventConfig& e, const StreamConfig& s, int64_t now, int64_t edge,
                  const std::vector<ZoneCase>& cases) {
  for (const auto& c : cases) {
    const ZoneDecision z = classify(e, s, c.n, now);
    EXPECT_EQ(name(z.zone), std::string(name(c.zone))) << "n=" << c.n << " now=" << now;
    EXPECT_EQ(z.edge, edge) << "n=" << c.n;
    if (c.zone != Zone::select && c.zone != Zone::hold) {
      EXPECT_EQ(z.ttl_ms, c.ttl_ms) << "n=" << c.n << " now=" << now;
    }
  }
}

TEST(TimingClassify, ZonesAndTtlsWithDefaults) {
  // d = 2000, hold_window = d, lookahead 10, dvr 1800 segments.
  // now = 10'000'500: edge = 4999 (avail 10'000'000), avail(5000) = 10'002'000.
  const EventConfig e = event();
  const StreamConfig s = stream();
  const int64_t now = 10'000'500;
  expect_zones(e, s, now, 4999,
               {
                   {0, Zone::expired, 3'600'000},
                   {3198, Zone::expired, 3'600'000},  // edge - dvr_segments - 1
                   {3199, Zone::select, 0},           // edge - dvr_segments
                   {4000, Zone::select, 0},
                   {4999, Zone::select, 0},  // the edge
                   {5000, Zone::hold, 0},    // due in 1500 ms <= hold_window
                   // not-yet TTL = avail(n) - hold_window - now: a retry lands in the hold window
                   {5001, Zone::not_yet, 1500},
                   {5002, Zone::not_yet, 3500},
                   {5009, Zone::not_yet, 17'500},  // edge + lookahead
                   {5010, Zone::too_early, 19'500},
                   {5030, Zone::too_early, 59'500},
                   {5031, Zone::too_early, 60'000},  // 61'500 capped
                   {9'999'999, Zone::too_early, 60'000},
               });
}

TEST(TimingClassify, HoldWindowBoundaryIsInclusive) {
  const EventConfig e = event();
  const StreamConfig s = stream();
  const int64_t now = 10'000'000;  // edge 4999 just became due; avail(5000) - now == d
  expect_zones(e, s, now, 4999,
               {
                   {4999, Zone::select, 0},
                   {5000, Zone::hold, 0},
                   {5001, Zone::not_yet, 2000},
               });
  expect_zones(e, s, now - 1, 4998,
               {
                   {4999, Zone::hold, 0},
                   {5000, Zone::not_yet, 1},
               });
}

TEST(TimingClassify, UsesTheStreamsOwnSettings) {
  StreamConfig s = stream(/*d=*/4000, /*start_ms=*/1'000'000, /*first=*/1, /*latency=*/300);
  s.hold_window_ms = 1000;
  s.lookahead_segments = 2;
  const EventConfig e = event(60);  // 15 segments
  // now = 1'100'000: (1'100'000 - 1'000'000 - 300) / 4000 = 24.9 -> edge = 24 + 1 - 1 = 24
  const int64_t now = 1'100'000;
  ASSERT_EQ(avail_ms(s, 24), 1'096'300);
  expect_zones(e, s, now, 24,
               {
                   {8, Zone::expired, 3'600'000},
                   {9, Zone::select, 0},
                   {24, Zone::select, 0},
                   {25, Zone::hold, 0},  // avail 1'100'300: due in 300 <= hold_window 1000
                   {26, Zone::not_yet, 3300},
                   {27, Zone::too_early, 7300},  // beyond edge + lookahead 2
               });
}

TEST(TimingClassify, NumbersBeforeTheFirstAreExpired) {
  const EventConfig e = event();
  const StreamConfig s = stream(/*d=*/2000, /*start_ms=*/0, /*first=*/1);
  const int64_t now = 7000;  // edge 3, far inside the DVR window
  EXPECT_EQ(classify(e, s, 0, now).zone, Zone::expired);
  EXPECT_EQ(classify(e, s, 0, now).ttl_ms, 3'600'000);
  EXPECT_EQ(classify(e, s, 1, now).zone, Zone::select);
  EXPECT_EQ(classify(e, s, 3, now).zone, Zone::select);
  EXPECT_EQ(classify(e, s, 4, now).zone, Zone::hold);
}

TEST(TimingClassify, HoldIsCheckedBeforeLookahead) {
  // Table order: a number inside a wide hold window is held even beyond lookahead.
  StreamConfig s = stream();
  s.hold_window_ms = 30'000;
  s.lookahead_segments = 2;
  const EventConfig e = event();
  const int64_t now = 10'000'500;  // edge 4999
  EXPECT_EQ(classify(e, s, 5014, now).zone, Zone::hold);  // due in 29'500
  const ZoneDecision beyond = classify(e, s, 5015, now);  // due in 31'500
  EXPECT_EQ(beyond.zone, Zone::too_early);
  EXPECT_EQ(beyond.ttl_ms, 1500);
}

TEST(TimingClassify, ZeroLookaheadAndZeroHoldWindow) {
  StreamConfig s = stream();
  s.lookahead_segments = 0;
  const EventConfig e = event();
  const int64_t now = 10'000'500;
  EXPECT_EQ(classify(e, s, 5000, now).zone, Zone::hold);
  EXPECT_EQ(classify(e, s, 5001, now).zone, Zone::too_early);

  s = stream();
  s.hold_window_ms = 0;
  const ZoneDecision z = classify(e, s, 5000, now);
  EXPECT_EQ(z.zone, Zone::not_yet);
  EXPECT_EQ(z.ttl_ms, 1500);
}

TEST(TimingClassify, PublishLatencyDelaysTheEdge) {
  const EventConfig e = event();
  const int64_t now = 10'000'500;
  const StreamConfig late = stream(2000, 0, 0, /*latency=*/700);
  EXPECT_EQ(classify(e, late, 4999, now).zone, Zone::hold);  // due at 10'000'700
  EXPECT_EQ(classify(e, late, 4998, now).zone, Zone::select);
  EXPECT_EQ(classify(e, late, 4998, now).edge, 4998);
}

TEST(TimingClassify, NotYetRetryLandsInTheHoldWindow) {
  const EventConfig e = event();
  for (const StreamConfig& s : {stream(), stream(3003, 10'000, 1, 250), stream(1000, 0, 0, 0)}) {
    for (int64_t now = 1'000'000; now < 1'010'000; now += 137) {
      for (int64_t n = live_edge(s, now) + 1; n <= live_edge(s, now) + s.lookahead_segments; ++n) {
        const ZoneDecision z = classify(e, s, n, now);
        if (z.zone != Zone::not_yet) continue;
        ASSERT_GT(z.ttl_ms, 0);
        EXPECT_EQ(classify(e, s, n, now + z.ttl_ms).zone, Zone::hold) << "n=" << n << " now=" << now;
        EXPECT_EQ(classify(e, s, n, now + z.ttl_ms - 1).zone, Zone::not_yet) << "n=" << n;
      }
    }
  }
}

TEST(TimingNotYetTtl, MatchesClassifyAndIsZeroOnceHoldable) {
  const EventConfig e = event();
  const StreamConfig s = stream();
  const int64_t now = 10'000'500;  // edge 4999
  for (int64_t n = 5001; n <= 5009; ++n) {
    EXPECT_EQ(not_yet_ttl_ms(s, n, now), classify(e, s, n, now).ttl_ms) << n;
  }
  EXPECT_EQ(not_yet_ttl_ms(s, 5001, now), 1500);
  EXPECT_EQ(not_yet_ttl_ms(s, 5100, now), 199'500);  // not capped: that is classify's job
  EXPECT_EQ(not_yet_ttl_ms(s, 5000, now), 0);          // inside the hold window
  EXPECT_EQ(not_yet_ttl_ms(s, 4999, now), 0);          // already due
  EXPECT_EQ(not_yet_ttl_ms(s, 10, now), 0);
}

TEST(TimingIso8601, FormatsUtcWithMilliseconds) {
  struct Case {
    int64_t ms;
    const char* text;
  };
  const std::vector<Case> cases = {
      {0, "1970-01-01T00:00:00.000Z"},
      {5, "1970-01-01T00:00:00.005Z"},
      {1'764'063'458'123, "2025-11-25T09:37:38.123Z"},
      {951'782'400'000, "2000-02-29T00:00:00.000Z"},
      {4'102'444'799'999, "2099-12-31T23:59:59.999Z"},
      {-1, "1969-12-31T23:59:59.999Z"},
      {-86'400'000, "1969-12-31T00:00:00.000Z"},
  };
  for (const auto& c : cases) EXPECT_EQ(format_iso8601_ms(c.ms), c.text) << c.ms;
}

// Found by tests/fuzz/core_request: GET /live/final/video/8888888888899999.m4s made
// avail(n) overflow (n * d, undefined behaviour). A number whose times do not fit is
// too early, with the capped TTL, and nothing is multiplied.
TEST(TimingZones, ANumberTooLargeForTheTimeMathIsTooEarly) {
  for (int64_t d : {1, 2000, 3'600'000}) {
    SCOPED_TRACE(d);
    const StreamConfig s = stream(d);
    const int64_t now = 1'000'000'000;
    for (int64_t n : {kTimeMsMax / d + 1, std::numeric_limits<int64_t>::max()}) {
      EXPECT_FALSE(computable_number(s, n)) << n;
      const ZoneDecision z = classify(event(), s, n, now);
      EXPECT_STREQ(name(z.zone), "too_early") << n;
      EXPECT_EQ(z.ttl_ms, kTooEarlyTtlMsMax);
    }
    EXPECT_TRUE(computable_number(s, kTimeMsMax / d - 1));
    // The epoch-locked number of the year 9999 is well inside.
    EXPECT_TRUE(computable_number(s, 253'402'300'800'000 / d));
  }
  EXPECT_STREQ(name(classify(event(), stream(2000), 8888888888899999, 1'000'000'000).zone), "too_early");
}

}  // namespace
}  // namespace liveorigin
