#include "origin/core/segment_template.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace liveorigin {
namespace {


SegmentTemplate parse_ok(std::string_view text, std::string_view rep = "video-1080p") {
  auto t = SegmentTemplate::parse(text, rep);
  EXPECT_TRUE(t.ok()) << text << ": " << (t.ok() ? "" : t.error().message);
  return t.ok() ? *t : SegmentTemplate{};
}

struct FormatCase {
  const char* text;
  const char* representation_id;
  int64_t number;
  const char* object;
};

TEST(SegmentTemplateFormat, ProducesDashNames) {
  const std::vector<FormatCase> cases = {
      {"$Number$.m4s", "v", 5, "5.m4s"},
      {"$Number$.m4s", "v", 0, "0.m4s"},
      {"$Number$.m4s", "v", 884'467'890, "884467890.m4s"},
      {"$Number$", "v", 12, "12"},
      {"$Number%05d$.m4s", "v", 42, "00042.m4s"},
      {"$Number%05d$.m4s", "v", 0, "00000.m4s"},
      {"$Number%05d$.m4s", "v", 1'234'567, "1234567.m4s"},  // wider than the width: not cut
      {"$Number%01d$.m4s", "v", 3, "3.m4s"},
      {"$RepresentationID$-$Number$.m4s", "video-1080p", 7, "video-1080p-7.m4s"},
      {"chunk-$Number%03d$-$RepresentationID$.cmfa", "audio-en", 9, "chunk-009-audio-en.cmfa"},
      {"$$$Number$$$.m4s", "v", 3, "$3$.m4s"},
      {"a$$b_$Number$", "v", 1, "a$b_1"},
  };
  for (const auto& c : cases) {
    const SegmentTemplate t = parse_ok(c.text, c.representation_id);
    EXPECT_EQ(t.format(c.number), c.object) << c.text << " n=" << c.number;
    EXPECT_EQ(t.match(c.object), c.number) << c.text << " object=" << c.object;
  }
}

TEST(SegmentTemplateParse, KeepsTextAndWidth) {
  const SegmentTemplate plain = parse_ok("$Number$.m4s");
  EXPECT_EQ(plain.text(), "$Number$.m4s");
  EXPECT_EQ(plain.width(), 0);
  const SegmentTemplate padded = parse_ok("$RepresentationID$_$Number%07d$.m4s");
  EXPECT_EQ(padded.text(), "$RepresentationID$_$Number%07d$.m4s");  // unexpanded
  EXPECT_EQ(padded.width(), 7);
  EXPECT_EQ(parse_ok("$Number%018d$").width(), 18);
}

TEST(SegmentTemplateMatch, RoundTripsManyNumbers) {
  const std::vector<const char*> templates = {"$Number$.m4s", "seg-$Number%04d$.m4s",
                                             "$RepresentationID$_$Number%09d$.cmfv"};
  const std::vector<int64_t> numbers = {0,       1,           9,           10,
                                        99,      1000,        9999,        10000,
                                        123456,  884'467'890, 999'999'999, 1'000'000'000,
                                        int64_t{999'999'999'999'999'999}};
  for (const char* text : templates) {
    const SegmentTemplate t = parse_ok(text);
    for (int64_t n : numbers) {
      EXPECT_EQ(t.match(t.format(n)), n) << text << " n=" << n;
    }
  }
}

TEST(SegmentTemplateMatch, RefusesNonCanonicalAndForeignNames) {
  const SegmentTemplate t = parse_ok("$Number$.m4s");
  const std::vector<std::string> not_segments = {
      "007.m4s",  "00.m4s",   "+7.m4s",   "-7.m4s",    "-0.m4s",        " 7.m4s",
      "7 .m4s",   "7a.m4s",   "1e3.m4s",  "0x1f.m4s",  "7.mp4",         "7.m4s.tmp",
      "x7.m4s",   ".m4s",     "",         "init.mp4",  "manifest.mpd",  "7.M4S",
      "99999999999999999999.m4s",  // beyond int64_t
      "1234567890123456789.m4s",   // 19 digits: refused rather than risking overflow
  };
  for (const auto& object : not_segments) {
    EXPECT_EQ(t.match(object), std::nullopt) << "'" << object << "'";
  }
}

TEST(SegmentTemplateMatch, PaddedWidthIsExact) {
  const SegmentTemplate t = parse_ok("$Number%05d$.m4s");
  EXPECT_EQ(t.match("00042.m4s"), 42);
  EXPECT_EQ(t.match("00000.m4s"), 0);
  EXPECT_EQ(t.match("123456.m4s"), 123456);  // wider than the width, no padding needed
  EXPECT_EQ(t.match("99999.m4s"), 99999);
  EXPECT_EQ(t.match("42.m4s"), std::nullopt);       // not padded
  EXPECT_EQ(t.match("0042.m4s"), std::nullopt);     // padded too little
  EXPECT_EQ(t.match("000042.m4s"), std::nullopt);   // padded too much
  EXPECT_EQ(t.match("0123456.m4s"), std::nullopt);  // leading zero beyond the width
  EXPECT_EQ(t.match("0000.m4s"), std::nullopt);
}

TEST(SegmentTemplateMatch, RepresentationIdIsPartOfTheName) {
  const SegmentTemplate t = parse_ok("$RepresentationID$-$Number$.m4s", "audio-en");
  EXPECT_EQ(t.match("audio-en-17.m4s"), 17);
  EXPECT_EQ(t.match("audio-fr-17.m4s"), std::nullopt);
  EXPECT_EQ(t.match("$RepresentationID$-17.m4s"), std::nullopt);
  EXPECT_EQ(t.match("17.m4s"), std::nullopt);
}

TEST(SegmentTemplateMatch, PrefixAndSuffixMustNotOverlap) {
  const SegmentTemplate t = parse_ok("a$Number$a");
  EXPECT_EQ(t.match("a5a"), 5);
  EXPECT_EQ(t.match("a"), std::nullopt);
  EXPECT_EQ(t.match("aa"), std::nullopt);
  EXPECT_EQ(t.match("aaa"), std::nullopt);
}

struct ErrorCase {
  const char* text;
  const char* representation_id;
  const char* message_part;
};

TEST(SegmentTemplateParse, RefusesWhatCannotLocateSegmentsByNumber) {
  const std::vector<ErrorCase> cases = {
      {"$Time$.m4s", "v", "unsupported identifier $Time$"},
      {"$Number$-$Time$.m4s", "v", "unsupported identifier $Time$"},
      {"$Bandwidth$-$Number$.m4s", "v", "unsupported identifier $Bandwidth$"},
      {"$SubNumber$-$Number$.m4s", "v", "unsupported identifier $SubNumber$"},
      {"$number$.m4s", "v", "unsupported identifier $number$"},
      {"seg.m4s", "v", "no $Number$"},
      {"$RepresentationID$.m4s", "v", "no $Number$"},
      {"", "v", "no $Number$"},
      {"$$Number$$.m4s", "v", "no $Number$"},  // "$$" is a literal '$'
      {"$Number$-$Number$.m4s", "v", "more than one $Number$"},
      {"$Number%05d$-$Number$.m4s", "v", "more than one $Number$"},
      {"$Number%5d$.m4s", "v", "unsupported format '%5d'"},
      {"$Number%05x$.m4s", "v", "unsupported format '%05x'"},
      {"$Number%0d$.m4s", "v", "unsupported format '%0d'"},
      {"$Number05d$.m4s", "v", "unsupported format '05d'"},
      {"$Number%00d$.m4s", "v", "bad width in $Number%00d$"},
      {"$Number%019d$.m4s", "v", "bad width in $Number%019d$"},
      {"$Number%0-3d$.m4s", "v", "bad width in $Number%0-3d$"},
      {"$Number%0ad$.m4s", "v", "bad width in $Number%0ad$"},
      {"$Number$.m4s$", "v", "unterminated '$' at offset 12"},
      {"$Number", "v", "unterminated '$' at offset 0"},
      {"live/$Number$.m4s", "v", "must not contain '/'"},
      {"$Number$/x.m4s", "v", "must not contain '/'"},
      {"$RepresentationID$-$Number$.m4s", "a/b", "must not contain '/'"},
  };
  for (const auto& c : cases) {
    auto t = SegmentTemplate::parse(c.text, c.representation_id);
    ASSERT_FALSE(t.ok()) << "'" << c.text << "' parsed";
    EXPECT_NE(t.error().message.find(c.message_part), std::string::npos)
        << "'" << c.text << "': " << t.error().message;
  }
}

}  // namespace
}  // namespace liveorigin
