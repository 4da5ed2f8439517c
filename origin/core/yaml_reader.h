// Reads YAML (and JSON, which yaml-cpp accepts as YAML flow style) into typed
// values with errors a person can act on: "origin.yaml:12:9: events[0].streams[1].
// segment_duration_ms: expected an integer >= 1, got 'two'". Unknown keys are errors,
// so a typo never silently falls back to a default. Used by the origin config, the
// admin API bodies and the scenario files.
#pragma once

#include <cstdint>
#include <optional>
#include <initializer_list>
#include <set>
#include <span>
#include <utility>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "origin/core/result.h"

namespace liveorigin::yaml {

// Thrown inside a parse and turned into an Error at its boundary (see parse_document).
class ParseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Location {
  std::string source;  // file name or "request body"
  std::string path;    // events[0].streams[1].id
};

// "source:line:col: path: what"
[[noreturn]] void fail(const YAML::Node& node, const Location& where, std::string_view what);

class MapReader {
 public:
  // Fails unless `node` is a map (or null, read as an empty map).
  MapReader(const YAML::Node& node, Location where);

  bool has(std::string_view key) const;
  YAML::Node node(std::string_view key);  // marks the key as known; null if absent
  Location child(std::string_view key) const;

  std::string string(std::string_view key, std::optional<std::string> fallback = std::nullopt);
  int64_t integer(std::string_view key, std::optional<int64_t> fallback, int64_t min, int64_t max);
  std::optional<int64_t> optional_integer(std::string_view key, int64_t min, int64_t max);
  double number(std::string_view key, std::optional<double> fallback, double min, double max);
  bool boolean(std::string_view key, std::optional<bool> fallback);
  std::vector<std::string> string_list(std::string_view key);

  // Fails naming the first key that was never read.
  void finish() const;

  const YAML::Node& self() const { return node_; }
  const Location& where() const { return where_; }

 private:
  YAML::Node required(std::string_view key);
  YAML::Node node_;
  Location where_;
  std::set<std::string, std::less<>> known_;
};

std::string scalar_string(const YAML::Node& node, const Location& where);
int64_t scalar_integer(const YAML::Node& node, const Location& where, int64_t min, int64_t max);
// A finite number in [min, max]; integers and decimals ("2", "0.25", "1e3"). The error
// reads "expected <expect>, got 'x'"; `expect` defaults to "a number in [min, max]".
double scalar_number(const YAML::Node& node, const Location& where, double min, double max,
                     std::string_view expect = {});
// Shortest plain spelling of a number for messages: 0.5, 3000, 1e+20.
std::string format_number(double v);

// What a map's keys name at a path, for "duplicate <noun> 'x'" (default: "key").
struct KeyNoun {
  std::string_view path;  // "pipelines", "event.streams"
  std::string_view noun;  // "pipeline", "stream"
};

// Rejects duplicate keys anywhere under `node` (yaml-cpp keeps both, and a reader
// would silently take the first): "source:line:col: path: duplicate key 'threads'".
void check_duplicate_keys(const YAML::Node& node, const Location& where, std::span<const KeyNoun> nouns = {});

// Parses text into a node and checks it for duplicate keys; syntax errors become
// "source:line:col: message".
YAML::Node load(std::string_view text, std::string_view source);

// Pieces of messages and locations, shared by the readers of config, admin bodies
// and scenarios.
std::string describe(const YAML::Node& node);  // 'x', a map, a list, nothing
Location indexed(const Location& where, size_t i);             // path[i]
Location keyed(const Location& where, const std::string& key);  // path.key
std::string join(const std::vector<std::string>& items, std::string_view sep = ", ");

// The value of an enumeration: `values` maps each spelling to its value.
template <typename E>
E enum_value(const YAML::Node& node, const Location& where, std::initializer_list<std::pair<const char*, E>> values) {
  std::vector<std::string> names;
  for (const auto& [name, value] : values) names.emplace_back(name);
  if (node.IsScalar()) {
    for (const auto& [name, value] : values) {
      if (node.Scalar() == name) return value;
    }
  }
  fail(node, where, "expected one of " + join(names) + ", got " + describe(node));
}

// A key that only makes sense in some cases: reading it marks it known; present where
// it does not apply, it is an error (so a setting never silently does nothing).
YAML::Node only_if(MapReader& r, std::string_view key, bool applies, std::string_view why);

// Runs `fn` and converts a ParseError (or yaml-cpp exception) into an Error.
template <typename T, typename Fn>
Result<T> parse_document(Fn&& fn) {
  try {
    return fn();
  } catch (const ParseError& e) {
    return make_error(e.what());
  } catch (const YAML::Exception& e) {
    return make_error(e.what());
  }
}

}  // namespace liveorigin::yaml
