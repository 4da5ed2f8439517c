// The generated manifests: the ISO-BMFF reader on real ffmpeg init segments and on
// hand-built boxes for the codecs ffmpeg here does not produce, the DASH MPD and HLS
// playlists as pure functions, and the core serving them (with CORS) on a manual clock.
#include <gtest/gtest.h>

#include <string>

#include <boost/json.hpp>

#include "origin/core/manifests.h"
#include "tests/support/core_harness.h"

namespace liveorigin::testing {
namespace {

std::string unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  return out;
}

// Init segments written by Debian's ffmpeg 5.1 (the packager of the integration tests).
// ffmpeg 5.1, libx264 320x240 (-preset veryfast -tune zerolatency), DASH muxer: 794 bytes
const char* const kFfmpegH264Init =
    "0000001c6674797069736f350000020069736f3569736f366d703431000002fe6d6f6f760000006c6d76686400000000"
    "0000000000000000000003e8000000000001000001000000000000000000000000010000000000000000000000000000"
    "000100000000000000000000000000004000000000000000000000000000000000000000000000000000000000000002"
    "000002257472616b0000005c746b68640000000300000000000000000000000100000000000000000000000000000000"
    "000000000000000000010000000000000000000000000000000100000000000000000000000000004000000001400000"
    "00f0000000000024656474730000001c656c737400000000000000010000000000000000000100000000019d6d646961"
    "000000206d646864000000000000000000000000000032000000000055c400000000002d68646c720000000000000000"
    "76696465000000000000000000000000566964656f48616e646c657200000001486d696e6600000014766d6864000000"
    "0100000000000000000000002464696e660000001c6472656600000000000000010000000c75726c2000000001000001"
    "087374626c000000bc737473640000000000000001000000ac6176633100000000000000010000000000000000000000"
    "0000000000014000f0004800000048000000000000000100000000000000000000000000000000000000000000000000"
    "000000000000000018ffff00000032617663430164000dffe100176764000dacb40a0fd808800000030080000019478a"
    "155001000468ef3cb0fdf8f80000000010706173700000000100000001000000146274727400000000000493e0000493"
    "e00000001073747473000000000000000000000010737473630000000000000000000000147374737a00000000000000"
    "0000000000000000107374636f0000000000000000000000286d76657800000020747265780000000000000001000000"
    "010000000000000000000000000000003d75647461000000356d657461000000000000002168646c7200000000000000"
    "006d6469726170706c00000000000000000000000008696c7374";
// ffmpeg 5.1, native AAC mono 48 kHz: 728 bytes
const char* const kFfmpegAacInit =
    "0000001c6674797069736f350000020069736f3569736f366d703431000002bc6d6f6f760000006c6d76686400000000"
    "0000000000000000000003e8000000000001000001000000000000000000000000010000000000000000000000000000"
    "000100000000000000000000000000004000000000000000000000000000000000000000000000000000000000000002"
    "000001e37472616b0000005c746b68640000000300000000000000000000000100000000000000000000000000000000"
    "000000010100000000010000000000000000000000000000000100000000000000000000000000004000000000000000"
    "0000000000000024656474730000001c656c737400000000000000010000000000000400000100000000015b6d646961"
    "000000206d6468640000000000000000000000000000bb800000000055c400000000002d68646c720000000000000000"
    "736f756e000000000000000000000000536f756e6448616e646c657200000001066d696e6600000010736d6864000000"
    "00000000000000002464696e660000001c6472656600000000000000010000000c75726c2000000001000000ca737462"
    "6c0000007e7374736400000000000000010000006e6d7034610000000000000001000000000000000000020010000000"
    "00bb8000000000003665736473000000000380808025000100048080801740150000000000fa000000fa000580808005"
    "118856e5000680808001020000001462747274000000000000fa000000fa000000001073747473000000000000000000"
    "000010737473630000000000000000000000147374737a000000000000000000000000000000107374636f0000000000"
    "000000000000286d76657800000020747265780000000000000001000000010000000000000000000000000000003d75"
    "647461000000356d657461000000000000002168646c7200000000000000006d6469726170706c000000000000000000"
    "00000008696c7374";
// ffmpeg 5.1, libopus mono 48 kHz (-dash_segment_type mp4): 693 bytes
const char* const kFfmpegOpusInit =
    "0000001c6674797069736f350000020069736f3569736f366d703431000002996d6f6f760000006c6d76686400000000"
    "0000000000000000000003e8000000000001000001000000000000000000000000010000000000000000000000000000"
    "000100000000000000000000000000004000000000000000000000000000000000000000000000000000000000000002"
    "000001c07472616b0000005c746b68640000000300000000000000000000000100000000000000000000000000000000"
    "000000010100000000010000000000000000000000000000000100000000000000000000000000004000000000000000"
    "0000000000000024656474730000001c656c73740000000000000001000000000000013800010000000001386d646961"
    "000000206d6468640000000000000000000000000000bb800000000055c400000000002d68646c720000000000000000"
    "736f756e000000000000000000000000536f756e6448616e646c657200000000e36d696e6600000010736d6864000000"
    "00000000000000002464696e660000001c6472656600000000000000010000000c75726c2000000001000000a7737462"
    "6c0000005b7374736400000000000000010000004b4f7075730000000000000001000000000000000000010010000000"
    "00bb80000000000013644f7073000101380000bb800000000000001462747274000000000000fa000000fa0000000010"
    "73747473000000000000000000000010737473630000000000000000000000147374737a000000000000000000000000"
    "000000107374636f0000000000000000000000286d766578000000207472657800000000000000010000000100000000"
    "00000000000000000000003d75647461000000356d657461000000000000002168646c7200000000000000006d646972"
    "6170706c00000000000000000000000008696c7374";

// ---------------------------------------------------------------------------
// Hand-built boxes

std::string u16(unsigned v) { return {static_cast<char>(v >> 8), static_cast<char>(v)}; }
std::string u32(uint32_t v) { return u16(v >> 16) + u16(v & 0xffff); }
std::string zeros(size_t n) { return std::string(n, '\0'); }
std::string box(std::string_view type, const std::string& payload) {
  return u32(static_cast<uint32_t>(8 + payload.size())) + std::string(type) + payload;
}
std::string full(uint8_t version, const std::string& payload) {
  return std::string(1, static_cast<char>(version)) + zeros(3) + payload;
}

std::string visual_entry(std::string_view fourcc, unsigned w, unsigned h, const std::string& children) {
  return box(fourcc, zeros(6) + u16(1) + zeros(16) + u16(w) + u16(h) + zeros(50) + children);
}
std::string audio_entry(std::string_view fourcc, unsigned channels, unsigned rate, const std::string& children) {
  return box(fourcc, zeros(6) + u16(1) + zeros(8) + u16(channels) + u16(16) + zeros(4) + u32(rate << 16) + children);
}
// ftyp + moov with one track whose handler, language and sample entry are given.
std::string init_segment(std::string_view handler, const std::string& entry, unsigned lang = 0x55c4) {
  const std::string mdhd = box("mdhd", full(0, zeros(8) + u32(90000) + zeros(4) + u16(lang) + zeros(2)));
  const std::string hdlr = box("hdlr", full(0, zeros(4) + std::string(handler) + zeros(12) + "h" + zeros(1)));
  const std::string stsd = box("stsd", full(0, u32(1) + entry));
  const std::string minf = box("minf", box("stbl", stsd));
  return box("ftyp", "iso6" + zeros(4)) + box("moov", box("trak", box("mdia", mdhd + hdlr + minf)));
}
std::string esds(uint8_t oti, const std::string& dsi) {
  const std::string dsi_desc = std::string("\x05", 1) + static_cast<char>(dsi.size()) + dsi;
  const std::string dc = std::string(1, static_cast<char>(oti)) + "\x15" + zeros(11) + dsi_desc;
  const std::string dc_desc = std::string("\x04", 1) + static_cast<char>(dc.size()) + dc;
  const std::string es = u16(1) + zeros(1) + dc_desc;
  return box("esds", full(0, std::string("\x03", 1) + static_cast<char>(es.size()) + es));
}

// ---------------------------------------------------------------------------
// parse_init_segment

TEST(InitSegment, ReadsFfmpegH264) {
  auto info = parse_init_segment(unhex(kFfmpegH264Init));
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->codecs, "avc1.64000d");  // what ffmpeg's own MPD says
  EXPECT_EQ(info->handler, "vide");
  EXPECT_EQ(info->width, 320);
  EXPECT_EQ(info->height, 240);
  EXPECT_EQ(info->timescale, 12800u);
  EXPECT_EQ(info->language, "und");
}

TEST(InitSegment, ReadsFfmpegAacAndOpus) {
  auto aac = parse_init_segment(unhex(kFfmpegAacInit));
  ASSERT_TRUE(aac.ok()) << aac.error().message;
  EXPECT_EQ(aac->codecs, "mp4a.40.2");
  EXPECT_EQ(aac->handler, "soun");
  EXPECT_EQ(aac->sample_rate, 48000);
  EXPECT_EQ(aac->channels, 1);
  auto opus = parse_init_segment(unhex(kFfmpegOpusInit));
  ASSERT_TRUE(opus.ok()) << opus.error().message;
  EXPECT_EQ(opus->codecs, "opus");
  EXPECT_EQ(opus->sample_rate, 48000);
}

TEST(InitSegment, CodecStringsOfOtherCodecs) {
  struct Case {
    const char* what;
    std::string bytes;
    std::string codecs;
  };
  const std::string avcc = box("avcC", std::string("\x01\x64\x00\x1f\xff", 5));
  // Main profile, level 3.1, constraint byte 0xB0: the example of ISO/IEC 14496-15 Annex E.
  const std::string hvcc = box("hvcC", std::string("\x01\x01\x60\x00\x00\x00\xb0\x00\x00\x00\x00\x00\x5d", 13));
  const std::vector<Case> cases = {
      {"avc1 high 3.1", init_segment("vide", visual_entry("avc1", 1280, 720, avcc)), "avc1.64001f"},
      {"avc3", init_segment("vide", visual_entry("avc3", 1280, 720, avcc)), "avc3.64001f"},
      {"hevc", init_segment("vide", visual_entry("hvc1", 1920, 1080, hvcc)), "hvc1.1.6.L93.B0"},
      {"vp9", init_segment("vide", visual_entry("vp09", 640, 360, box("vpcC", full(1, std::string("\x00\x0a\x80", 3) + zeros(5))))),
       "vp09.00.10.08"},
      {"av1", init_segment("vide", visual_entry("av01", 640, 360, box("av1C", std::string("\x81\x08\x0c\x00", 4)))),
       "av01.0.08M.08"},
      {"av1 10-bit high tier", init_segment("vide", visual_entry("av01", 640, 360, box("av1C", std::string("\x81\x2d\xc0\x00", 4)))),
       "av01.1.13H.10"},
      {"protected avc1", init_segment("vide", visual_entry("encv", 1280, 720, avcc + box("sinf", box("frma", "avc1")))),
       "avc1.64001f"},
      {"HE-AAC", init_segment("soun", audio_entry("mp4a", 2, 48000, esds(0x40, std::string("\x2b\x92\x08\x00", 4)))),
       "mp4a.40.5"},
      {"USAC (escaped object type 42)", init_segment("soun", audio_entry("mp4a", 2, 48000, esds(0x40, std::string("\xf9\x40", 2)))),
       "mp4a.40.42"},
      {"MP3", init_segment("soun", audio_entry("mp4a", 2, 44100, esds(0x6b, ""))), "mp4a.6B"},
      {"AC-3", init_segment("soun", audio_entry("ac-3", 6, 48000, "")), "ac-3"},
      {"FLAC", init_segment("soun", audio_entry("fLaC", 2, 48000, "")), "flac"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    auto info = parse_init_segment(c.bytes);
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_EQ(info->codecs, c.codecs);
  }
}

TEST(InitSegment, LanguageSizeAndRateFromTheBoxes) {
  auto info = parse_init_segment(init_segment("soun", audio_entry("Opus", 2, 48000, box("dOps", zeros(11))), 0x15c7));
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->language, "eng");
  EXPECT_EQ(info->channels, 2);
  EXPECT_EQ(info->sample_rate, 48000);
  EXPECT_EQ(info->timescale, 90000u);
}

TEST(InitSegment, RefusesWhatIsNotOneWithoutReadingOutOfBounds) {
  const std::string real = unhex(kFfmpegH264Init);
  // Every truncation of a real init segment is refused (or, cut inside trailing boxes
  // the reader does not need, still read correctly), never read past its end.
  for (size_t n = 0; n < real.size(); ++n) {
    auto info = parse_init_segment(real.substr(0, n));
    if (info.ok()) EXPECT_EQ(info->codecs, "avc1.64000d") << n;
  }
  auto media = parse_init_segment(box("styp", "msdh") + box("moof", box("mfhd", full(0, u32(1)))) + box("mdat", "x"));
  ASSERT_FALSE(media.ok());
  EXPECT_EQ(media.error().message, "not an init segment: no moov box");
  EXPECT_FALSE(parse_init_segment("").ok());
  EXPECT_FALSE(parse_init_segment(std::string("\x00\x00\x00\x01moov\xff\xff\xff\xff\xff\xff\xff\xff", 16)).ok());
  EXPECT_FALSE(parse_init_segment(std::string("\x00\x00\x00\x04moov", 8)).ok());
  EXPECT_FALSE(parse_init_segment(init_segment("vide", visual_entry("avc1", 1, 1, ""))).ok());  // no avcC
  EXPECT_FALSE(parse_init_segment(init_segment("vide", box("avc1", zeros(20)))).ok());      // short entry
}

// ---------------------------------------------------------------------------
// The documents as pure functions

EventConfig event_of(const std::string& streams_yaml, const std::string& event_keys = "") {
  auto c = parse_event_config("id: final\npipelines: [a, b]\n" + event_keys + "streams:\n" + streams_yaml, "t", "");
  if (!c) throw std::runtime_error(c.error().message);
  return *c;
}

// ffmpeg started at 2026-11-25T10:26:40Z (a 2 s boundary), numbering from 1.
constexpr int64_t kStart = 1795602400000;

const std::string kFfmpegStreams = R"(  - id: video
    start_number: 1
    availability_start_ms: 1795602400000
    publish_latency_ms: 500
    segment_template: "chunk-stream0-$Number%05d$.m4s"
  - id: audio
    start_number: 1
    availability_start_ms: 1795602400000
    publish_latency_ms: 500
    segment_template: "chunk-stream0-$Number%05d$.m4s"
)";

ManifestInput input_of(const EventConfig& e, int64_t now_ms) {
  ManifestInput in;
  in.event = &e;
  in.now_ms = now_ms;
  for (const auto& s : e.streams) {
    ManifestStream m;
    m.config = &s;
    in.streams.push_back(m);
  }
  return in;
}

TEST(DashMpd, StaticDocumentFromTheTemplateAndTheInitSegments) {
  const EventConfig e = event_of(kFfmpegStreams, "dvr_window_s: 600\n");
  ManifestInput in = input_of(e, kStart + 60000);
  in.streams[0].init_object = "init-stream0.m4s";
  in.streams[0].init = *parse_init_segment(unhex(kFfmpegH264Init));
  in.streams[0].bandwidth_bps = 340000;
  in.streams[1].init_object = "init-stream0.m4s";
  in.streams[1].init = *parse_init_segment(unhex(kFfmpegAacInit));
  in.streams[1].bandwidth_bps = 70000;
  const std::string mpd = build_dash_mpd(in);
  EXPECT_EQ(mpd, R"(<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="dynamic" availabilityStartTime="2026-11-25T10:26:40.500Z" publishTime="2026-11-25T10:26:40.500Z" minBufferTime="PT2S" timeShiftBufferDepth="PT600S" suggestedPresentationDelay="PT6S" maxSegmentDuration="PT2S">
  <Period id="0" start="PT0S">
    <AdaptationSet id="1" contentType="video" mimeType="video/mp4" segmentAlignment="true" startWithSAP="1">
      <Representation id="video" bandwidth="340000" codecs="avc1.64000d" width="320" height="240">
        <SegmentTemplate timescale="1000" duration="2000" startNumber="1" initialization="video/init-stream0.m4s" media="video/chunk-stream0-$Number%05d$.m4s"/>
      </Representation>
    </AdaptationSet>
    <AdaptationSet id="2" contentType="audio" mimeType="audio/mp4" segmentAlignment="true" startWithSAP="1">
      <Representation id="audio" bandwidth="70000" codecs="mp4a.40.2" audioSamplingRate="48000">
        <AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="1"/>
        <SegmentTemplate timescale="1000" duration="2000" startNumber="1" initialization="audio/init-stream0.m4s" media="audio/chunk-stream0-$Number%05d$.m4s"/>
      </Representation>
    </AdaptationSet>
  </Period>
  <UTCTiming schemeIdUri="urn:mpeg:dash:utc:http-iso:2014" value="../../time"/>
</MPD>
)");
  // Static: the clock does not enter it.
  in.now_ms += 3'600'000;
  EXPECT_EQ(build_dash_mpd(in), mpd);
}

TEST(DashMpd, ConfigWinsOverTheInitSegmentAndStreamsWithoutCodecsAreLeftOut) {
  const EventConfig e = event_of(R"(  - id: video-1080p
    codecs: avc1.640028
    bandwidth_bps: 6000000
    init_object: init.mp4
  - id: audio-en
    language: en
  - id: audio-fr
    codecs: opus
    language: fr
    segment_template: "$RepresentationID$ $Number$.m4s"
    publish_latency_ms: 200
)");
  ManifestInput in = input_of(e, 1'000'000'000);
  for (auto& m : in.streams) m.bandwidth_bps = m.config->bandwidth_bps ? m.config->bandwidth_bps : 64000;
  in.streams[0].init_object = "init.mp4";
  const std::string mpd = build_dash_mpd(in);
  // Epoch-locked: availabilityStartTime is the epoch plus the largest publish latency;
  // the other streams get their earlier availability back with availabilityTimeOffset.
  EXPECT_NE(mpd.find("availabilityStartTime=\"1970-01-01T00:00:00.200Z\""), std::string::npos) << mpd;
  EXPECT_NE(mpd.find("<Representation id=\"video-1080p\" bandwidth=\"6000000\" codecs=\"avc1.640028\">"),
            std::string::npos) << mpd;
  EXPECT_NE(mpd.find("<SegmentTemplate availabilityTimeOffset=\"0.200\" timescale=\"1000\" duration=\"2000\" "
                     "startNumber=\"0\" initialization=\"video-1080p/init.mp4\" media=\"video-1080p/$Number$.m4s\"/>"),
            std::string::npos) << mpd;
  EXPECT_EQ(mpd.find("audio-en"), std::string::npos) << mpd;  // no codecs anywhere: left out
  EXPECT_NE(mpd.find("lang=\"fr\""), std::string::npos) << mpd;
  // Template characters outside identifiers are percent-encoded; no initialization known.
  EXPECT_NE(mpd.find("<SegmentTemplate timescale=\"1000\" duration=\"2000\" startNumber=\"0\" "
                     "media=\"audio-fr/$RepresentationID$%20$Number$.m4s\"/>"),
            std::string::npos) << mpd;
}

TEST(DashMpd, StreamsThatStartedEarlierAreMappedWithAPresentationTimeOffset) {
  const EventConfig e = event_of(R"(  - id: video
    codecs: avc1.64001f
    start_number: 1
    availability_start_ms: 1795602400000
  - id: audio
    codecs: mp4a.40.2
    start_number: 1
    availability_start_ms: 1795602360000
)");
  ManifestInput in = input_of(e, kStart);
  for (auto& m : in.streams) m.bandwidth_bps = 1000;
  const std::string mpd = build_dash_mpd(in);
  EXPECT_NE(mpd.find("availabilityStartTime=\"2026-11-25T10:26:40.000Z\""), std::string::npos) << mpd;
  // audio started 40 s (20 segments) earlier: its number 21 starts the Period.
  EXPECT_NE(mpd.find("startNumber=\"21\" presentationTimeOffset=\"40000\""), std::string::npos) << mpd;
}

TEST(HlsPlaylists, MediaPlaylistListsWhatIsPublishedUpToTheLiveEdge) {
  const EventConfig e = event_of(kFfmpegStreams);
  // 61 s after the start, latency 500: segment 30 was due at +60.5 s.
  ManifestInput in = input_of(e, kStart + 61000);
  in.streams[0].init_object = "init-stream0.m4s";
  in.streams[0].first_stored = 27;
  in.streams[0].gaps = {29};
  EXPECT_EQ(build_hls_media(in, 0), R"(#EXTM3U
#EXT-X-VERSION:8
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:27
#EXT-X-MAP:URI="video/init-stream0.m4s"
#EXT-X-PROGRAM-DATE-TIME:2026-11-25T10:27:32.000Z
#EXTINF:2.000,
video/chunk-stream0-00027.m4s
#EXTINF:2.000,
video/chunk-stream0-00028.m4s
#EXTINF:2.000,
#EXT-X-GAP
video/chunk-stream0-00029.m4s
#EXTINF:2.000,
video/chunk-stream0-00030.m4s
)");
  // Nothing stored yet: an empty live playlist the player polls.
  in.streams[0].first_stored = -1;
  EXPECT_EQ(build_hls_media(in, 0),
            "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:31\n"
            "#EXT-X-MAP:URI=\"video/init-stream0.m4s\"\n");
}

TEST(HlsPlaylists, MediaPlaylistStartsAtTheOldestNumberOfTheDvrWindow) {
  const EventConfig e = event_of(kFfmpegStreams, "dvr_window_s: 10\n");
  ManifestInput in = input_of(e, kStart + 61000);
  in.streams[1].first_stored = 1;
  const std::string m3u8 = build_hls_media(in, 1);
  EXPECT_NE(m3u8.find("#EXT-X-MEDIA-SEQUENCE:25\n"), std::string::npos) << m3u8;  // 30 - 5
  EXPECT_NE(m3u8.find("audio/chunk-stream0-00025.m4s\n"), std::string::npos);
  EXPECT_EQ(m3u8.find("audio/chunk-stream0-00024.m4s"), std::string::npos);
  EXPECT_EQ(m3u8.find("EXT-X-MAP"), std::string::npos);  // no init known
}

TEST(HlsPlaylists, MultivariantGroupsAudioUnderTheVideoVariants) {
  const EventConfig e = event_of(kFfmpegStreams);
  ManifestInput in = input_of(e, kStart);
  in.streams[0].init = *parse_init_segment(unhex(kFfmpegH264Init));
  in.streams[0].bandwidth_bps = 340000;
  in.streams[1].init = *parse_init_segment(unhex(kFfmpegAacInit));
  in.streams[1].bandwidth_bps = 70000;
  EXPECT_EQ(build_hls_multivariant(in), R"(#EXTM3U
#EXT-X-VERSION:7
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="audio",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="1",URI="_hls_audio.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=410000,CODECS="avc1.64000d,mp4a.40.2",RESOLUTION=320x240,AUDIO="audio"
_hls_video.m3u8
)");
  // Audio only: each audio stream is a variant.
  in.streams[0].init.reset();
  EXPECT_EQ(build_hls_multivariant(in), R"(#EXTM3U
#EXT-X-VERSION:7
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-STREAM-INF:BANDWIDTH=70000,CODECS="mp4a.40.2"
_hls_audio.m3u8
)");
}

TEST(Manifests, NamesAndBandwidthEstimate) {
  EXPECT_EQ(hls_media_name("video-1080p"), "_hls_video-1080p.m3u8");
  EXPECT_EQ(hls_media_stream("_hls_video-1080p.m3u8"), "video-1080p");
  EXPECT_EQ(hls_media_stream("_hls_.m3u8"), "");
  EXPECT_EQ(hls_media_stream("_hls.m3u8"), "");
  EXPECT_EQ(hls_media_stream("video.m3u8"), "");
  StreamConfig s;
  EXPECT_EQ(estimate_bandwidth_bps(s, 0), 2'000'000);
  EXPECT_EQ(estimate_bandwidth_bps(s, 82748), 340'000);  // 330992 bps, two digits up
  EXPECT_EQ(estimate_bandwidth_bps(s, 10), 40);
  s.bandwidth_bps = 123;
  EXPECT_EQ(estimate_bandwidth_bps(s, 82748), 123);
  s.bandwidth_bps = 0;
  s.content_type = ContentType::audio;
  EXPECT_EQ(estimate_bandwidth_bps(s, 0), 128'000);
}

TEST(Manifests, StreamKeysAreCheckedAndShownResolved) {
  const EventConfig e = event_of(R"(  - id: video
    codecs: avc1.640028
    bandwidth_bps: 5000000
    language: en
    init_object: init.mp4
)");
  const StreamConfig& s = e.streams.at(0);
  EXPECT_EQ(s.codecs, "avc1.640028");
  EXPECT_EQ(s.bandwidth_bps, 5000000);
  EXPECT_EQ(s.language, "en");
  EXPECT_EQ(s.init_object, "init.mp4");
  const auto j = to_json(e).as_object().at("streams").as_array().at(0).as_object();
  EXPECT_EQ(j.at("codecs").as_string(), "avc1.640028");
  EXPECT_EQ(j.at("bandwidth_bps").as_int64(), 5000000);
  EXPECT_EQ(j.at("language").as_string(), "en");
  EXPECT_EQ(j.at("init_object").as_string(), "init.mp4");
  const auto defaults = to_json(event_of("  - id: v\n")).as_object().at("streams").as_array().at(0).as_object();
  EXPECT_EQ(defaults.at("codecs").as_string(), "");
  EXPECT_EQ(defaults.at("bandwidth_bps").as_int64(), 0);

  auto bad = [](const std::string& stream_keys) {
    auto c = parse_event_config("id: e\npipelines: [a]\nstreams:\n  - id: v\n" + stream_keys, "t.yaml", "");
    return c.ok() ? std::string("ok") : c.error().message;
  };
  EXPECT_EQ(bad("    init_object: a/init.mp4\n"),
            "t.yaml:5:18: streams[0].init_object: must be an object name that the segment template does not match");
  EXPECT_EQ(bad("    init_object: \"42.m4s\"\n"),
            "t.yaml:5:18: streams[0].init_object: must be an object name that the segment template does not match");
  EXPECT_EQ(bad("    bandwidth_bps: -1\n"),
            "t.yaml:5:20: streams[0].bandwidth_bps: expected an integer in [0, 1099511627776], got '-1'");
}

// ---------------------------------------------------------------------------
// The core serves them

// The ffmpeg layout of the integration tests, started 10 s before kT0.
std::string ffmpeg_config(const std::string& extra_video_keys = "") {
  const std::string start = std::to_string(CoreHarness::kT0 - 10000);
  return R"(
auth:
  ingest_tokens: [ingest-secret]
  admin_tokens: [admin-secret]
events:
  - id: ff
    pipelines: [a, b]
    streams:
      - id: video
        start_number: 1
        availability_start_ms: )" + start + R"(
        segment_template: "chunk-stream0-$Number%05d$.m4s"
)" + extra_video_keys + R"(
      - id: audio
        start_number: 1
        availability_start_ms: )" + start + R"(
        segment_template: "chunk-stream0-$Number%05d$.m4s"
)";
}

void expect_cors(const Response& r) {
  EXPECT_EQ(CoreHarness::header(r, "Access-Control-Allow-Origin"), "*");
  const std::string exposed = CoreHarness::header(r, "Access-Control-Expose-Headers");
  for (const char* h : {"Live-Pipeline", "Live-Version", "Live-Reject", "CMSD-Static", "Segment-Defects", "ETag"}) {
    EXPECT_NE(exposed.find(h), std::string::npos) << h;
  }
}

TEST(ManifestsCore, DashMpdReadsCodecsFromTheInitSegmentsThePipelinesPut) {
  CoreHarness h(ffmpeg_config());
  // Nothing to describe yet.
  Response none = h.get("/live/ff/_dash.mpd");
  EXPECT_EQ(none.status, 404);
  EXPECT_EQ(CoreHarness::header(none, "Live-Reject"), "not-found");
  expect_cors(none);

  EXPECT_EQ(h.put("/live/ff/video/init-stream0.m4s", "a", unhex(kFfmpegH264Init)).status, 201);
  EXPECT_EQ(h.put("/live/ff/video/manifest.mpd", "a", "<MPD/>").status, 201);  // ffmpeg's own, kept as is
  Response video_only = h.get("/live/ff/_dash.mpd");
  ASSERT_EQ(video_only.status, 200);
  EXPECT_EQ(CoreHarness::body(video_only).find("id=\"audio\""), std::string::npos);

  EXPECT_EQ(h.put("/live/ff/audio/init-stream0.m4s", "b", unhex(kFfmpegAacInit)).status, 201);
  EXPECT_EQ(h.put("/live/ff/video/chunk-stream0-00005.m4s", "a", std::string(50000, 'v')).status, 201);
  Response r = h.get("/live/ff/_dash.mpd");
  ASSERT_EQ(r.status, 200);
  const std::string mpd = CoreHarness::body(r);
  EXPECT_EQ(CoreHarness::header(r, "Content-Type"), "application/dash+xml");
  EXPECT_NE(mpd.find("codecs=\"avc1.64000d\" width=\"320\" height=\"240\""), std::string::npos) << mpd;
  EXPECT_NE(mpd.find("codecs=\"mp4a.40.2\""), std::string::npos) << mpd;
  EXPECT_NE(mpd.find("initialization=\"video/init-stream0.m4s\""), std::string::npos) << mpd;
  EXPECT_NE(mpd.find("bandwidth=\"200000\""), std::string::npos) << mpd;  // 50000 bytes per 2 s
  EXPECT_NE(mpd.find("availabilityStartTime=\"1970-01-12T13:46:30.000Z\""), std::string::npos) << mpd;
  EXPECT_EQ(CoreHarness::header(r, "CDN-Cache-Control"), "max-age=1, max-age-ms=1000");
  EXPECT_EQ(CoreHarness::header(r, "CMSD-Static"), "ot=m,st=l");
  expect_cors(r);
  // The packager's own manifest stays a plain object.
  Response own = h.get("/live/ff/video/manifest.mpd");
  EXPECT_EQ(own.status, 200);
  EXPECT_EQ(CoreHarness::body(own), "<MPD/>");

  // Revalidation.
  Headers inm;
  inm.if_none_match = CoreHarness::header(r, "ETag");
  Response not_modified = h.get("/live/ff/_dash.mpd", inm);
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_EQ(not_modified.body_length, 0u);
  // HEAD: the same headers, no store involved.
  const int gets = h.store.gets;
  EXPECT_EQ(h.request(Method::head, "/live/ff/_dash.mpd").status, 200);
  EXPECT_EQ(h.store.gets, gets);
  EXPECT_EQ(h.request(Method::post, "/live/ff/_dash.mpd").status, 405);
  EXPECT_EQ(h.get("/live/nope/_dash.mpd").status, 404);
}

TEST(ManifestsCore, ConfiguredCodecsNeedNoInitSegmentAndAnUnreadableInitIsNoInit) {
  CoreHarness h(ffmpeg_config("        codecs: avc1.640028\n        init_object: init.mp4\n"));
  Response r = h.get("/live/ff/_hls.m3u8");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(CoreHarness::body(r),
            "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n"
            "#EXT-X-STREAM-INF:BANDWIDTH=2000000,CODECS=\"avc1.640028\"\n_hls_video.m3u8\n");
  // An audio "init" that is not one does not describe the stream.
  EXPECT_EQ(h.put("/live/ff/audio/init-stream0.m4s", "a", "not an init segment").status, 201);
  EXPECT_EQ(CoreHarness::body(h.get("/live/ff/_hls.m3u8")).find("mp4a"), std::string::npos);
}

TEST(ManifestsCore, HlsMediaPlaylistFollowsTheStoreAndTheClock) {
  CoreHarness h(ffmpeg_config());
  // kT0 - 10 s was the start: the edge is segment 5 (due at kT0).
  h.put("/live/ff/video/init-stream0.m4s", "a", unhex(kFfmpegH264Init));
  h.put("/live/ff/video/chunk-stream0-00003.m4s", "a", "three");
  h.put("/live/ff/video/chunk-stream0-00005.m4s", "b", "five");
  Response r = h.get("/live/ff/_hls_video.m3u8");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(CoreHarness::header(r, "Content-Type"), "application/vnd.apple.mpegurl");
  EXPECT_EQ(CoreHarness::body(r), R"(#EXTM3U
#EXT-X-VERSION:8
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:3
#EXT-X-MAP:URI="video/init-stream0.m4s"
#EXT-X-PROGRAM-DATE-TIME:1970-01-12T13:46:34.000Z
#EXTINF:2.000,
video/chunk-stream0-00003.m4s
#EXTINF:2.000,
#EXT-X-GAP
video/chunk-stream0-00004.m4s
#EXTINF:2.000,
video/chunk-stream0-00005.m4s
)");
  // Cacheable until segment 6 is due.
  EXPECT_EQ(CoreHarness::header(r, "CDN-Cache-Control"), "max-age=2, max-age-ms=2000");
  expect_cors(r);
  h.clock.advance_ms(1500);
  EXPECT_EQ(CoreHarness::header(h.get("/live/ff/_hls_video.m3u8"), "CDN-Cache-Control"), "max-age=0, max-age-ms=500");
  h.clock.advance_ms(500);  // segment 6 due, nobody published it, still in its selection grace
  const std::string next = CoreHarness::body(h.get("/live/ff/_hls_video.m3u8"));
  EXPECT_NE(next.find("#EXTINF:2.000,\nvideo/chunk-stream0-00006.m4s\n"), std::string::npos) << next;
  EXPECT_EQ(h.get("/live/ff/_hls_nope.m3u8").status, 404);
  EXPECT_EQ(CoreHarness::header(h.get("/live/ff/_hls_nope.m3u8"), "Live-Reject"), "unknown-stream");
}

TEST(ManifestsCore, PublicAnswersCarryCorsAndAdminAnswersDoNot) {
  CoreHarness h(ffmpeg_config());
  h.put("/live/ff/video/chunk-stream0-00005.m4s", "a", "five");
  expect_cors(h.get("/live/ff/video/chunk-stream0-00005.m4s"));  // served (through a store read)
  expect_cors(h.get("/live/ff/video/chunk-stream0-00001.m4s"));  // refused
  expect_cors(h.get("/live/ff/video/init-stream0.m4s"));         // plain object, 404
  expect_cors(h.get("/live/nope/video/1.m4s"));
  expect_cors(h.get("/time"));
  expect_cors(h.get("/live/ff/_timeline"));
  expect_cors(h.get("/live/ff/_invalidations"));
  Response admin = h.admin(Method::get, "/admin/events/ff");
  EXPECT_EQ(admin.status, 200);
  EXPECT_EQ(admin.find("Access-Control-Allow-Origin"), nullptr);
  EXPECT_EQ(h.get("/metrics").find("Access-Control-Allow-Origin"), nullptr);
}

}  // namespace
}  // namespace liveorigin::testing
