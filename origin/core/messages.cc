#include "origin/core/messages.h"

namespace liveorigin {

const std::string* Response::find(std::string_view name) const {
  for (const auto& h : headers) {
    if (h.name.size() != name.size()) continue;
    bool eq = true;
    for (size_t i = 0; i < name.size() && eq; ++i) {
      eq = (h.name[i] | 0x20) == (name[i] | 0x20);
    }
    if (eq) return &h.value;
  }
  return nullptr;
}

void Response::set_text(std::string text, std::string_view content_type) {
  body_length = text.size();
  body_offset = 0;
  body = std::make_shared<const std::string>(std::move(text));
  set("Content-Type", std::string(content_type));
}

void set_cache_ttl(Response& r, int64_t ttl_ms) {
  if (ttl_ms < 0) ttl_ms = 0;
  r.ttl_ms = ttl_ms;
  const std::string s = std::to_string(ttl_ms / 1000);
  r.set("Cache-Control", "max-age=" + s);
  r.set("CDN-Cache-Control", "max-age=" + s + ", max-age-ms=" + std::to_string(ttl_ms));
}

void set_nginx_expiry(Response& r, int64_t now_ms) {
  if (r.ttl_ms <= 0) return;  // max-age=0 already keeps nginx from storing it
  // Fresh while nginx's current second <= the value: the last second ending by the expiry.
  const int64_t last_s = (now_ms + r.ttl_ms) / 1000 - 1;
  r.set("X-Accel-Expires", last_s < now_ms / 1000 ? std::string("0") : "@" + std::to_string(last_s));
}

Response empty_response(int status, int64_t ttl_ms) {
  Response r;
  r.status = status;
  set_cache_ttl(r, ttl_ms);
  return r;
}

Response text_response(int status, std::string message, int64_t ttl_ms, std::string_view live_reject) {
  Response r;
  r.status = status;
  message.push_back('\n');
  r.set_text(std::move(message));
  set_cache_ttl(r, ttl_ms);
  if (!live_reject.empty()) r.set("Live-Reject", std::string(live_reject));
  return r;
}

}  // namespace liveorigin
