// ffmpeg as the packager: two real ffmpeg processes (Debian's ffmpeg 5.1) encode the
// same test source and push DASH with -method PUT into a real `liveorigin serve` as
// pipelines a (one persistent connection, headers) and b (-http_persistent 0, which
// closes each connection before reading the answer, and the /ingest/ path form). A CDN
// stand-in asks for every segment when it is due. Pipeline a's encoder is killed
// mid-stream, then restarted and re-aligned with its number_offset.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <mutex>

#include "tests/support/http_client.h"
#include "tests/support/processes.h"

namespace liveorigin::testing {
namespace {

constexpr const char* kEvent = "ff";

HttpResponse admin(uint16_t port, const std::string& method, const std::string& target, const std::string& body = "") {
  HttpClient c(port);
  return c.request(method, target, {{"Authorization", "Bearer admin-secret"}}, body);
}

std::string segment_path(const std::string& stream, int64_t n) {
  char name[64];
  std::snprintf(name, sizeof name, "chunk-stream0-%05lld.m4s", static_cast<long long>(n));
  return std::string("/live/") + kEvent + "/" + stream + "/" + name;
}

// baseMediaDecodeTime of the first traf of a media segment, -1 if there is none.
int64_t first_tfdt(std::string_view s) {
  auto be32 = [&](size_t at) {
    return (uint32_t(uint8_t(s[at])) << 24) | (uint32_t(uint8_t(s[at + 1])) << 16) | (uint32_t(uint8_t(s[at + 2])) << 8) |
           uint32_t(uint8_t(s[at + 3]));
  };
  size_t i = 0, end = s.size();
  while (i + 8 <= end) {
    const uint32_t size = be32(i);
    const std::string_view type = s.substr(i + 4, 4);
    if (size < 8 || i + size > end) return -1;
    if (type == "moof" || type == "traf") {
      end = i + size;
      i += 8;
      continue;
    }
    if (type == "tfdt" && size >= 16) {
      if (s[i + 8] == 1 && size >= 20) return (int64_t(be32(i + 12)) << 32) | be32(i + 16);
      return be32(i + 12);
    }
    i += size;
  }
  return -1;
}

struct Seen {
  int64_t n;
  std::string stream;
  int status;
  std::string pipeline;
};

TEST(Ffmpeg, TwoPipelinesPushDashFailoverToBAndARealignedRestartOfA) {
  const std::string ffmpeg = find_program("ffmpeg");
  ASSERT_FALSE(ffmpeg.empty()) << "ffmpeg is not installed: run ./scripts/setup";
  TempDir dir("ffmpeg");
  OriginProcess origin(dir, kRealClientsAuth);
  ASSERT_NE(origin.port, 0);
  const uint16_t port = origin.port;

  // Both encoders start on the same 2 s boundary: their numbering (from 1) agrees.
  const int64_t t0 = next_boundary_ms(1500);
  ASSERT_EQ(admin(port, "PUT", std::string("/admin/events/") + kEvent, ffmpeg_event_json(kEvent, t0)).status, 201);
  FfmpegPipeline a{origin.url(), kEvent, "a"};
  a.persistent = true;
  FfmpegPipeline b{origin.url(), kEvent, "b"};
  b.persistent = false;
  b.path_form = true;
  sleep_until_ms(t0);
  auto proc_a = std::make_unique<Process>(a.argv(ffmpeg), dir / "ffmpeg-a.log");
  Process proc_b(b.argv(ffmpeg), dir / "ffmpeg-b.log");

  // The CDN at the live edge: each segment is asked for when it is due,
  // avail(n) = t0 + n * 2000 + publish_latency_ms.
  constexpr int64_t kLast = 10;
  auto avail = [&](int64_t n) { return t0 + n * 2000 + 1000; };
  std::mutex mu;
  std::vector<Seen> seen;
  std::thread cdn([&] {
    for (int64_t n = 1; n <= kLast; ++n) {
      sleep_until_ms(avail(n));
      for (const char* stream : {"video", "audio"}) {
        HttpResponse r = http_request(port, "GET", segment_path(stream, n));
        std::lock_guard lock(mu);
        seen.push_back({n, stream, r.status, r.header("Live-Pipeline")});
      }
    }
  });

  // a's encoder dies in the middle of segment 4's media.
  sleep_until_ms(t0 + 7000);
  proc_a->kill(SIGKILL);
  const int64_t killed_ms = wall_ms();

  // a comes back on the boundary t1 = t0 + 12 s: its segment 1 is the origin's 7, so
  // number_offset 6, set before its first segment arrives; its media timeline goes on
  // from 12 s.
  const int64_t t1 = t0 + 12000;
  sleep_until_ms(t1 - 1500);
  ASSERT_EQ(admin(port, "PUT", std::string("/admin/events/") + kEvent, ffmpeg_event_json(kEvent, t0, 6)).status, 200);
  sleep_until_ms(t1);
  FfmpegPipeline restarted = a;
  restarted.media_offset_s = 12;
  proc_a = std::make_unique<Process>(restarted.argv(ffmpeg), dir / "ffmpeg-a-restarted.log");
  cdn.join();

  const std::string logs = "\n--- origin\n" + origin.log() + "\n--- ffmpeg a (restarted)\n" + proc_a->log_tail() +
                           "\n--- ffmpeg b\n" + proc_b.log_tail();
  EXPECT_TRUE(proc_b.running()) << logs;
  EXPECT_TRUE(proc_a->running()) << logs;

  // No gap: every segment of both streams was there when due.
  std::map<std::string, std::string> by_stream;  // "aaabbbaaaa"
  for (const Seen& s : seen) {
    EXPECT_EQ(s.status, 200) << s.stream << " segment " << s.n << logs;
    by_stream[s.stream] += s.pipeline.empty() ? "-" : s.pipeline;
  }
  std::cout << "[ ffmpeg   ] served by pipeline, segments 1.." << kLast << ": video " << by_stream["video"]
            << ", audio " << by_stream["audio"] << " (a killed at t0+" << killed_ms - t0 << " ms, restarted at t0+12000)"
            << std::endl;
  for (const auto& [stream, pipelines] : by_stream) {
    SCOPED_TRACE(stream);
    ASSERT_EQ(pipelines.size(), static_cast<size_t>(kLast));
    // Both clean: a (rank 1) is chosen.
    EXPECT_EQ(pipelines.substr(0, 3), "aaa") << logs;
    // a's encoder is gone: the next segments come from b.
    EXPECT_EQ(pipelines.substr(3, 3), "bbb") << logs;
    // a is back, re-aligned: selection returns to it.
    EXPECT_EQ(pipelines.substr(8), "aa") << logs;
  }

  // The audit agrees: both pipelines delivered, the choice was a's clean copy.
  for (const char* stream : {"video", "audio"}) {
    for (int64_t n : {2, 9}) {
      SCOPED_TRACE(std::string(stream) + " " + std::to_string(n));
      HttpResponse r = admin(port, "GET", std::string("/admin/events/") + kEvent + "/streams/" + stream +
                                              "/segments/" + std::to_string(n));
      ASSERT_EQ(r.status, 200);
      const auto audit = boost::json::parse(r.body).as_object();
      std::map<std::string, int64_t> arrived;
      for (const auto& c : audit.at("candidates").as_array()) {
        arrived[std::string(c.at("pipeline").as_string())] = c.at("arrived_ms").as_int64();
        EXPECT_EQ(c.at("defects").as_string(), "");
      }
      ASSERT_EQ(arrived.size(), 2u) << r.body;
      EXPECT_EQ(audit.at("choice").at("pipeline").as_string(), "a");
      EXPECT_EQ(audit.at("choice").at("reason").as_string(), "clean");
      // The restarted a publishes the same moment as b, not 6 segments off.
      EXPECT_LT(std::abs(arrived["a"] - arrived["b"]), 1000) << r.body;
    }
  }

  // The restarted encoder's media continues the event's timeline (12800 ticks/s video).
  for (int64_t n : {5, 9}) {
    HttpResponse r = http_request(port, "GET", segment_path("video", n));
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(first_tfdt(r.body), (n - 1) * 2 * 12800) << "segment " << n << " from " << r.header("Live-Pipeline");
  }

  // The packagers' own objects are plain objects, served from the highest-rank live pipeline.
  for (const char* object : {"/video/init-stream0.m4s", "/audio/init-stream0.m4s", "/video/manifest.mpd"}) {
    HttpResponse r = http_request(port, "GET", std::string("/live/") + kEvent + object);
    EXPECT_EQ(r.status, 200) << object;
    EXPECT_EQ(r.header("Live-Pipeline"), "a") << object;
  }
  // The origin's own manifests, with codec strings read from those init segments.
  HttpResponse mpd = http_request(port, "GET", std::string("/live/") + kEvent + "/_dash.mpd");
  ASSERT_EQ(mpd.status, 200);
  EXPECT_NE(mpd.body.find("codecs=\"avc1.64"), std::string::npos) << mpd.body;
  EXPECT_NE(mpd.body.find("codecs=\"mp4a.40.2\""), std::string::npos) << mpd.body;
  EXPECT_NE(mpd.body.find("width=\"320\" height=\"240\""), std::string::npos) << mpd.body;
  HttpResponse m3u8 = http_request(port, "GET", std::string("/live/") + kEvent + "/_hls_video.m3u8");
  ASSERT_EQ(m3u8.status, 200);
  EXPECT_NE(m3u8.body.find("#EXT-X-MEDIA-SEQUENCE:1\n"), std::string::npos) << m3u8.body;
  EXPECT_NE(m3u8.body.find("video/chunk-stream0-00010.m4s\n"), std::string::npos) << m3u8.body;
  EXPECT_EQ(m3u8.body.find("EXT-X-GAP"), std::string::npos) << m3u8.body;

  // ffmpeg as an HLS client of the generated playlists: multivariant, media playlists,
  // EXT-X-MAP init segments and fMP4 segments, decoded.
  Process reader({ffmpeg, "-hide_banner", "-loglevel", "verbose", "-nostdin", "-i",
                  origin.url() + "/live/" + kEvent + "/_hls.m3u8", "-t", "3", "-f", "null", "-"},
                 dir / "ffmpeg-hls-reader.log");
  EXPECT_EQ(reader.wait_exit(std::chrono::seconds(20)), 0) << reader.log_tail();
  const std::string read_log = reader.log();
  EXPECT_NE(read_log.find("/live/ff/video/init-stream0.m4s"), std::string::npos) << reader.log_tail();
  EXPECT_NE(read_log.find("/live/ff/audio/chunk-stream0-"), std::string::npos) << reader.log_tail();
  EXPECT_NE(read_log.find("Video: h264"), std::string::npos) << reader.log_tail();
  EXPECT_NE(read_log.find("Audio: aac"), std::string::npos) << reader.log_tail();
}

}  // namespace
}  // namespace liveorigin::testing
