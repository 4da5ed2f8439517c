// How actors talk to the origin: one HTTP exchange at a time, asynchronously. Two
// implementations: HttpLink (real sockets, realtime) and CoreLink (the origin core
// in-process on the scheduler's time, no sockets: tests and virtual time).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "origin/core/messages.h"

namespace liveorigin::sim {

using HeaderPairs = std::vector<std::pair<std::string, std::string>>;

struct LinkRequest {
  std::string method = "GET";
  std::string target;  // origin-form path and query
  HeaderPairs headers;
  SharedBytes body;           // PUT/POST bodies
  int64_t body_delay_ms = 0;  // a slow upload: the body follows the head after this long
};

struct LinkResponse {
  int status = 0;  // 0: no answer (connection failed, timed out)
  HeaderPairs headers;
  SharedBytes body;
  std::string error;  // why status is 0

  std::string header(std::string_view name) const;  // case-insensitive, "" if absent
};

class OriginLink {
 public:
  virtual ~OriginLink() = default;
  // `done` runs once, on the scheduler's thread, never from inside send().
  virtual void send(LinkRequest request, std::function<void(LinkResponse)> done) = 0;
  // Requests sent and not yet answered.
  virtual size_t in_flight() const = 0;
};

// Case-insensitive ASCII comparison, as header names compare.
bool header_name_equals(std::string_view a, std::string_view b);

// The TTL a response gives a cache: CDN-Cache-Control max-age-ms, else its max-age,
// else Cache-Control max-age; -1 when none says.
int64_t cache_ttl_ms(const LinkResponse& r);

}  // namespace liveorigin::sim
