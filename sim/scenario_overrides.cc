#include "sim/scenario_overrides.h"

#include <algorithm>

#include "origin/core/yaml_reader.h"

namespace liveorigin::sim {

namespace {

constexpr const char* kExample = " (e.g. viewers.live.count=5000)";

// The maps of named things, and what the parser uses when the file has none: an entry
// of these is only reachable when it exists (a new name would add a cohort or a tier).
struct NamedMap {
  std::string_view path;
  std::string_view noun;
  const char* defaults;  // YAML the parser's defaults amount to
  bool list_form;        // `[a, b]` is short for `{a: {}, b: {}}`
};
constexpr NamedMap kNamedMaps[] = {
    {"pipelines", "pipeline", "{a: {}, b: {}}", true},
    {"event.streams", "stream", "{video: {}}", true},
    {"cdn.tiers", "tier", "{edge: {nodes: 2}}", false},
    {"viewers", "cohort", "{live: {}}", false},
};

const NamedMap* named_map(std::string_view path) {
  for (const auto& m : kNamedMaps) {
    if (m.path == path) return &m;
  }
  return nullptr;
}

bool key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

std::vector<std::string> split_key(std::string_view key) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t dot = key.find('.', start);
    out.emplace_back(key.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) return out;
    start = dot + 1;
  }
}

[[noreturn]] void refuse(const Override& o, const std::string& path, const std::string& why) {
  throw yaml::ParseError("--set " + o.text() + ": " + path + ": " + why);
}

// Makes `node` (the value at `path`, a named map) a map holding its entries, so an
// entry can be reached: the parser's defaults when absent, the map form of a list.
void materialise(YAML::Node node, const NamedMap& m, const Override& o, const std::string& path) {
  if (!node.IsDefined() || node.IsNull()) {
    const YAML::Node defaults = YAML::Load(m.defaults);
    for (const auto& kv : defaults) node[kv.first.Scalar()] = kv.second;
    return;
  }
  if (node.IsSequence() && m.list_form) {
    std::vector<std::string> ids;
    for (const auto& item : node) {
      if (!item.IsScalar()) return;  // the parser says what is wrong with it
      ids.push_back(item.Scalar());
    }
    YAML::Node map(YAML::NodeType::Map);
    for (const auto& id : ids) map[id] = YAML::Node(YAML::NodeType::Map);
    node = map;
  }
}

void apply_one(YAML::Node& root, const Override& o) {
  if (!root.IsDefined() || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap()) throw yaml::ParseError("--set " + o.text() + ": the scenario is not a map of keys");
  const std::vector<std::string> keys = split_key(o.key);
  YAML::Node node = root;  // a handle: what it is assigned below changes the tree
  std::string path;
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string& k = keys[i];
    const std::string parent = path;
    path = path.empty() ? k : path + "." + k;
    if (const NamedMap* m = named_map(parent)) {
      bool found = false;
      std::vector<std::string> names;
      for (const auto& kv : node) {
        names.push_back(kv.first.Scalar());
        found = found || kv.first.Scalar() == k;
      }
      if (!found) {
        refuse(o, path,
               "unknown " + std::string(m->noun) + " '" + k + "' (the scenario's " + std::string(m->noun) + "s: " +
                   (names.empty() ? "none" : yaml::join(names)) + ")");
      }
    }
    if (i + 1 == keys.size()) {
      node[k] = YAML::Node(o.value);
      return;
    }
    YAML::Node child = node[k];
    if (const NamedMap* m = named_map(path)) materialise(child, *m, o, path);
    if (!child.IsDefined() || child.IsNull()) child = YAML::Node(YAML::NodeType::Map);
    if (child.IsScalar()) refuse(o, path, "is a value ('" + child.Scalar() + "'), not a map of keys");
    if (child.IsSequence()) refuse(o, path, "is a list; --set reaches keys of maps only");
    node.reset(child);
  }
}

}  // namespace

Result<Override> parse_override(std::string_view text) {
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return make_error("--set " + std::string(text) + ": expected key=value" + kExample);
  }
  Override o{std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
  for (const auto& part : split_key(o.key)) {
    if (part.empty() || !std::all_of(part.begin(), part.end(), key_char)) {
      return make_error("--set " + std::string(text) + ": '" + o.key +
                        "' is not a dotted path of keys (letters, digits, _ and -, joined by dots)" + kExample);
    }
  }
  if (o.value.empty()) return make_error("--set " + std::string(text) + ": no value after '='" + kExample);
  return o;
}

void apply_overrides(YAML::Node& root, std::span<const Override> overrides) {
  for (const auto& o : overrides) apply_one(root, o);
}

std::string blame_overrides(const std::string& message, std::string_view source, std::span<const Override> overrides) {
  if (overrides.empty() || message.starts_with("--set ")) return message;
  // A node an override put there has no line and column: "source: path: what".
  const std::string head = std::string(source) + ": ";
  if (message.starts_with(head)) {
    const size_t end = message.find(": ", head.size());
    const std::string path = message.substr(head.size(), end == std::string::npos ? end : end - head.size());
    for (const auto& o : overrides) {
      const bool at = path == o.key;
      const bool under = path.starts_with(o.key + ".") || path.starts_with(o.key + "[");
      const bool above = o.key.starts_with(path + ".");  // an unknown key on the way: origin.modle
      if (at || under || above) return "--set " + o.text() + ": " + message;
    }
  }
  std::string all;
  for (const auto& o : overrides) all += (all.empty() ? "" : ", ") + o.text();
  return "with --set " + all + ": " + message;
}

}  // namespace liveorigin::sim
