#include "cdn/purge_follow.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <charconv>
#include <ostream>
#include <thread>

#include <boost/json.hpp>

#include "origin/core/segment_template.h"

namespace liveorigin::cdn {
namespace {

namespace json = boost::json;

struct HttpAnswer {
  int status = 0;  // 0: no answer (the error says why)
  std::string headers;  // the raw header block, lower-cased names not guaranteed
  std::string body;
  std::string error;

  std::string header(std::string_view name) const {
    size_t at = 0;
    while ((at = headers.find("\r\n", at)) != std::string::npos) {
      at += 2;
      const size_t colon = headers.find(':', at);
      if (colon == std::string::npos) break;
      if (colon - at == name.size() &&
          std::equal(name.begin(), name.end(), headers.begin() + static_cast<std::ptrdiff_t>(at),
                     [](char a, char b) { return (a | 0x20) == (b | 0x20); })) {
        const size_t end = headers.find("\r\n", colon);
        std::string v = headers.substr(colon + 1, end - colon - 1);
        v.erase(0, v.find_first_not_of(' '));
        return v;
      }
    }
    return "";
  }
};

// One request on its own connection (Connection: close), bounded by `timeout_ms` for
// the connect and for each read and write.
HttpAnswer http_request(const HostPort& to, std::string_view method, std::string_view target,
                        const std::vector<std::pair<std::string, std::string>>& headers, int64_t timeout_ms) {
  HttpAnswer a;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int rc = ::getaddrinfo(to.host.c_str(), std::to_string(to.port).c_str(), &hints, &found); rc != 0) {
    a.error = "cannot resolve " + to.host + ": " + ::gai_strerror(rc);
    return a;
  }
  int fd = -1;
  timeval tv{static_cast<time_t>(timeout_ms / 1000), static_cast<suseconds_t>(timeout_ms % 1000 * 1000)};
  for (addrinfo* ai = found; ai && fd < 0; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) continue;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);  // also bounds connect()
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd < 0) {
    a.error = "cannot connect to " + to.host + ":" + std::to_string(to.port);
    return a;
  }
  std::string req = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: " + to.host +
                    "\r\nConnection: close\r\nContent-Length: 0\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  req += "\r\n";
  for (size_t sent = 0; sent < req.size();) {
    const ssize_t k = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (k <= 0) {
      ::close(fd);
      a.error = "cannot send to " + to.host + ":" + std::to_string(to.port);
      return a;
    }
    sent += static_cast<size_t>(k);
  }
  // Bounded: nothing this follower reads is large (the feed keeps invalidations_max entries).
  constexpr size_t kAnswerBytesMax = 16 << 20;
  std::string raw;
  char buf[16384];
  for (;;) {
    const ssize_t k = ::recv(fd, buf, sizeof buf, 0);
    if (k < 0) {
      a.error = (errno == EAGAIN || errno == EWOULDBLOCK)
                    ? "no answer from " + to.host + ":" + std::to_string(to.port) + " within " +
                          std::to_string(timeout_ms) + " ms"
                    : "connection to " + to.host + ":" + std::to_string(to.port) + " failed: " + std::strerror(errno);
      break;
    }
    if (k == 0) break;
    raw.append(buf, static_cast<size_t>(k));
    if (raw.size() > kAnswerBytesMax) {
      a.error = "answer larger than 16 MiB";
      break;
    }
  }
  ::close(fd);
  const size_t head_end = raw.find("\r\n\r\n");
  if (!a.error.empty() || raw.size() < 12 || head_end == std::string::npos || raw.compare(0, 5, "HTTP/") != 0) {
    if (a.error.empty()) a.error = "not an HTTP answer from " + to.host + ":" + std::to_string(to.port);
    return a;
  }
  a.status = std::atoi(raw.c_str() + 9);
  a.headers = raw.substr(0, head_end + 2);
  a.body = raw.substr(head_end + 4);
  return a;
}

std::string regex_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (std::string_view("\\^$.|?*+()[]{}/").find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::optional<int64_t> int_or_null(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null()) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->as_uint64());
  return std::nullopt;
}

std::optional<std::string> string_or_null(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string(v->as_string());
}

}  // namespace

Result<HostPort> parse_http_url(std::string_view url) {
  const std::string original(url);
  if (!url.starts_with("http://")) return Error{"'" + original + "' is not an http:// URL"};
  url.remove_prefix(7);
  if (url.ends_with('/')) url.remove_suffix(1);
  if (url.empty() || url.find('/') != std::string_view::npos) {
    return Error{"'" + original + "': give only http://host:port, no path"};
  }
  HostPort hp;
  const size_t colon = url.rfind(':');
  hp.host = std::string(url.substr(0, colon));
  if (colon != std::string_view::npos) {
    const std::string_view p = url.substr(colon + 1);
    unsigned port = 0;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    if (ec != std::errc() || end != p.data() + p.size() || port == 0 || port > 65535) {
      return Error{"'" + original + "': bad port"};
    }
    hp.port = static_cast<uint16_t>(port);
  }
  if (hp.host.empty()) return Error{"'" + original + "': no host"};
  return hp;
}

Result<std::vector<FeedEntry>> parse_feed(std::string_view text) {
  boost::system::error_code ec;
  const json::value doc = json::parse(text, ec);
  if (ec || !doc.is_array()) return Error{"the invalidation feed is not a JSON array"};
  std::vector<FeedEntry> out;
  for (const auto& v : doc.as_array()) {
    if (!v.is_object()) return Error{"an invalidation feed entry is not an object"};
    const json::object& o = v.as_object();
    FeedEntry e;
    const auto version = int_or_null(o, "version");
    if (!version) return Error{"an invalidation feed entry has no version"};
    e.version = *version;
    e.stream = string_or_null(o, "stream");
    e.from_segment = int_or_null(o, "from_segment");
    e.to_segment = int_or_null(o, "to_segment");
    e.pipeline = string_or_null(o, "pipeline");
    if (const json::value* x = o.if_contains("exclude"); x && x->is_bool()) e.exclude = x->as_bool();
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<StreamWindow>> parse_timeline(std::string_view text) {
  boost::system::error_code ec;
  const json::value doc = json::parse(text, ec);
  const json::value* streams = doc.is_object() ? doc.as_object().if_contains("streams") : nullptr;
  if (ec || !streams || !streams->is_array()) return Error{"the timeline is not JSON with a streams array"};
  std::vector<StreamWindow> out;
  for (const auto& v : streams->as_array()) {
    if (!v.is_object()) return Error{"a timeline stream is not an object"};
    const json::object& o = v.as_object();
    StreamWindow w;
    auto id = string_or_null(o, "id");
    auto tmpl = string_or_null(o, "segment_template");
    auto oldest = int_or_null(o, "oldest");
    auto edge = int_or_null(o, "live_edge");
    auto ahead = int_or_null(o, "lookahead_segments");
    if (!id || !tmpl || !oldest || !edge || !ahead) return Error{"a timeline stream lacks id, segment_template, oldest, live_edge or lookahead_segments"};
    w.id = *id;
    w.segment_template = *tmpl;
    w.oldest = *oldest;
    w.live_edge = *edge;
    w.lookahead_segments = *ahead;
    out.push_back(std::move(w));
  }
  return out;
}

std::string number_range_regex(int64_t lo, int64_t hi) {
  // Blocks of consecutive numbers that share every digit but the last k+1: each is
  // <prefix>[a-b][0-9]{k}. Greedy from lo: at most ~2 * 9 blocks per digit.
  std::string out;
  int64_t start = lo;
  while (start <= hi) {
    int64_t step = 1;
    int k = 0;
    while (step <= INT64_MAX / 100 && start % (step * 10) == 0 && start + step * 10 - 1 <= hi) {
      step *= 10;
      ++k;
    }
    const int64_t digit = start / step % 10;
    int64_t count = 1;
    while (digit + count <= 9 && start + (count + 1) * step - 1 <= hi) ++count;
    const int64_t high = start / step / 10;
    const std::string tail = k == 0 ? "" : k == 1 ? "[0-9]" : "[0-9]{" + std::to_string(k) + "}";
    auto digits = [](int64_t a, int64_t b) {
      return a == b ? std::to_string(a) : "[" + std::to_string(a) + "-" + std::to_string(b) + "]";
    };
    if (!out.empty()) out += "|";
    if (high == 0 && digit == 0) {
      // From 0: the numbers below `step` have fewer digits, without a leading zero.
      out += k == 0 ? "0" : "[0-9]{1," + std::to_string(k) + "}";
      if (count > 1) out += "|" + digits(1, count - 1) + tail;
    } else {
      out += (high > 0 ? std::to_string(high) : "") + digits(digit, digit + count - 1) + tail;
    }
    start += count * step;
  }
  return out;
}

std::vector<PurgeRange> purge_ranges(const FeedEntry& entry, const std::vector<StreamWindow>& streams) {
  std::vector<PurgeRange> out;
  if (entry.exclude == false) return out;
  for (const auto& s : streams) {
    if (entry.stream && *entry.stream != s.id) continue;
    PurgeRange r{s.id, s.segment_template, std::max(entry.from_segment.value_or(s.oldest), s.oldest),
                 std::min(entry.to_segment.value_or(INT64_MAX), s.live_edge + s.lookahead_segments), s.live_edge};
    if (r.from <= r.to) out.push_back(std::move(r));
  }
  return out;
}

std::vector<PurgeRange> whole_event(const std::vector<StreamWindow>& streams) {
  return purge_ranges(FeedEntry{}, streams);
}

Result<std::string> ban_url_regex(std::string_view event, const PurgeRange& range) {
  auto t = SegmentTemplate::parse(range.segment_template, range.stream);
  if (!t) return Error{"stream " + range.stream + ": " + t.error().message};
  return "^/live/" + regex_escape(event) + "/" + regex_escape(range.stream) + "/" + regex_escape(t->prefix()) +
         "0*(" + number_range_regex(std::max<int64_t>(range.from, 0), std::max<int64_t>(range.to, 0)) + ")" +
         regex_escape(t->suffix()) + "([?].*)?$";
}

Result<std::vector<std::string>> refresh_paths(std::string_view event, const PurgeRange& range, size_t max_paths) {
  auto t = SegmentTemplate::parse(range.segment_template, range.stream);
  if (!t) return Error{"stream " + range.stream + ": " + t.error().message};
  std::vector<std::string> out;
  for (int64_t n = std::min(range.to, range.live_edge); n >= range.from && out.size() < max_paths; --n) {
    out.push_back("/live/" + std::string(event) + "/" + range.stream + "/" + t->format(n));
  }
  return out;
}

namespace {

class Follower {
 public:
  Follower(const PurgeFollowOptions& o, HostPort origin, HostPort cache, const std::atomic<bool>& stop, std::ostream& log)
      : o_(o), origin_(std::move(origin)), cache_(std::move(cache)), stop_(stop), log_(log), since_(o.since) {}

  // One poll and the purges it brings.
  void round() {
    std::vector<std::pair<std::string, std::string>> h;
    if (!etag_.empty()) h.emplace_back("If-None-Match", etag_);
    const HttpAnswer feed = http_request(origin_, "GET", "/live/" + o_.event + "/_invalidations?since=" +
                                         std::to_string(since_), h, o_.request_timeout_ms);
    if (feed.status == 304) return;
    if (feed.status != 200) {
      log_ << "purge-follow: feed: " << (feed.status ? "status " + std::to_string(feed.status) + " " + feed.body : feed.error)
           << std::endl;
      return;
    }
    auto entries = parse_feed(feed.body);
    if (!entries) {
      log_ << "purge-follow: feed: " << entries.error().message << std::endl;
      return;
    }
    const bool truncated = !feed.header("Live-Feed-Truncated").empty();
    if (entries->empty() && !truncated) {
      etag_ = feed.header("ETag");
      return;
    }
    const HttpAnswer tl = http_request(origin_, "GET", "/live/" + o_.event + "/_timeline", {}, o_.request_timeout_ms);
    auto streams = tl.status == 200 ? parse_timeline(tl.body) : Result<std::vector<StreamWindow>>(Error{
        "timeline: " + (tl.status ? "status " + std::to_string(tl.status) : tl.error)});
    if (!streams) {
      log_ << "purge-follow: " << streams.error().message << std::endl;
      return;
    }
    if (truncated) {
      // Entries were dropped before we read them: every copy of the event may be stale.
      if (!purge(FeedEntry{}, whole_event(*streams), "truncated feed")) return;
    }
    for (const auto& e : *entries) {
      if (stop_.load()) return;
      if (!purge(e, purge_ranges(e, *streams), "version " + std::to_string(e.version))) return;
      since_ = std::max(since_, e.version);
    }
    etag_.clear();  // the next poll asks with the new since
  }

 private:
  bool purge(const FeedEntry& e, const std::vector<PurgeRange>& ranges, const std::string& what) {
    for (const auto& r : ranges) {
      if (o_.kind == CacheKind::varnish ? !ban(e, r, what) : !refresh(r, what)) return false;
    }
    if (ranges.empty()) log_ << "purge-follow: " << what << ": nothing cached to purge" << std::endl;
    return true;
  }

  bool ban(const FeedEntry& e, const PurgeRange& r, const std::string& what) {
    auto regex = ban_url_regex(o_.event, r);
    if (!regex) {
      log_ << "purge-follow: " << what << ": " << regex.error().message << std::endl;
      return true;  // a template we cannot express will not become expressible: skip it
    }
    std::vector<std::pair<std::string, std::string>> h = {{"Liveorigin-Ban-Url", *regex}};
    if (e.pipeline) h.emplace_back("Liveorigin-Ban-Pipeline", *e.pipeline);
    const HttpAnswer a = http_request(cache_, "BAN", "/", h, o_.request_timeout_ms);
    log_ << "purge-follow: " << what << ": varnish BAN " << r.stream << " " << r.from << ".." << r.to
         << (e.pipeline ? " pipeline " + *e.pipeline : "") << ": "
         << (a.status ? std::to_string(a.status) : a.error) << std::endl;
    return a.status == 200;
  }

  bool refresh(const PurgeRange& r, const std::string& what) {
    auto paths = refresh_paths(o_.event, r, o_.refresh_max);
    if (!paths) {
      log_ << "purge-follow: " << what << ": " << paths.error().message << std::endl;
      return true;
    }
    size_t refreshed = 0;
    const auto began = std::chrono::steady_clock::now();
    for (const auto& p : *paths) {
      if (stop_.load()) return false;  // not done: a restarted follower redoes the entry
      const HttpAnswer a = http_request(cache_, "HEAD", p, {{"Liveorigin-Refresh", "1"}}, o_.request_timeout_ms);
      if (a.status == 0) {
        log_ << "purge-follow: " << what << ": nginx refresh " << p << ": " << a.error << std::endl;
        return false;
      }
      ++refreshed;
    }
    log_ << "purge-follow: " << what << ": nginx refreshed " << refreshed << " URLs of " << r.stream << " " << r.from
         << ".." << std::min(r.to, r.live_edge) << " in "
         << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began).count()
         << " ms" << std::endl;
    return true;
  }

  const PurgeFollowOptions& o_;
  HostPort origin_;
  HostPort cache_;
  const std::atomic<bool>& stop_;
  std::ostream& log_;
  int64_t since_;
  std::string etag_;
};

}  // namespace

int run_purge_follow(const PurgeFollowOptions& options, const std::atomic<bool>& stop, std::ostream& log) {
  auto origin = parse_http_url(options.origin_url);
  auto cache = parse_http_url(options.cache_url);
  for (const auto* r : {&origin, &cache}) {
    if (!*r) {
      log << "purge-follow: " << r->error().message << std::endl;
      return 2;
    }
  }
  if (options.event.empty() || options.interval_ms <= 0 || options.since < 0) {
    log << "purge-follow: need --event, --interval-ms > 0 and --since >= 0" << std::endl;
    return 2;
  }
  Follower f(options, *origin, *cache, stop, log);
  log << "purge-follow: following " << options.origin_url << " event " << options.event << " into "
      << (options.kind == CacheKind::varnish ? "varnish " : "nginx ") << options.cache_url << " every "
      << options.interval_ms << " ms" << std::endl;
  while (!stop.load()) {
    const auto next = std::chrono::steady_clock::now() + std::chrono::milliseconds(options.interval_ms);
    f.round();
    while (!stop.load() && std::chrono::steady_clock::now() < next) {
      std::this_thread::sleep_for(std::min(std::chrono::milliseconds(20), std::chrono::duration_cast<std::chrono::milliseconds>(
                                                                              next - std::chrono::steady_clock::now())));
    }
  }
  return 0;
}

}  // namespace liveorigin::cdn
