// loadgen: the two loads of scripts/bench that wrk does not do well.
//
//   loadgen put  — PUT load: N keep-alive connections PUT large bodies for a fixed
//                  time. Each request writes its head and a shared body in one gather
//                  write (no per-request copy of the body, unlike wrk's Lua `request()`,
//                  which would build a fresh 1.5 MiB string per request on a core the
//                  server needs). Paths cycle through `--slots` names so the memory both
//                  servers hold stays bounded; the body alternates between two buffers
//                  each pass, and `--seed` makes every run's bytes new, so every PUT
//                  carries bytes its slot did not hold before (a real store, never the
//                  "same bytes again" shortcut).
//   loadgen hold — held requests: waits for a segment boundary, opens N connections
//                  that each GET segment n = the next one due (edge + 1, held by the
//                  origin until published), then PUTs it and times how long every
//                  held request takes to be answered.
//
// Loopback only: the host must be a 127.x address. Everything is bounded by
// --duration-s / --connections and by a hard deadline. Prints one JSON object.
//
// The HTTP/1.1 response reader is minimal on purpose (status line, Content-Length,
// one header of interest); both servers under test answer with Content-Length.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio.hpp>

namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using error_code = boost::system::error_code;

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "loadgen: %s\n", msg.c_str());
  std::exit(2);
}

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double ms_since(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size()))) ;
  return v[std::min(v.size() - 1, i == 0 ? 0 : i - 1)];
}

std::string replace_n(std::string path, int64_t n) {
  const auto at = path.find("{n}");
  if (at == std::string::npos) die("--path must contain {n}: " + path);
  return path.replace(at, 3, std::to_string(n));
}

// A body of pseudo-random bytes (xorshift64*), different for every seed.
std::shared_ptr<const std::string> make_body(size_t size, uint64_t seed) {
  auto s = std::make_shared<std::string>(size, '\0');
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
  for (size_t i = 0; i < size; i += 8) {
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    const uint64_t v = x * 0x2545F4914F6CDD1Dull;
    std::memcpy(s->data() + i, &v, std::min<size_t>(8, size - i));
  }
  return s;
}

struct Options {
  std::string mode;
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  int connections = 8;
  double duration_s = 5;
  size_t bytes = 1572864;
  std::string path;
  int64_t first = 0;
  int64_t slots = 256;
  uint64_t seed = 1;
  int64_t segment_ms = 2000;
  int64_t settle_ms = 300;
  int64_t connect_inflight = 256;
  std::string live_path;  // hold: a plain object PUT first, so the pipeline counts as live
  std::vector<std::string> headers;
};

Options parse(int argc, char** argv) {
  if (argc < 2) {
    die("usage: loadgen put|hold --port P --path '/x/{n}.m4s' [--host 127.0.0.1] [--connections N] "
        "[--duration-s S] [--bytes B] [--first N] [--slots K] [--seed R] [--segment-ms D] "
        "[--settle-ms M] [--live-path /x/live.mp4] [--header 'Name: value']...");
  }
  Options o;
  o.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value for " + a);
      return argv[++i];
    };
    if (a == "--host") o.host = next();
    else if (a == "--port") o.port = static_cast<uint16_t>(std::stoi(next()));
    else if (a == "--connections") o.connections = std::stoi(next());
    else if (a == "--duration-s") o.duration_s = std::stod(next());
    else if (a == "--bytes") o.bytes = std::stoull(next());
    else if (a == "--path") o.path = next();
    else if (a == "--first") o.first = std::stoll(next());
    else if (a == "--slots") o.slots = std::stoll(next());
    else if (a == "--seed") o.seed = std::stoull(next());
    else if (a == "--segment-ms") o.segment_ms = std::stoll(next());
    else if (a == "--settle-ms") o.settle_ms = std::stoll(next());
    else if (a == "--connect-inflight") o.connect_inflight = std::stoll(next());
    else if (a == "--header") o.headers.push_back(next());
    else if (a == "--live-path") o.live_path = next();
    else die("unknown option " + a);
  }
  if (o.mode != "put" && o.mode != "hold") die("mode must be put or hold");
  if (o.port == 0) die("--port is required");
  if (o.path.empty()) die("--path is required");
  if (o.host.rfind("127.", 0) != 0) die("loopback only: --host must be a 127.x address");
  if (o.connections < 1 || o.connections > 50000) die("--connections must be 1..50000");
  if (o.duration_s <= 0 || o.duration_s > 120) die("--duration-s must be in (0, 120]");
  if (o.slots < 1) die("--slots must be >= 1");
  return o;
}

// One HTTP/1.1 exchange at a time on a keep-alive connection.
class Conn : public std::enable_shared_from_this<Conn> {
 public:
  struct Answer {
    error_code ec;
    int status = 0;
    std::string header_value;  // the value of `want_header`, if present
    size_t body_bytes = 0;
  };
  using Done = std::function<void(Answer)>;

  explicit Conn(net::io_context& io) : socket_(io) {}
  tcp::socket& socket() { return socket_; }

  // Writes `head` then `body` as one gather write and reads the answer.
  void exchange(std::string head, std::shared_ptr<const std::string> body, std::string want_header, Done done) {
    head_ = std::move(head);
    body_ = std::move(body);
    want_ = std::move(want_header);
    done_ = std::move(done);
    std::array<net::const_buffer, 2> bufs{net::buffer(head_), body_ ? net::buffer(*body_) : net::const_buffer()};
    const size_t total = net::buffer_size(bufs);
    // No 64 KiB cap per write (the default completion condition's).
    net::async_write(socket_, bufs, [total](const error_code& ec, size_t n) -> size_t { return ec ? 0 : total - n; },
                     [self = shared_from_this()](error_code ec, size_t) {
                       if (ec) return self->finish(ec);
                       self->read_head();
                     });
  }

 private:
  void read_head() {
    net::async_read_until(socket_, net::dynamic_buffer(in_), "\r\n\r\n",
                          [self = shared_from_this()](error_code ec, size_t head_len) {
                            if (ec) return self->finish(ec);
                            self->parse_head(head_len);
                          });
  }

  void parse_head(size_t head_len) {
    std::string_view h(in_.data(), head_len);
    Answer a;
    if (h.size() < 12 || h.substr(0, 5) != "HTTP/") return finish(net::error::invalid_argument);
    a.status = std::atoi(std::string(h.substr(9, 3)).c_str());
    size_t content_length = 0;
    size_t pos = h.find("\r\n") + 2;
    while (pos < h.size()) {
      const size_t end = h.find("\r\n", pos);
      if (end == std::string_view::npos || end == pos) break;
      std::string_view line = h.substr(pos, end - pos);
      const size_t colon = line.find(':');
      if (colon != std::string_view::npos) {
        std::string name(line.substr(0, colon));
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        if (name == "content-length") content_length = std::strtoull(std::string(value).c_str(), nullptr, 10);
        if (name == "transfer-encoding") return finish(net::error::operation_not_supported);
        if (!want_.empty() && name == want_) a.header_value = std::string(value);
      }
      pos = end + 2;
    }
    if (a.status == 204 || a.status == 304 || a.status < 200) content_length = 0;
    in_.erase(0, head_len);
    answer_ = std::move(a);
    answer_.body_bytes = content_length;
    if (in_.size() >= content_length) {
      in_.erase(0, content_length);
      return finish({});
    }
    const size_t missing = content_length - in_.size();
    in_.clear();
    sink_.resize(std::min<size_t>(missing, 1 << 20));
    read_body(missing);
  }

  void read_body(size_t missing) {
    socket_.async_read_some(net::buffer(sink_.data(), std::min(missing, sink_.size())),
                            [self = shared_from_this(), missing](error_code ec, size_t n) {
                              if (ec) return self->finish(ec);
                              if (n >= missing) return self->finish({});
                              self->read_body(missing - n);
                            });
  }

  void finish(error_code ec) {
    Answer a = std::move(answer_);
    answer_ = {};
    a.ec = ec;
    auto done = std::move(done_);
    done_ = nullptr;
    body_.reset();
    if (done) done(std::move(a));
  }

  tcp::socket socket_;
  std::string head_;
  std::shared_ptr<const std::string> body_;
  std::string want_;
  Done done_;
  std::string in_;
  std::vector<char> sink_;
  Answer answer_;
};

std::string request_head(const Options& o, const char* method, const std::string& path, size_t content_length,
                         bool with_body) {
  std::string h;
  h.reserve(256);
  h += method;
  h += ' ';
  h += path;
  h += " HTTP/1.1\r\nHost: ";
  h += o.host;
  h += "\r\n";
  for (const auto& x : o.headers) {
    h += x;
    h += "\r\n";
  }
  if (with_body) h += "Content-Length: " + std::to_string(content_length) + "\r\n";
  h += "\r\n";
  return h;
}

void print_status(const std::map<int, int64_t>& statuses) {
  std::printf("\"status\":{");
  bool first = true;
  for (const auto& [s, c] : statuses) {
    std::printf("%s\"%d\":%lld", first ? "" : ",", s, static_cast<long long>(c));
    first = false;
  }
  std::printf("}");
}

// ---------------------------------------------------------------------------

int run_put(const Options& o) {
  net::io_context io(1);
  const tcp::endpoint ep(net::ip::make_address(o.host), o.port);
  const std::array<std::shared_ptr<const std::string>, 2> bodies{make_body(o.bytes, o.seed * 2),
                                                                 make_body(o.bytes, o.seed * 2 + 1)};
  int64_t next_index = 0;
  int64_t inflight = 0;
  int64_t completed = 0;
  int64_t errors = 0;
  uint64_t bytes_sent = 0;
  std::map<int, int64_t> statuses;
  std::vector<double> latencies;
  latencies.reserve(1 << 16);
  Clock::time_point start;
  Clock::time_point deadline;
  bool started = false;

  std::function<void(std::shared_ptr<Conn>)> issue = [&](std::shared_ptr<Conn> c) {
    if (Clock::now() >= deadline) return;
    const int64_t i = next_index++;
    const int64_t slot = i % o.slots;
    const auto& body = bodies[static_cast<size_t>((i / o.slots) % 2)];
    const auto t0 = Clock::now();
    ++inflight;
    c->exchange(request_head(o, "PUT", replace_n(o.path, o.first + slot), body->size(), true), body, "",
                [&, c, t0](Conn::Answer a) {
                  const auto t1 = Clock::now();
                  --inflight;
                  if (a.ec) {
                    ++errors;
                    std::fprintf(stderr, "loadgen: PUT failed: %s\n", a.ec.message().c_str());
                    return;  // this connection stops
                  }
                  if (t1 <= deadline) {
                    ++completed;
                    bytes_sent += o.bytes;
                    ++statuses[a.status];
                    latencies.push_back(ms_since(t0, t1));
                  }
                  issue(c);
                });
  };

  std::vector<std::shared_ptr<Conn>> conns;
  int connected = 0;
  for (int k = 0; k < o.connections; ++k) {
    auto c = std::make_shared<Conn>(io);
    conns.push_back(c);
    c->socket().async_connect(ep, [&, c](error_code ec) {
      if (ec) die("connect to " + o.host + ":" + std::to_string(o.port) + ": " + ec.message());
      c->socket().set_option(tcp::no_delay(true));
      if (++connected == o.connections) {
        started = true;
        start = Clock::now();
        deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration_s));
        for (auto& cc : conns) issue(cc);
      }
    });
  }
  // Hard stop: never run much past the deadline even if a server stalls. issue()
  // stops at the deadline, so the io_context runs out of work on its own once the
  // last in-flight answers arrive; the guard only matters if they never do.
  net::steady_timer guard(io, std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration_s + 30)));
  guard.async_wait([&](error_code ec) {
    if (!ec) {
      std::fprintf(stderr, "loadgen: hard deadline reached\n");
      io.stop();
    }
  });
  net::steady_timer poller(io);
  std::function<void()> poll = [&] {
    poller.expires_after(std::chrono::milliseconds(20));
    poller.async_wait([&](error_code) {
      if (started && Clock::now() >= deadline && inflight == 0) return (void)guard.cancel();
      poll();
    });
  };
  poll();
  io.run();
  const double secs = o.duration_s;
  std::printf("{\"mode\":\"put\",\"connections\":%d,\"seconds\":%.3f,\"requests\":%lld,\"rps\":%.1f,"
              "\"mib_s\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"errors\":%lld,",
              o.connections, secs, static_cast<long long>(completed), completed / secs,
              bytes_sent / secs / (1024.0 * 1024.0), percentile(latencies, 50), percentile(latencies, 99),
              static_cast<long long>(errors));
  print_status(statuses);
  std::printf("}\n");
  return errors == 0 && completed > 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------

// Reads "ht=<ms>" out of a CMSD-Static value; -1 if absent.
double held_ms_of(std::string_view cmsd) {
  const auto at = cmsd.find("ht=");
  if (at == std::string_view::npos) return -1;
  return std::strtod(std::string(cmsd.substr(at + 3)).c_str(), nullptr);
}

int run_hold(const Options& o) {
  net::io_context io(1);
  const tcp::endpoint ep(net::ip::make_address(o.host), o.port);
  const auto body = make_body(o.bytes, o.seed);
  const int64_t d = o.segment_ms;

  // One PUT on a fresh connection (synchronous setup steps).
  auto put_once = [&](const std::string& path, std::shared_ptr<const std::string> b) -> int {
    auto c = std::make_shared<Conn>(io);
    c->socket().connect(ep);
    int status = 0;
    c->exchange(request_head(o, "PUT", path, b->size(), true), b, "",
                [&](Conn::Answer a) { status = a.ec ? -1 : a.status; });
    io.restart();
    io.run();
    return status;
  };

  // Mark the pipeline live on this stream with a plain object (so a PUT landing a
  // little after avail(n) would still find the requests held through the selection
  // grace), then wait for the next segment boundary: the held requests then have a
  // whole segment duration before the segment is due.
  if (!o.live_path.empty()) {
    const int live_status = put_once(o.live_path, make_body(1024, 42));
    if (live_status != 201 && live_status != 204) die("PUT " + o.live_path + " answered " + std::to_string(live_status));
  }
  {
    const int64_t now = wall_ms();
    const int64_t next_boundary = (now / d + 1) * d;
    std::this_thread::sleep_for(std::chrono::milliseconds(next_boundary - now + 20));
  }
  const int64_t n = wall_ms() / d;  // edge + 1: due at avail(n) = (n + 1) * d
  const int64_t avail = (n + 1) * d;
  const std::string get_head = request_head(o, "GET", replace_n(o.path, n), 0, false);

  struct Held {
    std::shared_ptr<Conn> conn;
    bool answered = false;
  };
  std::vector<Held> held(static_cast<size_t>(o.connections));
  std::vector<double> wake_ms;        // PUT sent -> response fully read
  std::vector<double> ht_ms;          // the server's own CMSD-Static ht
  wake_ms.reserve(held.size());
  ht_ms.reserve(held.size());
  std::map<int, int64_t> statuses;
  int64_t early = 0;   // answered before the PUT was sent
  int64_t errors = 0;
  int64_t answered = 0;
  bool put_sent = false;
  Clock::time_point t_put;
  int64_t put_wall_ms = 0;
  Clock::time_point t_last;
  double put_ack_ms = -1;
  int put_status = 0;

  const auto t_setup = Clock::now();
  int64_t next_connect = 0;
  int64_t connecting = 0;
  int64_t requests_written = 0;
  std::function<void()> connect_more;
  connect_more = [&] {
    while (connecting < o.connect_inflight && next_connect < o.connections) {
      const size_t k = static_cast<size_t>(next_connect++);
      ++connecting;
      auto c = std::make_shared<Conn>(io);
      held[k].conn = c;
      c->socket().async_connect(ep, [&, c, k](error_code ec) {
        --connecting;
        if (ec) {
          ++errors;
          std::fprintf(stderr, "loadgen: connect: %s\n", ec.message().c_str());
          connect_more();
          return;
        }
        ++requests_written;  // counted when issued; the write completes before the read starts
        c->exchange(get_head, nullptr, "cmsd-static", [&, k](Conn::Answer a) {
          held[k].answered = true;
          ++answered;
          const auto t = Clock::now();
          if (a.ec) {
            ++errors;
            return;
          }
          ++statuses[a.status];
          if (!put_sent) {
            ++early;
            return;
          }
          t_last = std::max(t_last, t);
          wake_ms.push_back(ms_since(t_put, t));
          const double ht = held_ms_of(a.header_value);
          if (ht >= 0) ht_ms.push_back(ht);
        });
        connect_more();
      });
    }
  };
  connect_more();

  double setup_ms = -1;
  net::steady_timer timer(io);
  std::function<void()> wait_setup;
  wait_setup = [&] {
    timer.expires_after(std::chrono::milliseconds(5));
    timer.async_wait([&](error_code) {
      if (next_connect < o.connections || connecting > 0) return wait_setup();
      setup_ms = ms_since(t_setup, Clock::now());
      // Let the server read and register every request before publishing.
      timer.expires_after(std::chrono::milliseconds(o.settle_ms));
      timer.async_wait([&](error_code) {
        auto c = std::make_shared<Conn>(io);
        c->socket().connect(ep);
        t_put = Clock::now();
        put_wall_ms = wall_ms();
        t_last = t_put;
        put_sent = true;
        c->exchange(request_head(o, "PUT", replace_n(o.path, n), body->size(), true), body, "",
                    [&, c](Conn::Answer a) {
                      put_status = a.ec ? -1 : a.status;
                      put_ack_ms = ms_since(t_put, Clock::now());
                    });
      });
    });
  };
  wait_setup();

  // Stop when every held request is answered, or at a hard deadline (the origin
  // answers every hold within hold_ms_max; 3 segment durations is plenty).
  net::steady_timer done_timer(io);
  const auto hard_deadline = Clock::now() + std::chrono::milliseconds(3 * d + 5000);
  std::function<void()> wait_done;
  wait_done = [&] {
    done_timer.expires_after(std::chrono::milliseconds(2));
    done_timer.async_wait([&](error_code) {
      if ((answered >= o.connections && put_ack_ms >= 0) || Clock::now() >= hard_deadline) {
        for (auto& h : held) {
          if (h.conn) h.conn->socket().close();
        }
        timer.cancel();
        return;
      }
      wait_done();
    });
  };
  wait_done();
  io.restart();
  io.run();

  const int64_t put_wall_offset = avail - put_wall_ms;
  std::printf("{\"mode\":\"hold\",\"segment\":%lld,\"connections\":%d,\"setup_ms\":%.1f,"
              "\"put_before_avail_ms\":%lld,\"put_status\":%d,\"put_ack_ms\":%.3f,"
              "\"answered\":%lld,\"answered_early\":%lld,\"errors\":%lld,\"all_answered_ms\":%.3f,"
              "\"wake_p50_ms\":%.3f,\"wake_p99_ms\":%.3f,\"ht_p50_ms\":%.0f,\"ht_p99_ms\":%.0f,",
              static_cast<long long>(n), o.connections, setup_ms, static_cast<long long>(put_wall_offset),
              put_status, put_ack_ms, static_cast<long long>(answered), static_cast<long long>(early),
              static_cast<long long>(errors), put_sent ? ms_since(t_put, t_last) : -1.0, percentile(wake_ms, 50),
              percentile(wake_ms, 99), percentile(ht_ms, 50), percentile(ht_ms, 99));
  print_status(statuses);
  std::printf("}\n");
  const bool ok = put_sent && errors == 0 && early == 0 && answered == o.connections &&
                  statuses[200] == o.connections && (put_status == 201 || put_status == 204);
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  try {
    return o.mode == "put" ? run_put(o) : run_hold(o);
  } catch (const std::exception& e) {
    die(e.what());
  }
}
