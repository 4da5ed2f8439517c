#include "origin/core/priority.h"

#include <algorithm>
#include <functional>

#include "origin/core/holds.h"
#include "origin/core/origin_thread.h"
#include "origin/core/structured_fields.h"
#include "origin/core/target.h"

namespace liveorigin {

namespace {

// A CMCD dictionary from a header or the CMCD query parameter; empty on any error
// (CMCD is a hint: a malformed one is ignored, never a 400).
sf::Dictionary cmcd_dictionary(std::string_view header) {
  if (header.empty()) return {};
  auto d = sf::parse_dictionary(header);
  return d ? std::move(*d) : sf::Dictionary{};
}

const sf::BareItem* cmcd_value(const sf::Dictionary& d, std::string_view key) {
  for (const auto& [k, m] : d) {
    if (k == key) {
      if (const auto* item = std::get_if<sf::Item>(&m)) return &item->value;
      // CMCD v2 sends some keys as inner lists (`bl=(500)`): the first item is v1's value.
      if (const auto* list = std::get_if<sf::InnerList>(&m); list && !list->items.empty()) {
        return &list->items.front().value;
      }
    }
  }
  return nullptr;
}

bool contains_token_ci(std::string_view field, std::string_view token) {
  for (size_t i = 0; i + token.size() <= field.size(); ++i) {
    bool eq = true;
    for (size_t k = 0; k < token.size() && eq; ++k) eq = (field[i + k] | 0x20) == token[k];
    if (eq) return true;
  }
  return false;
}

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

uint64_t path_hash(std::string_view target) {
  // Never 0: 0 marks an empty suppression slot.
  return std::hash<std::string_view>{}(path_of(target)) | 1;
}

}  // namespace

Priority::Priority(const Clock& clock, const OverloadConfig& config, std::string server_id,
                   const CounterBlocks& counters)
    : clock_(clock),
      config_(config), server_id_(std::move(server_id)), counters_(counters) {}

RequestClass Priority::classify(const RequestHead& head, const StreamConfig& sc, int64_t n, int64_t edge) const {
  if (contains_token_ci(head.sec_purpose, "prefetch") || contains_token_ci(head.live_priority, "background")) {
    return RequestClass::background;
  }
  RequestClass c = n >= edge - sc.live_window_segments ? RequestClass::live : RequestClass::dvr;
  // CMCD refines it: a VOD-type session is not at the live edge; a player whose buffer
  // holds less than one segment is about to stall wherever it plays.
  std::string query_cmcd;
  if (const size_t q = head.target.find('?'); q != std::string_view::npos) {
    if (auto v = query_param(head.target.substr(q + 1), "CMCD")) query_cmcd = std::move(*v);
  }
  for (std::string_view field : {head.cmcd_session, head.cmcd_request, std::string_view(query_cmcd)}) {
    const sf::Dictionary d = cmcd_dictionary(field);
    if (const auto* st = cmcd_value(d, "st")) {
      if (const auto* tok = std::get_if<sf::Token>(st); tok && tok->value == "v") c = RequestClass::dvr;
    }
    if (const auto* bl = cmcd_value(d, "bl")) {
      if (const auto* ms = std::get_if<int64_t>(bl); ms && *ms < sc.segment_duration_ms) {
        return RequestClass::live;
      }
    }
  }
  return c;
}

bool Priority::overloaded(RequestClass c, int64_t now_ms) {
  if (c == RequestClass::live) return false;
  if (store_) {
    const StoreStatus* s = store_->load(std::memory_order_acquire);
    if (s && !s->up()) return true;  // DVR waits; the live edge is served from the hot cache
  }
  if (config_.store_reads_max > 0) {
    const int64_t reads = counters_.store_reads_in_flight();
    // background goes first, at half the limit; dvr at the limit.
    const int64_t limit = c == RequestClass::background ? config_.store_reads_max / 2 : config_.store_reads_max;
    if (reads > limit) return true;
  }
  const int64_t budget = c == RequestClass::dvr ? config_.dvr_budget_rps : config_.background_budget_rps;
  if (budget > 0) {
    Budget& b = budgets_[static_cast<size_t>(c)];
    const int64_t second = now_ms / 1000;
    int64_t window = b.window_s.load(std::memory_order_relaxed);
    if (window != second && b.window_s.compare_exchange_strong(window, second)) {
      b.used.store(0, std::memory_order_relaxed);
    }
    if (b.used.fetch_add(1, std::memory_order_relaxed) >= budget) return true;
  }
  return false;
}

Response Priority::shed_response() const {
  Response r = text_response(503, "overloaded: live-edge requests first, retry later", config_.shed_ttl_ms, "overload");
  r.set("Retry-After", std::to_string((config_.shed_ttl_ms + 999) / 1000));
  std::string id;
  sf::append_bare_item(id, server_id_);
  r.set("CMSD-Dynamic", id + ";du");
  return r;
}

std::optional<Response> Priority::suppressed(OriginThread& t, const RequestHead& head,
                                             const std::shared_ptr<HeldRequest>& held) const {
  SuppressionCache& cache = t.suppression;
  if (cache.active_until_ms_ <= 0 || (head.method != Method::get && head.method != Method::head) ||
      (held && held->waiting()) || !head.cmcd_request.empty() || !head.cmcd_session.empty() ||
      head.target.find("CMCD=") != std::string_view::npos) {
    return std::nullopt;
  }
  const int64_t now_ms = clock_.now_ms();
  if (now_ms >= cache.active_until_ms_ || cache.slots_.empty()) return std::nullopt;
  const uint64_t h = path_hash(head.target);
  const auto& slot = cache.slots_[h % SuppressionCache::kSlots];
  if (slot.path_hash != h || slot.until_ms <= now_ms) return std::nullopt;
  t.counters().suppressed.add();
  count_request(t.counters(), ZoneLabel::select, 503, slot.class_label);
  Response r = shed_response();
  // The cached answer is what a CDN would have cached: the remaining window.
  for (auto& hdr : r.headers) {
    if (hdr.name == "Cache-Control" || hdr.name == "CDN-Cache-Control") hdr.value.clear();
  }
  r.headers.erase(std::remove_if(r.headers.begin(), r.headers.end(), [](const Header& x) { return x.value.empty(); }),
                  r.headers.end());
  set_cache_ttl(r, slot.until_ms - now_ms);
  return r;
}

void Priority::remember_shed(OriginThread& t, std::string_view target, int64_t now_ms, RequestClass cls) const {
  SuppressionCache& cache = t.suppression;
  if (cache.slots_.empty()) cache.slots_.resize(SuppressionCache::kSlots);
  const uint64_t h = path_hash(target);
  const int64_t until = now_ms + config_.shed_ttl_ms;
  cache.slots_[h % SuppressionCache::kSlots] = {h, until, static_cast<uint8_t>(cls)};
  cache.active_until_ms_ = std::max(cache.active_until_ms_, until);
}

}  // namespace liveorigin
