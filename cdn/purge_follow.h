// liveorigin purge-follow: carries an event's invalidations (the origin's feed,
// GET /live/{event}/_invalidations?since=V, docs/http-api.md §11.2) to a real cache, so
// viewers behind it get the replaced copies (docs/cdn.md):
//
// - Varnish: one BAN per invalidated stream range, which deploy/varnish/liveorigin.vcl
//   accepts from loopback: a regex over object URLs (the numbers of the range), and the
//   pipeline when the invalidation names one (cached objects keep Live-Pipeline).
// - nginx: a refresh of each invalidated URL the cache may hold (HEAD with
//   "Liveorigin-Refresh: 1", which deploy/nginx/liveorigin-cache.conf turns into
//   proxy_cache_bypass from loopback: nginx fetches the new copy and stores it in place
//   of the old). Debian's nginx has no purge module by default and the one it packages
//   (ngx_cache_purge 2.3) purges exact keys only, so the follower would enumerate the
//   URLs all the same; a refresh needs no module and leaves no miss behind.
//
// Ranges are clamped to what a cache can hold: [oldest, live_edge + lookahead_segments]
// of the stream's _timeline (nginx refreshes stop at live_edge, below). An open range or a truncated feed (Live-Feed-Truncated)
// covers the whole window. Nothing here includes Beast: a few blocking HTTP/1.1
// requests on loopback-scale networks, each with a deadline.
#pragma once

#include <atomic>
#include <climits>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "origin/core/result.h"

namespace liveorigin::cdn {

struct HostPort {
  std::string host;  // a dotted IPv4 address or a name resolved with getaddrinfo
  uint16_t port = 80;
};

// "http://host[:port]" with no path (a trailing '/' is accepted). Errors name the URL.
Result<HostPort> parse_http_url(std::string_view url);

// One entry of the feed; absent keys are nullopt ("null" in the JSON).
struct FeedEntry {
  int64_t version = 0;
  std::optional<std::string> stream;
  std::optional<int64_t> from_segment;
  std::optional<int64_t> to_segment;
  std::optional<std::string> pipeline;
  std::optional<bool> exclude;
};
Result<std::vector<FeedEntry>> parse_feed(std::string_view json);

// What the follower needs of one stream of GET /live/{event}/_timeline.
struct StreamWindow {
  std::string id;
  std::string segment_template;
  int64_t oldest = 0;
  int64_t live_edge = 0;
  int64_t lookahead_segments = 0;
};
Result<std::vector<StreamWindow>> parse_timeline(std::string_view json);

// A regex (PCRE and ECMAScript alike) matching exactly the decimal numbers lo..hi
// (0 <= lo <= hi), written without leading zeros; callers put "0*" in front for
// zero-padded templates.
std::string number_range_regex(int64_t lo, int64_t hi);

// One stream's share of an invalidation, clamped to its window; empty when nothing of
// the stream can be cached in the range.
struct PurgeRange {
  std::string stream;
  std::string segment_template;
  int64_t from = 0;
  int64_t to = 0;
  int64_t live_edge = INT64_MAX;  // when the range was taken
};
// The ranges `entry` covers (all streams if it names none; nothing for a readmission,
// "exclude": false, which un-commits nothing, nor for a stream the timeline no longer has).
std::vector<PurgeRange> purge_ranges(const FeedEntry& entry, const std::vector<StreamWindow>& streams);
// Every stream's whole window: for a truncated feed.
std::vector<PurgeRange> whole_event(const std::vector<StreamWindow>& streams);

// Varnish: the ban's URL regex for a range of `event` ("^/live/ev/v/0*(?:...)\.m4s(\?.*)?$").
Result<std::string> ban_url_regex(std::string_view event, const PurgeRange& range);
// nginx: the paths to refresh, newest first, at most `max_paths`, none past the live
// edge: asking for the next segment would be held by the origin (a copy served that
// early is rare, and the cache keeps it no longer than the segment's TTL).
Result<std::vector<std::string>> refresh_paths(std::string_view event, const PurgeRange& range, size_t max_paths);

enum class CacheKind { varnish, nginx };

struct PurgeFollowOptions {
  std::string origin_url;
  std::string event;
  CacheKind kind = CacheKind::varnish;
  std::string cache_url;
  int64_t interval_ms = 500;
  int64_t since = 0;               // feed entries up to this version are taken as done
  size_t refresh_max = 4096;       // nginx: URLs refreshed per stream and invalidation
  int64_t request_timeout_ms = 10'000;
};

// Follows the feed until `stop` becomes true: each `interval_ms` one poll (with
// If-None-Match), then the purges of the new entries, in order; `since` advances past
// an entry only once the cache accepted its purge, so a cache that is down gets it on a
// later round. Writes one line per purge and per error to `log`. Returns 0 when
// stopped, 2 on bad options (the message in `log`).
int run_purge_follow(const PurgeFollowOptions& options, const std::atomic<bool>& stop, std::ostream& log);

}  // namespace liveorigin::cdn
