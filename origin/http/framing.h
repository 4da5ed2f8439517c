// The message-framing rules of RFC 9112 a server must enforce itself: Beast parses
// Content-Length and a final `chunked`, and leaves the rest to its caller. A request
// whose body length cannot be determined the way every other hop would determine it
// is refused and its connection closed — otherwise the bytes of its body run as the
// next request (request smuggling).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace liveorigin {

struct RequestFraming {
  int version = 11;                               // 10 for HTTP/1.0, 11 for HTTP/1.1
  std::vector<std::string_view> transfer_encoding;  // every Transfer-Encoding field line
  int host_lines = 0;                             // Host field lines
};

// What is wrong with the request's framing, as the 400 body names it
// ("Transfer-Encoding 'gzip': only chunked is supported"); nothing when it is sound.
std::optional<std::string> framing_error(const RequestFraming& r);

}  // namespace liveorigin
