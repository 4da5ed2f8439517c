// Which path a request names (docs/http-api.md §4): one parse of the target,
// then the route the façade dispatches on. Pure: no state, no lock.
#pragma once

#include <string_view>

#include "origin/core/messages.h"
#include "origin/core/result.h"
#include "origin/core/target.h"

namespace liveorigin {

struct Route {
  enum Kind {
    live_object,       // /live/{event}/{stream}/{object}
    timeline,          // /live/{event}/_timeline
    invalidations,     // /live/{event}/_invalidations?since=V
    dash_manifest,     // /live/{event}/_dash.mpd
    hls_multivariant,  // /live/{event}/_hls.m3u8
    hls_media,         // /live/{event}/_hls_{stream}.m3u8
    ingest_prefix,     // /ingest/{pipeline}/{token}/{event}/{stream}/{object}
    time,
    healthz,
    metrics,
    admin_events,      // /admin/events
    admin_event,       // /admin/events/{event}
    admin_segment,     // /admin/events/{event}/streams/{stream}/segments/{n}
    admin_markers,     // /admin/events/{event}/markers[/{id}]
    admin_invalidate,  // /admin/invalidate
    not_found,
  };
  Kind kind = not_found;
  std::string_view event, stream, object, pipeline, token, number, marker;
  Target target;  // the views above point into it, or into the request target

  // Parses `target` (the request's origin-form target, which must outlive the Route);
  // errors are parse_target's.
  static Result<Route> of(std::string_view target);

  bool admin() const { return kind >= admin_events && kind <= admin_invalidate; }
  // Paths a web page may read (CORS, and the OPTIONS preflight).
  bool is_public() const { return kind != not_found && kind != ingest_prefix && !admin(); }
};

// The token of "Authorization: Bearer <token>" (scheme case-insensitive, RFC 9110
// §11.1); empty if there is none.
std::string_view bearer_token(std::string_view authorization);

// True for PUTs whose body is a media object (/live/... or /ingest/...).
bool is_ingest(const RequestHead& head);

}  // namespace liveorigin
