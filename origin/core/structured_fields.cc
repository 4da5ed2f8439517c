#include "origin/core/structured_fields.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <optional>
#include <type_traits>

#include "origin/core/base64.h"

namespace liveorigin::sf {
namespace {

constexpr int64_t kMaxInteger = 999'999'999'999'999;
// A decimal is serialized as an integer count of thousandths; 12 integer digits
// plus 3 fractional digits is the same 15-digit bound as an integer.
constexpr int64_t kMaxThousandths = 999'999'999'999'999;

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lcalpha(char c) { return c >= 'a' && c <= 'z'; }
bool is_alpha(char c) { return is_lcalpha(c) || (c >= 'A' && c <= 'Z'); }

bool is_key_start(char c) { return is_lcalpha(c) || c == '*'; }
bool is_key_char(char c) {
  return is_lcalpha(c) || is_digit(c) || c == '_' || c == '-' || c == '.' || c == '*';
}

bool is_tchar(char c) {
  if (is_alpha(c) || is_digit(c)) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}
bool is_token_start(char c) { return is_alpha(c) || c == '*'; }
bool is_token_char(char c) { return is_tchar(c) || c == ':' || c == '/'; }

bool is_string_char(char c) { return c >= 0x20 && c <= 0x7E; }

bool is_boolean_true(const BareItem& value) {
  const bool* b = std::get_if<bool>(&value);
  return b != nullptr && *b;
}

[[maybe_unused]] bool is_valid_token(std::string_view token) {
  return !token.empty() && is_token_start(token.front()) &&
         std::all_of(token.begin() + 1, token.end(), is_token_char);
}

[[maybe_unused]] bool is_valid_string(std::string_view s) {
  return std::all_of(s.begin(), s.end(), is_string_char);
}

// Recursive-descent parser over the whole field value. Each parse_* method
// follows the algorithm of the same name in RFC 8941 §4.2. On failure it
// records the error and returns false; the partially filled output is
// then discarded by the caller.
class Parser {
 public:
  explicit Parser(std::string_view input) : in_(input) {}

  Error error() && { return Error{std::move(error_)}; }

  void skip_sp() {
    while (next_is(' ')) ++pos_;
  }

  // §4.2 steps 6-7: only SP may follow the value.
  bool expect_end() {
    skip_sp();
    return at_end() || fail("expected end of field");
  }

  bool parse_list(List& list) {
    while (!at_end()) {
      if (!parse_member(list.emplace_back())) return false;
      if (!parse_separator()) return false;
    }
    return true;
  }

  bool parse_dictionary(Dictionary& dict) {
    while (!at_end()) {
      std::string_view key;
      if (!parse_key(key)) return false;
      Member member;
      if (next_is('=')) {
        ++pos_;
        if (!parse_member(member)) return false;
      } else {
        Item& item = std::get<Item>(member);
        item.value.emplace<bool>(true);
        if (!parse_parameters(item.params)) return false;
      }
      if (keep_duplicates_) {
        dict.emplace_back(std::string(key), std::move(member));
      } else {
        insert_or_overwrite(dict, key, std::move(member));
      }
      if (!parse_separator()) return false;
    }
    return true;
  }

  bool parse_dictionary_members(Dictionary& dict) {
    keep_duplicates_ = true;
    return parse_dictionary(dict);
  }

  bool parse_item(Item& item) {
    return parse_bare_item(item.value) && parse_parameters(item.params);
  }

 private:
  bool keep_duplicates_ = false;
  bool at_end() const { return pos_ >= in_.size(); }
  bool next_is(char c) const { return !at_end() && in_[pos_] == c; }

  bool fail(std::string_view what) { return fail_at(what, pos_); }
  bool fail_at(std::string_view what, size_t offset) {
    error_.reserve(what.size() + 32);
    error_.append(what).append(" at offset ").append(std::to_string(offset));
    return false;
  }

  void skip_ows() {
    while (next_is(' ') || next_is('\t')) ++pos_;
  }

  // The part of §4.2.1 / §4.2.2 between members: OWS, then ',' and another
  // member, or the end of the field.
  bool parse_separator() {
    skip_ows();
    if (at_end()) return true;
    if (!next_is(',')) return fail("expected ',' or end of field");
    const size_t comma = pos_++;
    skip_ows();
    return !at_end() || fail_at("trailing ','", comma);
  }

  // Duplicate keys keep their first position but take the last value (§4.2.2,
  // §4.2.3.2). Linear search: fields carry a handful of keys, and a map would
  // cost an allocation per parse.
  template <typename Value>
  static void insert_or_overwrite(std::vector<std::pair<std::string, Value>>& entries,
                                  std::string_view key, Value&& value) {
    for (auto& [existing, old_value] : entries) {
      if (existing == key) {
        old_value = std::move(value);
        return;
      }
    }
    entries.emplace_back(std::string(key), std::move(value));
  }

  bool parse_member(Member& member) {
    if (next_is('(')) return parse_inner_list(member.emplace<InnerList>());
    return parse_item(std::get<Item>(member));
  }

  bool parse_inner_list(InnerList& list) {
    ++pos_;  // '('
    while (true) {
      skip_sp();
      if (at_end()) break;
      if (next_is(')')) {
        ++pos_;
        return parse_parameters(list.params);
      }
      if (!parse_item(list.items.emplace_back())) return false;
      if (!at_end() && !next_is(' ') && !next_is(')')) return fail("expected ' ' or ')'");
    }
    return fail("expected ')'");
  }

  bool parse_parameters(Parameters& params) {
    while (next_is(';')) {
      ++pos_;
      skip_sp();
      std::string_view key;
      if (!parse_key(key)) return false;
      BareItem value{std::in_place_type<bool>, true};
      if (next_is('=')) {
        ++pos_;
        if (!parse_bare_item(value)) return false;
      }
      insert_or_overwrite(params, key, std::move(value));
    }
    return true;
  }

  bool parse_key(std::string_view& key) {
    if (at_end() || !is_key_start(in_[pos_])) return fail("expected a lowercase key");
    const size_t start = pos_++;
    while (!at_end() && is_key_char(in_[pos_])) ++pos_;
    key = in_.substr(start, pos_ - start);
    return true;
  }

  bool parse_bare_item(BareItem& value) {
    if (at_end()) return fail("expected an item");
    const char c = in_[pos_];
    if (c == '-' || is_digit(c)) return parse_number(value);
    if (c == '"') return parse_string(value.emplace<std::string>());
    if (is_token_start(c)) return parse_token(value);
    if (c == ':') return parse_byte_sequence(value);
    if (c == '?') return parse_boolean(value);
    return fail("expected an item");
  }

  bool parse_number(BareItem& value) {
    const size_t start = pos_;
    const bool negative = next_is('-');
    if (negative) ++pos_;
    if (at_end() || !is_digit(in_[pos_])) return fail("expected a digit");

    // Both kinds are at most 15 digits, so accumulating them as one integer
    // cannot overflow and lets the decimal be formed with a single division.
    int64_t digits = 0;
    int integer_digits = 0;
    int fraction_digits = 0;
    bool is_decimal = false;
    for (; !at_end(); ++pos_) {
      const char c = in_[pos_];
      if (is_digit(c)) {
        digits = digits * 10 + (c - '0');
        if (!is_decimal && ++integer_digits > 15) {
          return fail_at("integer has more than 15 digits", start);
        }
        if (is_decimal && ++fraction_digits > 3) {
          return fail_at("decimal has more than 3 fractional digits", start);
        }
      } else if (c == '.' && !is_decimal) {
        if (integer_digits > 12) return fail_at("decimal has more than 12 integer digits", start);
        is_decimal = true;
      } else {
        break;
      }
    }

    if (!is_decimal) {
      value.emplace<int64_t>(negative ? -digits : digits);
      return true;
    }
    if (fraction_digits == 0) return fail("expected a digit after '.'");
    // Both operands are exact, so IEEE division yields the double nearest to
    // the decimal that was written.
    constexpr double kScale[] = {1, 10, 100, 1000};
    const double magnitude = static_cast<double>(digits) / kScale[fraction_digits];
    value.emplace<Decimal>(Decimal{negative ? -magnitude : magnitude});
    return true;
  }

  bool parse_string(std::string& out) {
    const size_t start = pos_++;  // '"'
    // First pass validates and sizes the result so the copy allocates once.
    size_t length = 0;
    size_t end = pos_;
    for (;; ++end) {
      if (end >= in_.size()) return fail_at("unterminated string", start);
      const char c = in_[end];
      if (c == '"') break;
      if (c == '\\') {
        ++end;
        if (end >= in_.size()) return fail_at("unterminated string", start);
        if (in_[end] != '"' && in_[end] != '\\') {
          return fail_at("invalid escape in string", end - 1);
        }
      } else if (!is_string_char(c)) {
        return fail_at("invalid character in string", end);
      }
      ++length;
    }
    out.reserve(length);
    for (; pos_ < end; ++pos_) {
      if (in_[pos_] == '\\') ++pos_;
      out += in_[pos_];
    }
    ++pos_;  // closing '"'
    return true;
  }

  bool parse_token(BareItem& value) {
    const size_t start = pos_++;
    while (!at_end() && is_token_char(in_[pos_])) ++pos_;
    value.emplace<Token>(Token{std::string(in_.substr(start, pos_ - start))});
    return true;
  }

  bool parse_byte_sequence(BareItem& value) {
    const size_t start = pos_++;  // ':'
    const size_t end = in_.find(':', pos_);
    if (end == std::string_view::npos) return fail_at("unterminated byte sequence", start);
    // Padding is required although §4.2.7 says parsers SHOULD NOT fail without
    // it: we prefer one canonical form over leniency.
    std::optional<std::string> bytes = base64_decode(in_.substr(pos_, end - pos_));
    if (!bytes) return fail_at("invalid base64 in byte sequence", start);
    value.emplace<ByteSequence>(ByteSequence{std::move(*bytes)});
    pos_ = end + 1;
    return true;
  }

  bool parse_boolean(BareItem& value) {
    ++pos_;  // '?'
    if (next_is('1') || next_is('0')) {
      value.emplace<bool>(in_[pos_++] == '1');
      return true;
    }
    return fail_at("expected '?0' or '?1'", pos_ - 1);
  }

  std::string_view in_;
  size_t pos_ = 0;
  std::string error_;
};

// Asserts vanish in release builds. Dropping disallowed bytes there keeps a bad
// value from splitting the field or smuggling CR/LF into a header.
template <typename Allowed>
void append_filtered(std::string& out, std::string_view text, Allowed allowed) {
  for (const char c : text) {
    if (allowed(c)) out += c;
  }
}

void append_key(std::string& out, std::string_view key) {
  assert(is_valid_key(key));
  append_filtered(out, key, is_key_char);
}

void append_integer(std::string& out, int64_t value) {
  assert(value >= -kMaxInteger && value <= kMaxInteger);
  char buf[24];
  const auto result = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, result.ptr);
}

void append_decimal(std::string& out, double value) {
  // Rounding the scaled value (ties to even under the default rounding mode)
  // rounds the written decimal rather than its binary approximation: 0.0025
  // becomes 0.002 although the double is slightly above 0.0025.
  const double scaled = std::nearbyint(value * 1000);
  const bool in_range = std::fabs(scaled) <= static_cast<double>(kMaxThousandths);
  assert(in_range);
  // NaN fails the range check too; clamping keeps the conversion defined.
  const int64_t thousandths =
      in_range ? static_cast<int64_t>(scaled) : (scaled < 0 ? -kMaxThousandths : kMaxThousandths);

  if (thousandths < 0) out += '-';
  const int64_t magnitude = thousandths < 0 ? -thousandths : thousandths;
  append_integer(out, magnitude / 1000);
  out += '.';
  int64_t fraction = magnitude % 1000;
  int fraction_digits = 3;
  while (fraction_digits > 1 && fraction % 10 == 0) {
    fraction /= 10;
    --fraction_digits;
  }
  char buf[3] = {'0', '0', '0'};
  for (int i = fraction_digits - 1; i >= 0; --i, fraction /= 10) {
    buf[i] = static_cast<char>('0' + fraction % 10);
  }
  out.append(buf, static_cast<size_t>(fraction_digits));
}

void append_string(std::string& out, std::string_view s) {
  assert(is_valid_string(s));
  out += '"';
  for (const char c : s) {
    if (!is_string_char(c)) continue;  // see append_filtered
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

void append_item(std::string& out, const Item& item) {
  append_bare_item(out, item.value);
  append_parameters(out, item.params);
}

void append_member(std::string& out, const Member& member) {
  if (const Item* item = std::get_if<Item>(&member)) {
    append_item(out, *item);
    return;
  }
  const InnerList& list = std::get<InnerList>(member);
  out += '(';
  for (size_t i = 0; i < list.items.size(); ++i) {
    if (i > 0) out += ' ';
    append_item(out, list.items[i]);
  }
  out += ')';
  append_parameters(out, list.params);
}

template <typename T>
Result<T> parse_field(std::string_view input, bool (Parser::*parse)(T&)) {
  Parser parser(input);
  parser.skip_sp();
  T value;
  if (!(parser.*parse)(value) || !parser.expect_end()) return std::move(parser).error();
  return value;
}

}  // namespace

Result<List> parse_list(std::string_view input) { return parse_field(input, &Parser::parse_list); }

Result<Dictionary> parse_dictionary(std::string_view input) {
  return parse_field(input, &Parser::parse_dictionary);
}

Result<Dictionary> parse_dictionary_members(std::string_view input) {
  return parse_field(input, &Parser::parse_dictionary_members);
}

Result<Item> parse_item(std::string_view input) { return parse_field(input, &Parser::parse_item); }

std::string serialize_list(const List& list) {
  std::string out;
  for (size_t i = 0; i < list.size(); ++i) {
    if (i > 0) out += ", ";
    append_member(out, list[i]);
  }
  return out;
}

std::string serialize_dictionary(const Dictionary& dict) {
  std::string out;
  for (size_t i = 0; i < dict.size(); ++i) {
    if (i > 0) out += ", ";
    const auto& [key, member] = dict[i];
    append_key(out, key);
    // §4.1.2: a member whose value is Boolean true is written as its bare key.
    const Item* item = std::get_if<Item>(&member);
    if (item != nullptr && is_boolean_true(item->value)) {
      append_parameters(out, item->params);
    } else {
      out += '=';
      append_member(out, member);
    }
  }
  return out;
}

std::string serialize_item(const Item& item) {
  std::string out;
  append_item(out, item);
  return out;
}

void append_bare_item(std::string& out, const BareItem& item) {
  std::visit(
      [&out](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, int64_t>) {
          append_integer(out, v);
        } else if constexpr (std::is_same_v<T, Decimal>) {
          append_decimal(out, v.value);
        } else if constexpr (std::is_same_v<T, std::string>) {
          append_string(out, v);
        } else if constexpr (std::is_same_v<T, Token>) {
          assert(is_valid_token(v.value));
          append_filtered(out, v.value, is_token_char);
        } else if constexpr (std::is_same_v<T, ByteSequence>) {
          out += ':';
          out += base64_encode(v.bytes);
          out += ':';
        } else {
          static_assert(std::is_same_v<T, bool>);
          out += v ? "?1" : "?0";
        }
      },
      item);
}

void append_parameters(std::string& out, const Parameters& params) {
  for (const auto& [key, value] : params) {
    out += ';';
    append_key(out, key);
    if (!is_boolean_true(value)) {
      out += '=';
      append_bare_item(out, value);
    }
  }
}

bool is_valid_key(std::string_view key) {
  return !key.empty() && is_key_start(key.front()) &&
         std::all_of(key.begin() + 1, key.end(), is_key_char);
}

const BareItem* find_param(const Parameters& params, std::string_view key) {
  for (const auto& [name, value] : params) {
    if (name == key) return &value;
  }
  return nullptr;
}

}  // namespace liveorigin::sf
