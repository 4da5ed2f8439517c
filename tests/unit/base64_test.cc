#include "origin/core/base64.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace liveorigin {
namespace {

using namespace std::string_literals;

// RFC 4648 §10 test vectors.
TEST(Base64, EncodesRfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
}

TEST(Base64, DecodesRfc4648Vectors) {
  EXPECT_EQ(base64_decode(""), "");
  EXPECT_EQ(base64_decode("Zg=="), "f");
  EXPECT_EQ(base64_decode("Zm8="), "fo");
  EXPECT_EQ(base64_decode("Zm9v"), "foo");
  EXPECT_EQ(base64_decode("Zm9vYg=="), "foob");
  EXPECT_EQ(base64_decode("Zm9vYmE="), "fooba");
  EXPECT_EQ(base64_decode("Zm9vYmFy"), "foobar");
}

TEST(Base64, UsesStandardAlphabetForHighBits) {
  EXPECT_EQ(base64_encode("\xff\xe0\x21"s), "/+Ah");
  EXPECT_EQ(base64_decode("/+Ah"), "\xff\xe0\x21"s);
  EXPECT_EQ(base64_encode("\0\0\0"s), "AAAA");
  EXPECT_EQ(base64_decode("AAAA"), "\0\0\0"s);
}

TEST(Base64, RoundTripsEveryByteValueAndLength) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  for (size_t len = 0; len <= bytes.size(); ++len) {
    const std::string_view input(bytes.data(), len);
    const std::string encoded = base64_encode(input);
    EXPECT_EQ(encoded.size(), (len + 2) / 3 * 4);
    EXPECT_EQ(base64_decode(encoded), input) << "length " << len;
  }
}

TEST(Base64, RejectsLengthNotMultipleOfFour) {
  EXPECT_EQ(base64_decode("Z"), std::nullopt);
  EXPECT_EQ(base64_decode("Zg"), std::nullopt);
  EXPECT_EQ(base64_decode("Zg="), std::nullopt);
  EXPECT_EQ(base64_decode("Zm9vY"), std::nullopt);
  EXPECT_EQ(base64_decode("aGVsbG8"), std::nullopt);  // unpadded "hello"
}

TEST(Base64, RejectsCharactersOutsideStandardAlphabet) {
  EXPECT_EQ(base64_decode("_-Ah"), std::nullopt);  // base64url
  EXPECT_EQ(base64_decode("Zm9v Yg=="), std::nullopt);
  EXPECT_EQ(base64_decode("Zm9v\nYmFy"), std::nullopt);
  EXPECT_EQ(base64_decode("Zm!v"), std::nullopt);
  EXPECT_EQ(base64_decode("Zm\0v"s), std::nullopt);
  EXPECT_EQ(base64_decode("Zm\xc3v"s), std::nullopt);
}

TEST(Base64, RejectsMisplacedPadding) {
  EXPECT_EQ(base64_decode("===="), std::nullopt);
  EXPECT_EQ(base64_decode("Z==="), std::nullopt);
  EXPECT_EQ(base64_decode("=Zm9"), std::nullopt);
  EXPECT_EQ(base64_decode("Zm=v"), std::nullopt);
  EXPECT_EQ(base64_decode("Zg==Zm8="), std::nullopt);  // padding mid-text
  EXPECT_EQ(base64_decode("Zm9vYg=a"), std::nullopt);
}

// RFC 8941 §4.2.7 asks parsers not to fail on non-canonical trailing bits.
TEST(Base64, AcceptsNonZeroPadBits) {
  EXPECT_EQ(base64_decode("iZ=="), "\x89"s);
  EXPECT_EQ(base64_decode("iQ=="), "\x89"s);
  EXPECT_EQ(base64_decode("Zm9="), "fo");
}

TEST(Base64, DecodesSha256Digest) {
  const auto digest = base64_decode("X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=");
  ASSERT_TRUE(digest.has_value());
  EXPECT_EQ(digest->size(), 32u);
  EXPECT_EQ(base64_encode(*digest), "X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=");
}

}  // namespace
}  // namespace liveorigin
