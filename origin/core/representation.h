// How the origin's answers are spelled on the wire, shared by the units that build
// them: entity tags and conditional requests (RFC 9110 §8.8.3, §13.1.2), byte ranges
// (§14), content types, CORS for web players (Fetch standard) and JSON bodies.
// Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/fwd.hpp>

#include "origin/core/config.h"
#include "origin/core/messages.h"
#include "origin/core/state.h"

namespace liveorigin {

// "<version>-<first 8 bytes of the sha-256, hex>", quoted: a new version or new
// bytes is a new tag.
std::string etag_of(const Candidate& c, int64_t version);

// Weak comparison of If-None-Match (a list of entity-tags, or "*") with `etag`.
bool if_none_match_hits(std::string_view field, std::string_view etag);

struct ByteRange {
  int64_t first;
  int64_t last;
};
enum class RangeResult { none, ok, unsatisfiable };

// A single "bytes=" range of an object of `size` bytes. Anything else, several ranges
// included, is `none` and the whole object is served, as the RFC allows.
RangeResult parse_range(std::string_view field, int64_t size, ByteRange& out);

bool is_manifest(std::string_view object);  // .mpd or .m3u8
std::string content_type_of(std::string_view object, ContentType type);

// Players run in web pages of other origins and read the origin's headers: every
// answer to GET and HEAD of the public paths (/live/..., /time) carries these,
// refusals included, so a page sees the real status.
void add_cors(Response& r);

Response json_response(int status, const boost::json::value& v, int64_t ttl_ms = 0);

}  // namespace liveorigin
