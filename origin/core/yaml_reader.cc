#include "origin/core/yaml_reader.h"

#include <charconv>
#include <cmath>

namespace liveorigin::yaml {

namespace {

std::string position(const YAML::Node& node, const Location& where) {
  std::string s = where.source;
  const YAML::Mark m = node.Mark();
  if (!node.IsNull() || m.line >= 0) {
    if (m.line >= 0) s += ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
  }
  return s;
}

std::string quoted(const YAML::Node& node) { return describe(node); }

}  // namespace

std::string describe(const YAML::Node& node) {
  if (node.IsScalar()) return "'" + node.Scalar() + "'";
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  return "nothing";
}

Location indexed(const Location& where, size_t i) {
  Location l = where;
  l.path += "[" + std::to_string(i) + "]";
  return l;
}

Location keyed(const Location& where, const std::string& key) {
  Location l = where;
  l.path = l.path.empty() ? key : l.path + "." + key;
  return l;
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty()) out += sep;
    out += i;
  }
  return out;
}

YAML::Node only_if(MapReader& r, std::string_view key, bool applies, std::string_view why) {
  const YAML::Node n = r.node(key);
  if (!n.IsNull() && !applies) fail(n, r.child(key), why);
  return n;
}

void check_duplicate_keys(const YAML::Node& node, const Location& where, std::span<const KeyNoun> nouns) {
  if (node.IsMap()) {
    std::set<std::string, std::less<>> seen;
    std::string_view what = "key";
    for (const auto& n : nouns) {
      if (n.path == where.path) what = n.noun;
    }
    for (const auto& kv : node) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string();
      const Location child = keyed(where, key);
      if (kv.first.IsScalar() && !seen.insert(key).second) {
        fail(kv.first, child, "duplicate " + std::string(what) + " '" + key + "'");
      }
      check_duplicate_keys(kv.second, child, nouns);
    }
  } else if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) check_duplicate_keys(node[i], indexed(where, i), nouns);
  }
}

void fail(const YAML::Node& node, const Location& where, std::string_view what) {
  std::string msg = position(node, where);
  if (!where.path.empty()) msg += ": " + where.path;
  msg += ": ";
  msg += what;
  throw ParseError(msg);
}

MapReader::MapReader(const YAML::Node& node, Location where) : node_(node), where_(std::move(where)) {
  if (!node_.IsMap() && !node_.IsNull()) fail(node_, where_, "expected a map, got " + quoted(node_));
}

bool MapReader::has(std::string_view key) const {
  return node_.IsMap() && node_[std::string(key)].IsDefined() && !node_[std::string(key)].IsNull();
}

Location MapReader::child(std::string_view key) const {
  Location l = where_;
  l.path = l.path.empty() ? std::string(key) : l.path + "." + std::string(key);
  return l;
}

YAML::Node MapReader::node(std::string_view key) {
  known_.emplace(key);
  if (!node_.IsMap()) return YAML::Node();
  const YAML::Node n = node_[std::string(key)];
  return n.IsDefined() ? n : YAML::Node();
}

YAML::Node MapReader::required(std::string_view key) {
  YAML::Node n = node(key);
  if (n.IsNull()) fail(node_, child(key), "required key is missing");
  return n;
}

std::string scalar_string(const YAML::Node& node, const Location& where) {
  if (!node.IsScalar()) fail(node, where, "expected a string, got " + quoted(node));
  return node.Scalar();
}

int64_t scalar_integer(const YAML::Node& node, const Location& where, int64_t min, int64_t max) {
  const std::string expect = "expected an integer in [" + std::to_string(min) + ", " +
                             std::to_string(max) + "], got ";
  if (!node.IsScalar()) fail(node, where, expect + quoted(node));
  const std::string& s = node.Scalar();
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < min || v > max) {
    fail(node, where, expect + quoted(node));
  }
  return v;
}

std::string MapReader::string(std::string_view key, std::optional<std::string> fallback) {
  const YAML::Node n = fallback ? node(key) : required(key);
  if (n.IsNull()) return *fallback;
  return scalar_string(n, child(key));
}

int64_t MapReader::integer(std::string_view key, std::optional<int64_t> fallback, int64_t min,
                           int64_t max) {
  const YAML::Node n = fallback ? node(key) : required(key);
  if (n.IsNull()) return *fallback;
  return scalar_integer(n, child(key), min, max);
}

std::optional<int64_t> MapReader::optional_integer(std::string_view key, int64_t min, int64_t max) {
  const YAML::Node n = node(key);
  if (n.IsNull()) return std::nullopt;
  return scalar_integer(n, child(key), min, max);
}

double scalar_number(const YAML::Node& node, const Location& where, double min, double max,
                     std::string_view expect) {
  const std::string what = "expected " +
                           (expect.empty() ? "a number in [" + format_number(min) + ", " + format_number(max) + "]"
                                           : std::string(expect)) +
                           ", got ";
  if (!node.IsScalar()) fail(node, where, what + quoted(node));
  const std::string& s = node.Scalar();
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v) || v < min || v > max) {
    fail(node, where, what + quoted(node));
  }
  return v;
}

std::string format_number(double v) {
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, p) : std::to_string(v);
}

double MapReader::number(std::string_view key, std::optional<double> fallback, double min,
                         double max) {
  const YAML::Node n = fallback ? node(key) : required(key);
  if (n.IsNull()) return *fallback;
  return scalar_number(n, child(key), min, max);
}

bool MapReader::boolean(std::string_view key, std::optional<bool> fallback) {
  const YAML::Node n = fallback ? node(key) : required(key);
  if (n.IsNull()) return *fallback;
  if (n.IsScalar()) {
    const std::string& s = n.Scalar();
    if (s == "true") return true;
    if (s == "false") return false;
  }
  fail(n, child(key), "expected true or false, got " + quoted(n));
}

std::vector<std::string> MapReader::string_list(std::string_view key) {
  const YAML::Node n = node(key);
  std::vector<std::string> out;
  if (n.IsNull()) return out;
  if (!n.IsSequence()) fail(n, child(key), "expected a list, got " + quoted(n));
  for (size_t i = 0; i < n.size(); ++i) {
    Location l = child(key);
    l.path += "[" + std::to_string(i) + "]";
    out.push_back(scalar_string(n[i], l));
  }
  return out;
}

void MapReader::finish() const {
  if (!node_.IsMap()) return;
  for (const auto& kv : node_) {
    const std::string key = kv.first.Scalar();
    if (!known_.contains(key)) {
      std::string expected;
      for (const auto& k : known_) expected += (expected.empty() ? "" : ", ") + k;
      fail(kv.first, child(key), "unknown key (expected one of: " + expected + ")");
    }
  }
}

YAML::Node load(std::string_view text, std::string_view source) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::ParserException& e) {
    throw ParseError(std::string(source) + ":" + std::to_string(e.mark.line + 1) + ":" +
                     std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  check_duplicate_keys(root, Location{std::string(source), ""});
  return root;
}

}  // namespace liveorigin::yaml
