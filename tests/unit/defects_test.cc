#include "origin/core/defects.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace liveorigin {
namespace {

Defects parse_ok(std::string_view text) {
  auto d = parse_segment_defects(text);
  EXPECT_TRUE(d.ok()) << "'" << text << "': " << (d.ok() ? "" : d.error().message);
  return d.ok() ? *d : Defects{};
}

struct ParseCase {
  const char* field;
  int64_t missing_samples;
  int64_t missing_frames;
  int64_t short_ms;
  bool discontinuity;
  bool corrupt;
  int unknown_keys;
  const char* header;
  DefectTier tier;
  int64_t magnitude;
  int other_keys;
};

TEST(DefectsParse, ReadsEveryKey) {
  using T = DefectTier;
  const std::vector<ParseCase> cases = {
      // field, samples, frames, short, disc, corrupt, unknown, header, tier, magnitude, other
      {"", 0, 0, 0, false, false, 0, "", T::clean, 0, 0},
      {"missing-samples=12", 12, 0, 0, false, false, 0, "missing-samples=12", T::missing_samples, 12, 0},
      {"missing-frames=3", 0, 3, 0, false, false, 0, "missing-frames=3", T::missing_frames, 3, 0},
      {"short-ms=40", 0, 0, 40, false, false, 0, "short-ms=40", T::short_ms, 40, 0},
      {"discontinuity", 0, 0, 0, true, false, 0, "discontinuity", T::discontinuity, 1, 0},
      {"corrupt", 0, 0, 0, false, true, 0, "corrupt", T::corrupt, 1, 0},
      {"corrupt=?1", 0, 0, 0, false, true, 0, "corrupt", T::corrupt, 1, 0},
      {"  discontinuity=?1  ", 0, 0, 0, true, false, 0, "discontinuity", T::discontinuity, 1, 0},
      {"missing-samples=1, missing-frames=2, short-ms=3, discontinuity, corrupt", 1, 2, 3, true, true, 0,
       "missing-samples=1, missing-frames=2, short-ms=3, discontinuity, corrupt", T::corrupt, 1, 4},
      {"short-ms=80,missing-frames=2", 0, 2, 80, false, false, 0, "short-ms=80, missing-frames=2",
       T::short_ms, 80, 1},
      {"missing-frames=2, missing-samples=900", 900, 2, 0, false, false, 0,
       "missing-frames=2, missing-samples=900", T::missing_frames, 2, 1},
      // A later duplicate key overwrites the earlier one (RFC 8941).
      {"missing-frames=1, missing-frames=5", 0, 5, 0, false, false, 0, "missing-frames=5",
       T::missing_frames, 5, 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string("'") + c.field + "'");
    const Defects d = parse_ok(c.field);
    EXPECT_EQ(d.missing_samples, c.missing_samples);
    EXPECT_EQ(d.missing_frames, c.missing_frames);
    EXPECT_EQ(d.short_ms, c.short_ms);
    EXPECT_EQ(d.discontinuity, c.discontinuity);
    EXPECT_EQ(d.corrupt, c.corrupt);
    EXPECT_EQ(d.unknown_keys, c.unknown_keys);
    EXPECT_EQ(d.header, c.header);
    EXPECT_EQ(d.clean(), c.tier == DefectTier::clean);
    EXPECT_EQ(to_string(d.tier()), std::string(to_string(c.tier)));
    EXPECT_EQ(d.magnitude(), c.magnitude);
    EXPECT_EQ(d.other_keys(), c.other_keys);
  }
}

TEST(DefectsParse, ZeroCountsAndFalseFlagsAreAbsent) {
  const std::vector<const char*> clean = {
      "missing-samples=0",
      "missing-frames=0",
      "short-ms=0",
      "discontinuity=?0",
      "corrupt=?0",
      "missing-samples=0, missing-frames=0, short-ms=0, discontinuity=?0, corrupt=?0",
  };
  for (const char* field : clean) {
    const Defects d = parse_ok(field);
    EXPECT_TRUE(d.clean()) << field;
    EXPECT_EQ(d.header, "") << field;
    EXPECT_EQ(d.tier(), DefectTier::clean) << field;
    EXPECT_EQ(d.other_keys(), 0) << field;
    EXPECT_FALSE(d.corrupt || d.discontinuity) << field;
  }
  // Mixed: only the present defect remains, in the header too.
  const Defects d = parse_ok("missing-frames=0, corrupt=?0, short-ms=12, discontinuity=?0");
  EXPECT_EQ(d.header, "short-ms=12");
  EXPECT_EQ(d.tier(), DefectTier::short_ms);
  EXPECT_EQ(d.other_keys(), 0);
}

TEST(DefectsParse, UnknownKeysAreCountedAndPassedDownstream) {
  const Defects one = parse_ok("vendor-freeze=5, missing-frames=2");
  EXPECT_EQ(one.unknown_keys, 1);
  EXPECT_EQ(one.header, "vendor-freeze=5, missing-frames=2");
  EXPECT_FALSE(one.clean());
  EXPECT_EQ(one.tier(), DefectTier::missing_frames);
  EXPECT_EQ(one.magnitude(), 2);
  EXPECT_EQ(one.other_keys(), 1);

  const Defects only = parse_ok("foo, bar=\"x y\";p=1");
  EXPECT_EQ(only.unknown_keys, 2);
  EXPECT_EQ(only.header, "foo, bar=\"x y\";p=1");
  EXPECT_FALSE(only.clean());
  // Something is wrong, but less than any known defect.
  EXPECT_NE(only.tier(), DefectTier::clean);
  EXPECT_TRUE(better_defects(parse_ok(""), only));
  for (const char* known : {"missing-samples=1", "missing-frames=1", "short-ms=1", "discontinuity", "corrupt"}) {
    EXPECT_TRUE(better_defects(only, parse_ok(known))) << known;
  }
}

TEST(DefectsParse, MalformedFieldsAreRejected) {
  struct Case {
    const char* field;
    const char* message;  // empty: any message with the prefix
  };
  const std::vector<Case> cases = {
      {"corrupt=1", "Segment-Defects: corrupt must be a boolean flag"},
      {"discontinuity=\"yes\"", "Segment-Defects: discontinuity must be a boolean flag"},
      {"corrupt=(?1)", "Segment-Defects: corrupt must be a boolean flag"},
      {"missing-frames=-1", "Segment-Defects: missing-frames must be a non-negative integer"},
      {"missing-samples=1.5", "Segment-Defects: missing-samples must be a non-negative integer"},
      {"short-ms=\"40\"", "Segment-Defects: short-ms must be a non-negative integer"},
      {"short-ms", "Segment-Defects: short-ms must be a non-negative integer"},
      {"missing-frames=(1 2)", "Segment-Defects: missing-frames must be a non-negative integer"},
      {"missing-frames=?1", "Segment-Defects: missing-frames must be a non-negative integer"},
      {"corrupt=", ""},
      {"Corrupt", ""},
      {"corrupt,", ""},
      {"corrupt discontinuity", ""},
      {"missing-frames=3;", ""},
      {"missing-frames=1000000000000000", ""},  // beyond RFC 8941 integers
      {"=3", ""},
  };
  for (const auto& c : cases) {
    auto d = parse_segment_defects(c.field);
    ASSERT_FALSE(d.ok()) << "'" << c.field << "' parsed";
    const std::string& m = d.error().message;
    EXPECT_EQ(m.rfind("Segment-Defects: ", 0), 0u) << m;
    EXPECT_GT(m.size(), std::string("Segment-Defects: ").size()) << m;
    if (c.message[0] != '\0') {
      EXPECT_EQ(m, c.message);
    }
  }
}

TEST(DefectsTier, NamesAndWorstFirstOrder) {
  EXPECT_STREQ(to_string(DefectTier::corrupt), "corrupt");
  EXPECT_STREQ(to_string(DefectTier::discontinuity), "discontinuity");
  EXPECT_STREQ(to_string(DefectTier::short_ms), "short-ms");
  EXPECT_STREQ(to_string(DefectTier::missing_frames), "missing-frames");
  EXPECT_STREQ(to_string(DefectTier::missing_samples), "missing-samples");
  EXPECT_STREQ(to_string(DefectTier::clean), "clean");
  EXPECT_LT(DefectTier::corrupt, DefectTier::discontinuity);
  EXPECT_LT(DefectTier::discontinuity, DefectTier::short_ms);
  EXPECT_LT(DefectTier::short_ms, DefectTier::missing_frames);
  EXPECT_LT(DefectTier::missing_frames, DefectTier::missing_samples);
  EXPECT_LT(DefectTier::missing_samples, DefectTier::clean);
}

TEST(DefectsTier, WorstKeyPresentSetsTheTier) {
  EXPECT_EQ(parse_ok("missing-samples=9, corrupt").tier(), DefectTier::corrupt);
  EXPECT_EQ(parse_ok("short-ms=9, discontinuity").tier(), DefectTier::discontinuity);
  EXPECT_EQ(parse_ok("missing-frames=9, short-ms=1").tier(), DefectTier::short_ms);
  EXPECT_EQ(parse_ok("missing-samples=900, missing-frames=1").tier(), DefectTier::missing_frames);
  EXPECT_EQ(parse_ok("missing-samples=1").tier(), DefectTier::missing_samples);
  // Magnitude is that of the tier's key; flags count 1.
  EXPECT_EQ(parse_ok("missing-samples=900, missing-frames=4").magnitude(), 4);
  EXPECT_EQ(parse_ok("short-ms=70, missing-frames=4").magnitude(), 70);
  EXPECT_EQ(parse_ok("short-ms=70, discontinuity").magnitude(), 1);
  EXPECT_EQ(parse_ok("corrupt, short-ms=70").magnitude(), 1);
}

TEST(DefectsOrder, BetterDefectsIsATotalOrder) {
  // Best first. Each entry is strictly worse than every entry before it.
  const std::vector<const char*> ranked = {
      "",
      "vendor-x",  // unknown key only: below clean, above every known defect
      "missing-samples=1",
      "missing-samples=1, vendor-x",
      "missing-samples=50",
      "missing-frames=1",
      "missing-frames=1, missing-samples=100",
      "missing-frames=9",
      "short-ms=1",
      "short-ms=1, missing-frames=2, missing-samples=3",
      "short-ms=500",
      "discontinuity",
      "discontinuity, missing-samples=5",
      "discontinuity, short-ms=5, missing-frames=1",
      "corrupt",
      "corrupt, discontinuity",
      "corrupt, discontinuity, short-ms=1, missing-frames=1, missing-samples=1",
  };
  std::vector<Defects> d;
  for (const char* f : ranked) d.push_back(parse_ok(f));
  for (size_t i = 0; i < d.size(); ++i) {
    for (size_t j = 0; j < d.size(); ++j) {
      EXPECT_EQ(better_defects(d[i], d[j]), i < j) << "'" << ranked[i] << "' vs '" << ranked[j] << "'";
      EXPECT_EQ(same_quality(d[i], d[j]), i == j) << "'" << ranked[i] << "' vs '" << ranked[j] << "'";
    }
  }
}

TEST(DefectsOrder, EqualQualityPairs) {
  struct Pair {
    const char* a;
    const char* b;
  };
  const std::vector<Pair> pairs = {
      {"", "missing-frames=0, corrupt=?0"},
      {"missing-frames=3", "missing-frames=3"},
      {"missing-frames=3, missing-samples=1", "missing-samples=9, missing-frames=3"},
      {"corrupt, short-ms=5", "corrupt, short-ms=500"},  // flags have no magnitude
      {"discontinuity, missing-frames=1", "discontinuity, missing-samples=7"},
      {"foo", "bar=2"},
  };
  for (const auto& p : pairs) {
    const Defects a = parse_ok(p.a);
    const Defects b = parse_ok(p.b);
    EXPECT_FALSE(better_defects(a, b)) << "'" << p.a << "' vs '" << p.b << "'";
    EXPECT_FALSE(better_defects(b, a)) << "'" << p.b << "' vs '" << p.a << "'";
    EXPECT_TRUE(same_quality(a, b)) << "'" << p.a << "' vs '" << p.b << "'";
  }
}

}  // namespace
}  // namespace liveorigin
