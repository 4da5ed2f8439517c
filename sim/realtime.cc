#include "sim/realtime.h"

#include <array>
#include <charconv>
#include <deque>
#include <map>
#include <optional>

#include <boost/asio.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace liveorigin::sim {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using boost::system::error_code;

// ---------------------------------------------------------------------------

struct AsioScheduler::Impl {
  net::io_context& ioc;
  TimerId next_id = 1;
  std::map<TimerId, std::shared_ptr<net::steady_timer>> timers;
  int64_t max_lag_ms = 0;
  int64_t run = 0;
  static constexpr int64_t kLagBoundsMs[] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000};
  std::array<int64_t, std::size(kLagBoundsMs) + 1> lag_buckets{};
};

AsioScheduler::AsioScheduler(net::io_context& ioc) : impl_(std::make_unique<Impl>(Impl{ioc})) {}

AsioScheduler::~AsioScheduler() {
  for (auto& [id, t] : impl_->timers) t->cancel();
}

TimerId AsioScheduler::run_at(int64_t at_ms, Task fn) {
  const TimerId id = impl_->next_id++;
  auto timer = std::make_shared<net::steady_timer>(impl_->ioc);
  const int64_t delay = std::max<int64_t>(0, at_ms - now_ms());
  timer->expires_after(std::chrono::milliseconds(delay));
  impl_->timers.emplace(id, timer);
  Impl* impl = impl_.get();
  const SystemClock* clock = &clock_;
  const int64_t due = std::max(at_ms, now_ms());
  timer->async_wait([impl, id, due, clock, fn = std::move(fn)](error_code ec) mutable {
    if (ec) return;  // cancelled
    const int64_t lag = clock->now_ms() - due;
    impl->max_lag_ms = std::max(impl->max_lag_ms, lag);
    ++impl->run;
    size_t b = 0;
    while (b < std::size(Impl::kLagBoundsMs) && lag > Impl::kLagBoundsMs[b]) ++b;
    ++impl->lag_buckets[b];
    impl->timers.erase(id);
    fn();
  });
  return id;
}

void AsioScheduler::cancel(TimerId id) {
  auto it = impl_->timers.find(id);
  if (it == impl_->timers.end()) return;
  it->second->cancel();
  impl_->timers.erase(it);
}

size_t AsioScheduler::pending() const { return impl_->timers.size(); }
int64_t AsioScheduler::max_lag_ms() const { return impl_->max_lag_ms; }
int64_t AsioScheduler::timers_run() const { return impl_->run; }
int64_t AsioScheduler::lag_percentile_ms(double fraction) const {
  const double want = fraction * static_cast<double>(impl_->run);
  int64_t seen = 0;
  for (size_t b = 0; b < impl_->lag_buckets.size(); ++b) {
    seen += impl_->lag_buckets[b];
    if (static_cast<double>(seen) >= want) {
      return b < std::size(Impl::kLagBoundsMs) ? Impl::kLagBoundsMs[b] : impl_->max_lag_ms;
    }
  }
  return impl_->max_lag_ms;
}

// ---------------------------------------------------------------------------

namespace {

struct Pending {
  LinkRequest request;
  std::function<void(LinkResponse)> done;
  bool retried = false;
};

}  // namespace

struct HttpLink::Impl : std::enable_shared_from_this<HttpLink::Impl> {
  struct Conn {
    explicit Conn(net::io_context& ioc) : socket(ioc), timer(ioc) {}
    tcp::socket socket;
    net::steady_timer timer;
    boost::beast::flat_buffer buffer;
    std::string head;
    std::optional<http::response_parser<http::string_body>> parser;
    bool open = false;
    bool reused = false;
    bool timed_out = false;
  };

  net::io_context& ioc;
  tcp::endpoint endpoint;
  std::string host_header;
  size_t connections_max;
  int64_t timeout_ms;
  std::deque<Pending> queue;
  std::vector<std::shared_ptr<Conn>> idle;
  size_t connections = 0;  // open or opening
  size_t in_flight = 0;
  bool closed = false;

  Impl(net::io_context& i, size_t max, int64_t timeout) : ioc(i), connections_max(max), timeout_ms(timeout) {}

  void pump() {
    while (!closed && !queue.empty()) {
      std::shared_ptr<Conn> c;
      if (!idle.empty()) {
        c = std::move(idle.back());
        idle.pop_back();
        c->reused = true;
      } else if (connections < connections_max) {
        c = std::make_shared<Conn>(ioc);
        ++connections;
      } else {
        return;
      }
      Pending p = std::move(queue.front());
      queue.pop_front();
      start(std::move(c), std::make_shared<Pending>(std::move(p)));
    }
  }

  void start(std::shared_ptr<Conn> c, std::shared_ptr<Pending> p) {
    auto self = shared_from_this();
    c->timed_out = false;
    c->timer.expires_after(std::chrono::milliseconds(timeout_ms));
    c->timer.async_wait([c](error_code ec) {
      if (ec) return;
      c->timed_out = true;
      error_code ignored;
      c->socket.close(ignored);
    });
    if (c->open) return write(std::move(c), std::move(p));
    c->socket.async_connect(endpoint, [self, c, p](error_code ec) mutable {
      if (ec) return self->fail(std::move(c), std::move(p), "connect: " + ec.message());
      error_code ignored;
      c->socket.set_option(tcp::no_delay(true), ignored);
      c->open = true;
      c->reused = false;
      self->write(std::move(c), std::move(p));
    });
  }

  void write(std::shared_ptr<Conn> c, std::shared_ptr<Pending> p) {
    const LinkRequest& r = p->request;
    c->head.clear();
    c->head += r.method + " " + r.target + " HTTP/1.1\r\nHost: " + host_header + "\r\n";
    for (const auto& [k, v] : r.headers) c->head += k + ": " + v + "\r\n";
    if (r.body || r.method == "PUT" || r.method == "POST") {
      c->head += "Content-Length: " + std::to_string(r.body ? r.body->size() : 0) + "\r\n";
    }
    c->head += "\r\n";
    auto self = shared_from_this();
    const bool delay_body = r.body && r.body_delay_ms > 0;
    std::vector<net::const_buffer> bufs{net::buffer(c->head)};
    if (r.body && !delay_body) bufs.push_back(net::buffer(*r.body));
    net::async_write(c->socket, bufs, [self, c, p, delay_body](error_code ec, size_t) mutable {
      if (ec) return self->fail(std::move(c), std::move(p), "write: " + ec.message());
      if (!delay_body) return self->read(std::move(c), std::move(p));
      // A slow upload: the head is in, the body follows later.
      auto body_timer = std::make_shared<net::steady_timer>(self->ioc);
      body_timer->expires_after(std::chrono::milliseconds(p->request.body_delay_ms));
      body_timer->async_wait([self, c, p, body_timer](error_code) mutable {
        net::async_write(c->socket, net::buffer(*p->request.body), [self, c, p](error_code ec, size_t) mutable {
          if (ec) return self->fail(std::move(c), std::move(p), "write: " + ec.message());
          self->read(std::move(c), std::move(p));
        });
      });
    });
  }

  void read(std::shared_ptr<Conn> c, std::shared_ptr<Pending> p) {
    c->parser.emplace();
    c->parser->body_limit(std::uint64_t{1} << 32);
    c->parser->skip(p->request.method == "HEAD");
    auto self = shared_from_this();
    http::async_read(c->socket, c->buffer, *c->parser, [self, c, p](error_code ec, size_t) mutable {
      if (ec) return self->fail(std::move(c), std::move(p), "read: " + ec.message());
      c->timer.cancel();
      auto& msg = c->parser->get();
      LinkResponse out;
      out.status = static_cast<int>(msg.result_int());
      for (const auto& f : msg) out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
      if (!msg.body().empty()) out.body = std::make_shared<const std::string>(std::move(msg.body()));
      const bool keep = msg.keep_alive();
      c->parser.reset();
      if (keep && !self->closed) {
        self->idle.push_back(c);
      } else {
        self->drop(*c);
      }
      auto done = std::move(p->done);
      --self->in_flight;
      done(std::move(out));
      self->pump();
    });
  }

  void drop(Conn& c) {
    error_code ignored;
    c.socket.close(ignored);
    c.open = false;
    --connections;
  }

  void fail(std::shared_ptr<Conn> c, std::shared_ptr<Pending> p, std::string why) {
    const bool timed_out = c->timed_out;
    const bool stale = c->reused && !timed_out;
    c->timer.cancel();
    drop(*c);
    // A kept-alive connection the server had closed meanwhile: try once on a fresh one.
    // The other idle ones most likely went the same way (a restarted server closed them
    // all), and trying each in turn would answer a server that is back with failures.
    if (stale && !p->retried && !closed) {
      p->retried = true;
      for (auto& other : idle) drop(*other);
      idle.clear();
      queue.push_front(std::move(*p));
      pump();
      return;
    }
    LinkResponse out;
    out.error = timed_out ? "timed out after " + std::to_string(timeout_ms) + " ms" : std::move(why);
    auto done = std::move(p->done);
    --in_flight;
    done(std::move(out));
    pump();
  }
};

HttpLink::HttpLink(net::io_context& ioc, const std::string& base_url, size_t connections_max, int64_t timeout_ms)
    : impl_(std::make_shared<Impl>(ioc, std::max<size_t>(1, connections_max), timeout_ms)) {
  std::string rest = base_url;
  if (rest.starts_with("http://")) rest = rest.substr(7);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  const size_t colon = rest.rfind(':');
  std::string host = colon == std::string::npos ? rest : rest.substr(0, colon);
  unsigned port = 80;
  if (colon != std::string::npos) std::from_chars(rest.data() + colon + 1, rest.data() + rest.size(), port);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  error_code ec;
  impl_->endpoint = tcp::endpoint(net::ip::make_address(host, ec), static_cast<unsigned short>(port));
  impl_->host_header = rest;
}

HttpLink::~HttpLink() { close(); }

void HttpLink::send(LinkRequest request, std::function<void(LinkResponse)> done) {
  if (impl_->closed) {
    net::post(impl_->ioc, [done = std::move(done)] {
      LinkResponse out;
      out.error = "link closed";
      done(std::move(out));
    });
    return;
  }
  ++impl_->in_flight;
  impl_->queue.push_back(Pending{std::move(request), std::move(done)});
  net::post(impl_->ioc, [impl = impl_] { impl->pump(); });
}

size_t HttpLink::in_flight() const { return impl_->in_flight; }

void HttpLink::close() {
  if (impl_->closed) return;
  impl_->closed = true;
  for (auto& c : impl_->idle) impl_->drop(*c);
  impl_->idle.clear();
  auto queue = std::move(impl_->queue);
  impl_->queue.clear();
  for (auto& p : queue) {
    --impl_->in_flight;
    net::post(impl_->ioc, [done = std::move(p.done)] {
      LinkResponse out;
      out.error = "link closed";
      done(std::move(out));
    });
  }
}

}  // namespace liveorigin::sim
