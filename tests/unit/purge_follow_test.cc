// The pure parts of liveorigin purge-follow: the feed and timeline it reads, the ranges
// it purges and the regexes and URLs it sends (the live path is in
// tests/integration/real_cdn_test.cc, against real Varnish and nginx).
#include <gtest/gtest.h>

#include <random>
#include <regex>

#include "cdn/purge_follow.h"

namespace liveorigin::cdn {
namespace {

bool matches(const std::string& re, const std::string& text) { return std::regex_match(text, std::regex(re)); }

TEST(PurgeFollow, NumberRangeRegexMatchesExactlyTheRange) {
  // Every number near the range, for ranges picked to cross digit counts and block edges.
  const std::vector<std::pair<int64_t, int64_t>> ranges = {
      {0, 0}, {0, 9}, {0, 10}, {3, 7}, {9, 11}, {0, 99}, {1, 100}, {19, 201}, {100, 999}, {995, 1005}, {7, 12345}};
  for (const auto& [lo, hi] : ranges) {
    const std::string text = number_range_regex(lo, hi);
    const std::regex re(text);
    for (int64_t n = 0; n <= std::max<int64_t>(hi * 2, 30); ++n) {
      EXPECT_EQ(std::regex_match(std::to_string(n), re), n >= lo && n <= hi) << lo << ".." << hi << " n=" << n
                                                                            << " re=" << text;
    }
  }
  // Epoch-locked numbers are large: random ranges near 5e8, checked at and around their ends.
  std::mt19937_64 rng(14);
  for (int i = 0; i < 200; ++i) {
    const int64_t lo = 513'000'000 + static_cast<int64_t>(rng() % 1'000'000);
    const int64_t hi = lo + static_cast<int64_t>(rng() % (i % 2 ? 30 : 20'000));
    const std::string text = number_range_regex(lo, hi);
    const std::regex re(text);
    for (int64_t n : {lo - 11, lo - 1, lo, lo + 1, (lo + hi) / 2, hi - 1, hi, hi + 1, hi + 10, hi + 1000}) {
      EXPECT_EQ(std::regex_match(std::to_string(n), re), n >= lo && n <= hi) << lo << ".." << hi << " n=" << n;
    }
    EXPECT_LT(text.size(), 600u) << "the regex grows with digits, not with the range: " << text;
  }
}

TEST(PurgeFollow, BanRegexNamesTheStreamsUrlsWithPaddingAndQuery) {
  const PurgeRange r{"video.hd", "chunk-stream0-$Number%05d$.m4s", 98, 102};
  const auto re = ban_url_regex("final", r);
  ASSERT_TRUE(re) << re.error().message;
  EXPECT_TRUE(matches(*re, "/live/final/video.hd/chunk-stream0-00098.m4s"));
  EXPECT_TRUE(matches(*re, "/live/final/video.hd/chunk-stream0-00102.m4s?CMCD=bl%3D300"));
  EXPECT_FALSE(matches(*re, "/live/final/video.hd/chunk-stream0-00103.m4s"));
  EXPECT_FALSE(matches(*re, "/live/final/videoXhd/chunk-stream0-00100.m4s"));  // '.' is literal
  EXPECT_FALSE(matches(*re, "/live/final/video.hd/chunk-stream0-00100.m4sx"));
  EXPECT_FALSE(matches(*re, "/live/final2/video.hd/chunk-stream0-00100.m4s"));
}

TEST(PurgeFollow, RangesAreClampedToWhatACacheCanHold) {
  const std::vector<StreamWindow> streams = {{"v", "$Number$.m4s", 100, 200, 10}, {"a", "$Number$.m4s", 100, 200, 10}};
  FeedEntry e;
  e.stream = "v";
  e.from_segment = 50;
  e.to_segment = 150;
  auto r = purge_ranges(e, streams);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].from, 100);
  EXPECT_EQ(r[0].to, 150);
  e.stream.reset();
  e.to_segment.reset();  // open: up to edge + lookahead
  r = purge_ranges(e, streams);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1].to, 210);
  e.exclude = false;  // a readmission un-commits nothing
  EXPECT_TRUE(purge_ranges(e, streams).empty());
  e.exclude = true;
  e.from_segment = 300;  // beyond anything cached
  EXPECT_TRUE(purge_ranges(e, streams).empty());
  e.stream = "gone";
  e.from_segment.reset();
  EXPECT_TRUE(purge_ranges(e, streams).empty());
  const auto paths = refresh_paths("ev", {"v", "$Number$.m4s", 100, 210, 200}, 3);
  ASSERT_TRUE(paths);  // from the edge down: the next segment's request would be held
  EXPECT_EQ(*paths, (std::vector<std::string>{"/live/ev/v/200.m4s", "/live/ev/v/199.m4s", "/live/ev/v/198.m4s"}));
}

TEST(PurgeFollow, FeedTimelineAndUrlsParseOrSayWhatIsWrong) {
  const auto feed = parse_feed(
      R"([{"version":2,"stream":"v","from_segment":5,"to_segment":9,"pipeline":"a","exclude":true},)"
      R"({"version":3,"stream":null,"from_segment":null,"to_segment":null,"pipeline":null,"exclude":null}])");
  ASSERT_TRUE(feed) << feed.error().message;
  ASSERT_EQ(feed->size(), 2u);
  EXPECT_EQ((*feed)[0].pipeline, "a");
  EXPECT_EQ((*feed)[0].to_segment, 9);
  EXPECT_FALSE((*feed)[1].stream);
  EXPECT_FALSE((*feed)[1].exclude);
  EXPECT_FALSE(parse_feed("{}"));
  EXPECT_FALSE(parse_feed(R"([{"stream":"v"}])"));
  const auto tl = parse_timeline(
      R"({"event":"ev","streams":[{"id":"v","segment_template":"$Number$.m4s","oldest":1,"live_edge":9,"lookahead_segments":10}]})");
  ASSERT_TRUE(tl) << tl.error().message;
  EXPECT_EQ((*tl)[0].live_edge, 9);
  EXPECT_FALSE(parse_timeline(R"({"streams":[{"id":"v"}]})"));
  const auto url = parse_http_url("http://127.0.0.1:6081/");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->port, 6081);
  EXPECT_EQ(parse_http_url("http://cache").value().port, 80);
  EXPECT_EQ(parse_http_url("https://cache:1").error().message, "'https://cache:1' is not an http:// URL");
  EXPECT_EQ(parse_http_url("http://cache:1/x").error().message, "'http://cache:1/x': give only http://host:port, no path");
  EXPECT_EQ(parse_http_url("http://cache:99999").error().message, "'http://cache:99999': bad port");
}

}  // namespace
}  // namespace liveorigin::cdn
