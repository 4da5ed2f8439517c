// A TCP proxy on loopback that breaks what passes through it on command: the harness's
// and the tests' way to make a real store slow, unreachable or flaky without touching
// the store or the origin (LevelDB's fault-injection env, at the network). Clients
// connect to port(); bytes go on to the target both ways.
//   set_delay_ms(ms)       every piece of data towards the target waits ms before it
//                          is passed on: each request is answered ms later
//   set_down(true)         connections are refused, open ones cut, until set_down(false)
//   drop_after_bytes(n)    once, the connection that has carried n more bytes towards
//                          the target is cut there (a dropped connection mid-write)
// It runs its own thread; every call is thread-safe. Loopback only.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace liveorigin::sim {

class FaultProxy {
 public:
  // Forwards 127.0.0.1:port() to target_host:target_port. `port` 0 picks a free one.
  FaultProxy(std::string target_host, uint16_t target_port, uint16_t port = 0);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  uint16_t port() const;
  void set_delay_ms(int64_t ms);
  void set_down(bool down);
  void drop_after_bytes(int64_t bytes);

  int64_t connections() const;  // accepted so far
  int64_t drops() const;        // connections cut by drop_after_bytes or set_down

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace liveorigin::sim
