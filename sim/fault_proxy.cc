#include "sim/fault_proxy.h"

#include <array>
#include <deque>
#include <vector>
#include <list>
#include <mutex>
#include <thread>

#include <boost/asio.hpp>

namespace liveorigin::sim {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using boost::system::error_code;

struct FaultProxy::Impl : std::enable_shared_from_this<FaultProxy::Impl> {
  // One proxied connection: the client's socket and the one to the target.
  struct Pair : std::enable_shared_from_this<Pair> {
    explicit Pair(net::io_context& ioc, tcp::socket client) : client(std::move(client)), target(ioc) {}
    tcp::socket client;
    tcp::socket target;
    bool closed = false;

    void close() {
      if (closed) return;
      closed = true;
      error_code ec;
      client.shutdown(tcp::socket::shutdown_both, ec);
      client.close(ec);
      target.shutdown(tcp::socket::shutdown_both, ec);
      target.close(ec);
    }
  };

  net::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  tcp::endpoint target;
  std::atomic<int64_t> delay_ms{0};
  std::atomic<bool> down{false};
  std::atomic<int64_t> drop_remaining{-1};  // -1: not armed
  std::atomic<int64_t> accepted{0};
  std::atomic<int64_t> dropped{0};
  std::list<std::weak_ptr<Pair>> pairs;  // io thread only
  std::thread thread;

  void accept() {
    acceptor.async_accept([self = shared_from_this()](error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || !self->acceptor.is_open()) return;
      if (!ec) {
        if (self->down.load()) {
          error_code ignored;
          socket.close(ignored);
        } else {
          self->accepted.fetch_add(1);
          auto pair = std::make_shared<Pair>(self->ioc, std::move(socket));
          self->pairs.push_back(pair);
          pair->target.async_connect(self->target, [self, pair](error_code ec2) {
            if (ec2) return pair->close();
            error_code ignored;
            pair->target.set_option(tcp::no_delay(true), ignored);
            pair->client.set_option(tcp::no_delay(true), ignored);
            self->pump(pair, true);
            self->pump(pair, false);
          });
        }
      }
      self->accept();
    });
  }

  // One direction of a pair: what was read, waiting for its due time to be written.
  struct Pipe {
    struct Piece {
      std::shared_ptr<std::vector<char>> data;
      std::chrono::steady_clock::time_point due;
      bool cut = false;  // the connection ends after this piece
    };
    std::deque<Piece> queue;
    size_t queued_bytes = 0;
    bool writing = false;
    bool reading = true;
    std::unique_ptr<net::steady_timer> timer;
  };
  static constexpr size_t kQueuedMax = 8 << 20;  // reading pauses beyond this much in flight

  // Copies one direction: client -> target when `upstream`, else back. Reads go on while
  // earlier pieces wait out their delay, so a delay is latency, not a bandwidth limit.
  void pump(const std::shared_ptr<Pair>& pair, bool upstream) {
    auto pipe = std::make_shared<Pipe>();
    pipe->timer = std::make_unique<net::steady_timer>(ioc);
    read(pair, upstream, pipe);
  }

  void read(const std::shared_ptr<Pair>& pair, bool upstream, const std::shared_ptr<Pipe>& pipe) {
    tcp::socket& from = upstream ? pair->client : pair->target;
    auto buffer = std::make_shared<std::vector<char>>(65536);
    from.async_read_some(net::buffer(*buffer), [self = shared_from_this(), pair, upstream, pipe, buffer](error_code ec,
                                                                                                      size_t n) {
      if (ec || pair->closed) return pair->close();
      size_t pass = n;
      bool cut = false;
      if (upstream) {
        const int64_t remaining = self->drop_remaining.load();
        if (remaining >= 0) {
          if (static_cast<int64_t>(n) >= remaining && self->drop_remaining.exchange(-1) >= 0) {
            pass = static_cast<size_t>(remaining);
            cut = true;
          } else {
            self->drop_remaining.fetch_sub(static_cast<int64_t>(n));
          }
        }
      }
      buffer->resize(pass);
      // Towards the target only: each request waits once, as a slow store answers later.
      const int64_t delay = upstream ? self->delay_ms.load() : 0;
      pipe->queue.push_back(Pipe::Piece{buffer, std::chrono::steady_clock::now() + std::chrono::milliseconds(delay), cut});
      pipe->queued_bytes += pass;
      self->write(pair, upstream, pipe);
      if (cut) return;
      if (pipe->queued_bytes < kQueuedMax) {
        self->read(pair, upstream, pipe);
      } else {
        pipe->reading = false;
      }
    });
  }

  void write(const std::shared_ptr<Pair>& pair, bool upstream, const std::shared_ptr<Pipe>& pipe) {
    if (pipe->writing || pipe->queue.empty() || pair->closed) return;
    pipe->writing = true;
    const auto due = pipe->queue.front().due;
    if (due > std::chrono::steady_clock::now()) {
      pipe->timer->expires_at(due);
      pipe->timer->async_wait([self = shared_from_this(), pair, upstream, pipe](error_code) {
        pipe->writing = false;
        self->write_now(pair, upstream, pipe);
      });
      return;
    }
    pipe->writing = false;
    write_now(pair, upstream, pipe);
  }

  void write_now(const std::shared_ptr<Pair>& pair, bool upstream, const std::shared_ptr<Pipe>& pipe) {
    if (pipe->writing || pipe->queue.empty() || pair->closed) return;
    pipe->writing = true;
    Pipe::Piece piece = pipe->queue.front();
    tcp::socket& to = upstream ? pair->target : pair->client;
    net::async_write(to, net::buffer(*piece.data), [self = shared_from_this(), pair, upstream, pipe, piece](error_code ec,
                                                                                                         size_t) {
      pipe->writing = false;
      pipe->queue.pop_front();
      pipe->queued_bytes -= piece.data->size();
      if (ec || piece.cut) {
        if (piece.cut) self->dropped.fetch_add(1);
        return pair->close();
      }
      if (!pipe->reading && pipe->queued_bytes < kQueuedMax) {
        pipe->reading = true;
        self->read(pair, upstream, pipe);
      }
      self->write(pair, upstream, pipe);
    });
  }

  void cut_all() {
    for (auto it = pairs.begin(); it != pairs.end();) {
      if (auto p = it->lock()) {
        if (!p->closed) dropped.fetch_add(1);
        p->close();
      }
      it = pairs.erase(it);
    }
  }
};

FaultProxy::FaultProxy(std::string target_host, uint16_t target_port, uint16_t port) : impl_(std::make_shared<Impl>()) {
  impl_->target = tcp::endpoint(net::ip::make_address(target_host), target_port);
  const tcp::endpoint listen(net::ip::make_address("127.0.0.1"), port);
  impl_->acceptor.open(listen.protocol());
  impl_->acceptor.set_option(net::socket_base::reuse_address(true));
  impl_->acceptor.bind(listen);
  impl_->acceptor.listen();
  impl_->accept();
  impl_->thread = std::thread([impl = impl_] { impl->ioc.run(); });
}

FaultProxy::~FaultProxy() {
  net::post(impl_->ioc, [impl = impl_] {
    error_code ec;
    impl->acceptor.close(ec);
    impl->cut_all();
    impl->ioc.stop();
  });
  impl_->thread.join();
}

uint16_t FaultProxy::port() const { return impl_->acceptor.local_endpoint().port(); }

void FaultProxy::set_delay_ms(int64_t ms) { impl_->delay_ms.store(ms); }

void FaultProxy::set_down(bool down) {
  impl_->down.store(down);
  if (down) net::post(impl_->ioc, [impl = impl_] { impl->cut_all(); });
}

void FaultProxy::drop_after_bytes(int64_t bytes) { impl_->drop_remaining.store(bytes); }

int64_t FaultProxy::connections() const { return impl_->accepted.load(); }
int64_t FaultProxy::drops() const { return impl_->dropped.load(); }

}  // namespace liveorigin::sim
