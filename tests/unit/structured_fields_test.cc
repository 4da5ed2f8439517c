#include "origin/core/structured_fields.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace liveorigin::sf {
namespace {

using namespace std::string_literals;

// ---------------------------------------------------------------------------
// Table-driven cases, largely after the httpwg structured-field-tests suite.
// Each parse case states the canonical serialization (or that parsing must
// fail); the runner also checks that the canonical form parses to the same
// value and re-serializes unchanged.

enum class Type { kItem, kList, kDictionary };

struct Case {
  std::string name;  // gtest parameter name: [A-Za-z0-9_]
  Type type;
  std::string raw;
  bool must_fail = false;
  std::string canonical;
};

Case ok(std::string name, Type type, std::string raw) {
  std::string canonical = raw;
  return {std::move(name), type, std::move(raw), false, std::move(canonical)};
}
Case ok(std::string name, Type type, std::string raw, std::string canonical) {
  return {std::move(name), type, std::move(raw), false, std::move(canonical)};
}
Case bad(std::string name, Type type, std::string raw) {
  return {std::move(name), type, std::move(raw), true, {}};
}

constexpr Type kItem = Type::kItem;
constexpr Type kList = Type::kList;
constexpr Type kDict = Type::kDictionary;

// Parses and re-serializes; nullopt-like failure is reported via `error`.
struct Outcome {
  bool ok = false;
  std::string serialized;
  std::string error;
};

Outcome round_trip(Type type, std::string_view input) {
  Outcome outcome;
  auto finish = [&](const auto& result, auto serialize) {
    outcome.ok = result.ok();
    if (result.ok()) {
      outcome.serialized = serialize(*result);
    } else {
      outcome.error = result.error().message;
    }
  };
  switch (type) {
    case Type::kItem:
      finish(parse_item(input), serialize_item);
      break;
    case Type::kList:
      finish(parse_list(input), serialize_list);
      break;
    case Type::kDictionary:
      finish(parse_dictionary(input), serialize_dictionary);
      break;
  }
  return outcome;
}

const std::vector<Case>& parse_cases() {
  static const std::vector<Case> cases = {
      // Integers and decimals.
      ok("basic_integer", kItem, "42"),
      ok("zero_integer", kItem, "0"),
      ok("leading_0_zero", kItem, "00", "0"),
      ok("negative_zero", kItem, "-0", "0"),
      bad("double_negative_zero", kItem, "--0"),
      ok("negative_integer", kItem, "-42"),
      ok("leading_0_integer", kItem, "042", "42"),
      ok("leading_0_negative_integer", kItem, "-042", "-42"),
      bad("comma", kItem, "2,3"),
      bad("negative_non_digit_first_character", kItem, "-a23"),
      bad("sign_out_of_place", kItem, "4-2"),
      bad("whitespace_after_sign", kItem, "- 42"),
      bad("lone_minus", kItem, "-"),
      bad("plus_sign", kItem, "+42"),
      ok("long_integer", kItem, "123456789012345"),
      ok("long_negative_integer", kItem, "-123456789012345"),
      ok("max_integer", kItem, "999999999999999"),
      ok("min_integer", kItem, "-999999999999999"),
      ok("fifteen_digits_with_leading_zeros", kItem, "000000000000001", "1"),
      bad("too_long_integer", kItem, "1234567890123456"),
      bad("negative_too_long_integer", kItem, "-1234567890123456"),
      bad("int64_overflow", kItem, "9223372036854775808"),
      ok("simple_decimal", kItem, "1.23"),
      ok("negative_decimal", kItem, "-1.23"),
      ok("decimal_trailing_zero", kItem, "1.50", "1.5"),
      ok("decimal_all_zero_fraction", kItem, "1.000", "1.0"),
      ok("negative_zero_decimal", kItem, "-0.0", "0.0"),
      ok("decimal_leading_zeros", kItem, "007.5", "7.5"),
      bad("decimal_whitespace_after_point", kItem, "1. 23"),
      bad("decimal_whitespace_before_point", kItem, "1 .23"),
      bad("negative_decimal_whitespace_after_sign", kItem, "- 1.23"),
      ok("tricky_precision_decimal", kItem, "123456789012.1"),
      ok("max_decimal", kItem, "999999999999.999"),
      ok("min_decimal", kItem, "-999999999999.999"),
      bad("double_decimal_point", kItem, "1.5.4"),
      bad("adjacent_double_decimal_point", kItem, "1..4"),
      ok("decimal_three_fractional_digits", kItem, "1.123"),
      ok("negative_decimal_three_fractional_digits", kItem, "-1.123"),
      bad("decimal_four_fractional_digits", kItem, "1.1234"),
      bad("negative_decimal_four_fractional_digits", kItem, "-1.1234"),
      bad("decimal_thirteen_integer_digits", kItem, "1234567890123.0"),
      bad("negative_decimal_thirteen_integer_digits", kItem, "-1234567890123.0"),
      bad("decimal_without_fraction", kItem, "1."),
      bad("decimal_without_integer", kItem, ".5"),
      bad("decimal_point_then_letter", kItem, "1.a"),
      bad("exponent", kItem, "1e3"),

      // Strings.
      ok("basic_string", kItem, "\"foo bar\""),
      ok("empty_string", kItem, "\"\""),
      ok("long_string", kItem, "\"" + std::string(1024, 'x') + "\""),
      ok("whitespace_string", kItem, "\"   \""),
      bad("non_ascii_string", kItem, "\"f\xc3\xbc\xc3\xbc\""),
      bad("tab_in_string", kItem, "\"\t\""),
      bad("newline_in_string", kItem, "\" \n \""),
      bad("del_in_string", kItem, "\"\x7f\""),
      bad("nul_in_string", kItem, "\"a\0b\""s),
      bad("single_quoted_string", kItem, "'foo'"),
      bad("unbalanced_string", kItem, "\"foo"),
      ok("string_quoting", kItem, R"("foo \"bar\" \\ baz")"),
      bad("bad_string_quoting", kItem, R"("foo \,")"),
      bad("escaped_n", kItem, R"("foo \n")"),
      bad("ending_string_quote", kItem, R"("foo \")"),
      bad("abruptly_ending_string_quote", kItem, R"("foo \)"),
      ok("string_with_comma_in_list", kList, R"("a, b", "c")"),

      // Tokens.
      ok("basic_token_item", kItem, "a_b-c.d3:f%00/*"),
      ok("token_with_capitals", kItem, "fooBar"),
      ok("token_starting_with_capitals", kItem, "FooBar"),
      ok("token_starting_with_star", kItem, "*foo"),
      ok("token_all_tchars", kItem, "a!#$%&'*+-.^_`|~09:/Z"),
      ok("basic_token_list", kList, "a_b-c3/*"),
      bad("token_starting_with_underscore", kItem, "_foo"),
      bad("token_with_comma_item", kItem, "foo,bar"),
      bad("token_with_space_item", kItem, "foo bar"),

      // Byte sequences.
      ok("basic_binary", kItem, ":aGVsbG8=:"),
      ok("empty_binary", kItem, "::"),
      bad("bad_padding", kItem, ":aGVsbG8:"),  // may fail per the test suite; we do
      bad("bad_end_delimiter", kItem, ":aGVsbG8="),
      bad("extra_whitespace_binary", kItem, ":aGVsb G8=:"),
      bad("all_whitespace_binary", kItem, ":    :"),
      bad("extra_chars_binary", kItem, ":aGVsbG!8=:"),
      bad("suffix_chars_binary", kItem, ":aGVsbG8=!:"),
      ok("non_zero_pad_bits", kItem, ":iZ==:", ":iQ==:"),
      ok("non_ascii_binary", kItem, ":/+Ah:"),
      bad("base64url_binary", kItem, ":_-Ah:"),
      ok("rfc_binary_example", kItem, ":cHJldGVuZCB0aGlzIGlzIGJpbmFyeSBjb250ZW50Lg==:"),

      // Booleans.
      ok("basic_true_boolean", kItem, "?1"),
      ok("basic_false_boolean", kItem, "?0"),
      bad("unknown_boolean", kItem, "?Q"),
      bad("whitespace_boolean", kItem, "? 1"),
      bad("negative_zero_boolean", kItem, "?-0"),
      bad("T_boolean", kItem, "?T"),
      bad("F_boolean", kItem, "?F"),
      bad("t_boolean", kItem, "?t"),
      bad("f_boolean", kItem, "?f"),
      bad("spelled_out_True_boolean", kItem, "?True"),
      bad("spelled_out_False_boolean", kItem, "?False"),
      bad("boolean_two_digits", kItem, "?11"),
      bad("lone_question_mark", kItem, "?"),

      // Items and top-level whitespace.
      bad("empty_item", kItem, ""),
      bad("only_spaces_item", kItem, "   "),
      ok("leading_space_item", kItem, "  1", "1"),
      ok("trailing_space_item", kItem, "1  ", "1"),
      ok("leading_and_trailing_space_item", kItem, "  1  ", "1"),
      bad("leading_tab_item", kItem, "\t1"),
      bad("trailing_tab_item", kItem, "1\t"),
      bad("two_items_as_item", kItem, "1 2"),
      bad("unsupported_date", kItem, "@1659578233"),
      bad("unsupported_display_string", kItem, "%\"foo\""),
      bad("inner_list_as_item", kItem, "(1 2)"),

      // Lists.
      ok("basic_list", kList, "1, 42"),
      ok("empty_list", kList, "", ""),
      ok("spaces_only_list", kList, "   ", ""),
      ok("leading_SP_list", kList, "  42, 43", "42, 43"),
      ok("trailing_SP_list", kList, "42, 43  ", "42, 43"),
      ok("trailing_tab_list", kList, "42, 43\t", "42, 43"),
      bad("leading_tab_list", kList, "\t42"),
      ok("single_item_list", kList, "42"),
      ok("no_whitespace_list", kList, "1,42", "1, 42"),
      ok("extra_whitespace_list", kList, "1 , 42", "1, 42"),
      ok("tab_separated_list", kList, "1\t,\t42", "1, 42"),
      bad("trailing_comma_list", kList, "1, 42,"),
      bad("trailing_comma_and_space_list", kList, "1, 42, "),
      bad("empty_item_list", kList, "1,,42"),
      bad("leading_comma_list", kList, ",1"),
      bad("only_comma_list", kList, ","),
      bad("missing_comma_list", kList, "1 42"),
      bad("semicolon_separated_list", kList, "1;42"),

      // Inner lists (lists of lists).
      ok("basic_list_of_lists", kList, "(1 2), (42 43)"),
      ok("single_item_list_of_lists", kList, "(42)"),
      ok("empty_item_list_of_lists", kList, "()"),
      ok("empty_middle_item_list_of_lists", kList, "(1),(),(42)", "(1), (), (42)"),
      ok("extra_whitespace_list_of_lists", kList, "(  1  42  )", "(1 42)"),
      ok("spaces_only_inner_list", kList, "(  )", "()"),
      bad("wrong_whitespace_list_of_lists", kList, "(1\t 42)"),
      bad("tab_before_close_paren", kList, "(1\t)"),
      bad("no_trailing_parenthesis_list_of_lists", kList, "(1 42"),
      bad("no_trailing_parenthesis_after_space", kList, "(1 42 "),
      bad("no_trailing_parenthesis_middle_list_of_lists", kList, "(1 2, (42 43)"),
      bad("no_spaces_in_inner_list", kList, "(abc\"def\"?0123*dXZ3*xyz)"),
      bad("comma_in_inner_list", kList, "(1,2)"),
      bad("nested_inner_list", kList, "((1))"),
      bad("unopened_inner_list", kList, "1)"),
      ok("mixed_list", kList, "1, (2 3), \"four\", five, :AAAA:, ?0, 1.5"),

      // Parameters on list members.
      ok("basic_parameterised_list", kList, "abc_123;a=1;b=2; cdef_456, ghi;q=9;r=\"+w\"",
         "abc_123;a=1;b=2;cdef_456, ghi;q=9;r=\"+w\""),
      ok("single_item_parameterised_list", kList, "text/html;q=1.0"),
      ok("missing_parameter_value_parameterised_list", kList, "text/html;a;q=1.0"),
      ok("missing_terminal_parameter_value_parameterised_list", kList, "text/html;q=1.0;a"),
      ok("no_whitespace_parameterised_list", kList, "text/html,text/plain;q=0.5",
         "text/html, text/plain;q=0.5"),
      bad("whitespace_before_equals_parameterised_list", kList, "text/html, text/plain;q =0.5"),
      bad("whitespace_after_equals_parameterised_list", kList, "text/html, text/plain;q= 0.5"),
      bad("whitespace_before_semicolon_parameterised_list", kList,
          "text/html, text/plain ;q=0.5"),
      ok("whitespace_after_semicolon_parameterised_list", kList, "text/html, text/plain; q=0.5",
         "text/html, text/plain;q=0.5"),
      bad("tab_after_semicolon_parameterised_list", kList, "text/plain;\tq=0.5"),
      ok("extra_whitespace_parameterised_list", kList,
         "text/html  ,  text/plain;  q=0.5;  charset=utf-8",
         "text/html, text/plain;q=0.5;charset=utf-8"),
      bad("trailing_comma_parameterised_list", kList, "text/html,text/plain;q=0.5,"),
      bad("empty_item_parameterised_list", kList, "text/html,,text/plain;q=0.5,"),
      bad("trailing_semicolon_parameterised_list", kList, "text/html;"),
      bad("double_semicolon_parameterised_list", kList, "text/html;;q=1"),
      bad("inner_list_as_parameter_value", kList, "a;b=(1)"),
      bad("missing_parameter_value_after_equals", kList, "a;b="),
      ok("parameter_explicit_true", kItem, "1;a=?1", "1;a"),
      ok("parameter_false", kItem, "1;a=?0"),
      ok("duplicate_parameter_keys", kItem, "1;a=1;b=2;a=3", "1;a=3;b=2"),
      ok("parameter_all_types", kItem, "1;a=1;b=1.5;c=\"s\";d=tok;e=:AAAA:;f=?0;g"),

      // Parameters on inner lists and their items.
      ok("parameterised_inner_list", kList, "(abc_123);a=1;b=2, cdef_456"),
      ok("parameterised_inner_list_item", kList, "(abc_123;a=1;b=2;cdef_456)"),
      ok("parameterised_inner_list_with_parameterised_item", kList,
         "(abc_123;a=1;b=2);cdef_456"),
      ok("parameterised_empty_inner_list", kList, "();a=1"),
      bad("space_before_inner_list_parameters", kList, "(1) ;a=1"),

      // Dictionaries.
      ok("basic_dictionary", kDict, "en=\"Applepie\", da=:w4ZibGV0w6ZydGUK:"),
      ok("empty_dictionary", kDict, "", ""),
      ok("single_item_dictionary", kDict, "a=1"),
      ok("list_item_dictionary", kDict, "a=(1 2)"),
      ok("single_list_item_dictionary", kDict, "a=(1)"),
      ok("empty_list_item_dictionary", kDict, "a=()"),
      ok("no_whitespace_dictionary", kDict, "a=1,b=2", "a=1, b=2"),
      ok("extra_whitespace_dictionary", kDict, "a=1 ,  b=2", "a=1, b=2"),
      ok("tab_separated_dictionary", kDict, "a=1\t,\tb=2", "a=1, b=2"),
      ok("leading_whitespace_dictionary", kDict, "     a=1 ,  b=2", "a=1, b=2"),
      bad("whitespace_before_equals_dictionary", kDict, "a =1, b=2"),
      bad("whitespace_after_equals_dictionary", kDict, "a=1, b= 2"),
      ok("missing_value_dictionary", kDict, "a=1, b, c=3"),
      ok("all_missing_value_dictionary", kDict, "a, b, c"),
      ok("start_missing_value_dictionary", kDict, "a, b=2"),
      ok("end_missing_value_dictionary", kDict, "a=1, b"),
      ok("missing_value_with_params_dictionary", kDict, "a=1, b;foo=9, c=3"),
      ok("explicit_true_value_with_params_dictionary", kDict, "a=1, b=?1;foo=9, c=3",
         "a=1, b;foo=9, c=3"),
      ok("false_value_dictionary", kDict, "a=?0"),
      bad("trailing_comma_dictionary", kDict, "a=1, b=2,"),
      bad("empty_item_dictionary", kDict, "a=1,,b=2,"),
      ok("duplicate_key_dictionary", kDict, "a=1,b=2,a=3", "a=3, b=2"),
      ok("duplicate_key_changes_type", kDict, "a=1, b=2, a=(3 4);x", "a=(3 4);x, b=2"),
      ok("duplicate_key_becomes_true", kDict, "a=1, b=2, a", "a, b=2"),
      bad("numeric_key_dictionary", kDict, "a=1,1b=2,a=1"),
      bad("uppercase_key_dictionary", kDict, "a=1,B=2,a=1"),
      bad("bad_key_dictionary", kDict, "a=1,b!=2,a=1"),
      bad("missing_key_dictionary", kDict, "=1"),
      bad("missing_value_after_equals_dictionary", kDict, "a="),
      bad("quoted_key_dictionary", kDict, "\"a\"=1"),

      // Parameters on dictionary members.
      ok("basic_parameterised_dict", kDict, "abc=123;a=1;b=2, def=456, ghi=789;q=9;r=\"+w\""),
      ok("single_item_parameterised_dict", kDict, "a=b; q=1.0", "a=b;q=1.0"),
      ok("list_item_parameterised_dictionary", kDict, "a=(1 2); q=1.0", "a=(1 2);q=1.0"),
      ok("missing_parameter_value_parameterised_dict", kDict, "a=3;c;d=5"),
      ok("terminal_missing_parameter_value_parameterised_dict", kDict, "a=3;c=5;d"),
      ok("no_whitespace_parameterised_dict", kDict, "a=b;c=1,d=e;f=2", "a=b;c=1, d=e;f=2"),
      bad("whitespace_before_equals_parameterised_dict", kDict, "a=b;q =0.5"),
      bad("whitespace_after_equals_parameterised_dict", kDict, "a=b;q= 0.5"),
      bad("whitespace_before_semicolon_parameterised_dict", kDict, "a=b ;q=0.5"),
      ok("whitespace_after_semicolon_parameterised_dict", kDict, "a=b; q=0.5", "a=b;q=0.5"),
      ok("extra_whitespace_parameterised_dict", kDict, "a=b;  c=1  ,  d=e; f=2; g=3",
         "a=b;c=1, d=e;f=2;g=3"),
      bad("trailing_comma_parameterised_dict", kDict, "a=b; q=1.0,"),
      bad("empty_item_parameterised_dict", kDict, "a=b; q=1.0,,c=d"),

      // Key rules.
      ok("star_key", kDict, "*=1"),
      ok("key_with_all_allowed_chars", kDict, "a0_-.*=1"),
      ok("star_parameter_key", kItem, "1;*a=1"),
      bad("digit_first_parameter_key", kItem, "1;0a=1"),
      bad("uppercase_parameter_key", kItem, "1;A=1"),
      bad("underscore_first_key", kDict, "_a=1"),

      // RFC 8941 examples (§2 and §3).
      ok("example_foo", kItem, "2; foourl=\"https://foo.example.com/\"",
         "2;foourl=\"https://foo.example.com/\""),
      ok("example_str_list", kList, "\"foo\", \"bar\", \"It was the best of times.\""),
      ok("example_token_list", kList, "foo, bar"),
      ok("example_str_list_list", kList, "(\"foo\" \"bar\"), (\"baz\"), (\"bat\" \"one\"), ()"),
      ok("example_list_list_param", kList, "(\"foo\"; a=1;b=2);lvl=5, (\"bar\" \"baz\");lvl=1",
         "(\"foo\";a=1;b=2);lvl=5, (\"bar\" \"baz\");lvl=1"),
      ok("example_param_list", kList, "abc;a=1;b=2; cde_456, (ghi;jk=4 l);q=\"9\";r=w",
         "abc;a=1;b=2;cde_456, (ghi;jk=4 l);q=\"9\";r=w"),
      ok("example_int_with_params", kItem, "1; a; b=?0", "1;a;b=?0"),
      ok("example_dict", kDict, "en=\"Applepie\", da=:w4ZibGV0w6ZydGU=:"),
      ok("example_dict_booleans", kDict, "a=?0, b, c; foo=bar", "a=?0, b, c;foo=bar"),
      ok("example_dict_list", kDict, "rating=1.5, feelings=(joy sadness)"),
      ok("example_mix_dict", kDict, "a=(1 2), b=3, c=4;aa=bb, d=(5 6);valid"),
      ok("example_dict_two_members", kDict, "foo=1, bar=2"),
      ok("example_int_item", kItem, "5"),
      ok("example_int_item_params", kItem, "5; foo=bar", "5;foo=bar"),
      ok("example_decimal", kItem, "4.5"),
      ok("example_string", kItem, "\"hello world\""),
      ok("example_boolean", kItem, "?1"),

      // liveorigin headers.
      ok("segment_defects", kDict, "missing-samples=12, discontinuity, corrupt"),
      ok("repr_digest", kDict, "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"),
      ok("live_marker", kList, "\"ad1\";kind=\"ad-break\";start=1000;dur=30000;data=:AAAA:"),
      ok("cmcd_like", kDict, "br=3200, bs, d=4004, mtp=25400, ot=v, sid=\"6e2fb550\", tb=6000"),
  };
  return cases;
}

class ParseCase : public testing::TestWithParam<Case> {};

TEST_P(ParseCase, MatchesExpectation) {
  const Case& c = GetParam();
  const Outcome first = round_trip(c.type, c.raw);
  if (c.must_fail) {
    EXPECT_FALSE(first.ok) << "parsed to: " << first.serialized;
    EXPECT_NE(first.error.find(" at offset "), std::string::npos) << first.error;
    EXPECT_LT(first.error.size(), 64u) << first.error;
    return;
  }
  ASSERT_TRUE(first.ok) << first.error;
  EXPECT_EQ(first.serialized, c.canonical);

  const Outcome second = round_trip(c.type, c.canonical);
  ASSERT_TRUE(second.ok) << second.error;
  EXPECT_EQ(second.serialized, c.canonical);
}

INSTANTIATE_TEST_SUITE_P(StructuredFieldTests, ParseCase, testing::ValuesIn(parse_cases()),
                         [](const testing::TestParamInfo<Case>& case_info) {
                           return case_info.param.name;
                         });

// The canonical form must parse to the very same value as the raw form, which
// the text comparison above cannot see (e.g. parameter order after overwrite).
TEST(ParseCases, CanonicalFormParsesToSameValue) {
  for (const Case& c : parse_cases()) {
    if (c.must_fail) continue;
    SCOPED_TRACE(c.name);
    switch (c.type) {
      case Type::kItem:
        EXPECT_EQ(*parse_item(c.raw), *parse_item(c.canonical));
        break;
      case Type::kList:
        EXPECT_EQ(*parse_list(c.raw), *parse_list(c.canonical));
        break;
      case Type::kDictionary:
        EXPECT_EQ(*parse_dictionary(c.raw), *parse_dictionary(c.canonical));
        break;
    }
  }
}

// ---------------------------------------------------------------------------
// Parsed values.

Item item_of(std::string_view input) {
  auto result = parse_item(input);
  EXPECT_TRUE(result.ok()) << result.error().message;
  return result.ok() ? std::move(result).value() : Item{};
}

TEST(ParseItem, Integers) {
  EXPECT_EQ(item_of("42").value, BareItem(int64_t{42}));
  EXPECT_EQ(item_of("-042").value, BareItem(int64_t{-42}));
  EXPECT_EQ(item_of("999999999999999").value, BareItem(int64_t{999'999'999'999'999}));
  EXPECT_EQ(item_of("-999999999999999").value, BareItem(int64_t{-999'999'999'999'999}));
}

TEST(ParseItem, DecimalsAreNearestDouble) {
  EXPECT_EQ(item_of("1.23").value, BareItem(Decimal{1.23}));
  EXPECT_EQ(item_of("-1.23").value, BareItem(Decimal{-1.23}));
  EXPECT_EQ(item_of("0.1").value, BareItem(Decimal{0.1}));
  EXPECT_EQ(item_of("123456789012.1").value, BareItem(Decimal{123456789012.1}));
  EXPECT_EQ(item_of("999999999999.999").value, BareItem(Decimal{999999999999.999}));
  EXPECT_EQ(item_of("1.0").value, BareItem(Decimal{1.0}));  // a decimal, not an integer
  const auto negative_zero = std::get<Decimal>(item_of("-0.0").value);
  EXPECT_EQ(negative_zero.value, 0.0);
}

TEST(ParseItem, StringsAreUnescaped) {
  EXPECT_EQ(item_of(R"("foo \"bar\" \\ baz")").value, BareItem("foo \"bar\" \\ baz"s));
  EXPECT_EQ(item_of(R"("\\")").value, BareItem("\\"s));
  EXPECT_EQ(item_of(R"("")").value, BareItem(""s));
}

TEST(ParseItem, TokensAreNotStrings) {
  EXPECT_EQ(item_of("foo").value, BareItem(Token{"foo"}));
  EXPECT_EQ(item_of("\"foo\"").value, BareItem("foo"s));
  EXPECT_EQ(item_of("text/html").value, BareItem(Token{"text/html"}));
  EXPECT_EQ(item_of("*").value, BareItem(Token{"*"}));
}

TEST(ParseItem, ByteSequencesAreDecoded) {
  EXPECT_EQ(item_of(":aGVsbG8=:").value, BareItem(ByteSequence{"hello"}));
  EXPECT_EQ(item_of("::").value, BareItem(ByteSequence{""}));
  EXPECT_EQ(item_of(":/+Ah:").value, BareItem(ByteSequence{"\xff\xe0\x21"}));
  EXPECT_EQ(item_of(":iZ==:").value, BareItem(ByteSequence{"\x89"}));
  EXPECT_EQ(item_of(":w4ZibGV0w6ZydGU=:").value,
            BareItem(ByteSequence{"\xc3\x86" "blet\xc3\xa6rte"}));
}

TEST(ParseItem, Booleans) {
  EXPECT_EQ(item_of("?1").value, BareItem(true));
  EXPECT_EQ(item_of("?0").value, BareItem(false));
}

TEST(ParseItem, ParametersKeepOrderAndDefaultToTrue) {
  const Item item = item_of("1; a; b=?0;c=tok");
  const Parameters expected = {
      {"a", true},
      {"b", false},
      {"c", Token{"tok"}},
  };
  EXPECT_EQ(item.params, expected);
}

TEST(ParseItem, DuplicateParameterOverwritesInPlace) {
  const Item item = item_of("1;a=1;b=2;a=3");
  const Parameters expected = {{"a", int64_t{3}}, {"b", int64_t{2}}};
  EXPECT_EQ(item.params, expected);
}

TEST(ParseList, InnerListsWithParameters) {
  const auto list = parse_list("(\"foo\"; a=1;b=2);lvl=5, (\"bar\" \"baz\");lvl=1, x");
  ASSERT_TRUE(list.ok()) << list.error().message;
  const List expected = {
      InnerList{{Item{"foo"s, {{"a", int64_t{1}}, {"b", int64_t{2}}}}}, {{"lvl", int64_t{5}}}},
      InnerList{{Item{"bar"s, {}}, Item{"baz"s, {}}}, {{"lvl", int64_t{1}}}},
      Item{Token{"x"}, {}},
  };
  EXPECT_EQ(*list, expected);
}

TEST(ParseList, EmptyInputIsEmptyList) {
  const auto list = parse_list("");
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
}

TEST(ParseDictionary, MissingValueIsTrueWithParameters) {
  const auto dict = parse_dictionary("a=?0, b, c; foo=bar");
  ASSERT_TRUE(dict.ok()) << dict.error().message;
  const Dictionary expected = {
      {"a", Item{false, {}}},
      {"b", Item{true, {}}},
      {"c", Item{true, {{"foo", Token{"bar"}}}}},
  };
  EXPECT_EQ(*dict, expected);
}

TEST(ParseDictionary, DuplicateKeyOverwritesInPlace) {
  const auto dict = parse_dictionary("a=1, b=2, a=(3)");
  ASSERT_TRUE(dict.ok()) << dict.error().message;
  ASSERT_EQ(dict->size(), 2u);
  EXPECT_EQ((*dict)[0].first, "a");
  EXPECT_EQ((*dict)[0].second, Member(InnerList{{Item{int64_t{3}, {}}}, {}}));
  EXPECT_EQ((*dict)[1].first, "b");
}

// ---------------------------------------------------------------------------
// liveorigin's own headers.

TEST(LiveOriginHeaders, SegmentDefects) {
  const auto dict = parse_dictionary("missing-samples=12, discontinuity, corrupt");
  ASSERT_TRUE(dict.ok()) << dict.error().message;
  const Dictionary expected = {
      {"missing-samples", Item{int64_t{12}, {}}},
      {"discontinuity", Item{true, {}}},
      {"corrupt", Item{true, {}}},
  };
  EXPECT_EQ(*dict, expected);
  EXPECT_EQ(serialize_dictionary(expected), "missing-samples=12, discontinuity, corrupt");
}

TEST(LiveOriginHeaders, ReprDigest) {
  const auto dict = parse_dictionary("sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:");
  ASSERT_TRUE(dict.ok()) << dict.error().message;
  ASSERT_EQ(dict->size(), 1u);
  EXPECT_EQ((*dict)[0].first, "sha-256");
  const auto& bytes = std::get<ByteSequence>(std::get<Item>((*dict)[0].second).value).bytes;
  // SHA-256 of {"hello": "world"}, the RFC 9530 example.
  const std::string expected =
      "\x5f\x8f\x04\xf6\xa3\xa8\x92\xaa\xab\xbd\xdb\x6c\xf2\x73\x89\x44"
      "\x93\x77\x39\x60\xd4\xa3\x25\xb1\x05\xfe\xe4\x6e\xef\x43\x04\xf1";
  EXPECT_EQ(bytes, expected);
}

TEST(LiveOriginHeaders, LiveMarker) {
  const auto list = parse_list("\"ad1\";kind=\"ad-break\";start=1000;dur=30000;data=:AAAA:");
  ASSERT_TRUE(list.ok()) << list.error().message;
  ASSERT_EQ(list->size(), 1u);
  const Item& marker = std::get<Item>((*list)[0]);
  EXPECT_EQ(marker.value, BareItem("ad1"s));
  ASSERT_EQ(marker.params.size(), 4u);
  EXPECT_EQ(*find_param(marker.params, "kind"), BareItem("ad-break"s));
  EXPECT_EQ(*find_param(marker.params, "start"), BareItem(int64_t{1000}));
  EXPECT_EQ(*find_param(marker.params, "dur"), BareItem(int64_t{30000}));
  EXPECT_EQ(*find_param(marker.params, "data"), BareItem(ByteSequence{"\0\0\0"s}));
  EXPECT_EQ(find_param(marker.params, "end"), nullptr);
}

// ---------------------------------------------------------------------------
// Error messages end up in 400 bodies: they must name the problem and offset.

std::string list_error(std::string_view input) {
  const auto result = parse_list(input);
  return result.ok() ? "<parsed>" : result.error().message;
}
std::string dict_error(std::string_view input) {
  const auto result = parse_dictionary(input);
  return result.ok() ? "<parsed>" : result.error().message;
}
std::string item_error(std::string_view input) {
  const auto result = parse_item(input);
  return result.ok() ? "<parsed>" : result.error().message;
}

TEST(ParseErrors, NameExpectationAndOffset) {
  EXPECT_EQ(list_error("1, 42,"), "trailing ',' at offset 5");
  EXPECT_EQ(list_error("1, 42, "), "trailing ',' at offset 5");
  EXPECT_EQ(list_error("1,,42"), "expected an item at offset 2");
  EXPECT_EQ(list_error("1 42"), "expected ',' or end of field at offset 2");
  EXPECT_EQ(dict_error("missing=1 x"), "expected ',' or end of field at offset 10");
  EXPECT_EQ(dict_error("a =1"), "expected ',' or end of field at offset 2");
  EXPECT_EQ(dict_error("a=1, B=2"), "expected a lowercase key at offset 5");
  EXPECT_EQ(dict_error("a="), "expected an item at offset 2");
  EXPECT_EQ(item_error(""), "expected an item at offset 0");
  EXPECT_EQ(item_error("   "), "expected an item at offset 3");
  EXPECT_EQ(item_error("1 2"), "expected end of field at offset 2");
  EXPECT_EQ(item_error("1;"), "expected a lowercase key at offset 2");
  EXPECT_EQ(item_error("1; A=1"), "expected a lowercase key at offset 3");
  EXPECT_EQ(item_error("-x"), "expected a digit at offset 1");
  EXPECT_EQ(item_error("1."), "expected a digit after '.' at offset 2");
  EXPECT_EQ(item_error("  1234567890123456"), "integer has more than 15 digits at offset 2");
  EXPECT_EQ(item_error("1234567890123.5"), "decimal has more than 12 integer digits at offset 0");
  EXPECT_EQ(item_error("1.2345"), "decimal has more than 3 fractional digits at offset 0");
  EXPECT_EQ(item_error("\"foo"), "unterminated string at offset 0");
  EXPECT_EQ(item_error("\"foo\\"), "unterminated string at offset 0");
  EXPECT_EQ(item_error("\"a\\x\""), "invalid escape in string at offset 2");
  EXPECT_EQ(item_error("\"a\tb\""), "invalid character in string at offset 2");
  EXPECT_EQ(item_error(":aGVsbG8="), "unterminated byte sequence at offset 0");
  EXPECT_EQ(item_error("1;a=:aGVsbG8:"), "invalid base64 in byte sequence at offset 4");
  EXPECT_EQ(item_error("?2"), "expected '?0' or '?1' at offset 0");
  EXPECT_EQ(list_error("(1 2"), "expected ')' at offset 4");
  EXPECT_EQ(list_error("(1 2  "), "expected ')' at offset 6");
  EXPECT_EQ(list_error("(1,2)"), "expected ' ' or ')' at offset 2");
}

// ---------------------------------------------------------------------------
// Generated cases: every ASCII byte in each syntactic position.

bool is_lcalpha(char c) { return c >= 'a' && c <= 'z'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return is_lcalpha(c) || (c >= 'A' && c <= 'Z'); }

TEST(Generated, KeyCharacters) {
  for (int i = 0; i < 128; ++i) {
    const char c = static_cast<char>(i);
    SCOPED_TRACE(testing::Message() << "char " << i);
    const bool valid_first = is_lcalpha(c) || c == '*';
    const bool valid_later =
        is_lcalpha(c) || is_digit(c) || c == '_' || c == '-' || c == '.' || c == '*';
    const std::string first(1, c);
    const std::string later = "a"s + c;

    EXPECT_EQ(is_valid_key(first), valid_first);
    EXPECT_EQ(is_valid_key(later), valid_later);
    EXPECT_EQ(parse_dictionary(first + "=1").ok(), valid_first);
    EXPECT_EQ(parse_dictionary(later + "=1").ok(), valid_later);
    EXPECT_EQ(parse_item("1;" + first + "=1").ok(), valid_first);
    EXPECT_EQ(parse_item("1;" + later + "=1").ok(), valid_later);
  }
  EXPECT_FALSE(is_valid_key(""));
}

TEST(Generated, StringCharacters) {
  for (int i = 0; i < 256; ++i) {
    const char c = static_cast<char>(i);
    SCOPED_TRACE(testing::Message() << "char " << i);
    const bool printable = i >= 0x20 && i <= 0x7E;
    const auto plain = parse_item("\"a"s + c + "b\"");
    EXPECT_EQ(plain.ok(), printable && c != '"' && c != '\\');
    if (plain.ok()) {
      EXPECT_EQ(plain->value, BareItem("a"s + c + "b"));
      EXPECT_EQ(serialize_item(*plain), "\"a"s + c + "b\"");
    }
    const auto escaped = parse_item("\"a\\"s + c + "b\"");
    EXPECT_EQ(escaped.ok(), c == '"' || c == '\\');
  }
}

TEST(Generated, TokenCharacters) {
  const std::string_view tchar_symbols = "!#$%&'*+-.^_`|~";
  for (int i = 0; i < 128; ++i) {
    const char c = static_cast<char>(i);
    SCOPED_TRACE(testing::Message() << "char " << i);
    const bool tchar =
        is_alpha(c) || is_digit(c) || tchar_symbols.find(c) != std::string_view::npos;
    // Anything else ends the token, and the rest fails or (for ';') is a parameter.
    const auto later = parse_item("a"s + c + "a");
    const bool whole_token = later.ok() && later->value == BareItem(Token{"a"s + c + "a"});
    EXPECT_EQ(whole_token, tchar || c == ':' || c == '/');

    if (c == ' ') continue;  // leading SP is stripped, not part of the item
    const auto first = parse_item(std::string(1, c) + "a");
    if (is_alpha(c) || c == '*') {
      ASSERT_TRUE(first.ok());
      EXPECT_EQ(first->value, BareItem(Token{std::string(1, c) + "a"}));
    } else {
      // Other leading characters either fail or start another kind of item.
      EXPECT_FALSE(first.ok() && std::holds_alternative<Token>(first->value));
    }
  }
}

// Sizes RFC 8941 §3 says parsers MUST support.
TEST(Generated, LargeValues) {
  std::string list;
  std::string dict;
  std::string params = "1";
  for (int i = 0; i < 1024; ++i) {
    const std::string key = "a" + std::to_string(i);
    if (i > 0) {
      list += ", ";
      dict += ", ";
    }
    list += key;
    dict += key + "=1";
    params += ";" + key + "=1";
  }
  std::string inner = "(";
  for (int i = 0; i < 256; ++i) inner += (i > 0 ? " " : "") + std::to_string(i);
  inner += ")";

  const auto parsed_list = parse_list(list);
  ASSERT_TRUE(parsed_list.ok());
  EXPECT_EQ(parsed_list->size(), 1024u);
  EXPECT_EQ(serialize_list(*parsed_list), list);

  const auto parsed_dict = parse_dictionary(dict);
  ASSERT_TRUE(parsed_dict.ok());
  EXPECT_EQ(parsed_dict->size(), 1024u);
  EXPECT_EQ(serialize_dictionary(*parsed_dict), dict);

  const auto parsed_params = parse_item(params);
  ASSERT_TRUE(parsed_params.ok());
  EXPECT_EQ(parsed_params->params.size(), 1024u);
  EXPECT_EQ(serialize_item(*parsed_params), params);

  const auto parsed_inner = parse_list(inner);
  ASSERT_TRUE(parsed_inner.ok());
  EXPECT_EQ(std::get<InnerList>((*parsed_inner)[0]).items.size(), 256u);
  EXPECT_EQ(serialize_list(*parsed_inner), inner);

  const std::string long_key = "k" + std::string(63, 'a');
  EXPECT_EQ(serialize_dictionary(*parse_dictionary(long_key + "=1")), long_key + "=1");

  const std::string long_string = "\"" + std::string(1024, 'x') + "\"";
  EXPECT_EQ(serialize_item(*parse_item(long_string)), long_string);

  const std::string long_token = "t" + std::string(511, 'o');
  EXPECT_EQ(serialize_item(*parse_item(long_token)), long_token);
}

// ---------------------------------------------------------------------------
// Serialization.

std::string bare(BareItem value) { return serialize_item(Item{std::move(value), {}}); }
std::string decimal(double value) { return bare(Decimal{value}); }

TEST(Serialize, Integers) {
  EXPECT_EQ(bare(int64_t{0}), "0");
  EXPECT_EQ(bare(int64_t{-42}), "-42");
  EXPECT_EQ(bare(int64_t{999'999'999'999'999}), "999999999999999");
  EXPECT_EQ(bare(int64_t{-999'999'999'999'999}), "-999999999999999");
}

TEST(Serialize, DecimalsRoundToThreeDigitsHalfEven) {
  EXPECT_EQ(decimal(0), "0.0");
  EXPECT_EQ(decimal(-0.0), "0.0");
  EXPECT_EQ(decimal(1), "1.0");
  EXPECT_EQ(decimal(1.5), "1.5");
  EXPECT_EQ(decimal(-1.5), "-1.5");
  EXPECT_EQ(decimal(0.1), "0.1");
  EXPECT_EQ(decimal(1.123), "1.123");
  EXPECT_EQ(decimal(1.1234), "1.123");
  EXPECT_EQ(decimal(0.0015), "0.002");
  EXPECT_EQ(decimal(0.0025), "0.002");
  EXPECT_EQ(decimal(-0.0015), "-0.002");
  EXPECT_EQ(decimal(-0.0025), "-0.002");
  EXPECT_EQ(decimal(9.9995), "10.0");
  EXPECT_EQ(decimal(0.0004), "0.0");
  EXPECT_EQ(decimal(-0.0004), "0.0");
  EXPECT_EQ(decimal(0.05), "0.05");
  EXPECT_EQ(decimal(123456789012.1), "123456789012.1");
  EXPECT_EQ(decimal(999999999999.999), "999999999999.999");
  EXPECT_EQ(decimal(-999999999999.999), "-999999999999.999");
}

TEST(Serialize, StringsAreEscaped) {
  EXPECT_EQ(bare("foo \"bar\" \\ baz"s), R"("foo \"bar\" \\ baz")");
  EXPECT_EQ(bare(""s), R"("")");
}

TEST(Serialize, OtherBareItems) {
  EXPECT_EQ(bare(Token{"text/html"}), "text/html");
  EXPECT_EQ(bare(ByteSequence{"hello"}), ":aGVsbG8=:");
  EXPECT_EQ(bare(ByteSequence{""}), "::");
  EXPECT_EQ(bare(true), "?1");
  EXPECT_EQ(bare(false), "?0");
}

TEST(Serialize, AppendBareItemAppends) {
  std::string out = "x=";
  append_bare_item(out, int64_t{5});
  EXPECT_EQ(out, "x=5");
}

TEST(Serialize, ParametersWriteTrueAsBareKey) {
  std::string out;
  append_parameters(out, {{"a", true}, {"b", false}, {"c", int64_t{1}}, {"d", Token{"x"}}});
  EXPECT_EQ(out, ";a;b=?0;c=1;d=x");
}

TEST(Serialize, Dictionary) {
  const Dictionary dict = {
      {"a", Item{false, {}}},
      {"b", Item{true, {}}},
      {"c", Item{true, {{"foo", Token{"bar"}}}}},
      {"d", InnerList{{Item{int64_t{5}, {}}, Item{int64_t{6}, {}}}, {{"valid", true}}}},
      {"e", InnerList{}},
      {"f", Item{Decimal{1.5}, {{"x", true}}}},
  };
  EXPECT_EQ(serialize_dictionary(dict), "a=?0, b, c;foo=bar, d=(5 6);valid, e=(), f=1.5;x");
  EXPECT_EQ(serialize_dictionary({}), "");
}

TEST(Serialize, List) {
  const List list = {
      Item{Token{"abc"}, {{"a", int64_t{1}}}},
      InnerList{{Item{Token{"ghi"}, {{"jk", int64_t{4}}}}, Item{Token{"l"}, {}}},
                {{"q", "9"s}, {"r", Token{"w"}}}},
      InnerList{},
  };
  EXPECT_EQ(serialize_list(list), "abc;a=1, (ghi;jk=4 l);q=\"9\";r=w, ()");
  EXPECT_EQ(serialize_list({}), "");
}

TEST(Serialize, LiveMarkerFromValues) {
  const List list = {Item{"ad1"s,
                          {{"kind", "ad-break"s},
                           {"start", int64_t{1000}},
                           {"dur", int64_t{30000}},
                           {"data", ByteSequence{"\0\0\0"s}}}}};
  EXPECT_EQ(serialize_list(list), "\"ad1\";kind=\"ad-break\";start=1000;dur=30000;data=:AAAA:");
}

TEST(Helpers, FindParam) {
  const Parameters params = {{"a", int64_t{1}}, {"b", true}};
  ASSERT_NE(find_param(params, "b"), nullptr);
  EXPECT_EQ(*find_param(params, "b"), BareItem(true));
  EXPECT_EQ(find_param(params, "c"), nullptr);
  EXPECT_EQ(find_param({}, "a"), nullptr);
}

// Preconditions are asserted in debug builds. In release builds the calls must
// still return, without letting CR/LF or separators through.
TEST(SerializeDeathTest, ViolatedPreconditionsAssert) {
  EXPECT_DEBUG_DEATH(bare(int64_t{1'000'000'000'000'000}), "");
  EXPECT_DEBUG_DEATH(bare(int64_t{-1'000'000'000'000'000}), "");
  EXPECT_DEBUG_DEATH(decimal(1e12), "");
  EXPECT_DEBUG_DEATH(decimal(-1e12), "");
  EXPECT_DEBUG_DEATH(decimal(std::numeric_limits<double>::quiet_NaN()), "");
  EXPECT_DEBUG_DEATH(decimal(std::numeric_limits<double>::infinity()), "");
  EXPECT_DEBUG_DEATH(bare("a\r\nSet-Cookie: x"s), "");
  EXPECT_DEBUG_DEATH(bare(Token{""}), "");
  EXPECT_DEBUG_DEATH(bare(Token{"1abc"}), "");
  EXPECT_DEBUG_DEATH(bare(Token{"a, b"}), "");
  EXPECT_DEBUG_DEATH(serialize_dictionary({{"Bad", Item{int64_t{1}, {}}}}), "");
  EXPECT_DEBUG_DEATH(serialize_item(Item{int64_t{1}, {{"", true}}}), "");
}

#ifdef NDEBUG
TEST(Serialize, ReleaseBuildsDropDisallowedBytes) {
  EXPECT_EQ(bare("a\r\nb"s), "\"ab\"");
  EXPECT_EQ(bare(Token{"a, b"}), "ab");
  EXPECT_EQ(decimal(std::numeric_limits<double>::quiet_NaN()), "999999999999.999");
}
#endif

}  // namespace
}  // namespace liveorigin::sf
