// The same requests through the Beast server and through the simulator's CoreLink get
// the same answers and leave the same counters: both drive the core through one
// adapter (origin/driver/exchange.h), so a virtual-time run decides at the edges —
// header lines, priority hints, bodies over the limit — as the server does.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "origin/store/memory_store.h"
#include "sim/core_link.h"
#include "sim/scheduler.h"
#include "tests/support/core_test_util.h"
#include "tests/support/http_client.h"
#include "tests/support/server_fixture.h"

namespace liveorigin::testing {
namespace {

// The core tests' example event (video and audio-en, pipelines a and b), with a small
// body limit.
const std::string kConfig = example_config("", "body_limit_bytes: 4096\n");

struct Exchange {
  std::string method;
  std::string target;
  HeaderList headers;
  std::string body;
  bool chunked = false;      // the server gets the body chunked (CoreLink has no framing)
  bool compare_body = true;  // false where only the transport's wording differs
};

struct Answer {
  int status = 0;
  HeaderList headers;  // what the core set: without Date, Content-Length, Connection
  std::string body;
};

Answer normalized(int status, HeaderList headers, std::string body) {
  std::erase_if(headers, [](const auto& h) {
    return sim::header_name_equals(h.first, "Date") || sim::header_name_equals(h.first, "Content-Length") ||
           sim::header_name_equals(h.first, "Connection") || sim::header_name_equals(h.first, "Keep-Alive");
  });
  return {status, std::move(headers), std::move(body)};
}

TEST(DriverParity, ServerAndCoreLinkAnswerAlikeAndCountAlike) {
  RunningServer server(kConfig, RunningServer::kT0, 1);
  auto config = parse_origin_config(kConfig, "parity.yaml");
  ASSERT_TRUE(config);
  sim::ManualScheduler scheduler(RunningServer::kT0);
  MemoryStore store;
  Origin origin(scheduler.clock(), *config);
  sim::CoreLink link(scheduler, origin, store);

  const HeaderList ingest_a = {{"Authorization", "Bearer ingest-secret"}, {"Live-Pipeline", "a"}};
  const HeaderList ingest_b = {{"Authorization", "Bearer ingest-secret"}, {"Live-Pipeline", "b"}};
  auto with = [](HeaderList h, std::initializer_list<std::pair<std::string, std::string>> more) {
    h.insert(h.end(), more.begin(), more.end());
    return h;
  };
  const std::vector<Exchange> exchanges = {
      // Segment-Defects in two field lines: one dictionary.
      {"PUT", seg(kEdge), with(ingest_a, {{"Segment-Defects", "missing-frames=2"}, {"Segment-Defects", "short-ms=40"}}),
       "aaaa"},
      {"PUT", seg(kEdge), ingest_b, "bbbb"},
      // Over body_limit_bytes: sized (refused from the head) and chunked (refused as it arrives).
      {"PUT", seg(kEdge - 2), ingest_a, std::string(5000, 'x')},
      {"PUT", seg(kEdge - 3), ingest_a, std::string(5000, 'y'), true, false},
      // The older Purpose header marks a prefetch as well as Sec-Purpose does.
      {"GET", seg(kEdge), {{"Purpose", "prefetch"}}, ""},
      {"GET", seg(kEdge), {{"Sec-Purpose", "prefetch"}, {"Range", "bytes=1-2"}}, ""},
      {"HEAD", seg(kEdge), {{"CMCD-Request", "bl=300"}}, ""},
      {"GET", seg(kEdge - 1), {}, ""},
      {"GET", seg(kEdge - 2), {}, ""},
      {"GET", seg(kEdge + 1000), {}, ""},
      {"GET", "/live/final/_timeline", {}, ""},
      {"GET", "/admin/events/final/streams/video/segments/" + std::to_string(kEdge),
       {{"Authorization", "Bearer admin-secret"}}, ""},
      {"DELETE", seg(kEdge), ingest_a, ""},
      {"GET", "/metrics", {}, ""},
  };

  for (const auto& x : exchanges) {
    SCOPED_TRACE(x.method + " " + x.target);
    HttpClient client(server.port);
    const HttpResponse over_socket = client.request(x.method, x.target, x.headers, x.body, x.chunked);
    const Answer a = normalized(over_socket.status, over_socket.headers, over_socket.body);

    sim::LinkRequest r;
    r.method = x.method;
    r.target = x.target;
    r.headers = x.headers;
    if (!x.body.empty()) r.body = std::make_shared<const std::string>(x.body);
    sim::LinkResponse in_process;
    link.send(std::move(r), [&](sim::LinkResponse resp) { in_process = std::move(resp); });
    scheduler.run_due();
    const Answer b = normalized(in_process.status, in_process.headers, in_process.body ? *in_process.body : "");

    EXPECT_EQ(a.status, b.status);
    EXPECT_EQ(a.headers, b.headers);
    if (x.compare_body) EXPECT_EQ(a.body, b.body);
  }
  // The last answer was /metrics: every counter agrees, the rejected PUTs included.
  HttpClient client(server.port);
  const std::string served = client.request("GET", "/metrics").body;
  EXPECT_NE(served.find("liveorigin_puts_total{status=\"413\"} 2"), std::string::npos) << served;
  EXPECT_NE(served.find("liveorigin_requests_total{class=\"background\",zone=\"select\",status=\"206\"} 1"),
            std::string::npos)
      << served;
}

}  // namespace
}  // namespace liveorigin::testing
