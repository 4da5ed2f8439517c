#include "sim/fault_proxy.h"

#include <array>
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

  // Copies one direction: client -> target when `upstream`, else back.
  void pump(const std::shared_ptr<Pair>& pair, bool upstream) {
    auto buffer = std::make_shared<std::array<char, 65536>>();
    read(pair, upstream, buffer);
  }

  void read(const std::shared_ptr<Pair>& pair, bool upstream, const std::shared_ptr<std::array<char, 65536>>& buffer) {
    tcp::socket& from = upstream ? pair->client : pair->target;
    from.async_read_some(net::buffer(*buffer), [self = shared_from_this(), pair, upstream, buffer](error_code ec, size_t n) {
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
      auto forward = [self, pair, upstream, buffer, pass, cut] {
        tcp::socket& to = upstream ? pair->target : pair->client;
        net::async_write(to, net::buffer(buffer->data(), pass), [self, pair, upstream, buffer, cut](error_code ec2, size_t) {
          if (ec2 || cut) {
            if (cut) self->dropped.fetch_add(1);
            return pair->close();
          }
          self->read(pair, upstream, buffer);
        });
      };
      const int64_t delay = self->delay_ms.load();
      if (delay <= 0) return forward();
      auto timer = std::make_shared<net::steady_timer>(self->ioc, std::chrono::milliseconds(delay));
      timer->async_wait([timer, forward](error_code) { forward(); });
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
