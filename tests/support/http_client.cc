#include "tests/support/http_client.h"

#include <optional>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace liveorigin::testing {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using boost::system::error_code;

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (boost::beast::iequals(k, name)) return v;
  }
  return {};
}

bool HttpResponse::has(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (boost::beast::iequals(k, name)) return true;
  }
  return false;
}

struct HttpClient::Impl {
  net::io_context ioc;
  tcp::socket socket{ioc};
  boost::beast::flat_buffer buffer;
  bool open = false;

  // Runs the io_context until `done` or the timeout; on timeout cancels and drains.
  bool run(bool& done, std::chrono::milliseconds timeout) {
    ioc.restart();
    ioc.run_for(timeout);
    if (!done) {
      error_code ec;
      socket.cancel(ec);
      ioc.restart();
      ioc.run();
    }
    return done;
  }
};

HttpClient::HttpClient(uint16_t port, std::string host) : impl_(std::make_unique<Impl>()) {
  error_code ec;
  impl_->socket.connect(tcp::endpoint(net::ip::make_address(host), port), ec);
  impl_->open = !ec;
}

HttpClient::~HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;

bool HttpClient::connected() const { return impl_->open; }

void HttpClient::send_raw(std::string_view bytes, std::chrono::milliseconds timeout) {
  if (!impl_->open) return;
  bool done = false;
  net::async_write(impl_->socket, net::buffer(bytes.data(), bytes.size()), [&](error_code ec, size_t) {
    done = true;
    if (ec) impl_->open = false;
  });
  if (!impl_->run(done, timeout)) impl_->open = false;
}

HttpResponse HttpClient::read_response(std::chrono::milliseconds timeout, bool head_request) {
  HttpResponse out;
  if (!impl_->open) return out;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1ull << 32);
  parser.skip(head_request);
  bool done = false;
  error_code result;
  http::async_read(impl_->socket, impl_->buffer, parser, [&](error_code ec, size_t) {
    done = true;
    result = ec;
  });
  if (!impl_->run(done, timeout) || result) {
    impl_->open = false;
    return out;
  }
  auto& msg = parser.get();
  out.status = static_cast<int>(msg.result_int());
  for (const auto& f : msg) out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  out.body = std::move(msg.body());
  out.keep_alive = msg.keep_alive();
  if (!out.keep_alive) close();
  return out;
}

HttpResponse HttpClient::request(std::string_view method, std::string_view target, const HeaderList& headers,
                                 std::string_view body, bool chunked, std::chrono::milliseconds timeout,
                                 size_t chunk_bytes) {
  std::string req;
  req += method;
  req += ' ';
  req += target;
  req += " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  const bool has_body = !body.empty() || method == "PUT" || method == "POST";
  if (has_body && chunked) {
    req += "Transfer-Encoding: chunked\r\n\r\n";
    for (size_t i = 0; i < body.size(); i += chunk_bytes) {
      const size_t n = std::min(chunk_bytes, body.size() - i);
      char len[32];
      std::snprintf(len, sizeof len, "%zx\r\n", n);
      req += len;
      req += body.substr(i, n);
      req += "\r\n";
    }
    req += "0\r\n\r\n";
  } else if (has_body) {
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    req += body;
  } else {
    req += "\r\n";
  }
  send_raw(req, timeout);
  return read_response(timeout, method == "HEAD");
}

std::string HttpClient::read_raw(std::chrono::milliseconds timeout) {
  std::string out;
  if (impl_->buffer.size() > 0) {
    out += boost::beast::buffers_to_string(impl_->buffer.data());
    impl_->buffer.consume(impl_->buffer.size());
  }
  if (!impl_->open) return out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (impl_->open) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    char buf[4096];
    bool done = false;
    size_t got = 0;
    impl_->socket.async_read_some(net::buffer(buf), [&](error_code ec, size_t n) {
      done = true;
      got = n;
      if (ec && ec != net::error::operation_aborted) impl_->open = false;
    });
    if (!impl_->run(done, left)) break;
    out.append(buf, got);
  }
  return out;
}

bool HttpClient::closed_by_peer(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (impl_->open && std::chrono::steady_clock::now() < deadline) {
    read_raw(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
  }
  return !impl_->open;
}

void HttpClient::close() {
  error_code ec;
  impl_->socket.shutdown(tcp::socket::shutdown_both, ec);
  impl_->socket.close(ec);
  impl_->open = false;
}

HttpResponse http_request(uint16_t port, std::string_view method, std::string_view target,
                          const HeaderList& headers, std::string_view body) {
  HttpClient c(port);
  return c.request(method, target, headers, body);
}

}  // namespace liveorigin::testing
