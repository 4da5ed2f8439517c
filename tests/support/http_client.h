// A small HTTP/1.1 client for integration tests: real sockets on loopback, every
// operation bounded by a timeout so a broken server fails a test instead of hanging it.
// Beast lives only in http_client.cc.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace liveorigin::testing {

using namespace std::chrono_literals;

struct HttpResponse {
  int status = 0;  // 0: no response (timeout or connection closed)
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool keep_alive = true;

  std::string header(std::string_view name) const;  // case-insensitive; "" if absent
  bool has(std::string_view name) const;
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// One keep-alive connection.
class HttpClient {
 public:
  explicit HttpClient(uint16_t port, std::string host = "127.0.0.1");
  ~HttpClient();
  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;

  // Sends one request and reads its response. `chunked` sends the body with
  // Transfer-Encoding: chunked in pieces of `chunk_bytes`.
  HttpResponse request(std::string_view method, std::string_view target, const HeaderList& headers = {},
                       std::string_view body = {}, bool chunked = false,
                       std::chrono::milliseconds timeout = 10s, size_t chunk_bytes = 64 * 1024);
  HttpResponse get(std::string_view target, const HeaderList& headers = {}) {
    return request("GET", target, headers);
  }

  // The raw side, for protocol-level tests.
  bool connected() const;
  void send_raw(std::string_view bytes, std::chrono::milliseconds timeout = 5s);
  // Reads one response; status 0 on timeout or close.
  HttpResponse read_response(std::chrono::milliseconds timeout = 10s, bool head_request = false);
  // Reads whatever arrives until `timeout` or close.
  std::string read_raw(std::chrono::milliseconds timeout);
  // True if the server closes the connection within `timeout`.
  bool closed_by_peer(std::chrono::milliseconds timeout);
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Convenience: one request on a fresh connection.
HttpResponse http_request(uint16_t port, std::string_view method, std::string_view target,
                          const HeaderList& headers = {}, std::string_view body = {});

}  // namespace liveorigin::testing
