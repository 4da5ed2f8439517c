#include "origin/core/target.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace liveorigin {
namespace {

std::vector<std::string> segments_of(const Target& t) {
  std::vector<std::string> out;
  for (size_t i = 0; i < t.count; ++i) out.emplace_back(t[i]);
  return out;
}

struct SplitCase {
  const char* target;
  std::vector<std::string> segments;
  const char* query;
};

TEST(TargetParse, SplitsPathAndQuery) {
  const std::vector<SplitCase> cases = {
      {"/live/final/video-1080p/882031729.m4s", {"live", "final", "video-1080p", "882031729.m4s"}, ""},
      {"/live/final/_timeline", {"live", "final", "_timeline"}, ""},
      {"/live/final/_invalidations?since=12", {"live", "final", "_invalidations"}, "since=12"},
      {"/time", {"time"}, ""},
      {"/", {}, ""},
      {"/?x=1", {}, "x=1"},
      {"/a?", {"a"}, ""},
      {"/a?b=%20&c", {"a"}, "b=%20&c"},
      {"/a?b=/c?d", {"a"}, "b=/c?d"},
      {"/.well-known/x", {".well-known", "x"}, ""},  // only "." and ".." themselves are refused
      {"/a/..b/c.", {"a", "..b", "c."}, ""},
      {"/1/2/3/4/5/6/7/8", {"1", "2", "3", "4", "5", "6", "7", "8"}, ""},
  };
  for (const auto& c : cases) {
    auto t = parse_target(c.target);
    ASSERT_TRUE(t.ok()) << c.target << ": " << t.error().message;
    EXPECT_EQ(segments_of(*t), c.segments) << c.target;
    EXPECT_EQ(t->count, c.segments.size()) << c.target;
    EXPECT_EQ(t->query, c.query) << c.target;
  }
}

TEST(TargetParse, IndexBeyondCountIsEmpty) {
  auto t = parse_target("/live/final");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)[0], "live");
  EXPECT_EQ((*t)[1], "final");
  EXPECT_EQ((*t)[2], "");
  EXPECT_EQ((*t)[Target::kMaxSegments - 1], "");
}

TEST(TargetParse, UnescapedSegmentsPointIntoTheTarget) {
  const std::string target = "/live/final/audio-en/17.m4s?x=1";
  auto t = parse_target(target);
  ASSERT_TRUE(t.ok());
  const char* begin = target.data();
  const char* end = target.data() + target.size();
  for (size_t i = 0; i < t->count; ++i) {
    EXPECT_GE((*t)[i].data(), begin);
    EXPECT_LE((*t)[i].data() + (*t)[i].size(), end);
  }
  EXPECT_EQ(t->query.data(), begin + target.find('?') + 1);
}

TEST(TargetDecode, PercentEncodedSegmentsAreDecoded) {
  const std::vector<SplitCase> cases = {
      {"/live/ev%20one/s/1.m4s", {"live", "ev one", "s", "1.m4s"}, ""},
      {"/%61bc", {"abc"}, ""},
      {"/a%2Bb/c+d", {"a+b", "c+d"}, ""},  // '+' is not a space in a path
      {"/%7e%7E/%25", {"~~", "%"}, ""},
      {"/plain/en%C3%A9/x?q=%20", {"plain", "en\xc3\xa9", "x"}, "q=%20"},  // query stays encoded
  };
  for (const auto& c : cases) {
    auto t = parse_target(c.target);
    ASSERT_TRUE(t.ok()) << c.target << ": " << t.error().message;
    EXPECT_EQ(segments_of(*t), c.segments) << c.target;
    EXPECT_EQ(t->query, c.query) << c.target;
  }
}

TEST(TargetDecode, DecodedViewsSurviveMoves) {
  // Short (small-string sized) and long targets: the views must not point into
  // storage that stays behind or is freed when the Target moves.
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"/%61/%62", {"a", "b"}},
      {"/x%20y", {"x y"}},
      {"/live/final%2Dday/video%2D1080p/%31%32%33.m4s",
       {"live", "final-day", "video-1080p", "123.m4s"}},
      {"/" + std::string(40, 'a') + "%20/" + std::string(200, 'b') + "%21",
       {std::string(40, 'a') + " ", std::string(200, 'b') + "!"}},
  };
  for (const auto& [text, expected] : cases) {
    std::vector<Target> kept;
    {
      auto parsed = std::make_unique<Result<Target>>(parse_target(text));
      ASSERT_TRUE(parsed->ok()) << text;
      Target first = std::move(**parsed);
      parsed.reset();  // the Result the Target was parsed into is gone
      Target second;
      second = std::move(first);
      kept.push_back(std::move(second));
    }
    for (int i = 0; i < 20; ++i) kept.emplace_back();  // reallocate the vector: more moves
    EXPECT_EQ(segments_of(kept.front()), expected) << text;
  }
}

TEST(TargetQuery, QueryParam) {
  struct Case {
    const char* query;
    const char* key;
    std::optional<std::string> value;
  };
  const std::vector<Case> cases = {
      {"since=12", "since", "12"},
      {"since=12&x=1", "x", "1"},
      {"since=12&x=1", "since", "12"},
      {"since=12", "x", std::nullopt},
      {"", "since", std::nullopt},
      {"sincex=1&xsince=2", "since", std::nullopt},  // whole keys only
      {"a=%20b%2F", "a", " b/"},
      {"a", "a", ""},
      {"a=", "a", ""},
      {"a=1&a=2", "a", "1"},  // the first one
      {"s%69nce=5", "since", "5"},  // keys are compared decoded
      {"x=%zz&since=3", "since", std::nullopt},  // malformed query: nothing trusted
  };
  for (const auto& c : cases) {
    EXPECT_EQ(query_param(c.query, c.key), c.value) << c.query << " [" << c.key << "]";
  }
}

TEST(TargetQuery, WorksOnTheQueryOfAParsedTarget) {
  auto t = parse_target("/live/final/_invalidations?since=41&pretty");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(query_param(t->query, "since"), "41");
  EXPECT_EQ(query_param(t->query, "pretty"), "");
  EXPECT_EQ(query_param(t->query, "other"), std::nullopt);
}

TEST(TargetErrors, EachRejectionHasItsMessage) {
  struct Case {
    std::string target;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"//", "empty path segment"},
      {"//a", "empty path segment"},
      {"/a//b", "empty path segment"},
      {"/live/final/", "empty path segment"},
      {"/.", "'.' or '..' path segment"},
      {"/..", "'.' or '..' path segment"},
      {"/a/.", "'.' or '..' path segment"},
      {"/a/./b", "'.' or '..' path segment"},
      {"/a/../b", "'.' or '..' path segment"},
      {"/../a", "'.' or '..' path segment"},
      {"/./a", "'.' or '..' path segment"},
      {"/./live/final/v/1.m4s", "'.' or '..' path segment"},
      {"/a/%2E", "'.' or '..' path segment"},
      {"/a/%2e%2E/b", "'.' or '..' path segment"},
      {"/1/2/3/4/5/6/7/8/9", "too many path segments"},
      {"/1/2/3/4/5/6/7/8/%39", "too many path segments"},
      {"/a/b%2Fc", "bad path segment"},
      {"", "bad request target"},
      {"a/b", "bad request target"},
      {"live/final", "bad request target"},
      {"*", "bad request target"},
      {"http://origin/live/final", "bad request target"},
      {"/a#frag", "bad request target"},
      {"/a b", "bad request target"},
      {"/a/%zz", "bad request target"},
      {"/a/%4", "bad request target"},
      {std::string("/a\0b", 4), "bad request target"},
  };
  for (const auto& c : cases) {
    auto t = parse_target(c.target);
    ASSERT_FALSE(t.ok()) << "'" << c.target << "' parsed";
    EXPECT_EQ(t.error().message, c.message) << "'" << c.target << "'";
  }
}

}  // namespace
}  // namespace liveorigin
