// The transport-free request and response the origin core works on. The Beast
// session fills a RequestHead from the parsed header and writes a Response back;
// the virtual-time simulator builds and reads them directly.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace liveorigin {

// Object bytes are immutable once stored and shared by every response that sends them.
using SharedBytes = std::shared_ptr<const std::string>;

enum class Method { get, head, put, post, del, options, other };

struct RequestHead {
  Method method = Method::get;
  std::string_view target;  // origin-form: "/live/final/video-1080p/123.m4s?x=1"
  std::string_view authorization;
  std::string_view live_pipeline;
  std::string_view segment_defects;  // several field lines joined with ", "
  std::string_view repr_digest;
  std::string_view if_none_match;
  std::string_view range;
  std::string_view if_range;
  std::optional<uint64_t> content_length;  // absent when chunked
  // Priority hints (docs/http-api.md §7.8). CMCD (CTA-5004) may also come as the CMCD query
  // parameter, which the core reads from `target`.
  std::string_view cmcd_request;  // CMCD-Request: bl=...
  std::string_view cmcd_session;  // CMCD-Session: st=...
  std::string_view sec_purpose;   // Sec-Purpose / Purpose: prefetch
  std::string_view live_priority;  // Live-Priority: background
};

struct Header {
  std::string_view name;  // always a string literal
  std::string value;
};

struct Response {
  int status = 200;
  std::vector<Header> headers;  // besides Content-Length and Connection, which the transport adds
  SharedBytes body;             // may be null (empty body)
  size_t body_offset = 0;
  size_t body_length = 0;  // bytes of body to send from body_offset; also Content-Length
  bool send_body = true;   // false for 304. The transport also sends no body for HEAD,
                           // with the Content-Length of the GET (body_length)
  int64_t ttl_ms = 0;      // the cache TTL set_cache_ttl last set

  void set(std::string_view name, std::string value) { headers.push_back({name, std::move(value)}); }
  const std::string* find(std::string_view name) const;
  void set_text(std::string text, std::string_view content_type = "text/plain; charset=utf-8");
};

// Sets Cache-Control: max-age=<s> and CDN-Cache-Control: max-age=<s>, max-age-ms=<ms>
// (RFC 9213 with a millisecond extension). Seconds are rounded down so a cache never
// keeps an object longer than the millisecond figure.
void set_cache_ttl(Response& r, int64_t ttl_ms);

// Adds X-Accel-Expires for nginx proxy_cache, which counts TTLs in whole seconds of
// its own clock: an answer stored at t with max-age=n stays fresh until
// floor(t) + n + 1, up to a second past the origin's millisecond TTL. The absolute
// form (`@<epoch s>`) ends freshness at the last whole second before now_ms + ttl_ms
// (so a not-yet 404 never outlives its TTL; it may end up to a second early), and
// `0` (not cacheable) when no whole second is left. nginx takes it over
// Cache-Control and never forwards it; other caches ignore it.
void set_nginx_expiry(Response& r, int64_t now_ms);

// A response with no body (204, or a status whose body says nothing more).
Response empty_response(int status, int64_t ttl_ms);

// A complete plain-text response: "<message>\n", with a cache TTL and optionally Live-Reject.
Response text_response(int status, std::string message, int64_t ttl_ms,
                       std::string_view live_reject = {});

}  // namespace liveorigin
