// The endpoints that describe an event's streams (docs/http-api.md §5 and
// §15): /live/{event}/_timeline, the template
// parameters and live edge CDN nodes filter with; and the DASH MPD and HLS playlists
// generated from the config and the stored init segments (manifests.h).
//
// State: none of its own; reads the registry snapshot and, under each stream's
// mutex, its plain objects and the sizes of its newest segments.
#pragma once

#include "origin/core/core_context.h"
#include "origin/core/ledger.h"
#include "origin/core/routing.h"

namespace liveorigin {

class OriginThread;

class StreamEndpoints {
 public:
  StreamEndpoints(const CoreContext& core, Ledger& ledger) : core_(core), ledger_(ledger) {}

  Response timeline(OriginThread& t, const Route& route);
  // _dash.mpd, _hls.m3u8 and _hls_{stream}.m3u8.
  Response manifest(OriginThread& t, const RequestHead& head, const Route& route);

 private:
  const CoreContext& core_;
  Ledger& ledger_;
};

}  // namespace liveorigin
