// The HTTP server itself: raw bytes from a client, through the real Beast session
// and the core, on a loopback connection to a Server started once in this process.
// Each input is one connection: the bytes are written, the client half-closes, and
// the server must answer with well-formed status lines and then close.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "origin/core/clock.h"
#include "origin/core/config.h"
#include "origin/core/origin.h"
#include "origin/http/server.h"
#include "origin/store/memory_store.h"
#include "tests/fuzz/core_rig.h"

using namespace liveorigin;

namespace {

// Origin time starts on the rigs' 2 s boundary and then runs at wall-clock speed, so
// a held request ends (hold_ms_max) and the seeds' segment numbers mean something.
class RunningClock final : public Clock {
 public:
  int64_t now_ms() const override {
    return fuzz::kT0 + std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start_)
                           .count();
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// Short holds and timeouts: an input costs milliseconds, not seconds.
const std::string kConfig =
    fuzz::config_yaml("header_timeout_ms: 500\nbody_timeout_ms: 500\nidle_timeout_ms: 500\n",
                      "        hold_ms_max: 30\n        selection_grace_ms: 20\n");

// A connection the server has not closed this long after the client's half-close is
// a leak: the harness stops there.
constexpr int kCloseWaitMs = 5000;
constexpr size_t kReadBytesMax = 8 << 20;

struct Rig {
  RunningClock clock;
  MemoryStore store;
  std::unique_ptr<Origin> origin;
  std::unique_ptr<Server> server;
  uint16_t port = 0;

  Rig() {
    auto config = parse_origin_config(kConfig, "fuzz.yaml");
    if (!config) fuzz::fail(config.error().message);
    origin = std::make_unique<Origin>(clock, *config, [](std::string_view) {});
    ServerOptions options = ServerOptions::from(*config);
    options.listen = "127.0.0.1:0";
    options.threads = 1;
    server = std::make_unique<Server>(*origin, store, options);
    auto bound = server->bind();
    if (!bound) fuzz::fail(bound.error().message);
    port = *bound;
    server->start();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Rig* rig = new Rig;  // never destroyed: libFuzzer exits without unwinding
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) fuzz::fail(std::string("socket: ") + std::strerror(errno));
  // The client closes first, so each connection leaves its address in TIME_WAIT for a
  // minute: thousands of inputs a second would use up one address's ephemeral ports.
  // Each input comes from the next of 65536 loopback addresses (127.1.0.0/16).
  static uint32_t next_source = 0;
  sockaddr_in source{};
  source.sin_family = AF_INET;
  source.sin_addr.s_addr = htonl((127u << 24) | (1u << 16) | (next_source++ & 0xffffu));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&source), sizeof source) != 0) {
    fuzz::fail(std::string("bind: ") + std::strerror(errno));
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(rig->port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // libFuzzer's SIGALRM (its -timeout watch) interrupts system calls: EINTR is retried.
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINTR) fuzz::fail(std::string("connect: ") + std::strerror(errno));
    // The connection goes on being made: wait for it and read its outcome.
    pollfd p{fd, POLLOUT, 0};
    while (::poll(&p, 1, kCloseWaitMs) < 0 && errno == EINTR) {
    }
    int error = 0;
    socklen_t len = sizeof error;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0 || error != 0) {
      fuzz::fail(std::string("connect: ") + std::strerror(error));
    }
  }
  // Written before reading: the socket buffers hold far more than an input's 4 KiB.
  size_t sent = 0;
  while (sent < size) {
    const ssize_t n = ::send(fd, data + sent, size - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the server closed early (a refused head): fine
    sent += static_cast<size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kCloseWaitMs);
  char buf[16384];
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) fuzz::fail("the server did not close the connection after the client's half-close");
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // closed (or reset after a lingering close)
    if (out.size() < kReadBytesMax) out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (!out.empty() && !std::string_view(out).starts_with("HTTP/1.1 ")) {
    fuzz::fail("the answer does not start with a status line: " + out.substr(0, 80));
  }
  return 0;
}
