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
  std::string_view host;                          // the last Host line's value
};

// What is wrong with the request's framing, as the 400 body names it
// ("Transfer-Encoding 'gzip': only chunked is supported"); nothing when it is sound.
std::optional<std::string> framing_error(const RequestFraming& r);

// The name of the first field in `head_bytes` (raw bytes of a request head, or a part
// of one that ends on a line boundary) continued by obs-fold: a line that starts with
// SP or HTAB (RFC 9112 §5.2). Beast joins such a line to the previous value with a
// space, so a hop that does not would read another Transfer-Encoding or
// Content-Length than we do. Nothing when there is none; "" when the continued line
// is the request line.
std::optional<std::string_view> obs_folded_field(std::string_view head_bytes);

// Checks the request target's form (RFC 9112 §3.2). Origin-form ("/live/...") is
// routed as it is. Absolute-form ("http://host/live/..."), which a server must accept,
// is rewritten into `origin_form` (its path and query). Asterisk-form ("*") and
// authority-form ("host:port") are refused: the origin serves neither server-wide
// OPTIONS nor CONNECT. Returns what the 400 body names
// ("asterisk-form target '*' is only for OPTIONS"); nothing when the target can be
// routed (the core then checks its path). `origin_form` is left empty unless rewritten.
std::optional<std::string> request_target_error(std::string_view method, std::string_view target,
                                                std::string& origin_form);

}  // namespace liveorigin
