// RFC 8941 Structured Field Values for HTTP: parsing and serialization of
// Lists, Dictionaries and Items. Used for Segment-Defects, Live-Markers,
// CMSD-Static/CMSD-Dynamic, Repr-Digest (RFC 9530) and CMCD.
//
// Parsing follows RFC 8941 §4.2 exactly (strict: any deviation is an error, the
// whole field is rejected). Errors carry a message naming what was expected and
// the byte offset, e.g. "expected '=' or ',' at offset 7".
// All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "origin/core/result.h"

namespace liveorigin::sf {

struct Token {
  std::string value;
  bool operator==(const Token&) const = default;
};

// A decoded byte sequence (:base64: on the wire).
struct ByteSequence {
  std::string bytes;
  bool operator==(const ByteSequence&) const = default;
};

// RFC 8941 decimals have at most 12 integer and 3 fractional digits.
struct Decimal {
  double value = 0;
  bool operator==(const Decimal&) const = default;
};

// Integer (int64_t, |v| <= 999'999'999'999'999), Decimal, String, Token,
// Byte Sequence, Boolean.
using BareItem = std::variant<int64_t, Decimal, std::string, Token, ByteSequence, bool>;

// Ordered; a later duplicate key overwrites the earlier value in place (RFC 8941 §4.2.3.2).
using Parameters = std::vector<std::pair<std::string, BareItem>>;

struct Item {
  BareItem value;
  Parameters params;
  bool operator==(const Item&) const = default;
};

struct InnerList {
  std::vector<Item> items;
  Parameters params;
  bool operator==(const InnerList&) const = default;
};

using Member = std::variant<Item, InnerList>;
using List = std::vector<Member>;
// Ordered; a later duplicate key overwrites the earlier value in place.
using Dictionary = std::vector<std::pair<std::string, Member>>;

// Parse a whole field value (several field lines already joined with ", ").
// Leading and trailing spaces are ignored as RFC 8941 §4.2 says. An empty
// string is an empty List / Dictionary, and an error for an Item.
Result<List> parse_list(std::string_view input);
Result<Dictionary> parse_dictionary(std::string_view input);
// The members as they were sent, a repeated key kept each time: for fields where the
// values of a repeated key must agree (Repr-Digest) rather than the last one win.
Result<Dictionary> parse_dictionary_members(std::string_view input);
Result<Item> parse_item(std::string_view input);

// Serialization (RFC 8941 §4.1). Preconditions (asserted): keys are valid
// (lcalpha / '*' first, then lcalpha, digit, '_', '-', '.', '*'), integers in range,
// strings printable ASCII, tokens valid. Decimals are rounded to 3 fractional digits.
std::string serialize_list(const List& list);
std::string serialize_dictionary(const Dictionary& dict);
std::string serialize_item(const Item& item);
void append_bare_item(std::string& out, const BareItem& item);
void append_parameters(std::string& out, const Parameters& params);

// Helpers for callers.
bool is_valid_key(std::string_view key);
const BareItem* find_param(const Parameters& params, std::string_view key);

}  // namespace liveorigin::sf
