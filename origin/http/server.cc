#include "origin/http/server.h"

#include <sys/socket.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <limits>
#include <functional>
#include <iterator>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "origin/driver/exchange.h"
#include "origin/http/framing.h"

namespace liveorigin {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using boost::system::error_code;

namespace {

constexpr size_t kHeaderLimitBytes = 16 * 1024;
constexpr size_t kFirstReadBytes = 4096;

// The ingest body: appended to one buffer and hashed as it arrives, so the digest
// is known the moment the last chunk is in.
struct IngestBody {
  struct value_type {
    std::string data;
    BodyHasher* hasher = nullptr;
  };

  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(http::header<isRequest, Fields>&, value_type& body) : body_(body) {}

    void init(const boost::optional<std::uint64_t>& length, error_code& ec) {
      if (length) body_.data.reserve(static_cast<size_t>(*length));
      ec = {};
    }

    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, error_code& ec) {
      size_t n = 0;
      for (auto it = net::buffer_sequence_begin(buffers); it != net::buffer_sequence_end(buffers); ++it) {
        const net::const_buffer b = *it;
        body_.data.append(static_cast<const char*>(b.data()), b.size());
        if (body_.hasher) body_.hasher->update(b.data(), b.size());
        n += b.size();
      }
      ec = {};
      return n;
    }

    void finish(error_code& ec) { ec = {}; }

   private:
    value_type& body_;
  };
};

Method method_of(http::verb v) {
  switch (v) {
    case http::verb::get: return Method::get;
    case http::verb::head: return Method::head;
    case http::verb::put: return Method::put;
    case http::verb::post: return Method::post;
    case http::verb::delete_: return Method::del;
    case http::verb::options: return Method::options;
    default: return Method::other;
  }
}

// Write with no 64 KiB cap per write_some: one gather write sends a whole segment.
struct TransferAllUncapped {
  size_t operator()(const error_code& ec, size_t) const {
    return ec ? 0 : std::numeric_limits<size_t>::max() / 2;
  }
};

Result<tcp::endpoint> parse_endpoint(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return make_error("listen address must be host:port, got '" + listen + "'");
  std::string host = listen.substr(0, colon);
  const std::string port_text = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || p != port_text.data() + port_text.size() || port > 65535) {
    return make_error("bad port in listen address '" + listen + "'");
  }
  if (host.empty() || host == "*") host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  error_code aec;
  auto addr = net::ip::make_address(host, aec);
  if (aec) return make_error("bad host in listen address '" + listen + "' (use an IP address)");
  return tcp::endpoint(addr, static_cast<unsigned short>(port));
}

class Session;

// One per thread: its io_context, acceptor, origin context and sessions.
struct Worker {
  // Destroyed explicitly by ~Server, acceptor first: pending handlers own sessions,
  // whose destructors still use the members below.
  std::unique_ptr<net::io_context> ioc = std::make_unique<net::io_context>(1);
  std::optional<tcp::acceptor> acceptor;
  std::unique_ptr<OriginThread> origin_thread;
  std::unique_ptr<CoreDriver> driver;  // the adapter to the core, for this thread
  std::list<Session*> sessions;  // touched only on this worker's thread
  // Date header, formatted once per second.
  std::time_t date_second = 0;
  std::string date;

  const std::string& http_date() {
    const std::time_t now = std::time(nullptr);
    if (now != date_second) {
      date_second = now;
      std::tm tm{};
      gmtime_r(&now, &tm);
      char buf[64];
      std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
      date = buf;
    }
    return date;
  }
};

}  // namespace

struct Server::Impl {
  Origin& origin;
  Store& store;
  ServerOptions options;
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::thread> threads;
  uint16_t bound_port = 0;
  uint16_t bound_ingest_port = 0;
  size_t delivery_workers = 0;  // workers[0..delivery_workers) serve `listen`; the rest `ingest_listen`
  std::function<void(OriginThread&)> on_reload;
  std::atomic<size_t> connections{0};
  std::atomic<bool> draining{false};
  std::atomic<bool> stopped{false};
  std::optional<net::steady_timer> tick_timer;
  std::optional<net::steady_timer> drain_timer;
  std::optional<net::signal_set> signals;
  std::chrono::steady_clock::time_point drain_deadline;

  Impl(Origin& o, Store& s, ServerOptions opts) : origin(o), store(s), options(std::move(opts)) {}

  void accept(Worker& w);
  void wait_signal();
  void schedule_tick();
  void begin_drain();
  void check_drained();
  void stop_all();

};

namespace {

// One connection, and the request it is on: the transport's half of a CoreExchange.
class Session final : public CoreExchange {
 public:
  Session(Server::Impl& server, Worker& worker, tcp::socket socket)
      : CoreExchange(*worker.driver),
        server_(server),
        worker_(worker),
        socket_(std::move(socket)),
        deadline_(socket_.get_executor()),
        hold_timer_(socket_.get_executor()) {
    worker_.sessions.push_front(this);
    self_in_list_ = worker_.sessions.begin();
    server_.connections.fetch_add(1, std::memory_order_relaxed);
  }

  ~Session() override {
    worker_.sessions.erase(self_in_list_);
    server_.connections.fetch_sub(1, std::memory_order_relaxed);
  }

  void start() { read_header(); }

  // Drain: an idle keep-alive connection is closed now; a busy one closes after its
  // response; a held one is re-evaluated now, so its hold ends by the drain deadline.
  void drain() {
    if (state_ == State::idle) return close();
    if (state_ == State::holding) on_wake();
  }

  void close() {
    if (state_ == State::closed) return;
    if (state_ == State::holding) cancel();
    state_ = State::closed;
    error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    deadline_.cancel();
    hold_timer_.cancel();
  }

  void wake() override {
    net::post(socket_.get_executor(), [self = self()] { self->on_wake(); });
  }

  std::shared_ptr<Session> self() { return std::static_pointer_cast<Session>(shared_from_this()); }

 private:
  enum class State { idle, reading, working, holding, writing, closed };

  Origin& origin() { return server_.origin; }
  OriginThread& ctx() { return *worker_.origin_thread; }

  // --- CoreExchange: the transport's part

  void respond(Response&& r) override { send(std::move(r), keep_alive_); }

  void hold_until(int64_t wake_at_ms) override {
    state_ = State::holding;
    const int64_t delay = std::max<int64_t>(0, wake_at_ms - origin().clock().now_ms());
    hold_timer_.expires_after(std::chrono::milliseconds(delay));
    hold_timer_.async_wait([self = self()](error_code ec) {
      if (!ec) self->on_wake();
    });
    watch_disconnect();
  }

  void run_here(std::function<void()> fn) override { net::dispatch(socket_.get_executor(), std::move(fn)); }

  void arm(int64_t ms) {
    deadline_.expires_after(std::chrono::milliseconds(ms));
    deadline_.async_wait([self = self()](error_code ec) {
      if (!ec) self->close();
    });
  }

  void read_header() {
    if (server_.draining.load(std::memory_order_acquire) && buffer_.size() == 0) return close();
    if (buffer_.size() == 0) {
      // Idle: wait up to idle_timeout_ms for the first bytes of the next request; from
      // then on its head must be complete within header_timeout_ms.
      state_ = State::idle;
      arm(server_.options.idle_timeout_ms);
      socket_.async_read_some(buffer_.prepare(kFirstReadBytes), [self = self()](error_code ec, size_t n) {
        if (self->state_ == State::closed) return;
        if (ec) return self->close();
        self->buffer_.commit(n);
        self->read_header();
      });
      return;
    }
    state_ = State::reading;
    header_parser_.emplace();
    header_parser_->header_limit(kHeaderLimitBytes);
    // The body limit depends on what the request is (ingest or admin): set once the
    // head is known, on the parser that reads the body.
    header_parser_->body_limit(boost::none);
    arm(server_.options.header_timeout_ms);
    parse_head();
  }

  // The head is fed to the parser from here rather than by http::async_read_header, so
  // its raw bytes can be checked for what Beast accepts and RFC 9112 refuses: obs-fold,
  // which Beast turns into a space (a hop that does not would read other framing).
  void parse_head() {
    if (!header_parser_->got_some()) {
      // §2.2: empty lines before a request line are ignored (old clients send a CRLF
      // after a POST body).
      while (buffer_.size() >= 2 && static_cast<const char*>(buffer_.data().data())[0] == '\r' &&
             static_cast<const char*>(buffer_.data().data())[1] == '\n') {
        buffer_.consume(2);
      }
    }
    while (buffer_.size() > 0) {
      error_code ec;
      const size_t used = header_parser_->put(buffer_.data(), ec);
      // The parser consumes whole lines (and a field only once the next line's first
      // byte shows it is not folded), so each part checked here ends on a line.
      const std::string_view part(static_cast<const char*>(buffer_.data().data()), used);
      if (auto folded = obs_folded_field(part)) {
        return refuse(400, "malformed request: obsolete line folding (obs-fold) in " +
                               (folded->empty() ? std::string("the request line")
                                                : "field '" + std::string(*folded) + "'"));
      }
      buffer_.consume(used);
      if (ec == http::error::need_more) break;
      if (ec) return on_header(ec);
      if (header_parser_->is_header_done()) return on_header({});
    }
    socket_.async_read_some(buffer_.prepare(kFirstReadBytes), [self = self()](error_code ec, size_t n) {
      if (self->state_ == State::closed) return;
      if (ec) return self->close();  // gone, or cut off by the header timeout, mid-head
      self->buffer_.commit(n);
      self->parse_head();
    });
  }

  // A request whose framing cannot be trusted: answered, then the connection is closed
  // (after a lingering read, so the client reads the answer rather than a reset).
  void refuse(int status, std::string message) {
    origin().count_transport_reject(ctx(), status);
    linger_after_write_ = true;
    send(text_response(status, std::move(message), 0), false);
  }

  // A body that breaks chunked framing (chunk size or extension, trailer); not a client
  // that hung up or was cut off by a timeout.
  static bool is_body_framing_error(error_code ec) {
    return ec.category() == http::make_error_code(http::error::bad_chunk).category() &&
           ec != http::error::partial_message && ec != http::error::end_of_stream &&
           ec != http::error::body_limit;
  }

  void on_header(error_code ec) {
    if (state_ == State::closed) return;
    if (ec == http::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset ||
        ec == net::error::operation_aborted) {
      return close();
    }
    if (ec) {
      // Malformed or oversized head: answer and close, the stream is out of sync.
      return refuse(ec == http::error::header_limit ? 431 : 400, "malformed request: " + ec.message());
    }
    state_ = State::working;
    deadline_.cancel();
    auto& req = header_parser_->get();
    if (auto bad = framing_error(framing_of(req))) {
      // The body's length is unknown or ambiguous: nothing after this head can be
      // trusted to be a request of its own.
      return refuse(400, "malformed request: " + *bad);
    }
    if (auto bad = request_target_error(req.method_string(), req.target(), origin_form_)) {
      return refuse(400, "malformed request: " + *bad);
    }
    keep_alive_ = req.keep_alive();
    http10_ = req.version() < 11;
    method_ = method_of(req.method());
    header_fields_.reset();
    fill_head(req);
    if (is_ingest()) return start_ingest();
    const bool has_body = header_parser_->chunked() ||
                          (header_parser_->content_length() && *header_parser_->content_length() > 0);
    if (!has_body) return run("");
    // Admin bodies are small JSON documents. Checked here: Beast compares Content-Length
    // with the body limit only while parsing the head, when the limit was still open.
    const auto length = header_parser_->content_length();
    if (length && *length > static_cast<std::uint64_t>(server_.options.admin_body_limit_bytes)) {
      return refuse(413, "request body larger than " + std::to_string(server_.options.admin_body_limit_bytes) +
                             " bytes");
    }
    body_parser_.emplace(std::move(*header_parser_));
    header_parser_.reset();
    body_parser_->body_limit(static_cast<std::uint64_t>(server_.options.admin_body_limit_bytes));
    send_continue_if_expected(body_parser_->get(), [self = self()] {
      self->arm(self->server_.options.body_timeout_ms);
      http::async_read(self->socket_, self->buffer_, *self->body_parser_,
                       [self](error_code ec, size_t) { self->on_small_body(ec); });
    });
  }

  template <class Fields>
  static RequestFraming framing_of(const http::header<true, Fields>& req) {
    RequestFraming f;
    f.version = static_cast<int>(req.version());
    for (const auto& field : req) {
      if (field.name() == http::field::transfer_encoding) f.transfer_encoding.push_back(field.value());
      if (field.name() == http::field::host) {
        ++f.host_lines;
        f.host = field.value();
      }
    }
    return f;
  }

  template <class Fields>
  void fill_head(const http::header<true, Fields>& req) {
    RequestHeadBuilder& b = head_builder();
    b.start(method_, origin_form_.empty() ? std::string_view(req.target()) : std::string_view(origin_form_));
    // Beast appends a chunked body's trailer fields to the header's: they are not
    // header fields (RFC 9110 §6.5.1), so an Authorization in a trailer is not one.
    if (!header_fields_) header_fields_ = static_cast<size_t>(std::distance(req.begin(), req.end()));
    size_t n = 0;
    for (auto it = req.begin(); it != req.end() && n < *header_fields_; ++it, ++n) {
      b.field(it->name_string(), it->value());
    }
  }

  template <class Message, class Next>
  void send_continue_if_expected(const Message& req, Next&& next) {
    auto it = req.find(http::field::expect);
    if (it == req.end() || !boost::beast::iequals(it->value(), "100-continue")) return next();
    static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    net::async_write(socket_, net::buffer(kContinue),
                     [self = self(), next = std::forward<Next>(next)](error_code ec, size_t) mutable {
                       if (ec) return self->close();
                       next();
                     });
  }

  void on_small_body(error_code ec) {
    if (state_ == State::closed) return;
    deadline_.cancel();
    if (ec == http::error::body_limit) {
      return refuse(413, "request body larger than " + std::to_string(server_.options.admin_body_limit_bytes) +
                             " bytes");
    }
    if (is_body_framing_error(ec)) return refuse(400, "malformed request: " + ec.message());
    if (ec) return close();
    fill_head(body_parser_->get());
    run(body_parser_->get().body());
  }

  // A held client that hangs up frees its slot at once.
  void watch_disconnect() {
    if (watching_) return;
    watching_ = true;
    socket_.async_wait(tcp::socket::wait_read, [self = self()](error_code ec) {
      self->watching_ = false;
      if (self->state_ != State::holding) return;
      char probe;
      const ssize_t n = ec ? -1 : ::recv(self->socket_.native_handle(), &probe, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) return self->close();
      // Bytes of a pipelined request: leave them for after the answer.
    });
  }

  void on_wake() {
    if (state_ != State::holding) return;
    hold_timer_.cancel();
    state_ = State::working;
    resume();  // hold_until() again if it is still held
  }

  // --- ingest

  void start_ingest() {
    if (!header_parser_->chunked()) {
      head_builder().content_length(header_parser_->content_length() ? *header_parser_->content_length() : 0);
    }
    if (auto rejected = begin_ingest()) {
      // Rejected before the body: keep the connection only if there is no body to skip.
      const bool no_body = !header_parser_->chunked() &&
                           (!header_parser_->content_length() || *header_parser_->content_length() == 0);
      // A body may already be on its way (unless the client waits for 100 Continue):
      // drain it after the answer so closing does not reset the connection before the
      // client reads it.
      auto expect = header_parser_->get().find(http::field::expect);
      const bool waits_for_continue =
          expect != header_parser_->get().end() && boost::beast::iequals(expect->value(), "100-continue");
      linger_after_write_ = !no_body && !waits_for_continue;
      return send(std::move(*rejected), keep_alive_ && no_body);
    }
    hasher_.emplace(ticket().want_sha512);
    ingest_parser_.emplace(std::move(*header_parser_));
    header_parser_.reset();
    ingest_parser_->body_limit(static_cast<std::uint64_t>(ticket().body_limit));
    ingest_parser_->get().body().hasher = &*hasher_;
    send_continue_if_expected(ingest_parser_->get(), [self = self()] {
      self->arm(self->server_.options.body_timeout_ms);
      http::async_read(self->socket_, self->buffer_, *self->ingest_parser_,
                       [self](error_code ec, size_t) { self->on_ingest_body(ec); });
    });
  }

  void on_ingest_body(error_code ec) {
    deadline_.cancel();
    if (ec == http::error::body_limit) {
      ingest_parser_.reset();
      hasher_.reset();
      linger_after_write_ = true;
      return send(ingest_too_large(), false);
    }
    if (ec) {
      // Cut short or badly framed: nothing is stored. (A body received in full is
      // stored even if the client has already gone; that case completes without error.)
      ingest_parser_.reset();
      hasher_.reset();
      if (is_body_framing_error(ec)) return refuse(400, "malformed request: " + ec.message());
      return close();
    }
    std::string& data = ingest_parser_->get().body().data;
    if (data.capacity() > data.size() + data.size() / 8 + 4096) data.shrink_to_fit();
    auto body = std::make_shared<const std::string>(std::move(data));
    const bool keep = ingest_parser_->get().keep_alive();
    ingest_parser_.reset();
    keep_alive_ = keep;
    const BodyHasher::Final hashes = hasher_->finish();
    hasher_.reset();
    finish_ingest(std::move(body), hashes);
  }

  // --- responses

  void send(Response r, bool keep_alive) {
    if (state_ == State::closed) return;
    if (server_.draining.load(std::memory_order_acquire)) keep_alive = false;
    keep_alive_ = keep_alive;
    response_ = std::move(r);
    const bool no_length = response_.status == 204 || response_.status == 304 || response_.status < 200;
    const bool body_allowed = response_.send_body && method_ != Method::head && !no_length;
    head_text_.clear();
    head_text_ += "HTTP/1.1 ";
    head_text_ += std::to_string(response_.status);
    head_text_ += ' ';
    head_text_ += std::string_view(http::obsolete_reason(static_cast<http::status>(response_.status)));
    head_text_ += "\r\nDate: ";
    head_text_ += worker_.http_date();
    head_text_ += "\r\n";
    for (const auto& h : response_.headers) {
      head_text_ += h.name;
      head_text_ += ": ";
      head_text_ += h.value;
      head_text_ += "\r\n";
    }
    if (!no_length) {
      head_text_ += "Content-Length: ";
      head_text_ += std::to_string(response_.body_length);
      head_text_ += "\r\n";
    }
    if (!keep_alive) {
      head_text_ += "Connection: close\r\n";
    } else if (http10_) {
      head_text_ += "Connection: keep-alive\r\n";
    }
    head_text_ += "\r\n";
    std::array<net::const_buffer, 2> buffers{net::buffer(head_text_), net::const_buffer()};
    if (body_allowed && response_.body && response_.body_length > 0) {
      buffers[1] = net::buffer(response_.body->data() + response_.body_offset, response_.body_length);
    }
    state_ = State::writing;
    arm(server_.options.body_timeout_ms);
    net::async_write(socket_, buffers, TransferAllUncapped{},
                     [self = self()](error_code ec, size_t) { self->on_write(ec); });
  }

  void on_write(error_code ec) {
    if (state_ == State::closed) return;
    deadline_.cancel();
    response_ = Response{};
    if (!ec && linger_after_write_) return linger();
    if (ec || !keep_alive_) return close();
    body_parser_.reset();
    read_header();
  }

  // Lingering close (as nginx does): stop sending, read and drop what the client still
  // sends, for at most kLingerMs or kLingerBytes, then close.
  static constexpr int64_t kLingerMs = 1000;
  static constexpr size_t kLingerBytes = 4 << 20;

  void linger() {
    linger_after_write_ = false;
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    arm(kLingerMs);
    linger_read();
  }

  void linger_read() {
    socket_.async_read_some(net::buffer(linger_buffer_), [self = self()](error_code ec, size_t n) {
      self->lingered_ += n;
      if (ec || self->lingered_ > kLingerBytes || self->state_ == State::closed) return self->close();
      self->linger_read();
    });
  }

  Server::Impl& server_;
  Worker& worker_;
  std::list<Session*>::iterator self_in_list_;
  tcp::socket socket_;
  net::steady_timer deadline_;
  net::steady_timer hold_timer_;
  boost::beast::flat_buffer buffer_;  // bounded by the parsers' header and body limits
  std::optional<http::request_parser<http::empty_body>> header_parser_;
  std::optional<http::request_parser<http::string_body>> body_parser_;
  std::optional<http::request_parser<IngestBody>> ingest_parser_;
  std::optional<BodyHasher> hasher_;
  Method method_ = Method::get;
  bool keep_alive_ = true;
  bool watching_ = false;
  bool linger_after_write_ = false;
  bool http10_ = false;
  size_t lingered_ = 0;
  std::array<char, 16384> linger_buffer_;
  State state_ = State::idle;
  Response response_;
  std::string head_text_;
  std::optional<size_t> header_fields_;  // the head's field lines, counted before its body's trailer
  std::string origin_form_;  // an absolute-form target's path and query; empty otherwise
};

}  // namespace

// ---------------------------------------------------------------------------

ServerOptions ServerOptions::from(const OriginConfig& c) {
  ServerOptions o;
  o.listen = c.listen;
  o.ingest_listen = c.ingest_listen;
  o.threads = c.threads > 0 ? c.threads : std::max(1u, std::thread::hardware_concurrency());
  o.header_timeout_ms = c.header_timeout_ms;
  o.body_timeout_ms = c.body_timeout_ms;
  o.idle_timeout_ms = c.idle_timeout_ms;
  o.drain_ms_max = c.drain_ms_max;
  return o;
}

Server::Server(Origin& origin, Store& store, ServerOptions options, Journal* journal)
    : impl_(std::make_unique<Impl>(origin, store, std::move(options))) {
  const int n = std::max(1, impl_->options.threads);
  impl_->delivery_workers = static_cast<size_t>(n);
  const int total = n + (impl_->options.ingest_listen.empty() ? 0 : 1);
  for (int i = 0; i < total; ++i) {
    auto w = std::make_unique<Worker>();
    w->origin_thread = origin.make_thread();
    w->driver = std::make_unique<CoreDriver>(origin, store, *w->origin_thread, journal);
    impl_->workers.push_back(std::move(w));
  }
}

Server::~Server() {
  stop();
  wait();
  // Timers and sessions belong to the workers' io_contexts: release them while the
  // rest of Impl is still alive.
  impl_->signals.reset();
  impl_->tick_timer.reset();
  impl_->drain_timer.reset();
  for (auto& w : impl_->workers) {
    w->acceptor.reset();
    // Held sessions are referenced by the origin core, which outlives us: release them.
    std::vector<std::shared_ptr<Session>> sessions;
    for (Session* s : w->sessions) sessions.push_back(s->self());
    for (auto& s : sessions) s->close();
    sessions.clear();
    w->ioc.reset();
  }
  impl_->workers.clear();
}

Result<uint16_t> Server::bind() {
  auto ep = parse_endpoint(impl_->options.listen);
  if (!ep) return ep.error();
  std::optional<tcp::endpoint> ingest_ep;
  if (!impl_->options.ingest_listen.empty()) {
    auto iep = parse_endpoint(impl_->options.ingest_listen);
    if (!iep) return iep.error();
    ingest_ep = *iep;
  }
  tcp::endpoint endpoint = *ep;
  for (size_t i = 0; i < impl_->workers.size(); ++i) {
    auto& w = impl_->workers[i];
    const bool ingest = i >= impl_->delivery_workers;
    if (ingest) endpoint = *ingest_ep;
    const std::string& address = ingest ? impl_->options.ingest_listen : impl_->options.listen;
    error_code ec;
    tcp::acceptor a(*w->ioc);
    a.open(endpoint.protocol(), ec);
    if (!ec) a.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) {
      int one = 1;
      if (::setsockopt(a.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
        ec = error_code(errno, boost::system::system_category());
      }
    }
    if (!ec) a.bind(endpoint, ec);
    if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
    if (ec) return make_error("cannot listen on " + address + ": " + ec.message());
    // Port 0: every worker's acceptor joins the port the first one was given.
    endpoint.port(a.local_endpoint().port());
    w->acceptor.emplace(std::move(a));
    (ingest ? impl_->bound_ingest_port : impl_->bound_port) = endpoint.port();
  }
  return impl_->bound_port;
}

uint16_t Server::port() const { return impl_->bound_port; }
uint16_t Server::ingest_port() const { return impl_->bound_ingest_port; }

size_t Server::open_connections() const { return impl_->connections.load(); }

void Server::Impl::accept(Worker& w) {
  if (!w.acceptor || !w.acceptor->is_open()) return;
  w.acceptor->async_accept([this, &w](error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !w.acceptor || !w.acceptor->is_open()) return;
    if (!ec) {
      error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      std::make_shared<Session>(*this, w, std::move(socket))->start();
    }
    accept(w);
  });
}

void Server::Impl::schedule_tick() {
  tick_timer->expires_after(std::chrono::seconds(1));
  tick_timer->async_wait([this](error_code ec) {
    if (ec) return;
    workers[0]->driver->tick();
    schedule_tick();
  });
}

void Server::start() {
  Impl& impl = *impl_;
  impl.tick_timer.emplace(*impl.workers[0]->ioc);
  impl.schedule_tick();
  for (auto& w : impl.workers) {
    impl.accept(*w);
    impl.threads.emplace_back([&w] {
      auto guard = net::make_work_guard(*w->ioc);
      w->ioc->run();
    });
  }
}

void Server::handle_signals(std::function<void(OriginThread&)> on_reload) {
  Impl& impl = *impl_;
  impl.on_reload = std::move(on_reload);
  impl.signals.emplace(*impl.workers[0]->ioc, SIGTERM, SIGINT);
  if (impl.on_reload) impl.signals->add(SIGHUP);
  impl.wait_signal();
}

void Server::Impl::wait_signal() {
  signals->async_wait([this](error_code ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      Worker& w = *workers[0];
      on_reload(*w.origin_thread);
      w.driver->apply_effects();
      return wait_signal();
    }
    begin_drain();
  });
}

void Server::Impl::begin_drain() {
  if (draining.exchange(true)) return;
  // Held requests get their answer a little before the deadline, so it is written
  // before the threads stop.
  const int64_t margin_ms = std::min<int64_t>(200, options.drain_ms_max / 4);
  origin.set_draining(origin.clock().now_ms() + options.drain_ms_max - margin_ms);
  drain_deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options.drain_ms_max);
  for (auto& w : workers) {
    net::post(*w->ioc, [this, wp = w.get()] {
      if (wp->acceptor) {
        error_code ec;
        wp->acceptor->close(ec);
      }
      // Copy: closing a session may destroy it, which edits the list.
      std::vector<std::shared_ptr<Session>> sessions;
      for (Session* s : wp->sessions) sessions.push_back(s->self());
      for (auto& s : sessions) s->drain();
    });
  }
  drain_timer.emplace(*workers[0]->ioc);
  check_drained();
}

void Server::Impl::check_drained() {
  if (!draining.load() || stopped.load() || !drain_timer) return;
  if (connections.load() == 0 || std::chrono::steady_clock::now() >= drain_deadline) return stop_all();
  // Poll: cheap, and robust to sessions ending on any worker.
  drain_timer->expires_after(std::chrono::milliseconds(10));
  drain_timer->async_wait([this](error_code ec) {
    if (!ec) check_drained();
  });
}

void Server::Impl::stop_all() {
  if (stopped.exchange(true)) return;
  for (auto& w : workers) w->ioc->stop();
}

void Server::drain() {
  net::post(*impl_->workers[0]->ioc, [impl = impl_.get()] { impl->begin_drain(); });
}

void Server::stop() { impl_->stop_all(); }

void Server::wait() {
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  impl_->threads.clear();
}

}  // namespace liveorigin
