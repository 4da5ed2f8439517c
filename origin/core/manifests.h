// Manifests the origin generates itself (docs/http-api.md §15).
//
// Because every stream's segments follow a fixed template on a fixed timeline
// (docs/http-api.md §2), one static DASH MPD (type="dynamic", SegmentTemplate with $Number$)
// describes an event for as long as its config does not change, and an HLS media
// playlist is a pure function of the config and the clock. What the config does not
// say (codec strings, picture size, sample rate) is read from the init segments'
// bytes by a small ISO-BMFF box reader.
//
// Pure functions: no I/O, no clock of their own. The origin core calls them with its
// registry, its clock and what it keeps of the init segments (origin.cc).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "origin/core/config.h"
#include "origin/core/result.h"

namespace liveorigin {

// What an ISO-BMFF initialization segment (ftyp + moov) says about its first track.
struct InitInfo {
  std::string codecs;        // RFC 6381 "codecs" value: avc1.64001f, mp4a.40.2, opus, vp09.00.10.08, ...
  std::string handler;       // hdlr handler_type: "vide", "soun", ...
  uint32_t timescale = 0;    // mdhd
  std::string language;      // mdhd ISO 639-2/T code ("und" when unset)
  int width = 0;             // visual sample entry, pixels
  int height = 0;
  int sample_rate = 0;       // audio sample entry, Hz
  int channels = 0;
};

// Reads the first track of an initialization segment. Errors read
// "not an init segment: <why>" (no moov, truncated boxes, unknown layout). Never reads
// outside `bytes`, whatever they hold.
Result<InitInfo> parse_init_segment(std::string_view bytes);

// One stream as a manifest sees it.
struct ManifestStream {
  const StreamConfig* config = nullptr;
  std::string init_object;       // name of its init segment ("" when none known)
  std::optional<InitInfo> init;  // what the init segment says, if it was readable
  int64_t bandwidth_bps = 0;     // resolved (config, estimate or default); > 0
  // For HLS media playlists: the first number stored for the stream (-1: none), and
  // the numbers in the window that no pipeline delivered and whose selection grace
  // is over (listed with EXT-X-GAP).
  int64_t first_stored = -1;
  std::vector<int64_t> gaps;

  // The codec string: the stream's `codecs` key, else the init segment's; "" if neither.
  std::string codecs() const;
  // The language: the `language` key, else the init segment's unless "und"; "" if neither.
  std::string language() const;
  // True when a manifest can describe the stream: it has a codec string.
  bool describable() const { return !codecs().empty(); }
};

struct ManifestInput {
  const EventConfig* event = nullptr;
  std::vector<ManifestStream> streams;  // parallel to event->streams
  int64_t now_ms = 0;
};

// The event's DASH MPD: type="dynamic", one Period from availabilityStartTime, video
// streams in one AdaptationSet, audio streams in one AdaptationSet per language, every
// Representation a SegmentTemplate over the stream's template and timeline, and
// UTCTiming (http-iso) at the origin's /time. Streams that are not describable are
// left out. The result does not depend on now_ms (a static document).
std::string build_dash_mpd(const ManifestInput& in);

// The HLS multivariant playlist: one EXT-X-STREAM-INF per video stream (audio streams
// as an EXT-X-MEDIA group), or per audio stream when the event has no video.
std::string build_hls_multivariant(const ManifestInput& in);

// The HLS media playlist of stream `index` at in.now_ms: every segment from the oldest
// still served (and not before the first one stored) to the live edge.
std::string build_hls_media(const ManifestInput& in, size_t index);

// Names of the generated documents inside /live/{event}/.
inline constexpr std::string_view kDashManifestName = "_dash.mpd";
inline constexpr std::string_view kHlsMultivariantName = "_hls.m3u8";
// "_hls_{stream}.m3u8"
std::string hls_media_name(std::string_view stream_id);
// The stream id of a media playlist name, or "" if `object` is not one.
std::string_view hls_media_stream(std::string_view object);

// The bandwidth a manifest announces for a stream whose config gives none: from the
// largest recent segment (bits per second, rounded up to two significant digits), or
// a default by content type when no segment is stored yet.
int64_t estimate_bandwidth_bps(const StreamConfig& s, int64_t largest_recent_segment_bytes);

}  // namespace liveorigin
