#include "origin/core/manifests.h"

#include "origin/core/markup.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>

#include "origin/core/timing.h"

namespace liveorigin {

// ---------------------------------------------------------------------------
// ISO-BMFF (ISO/IEC 14496-12) box reading: only what codec strings need.

namespace {

uint32_t be16(std::string_view s, size_t at) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(s[at])) << 8) | static_cast<uint8_t>(s[at + 1]);
}
uint32_t be32(std::string_view s, size_t at) {
  return (be16(s, at) << 16) | be16(s, at + 2);
}
uint64_t be64(std::string_view s, size_t at) {
  return (static_cast<uint64_t>(be32(s, at)) << 32) | be32(s, at + 4);
}
uint8_t byte(std::string_view s, size_t at) { return static_cast<uint8_t>(s[at]); }

struct Box {
  std::string_view type;
  std::string_view payload;
};

// The boxes laid end to end in `data`. A box that does not fit ends the walk and
// marks the data malformed.
class Boxes {
 public:
  explicit Boxes(std::string_view data) : data_(data) {}

  std::optional<Box> next() {
    if (pos_ >= data_.size()) return std::nullopt;
    if (data_.size() - pos_ < 8) return fail();
    uint64_t size = be32(data_, pos_);
    const std::string_view type = data_.substr(pos_ + 4, 4);
    size_t header = 8;
    if (size == 1) {
      if (data_.size() - pos_ < 16) return fail();
      size = be64(data_, pos_ + 8);
      header = 16;
    } else if (size == 0) {
      size = data_.size() - pos_;  // to the end
    }
    if (size < header || size > data_.size() - pos_) return fail();
    Box b{type, data_.substr(pos_ + header, static_cast<size_t>(size) - header)};
    pos_ += static_cast<size_t>(size);
    return b;
  }
  bool malformed() const { return malformed_; }

 private:
  std::optional<Box> fail() {
    malformed_ = true;
    pos_ = data_.size();
    return std::nullopt;
  }
  std::string_view data_;
  size_t pos_ = 0;
  bool malformed_ = false;
};

// The first child of `type` among the boxes in `data`.
std::optional<std::string_view> child(std::string_view data, std::string_view type) {
  Boxes boxes(data);
  while (auto b = boxes.next()) {
    if (b->type == type) return b->payload;
  }
  return std::nullopt;
}

std::string hex2(unsigned v, bool upper = false) {
  char buf[8];
  std::snprintf(buf, sizeof buf, upper ? "%02X" : "%02x", v & 0xff);
  return buf;
}
std::string dec2(unsigned v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02u", v % 100);
  return buf;
}

// avcC: configurationVersion, AVCProfileIndication, profile_compatibility, AVCLevelIndication.
std::string avc_codecs(std::string_view fourcc, std::string_view avcc) {
  if (avcc.size() < 4) return std::string(fourcc);
  return std::string(fourcc) + "." + hex2(byte(avcc, 1)) + hex2(byte(avcc, 2)) + hex2(byte(avcc, 3));
}

// hvcC, as ISO/IEC 14496-15 Annex E spells it: hvc1.A1.6.L93.B0
std::string hevc_codecs(std::string_view fourcc, std::string_view hvcc) {
  if (hvcc.size() < 13) return std::string(fourcc);
  const unsigned b1 = byte(hvcc, 1);
  const unsigned profile_space = b1 >> 6;
  const bool tier = (b1 >> 5) & 1;
  const unsigned profile_idc = b1 & 0x1f;
  uint32_t compat = be32(hvcc, 2);
  uint32_t reversed = 0;
  for (int i = 0; i < 32; ++i) reversed |= ((compat >> i) & 1u) << (31 - i);
  char buf[16];
  std::string out(fourcc);
  out += ".";
  if (profile_space > 0) out += static_cast<char>('A' + profile_space - 1);
  out += std::to_string(profile_idc);
  std::snprintf(buf, sizeof buf, "%X", reversed);
  out += ".";
  out += buf;
  out += tier ? ".H" : ".L";
  out += std::to_string(byte(hvcc, 12));
  // Constraint bytes, trailing zero bytes left out.
  int last = -1;
  for (int i = 0; i < 6; ++i) {
    if (byte(hvcc, 6 + i) != 0) last = i;
  }
  for (int i = 0; i <= last; ++i) out += "." + hex2(byte(hvcc, 6 + i), true);
  return out;
}

// vpcC (FullBox): profile, level, bitDepth(4) ... -> vp09.PP.LL.DD
std::string vp9_codecs(std::string_view fourcc, std::string_view vpcc) {
  if (vpcc.size() < 7) return std::string(fourcc);
  return std::string(fourcc) + "." + dec2(byte(vpcc, 4)) + "." + dec2(byte(vpcc, 5)) + "." +
         dec2(byte(vpcc, 6) >> 4);
}

// av1C: marker|version, seq_profile(3) seq_level_idx_0(5), seq_tier_0 high_bitdepth twelve_bit ...
std::string av1_codecs(std::string_view fourcc, std::string_view av1c) {
  if (av1c.size() < 3) return std::string(fourcc);
  const unsigned profile = byte(av1c, 1) >> 5;
  const unsigned level = byte(av1c, 1) & 0x1f;
  const unsigned b2 = byte(av1c, 2);
  const bool tier = b2 & 0x80;
  const bool high_bitdepth = b2 & 0x40;
  const bool twelve_bit = b2 & 0x20;
  const unsigned depth = high_bitdepth ? (twelve_bit ? 12 : 10) : 8;
  return std::string(fourcc) + "." + std::to_string(profile) + "." + dec2(level) + (tier ? "H" : "M") + "." +
         dec2(depth);
}

// An MPEG-4 descriptor header: tag, then a size in 1 to 4 bytes of 7 bits.
bool read_descriptor(std::string_view data, size_t& pos, uint8_t& tag, std::string_view& body) {
  if (pos >= data.size()) return false;
  tag = byte(data, pos++);
  uint32_t size = 0;
  for (int i = 0; i < 4; ++i) {
    if (pos >= data.size()) return false;
    const uint8_t b = byte(data, pos++);
    size = (size << 7) | (b & 0x7f);
    if (!(b & 0x80)) break;
  }
  if (size > data.size() - pos) return false;
  body = data.substr(pos, size);
  pos += size;
  return true;
}

// esds (FullBox) -> ES_Descriptor -> DecoderConfigDescriptor -> DecoderSpecificInfo.
// `channels` is set from an AAC AudioSpecificConfig's channelConfiguration, when it has one
// (the sample entry's channelcount is often a fixed 2).
std::string mp4a_codecs(std::string_view esds, int& channels) {
  const std::string fallback = "mp4a";
  if (esds.size() < 4) return fallback;
  size_t pos = 4;
  uint8_t tag = 0;
  std::string_view es;
  if (!read_descriptor(esds, pos, tag, es) || tag != 0x03 || es.size() < 3) return fallback;
  size_t p = 2;  // ES_ID
  const uint8_t flags = byte(es, p++);
  if (flags & 0x80) p += 2;  // dependsOn_ES_ID
  if (flags & 0x40) {        // URL
    if (p >= es.size()) return fallback;
    p += 1 + byte(es, p);
  }
  if (flags & 0x20) p += 2;  // OCR_ES_Id
  while (p < es.size()) {
    std::string_view dc;
    if (!read_descriptor(es, p, tag, dc)) return fallback;
    if (tag != 0x04) continue;
    if (dc.empty()) return fallback;
    const unsigned oti = byte(dc, 0);
    std::string out = "mp4a." + hex2(oti, true);
    if (oti != 0x40 && oti != 0x66 && oti != 0x67 && oti != 0x68) return out;  // not AAC: no AOT
    out = "mp4a.40";  // every AAC flavour is named by its audio object type under 40
    size_t q = 13;
    while (q < dc.size()) {
      std::string_view dsi;
      if (!read_descriptor(dc, q, tag, dsi)) break;
      if (tag != 0x05 || dsi.empty()) continue;
      unsigned aot = byte(dsi, 0) >> 3;
      if (aot == 31 && dsi.size() >= 2) aot = 32 + (((byte(dsi, 0) & 0x07) << 3) | (byte(dsi, 1) >> 5));
      if (aot < 31 && dsi.size() >= 2) {
        // frequency index (4 bits; 15 means a 24-bit frequency follows), then channelConfiguration.
        const unsigned freq_index = ((byte(dsi, 0) & 0x07) << 1) | (byte(dsi, 1) >> 7);
        unsigned config = 0;
        if (freq_index != 15) {
          config = (byte(dsi, 1) >> 3) & 0x0f;
        } else if (dsi.size() >= 5) {
          config = (byte(dsi, 4) >> 3) & 0x0f;
        }
        if (config >= 1 && config <= 6) channels = static_cast<int>(config);
        if (config == 7) channels = 8;
      }
      return out + "." + std::to_string(aot);
    }
    return oti == 0x40 ? out : out + ".2";  // MPEG-2 AAC object types without a config: LC
  }
  return fallback;
}

}  // namespace

Result<InitInfo> parse_init_segment(std::string_view bytes) {
  auto bad = [](std::string why) -> Result<InitInfo> { return make_error("not an init segment: " + why); };
  Boxes top(bytes);
  std::optional<std::string_view> moov;
  while (auto b = top.next()) {
    if (b->type == "moov") {
      moov = b->payload;
      break;
    }
  }
  if (!moov) return bad(top.malformed() ? "malformed box" : "no moov box");
  const auto trak = child(*moov, "trak");
  if (!trak) return bad("no trak box");
  const auto mdia = child(*trak, "mdia");
  if (!mdia) return bad("no mdia box");
  InitInfo info;
  info.language = "und";
  if (const auto mdhd = child(*mdia, "mdhd"); mdhd && !mdhd->empty()) {
    const bool v1 = byte(*mdhd, 0) == 1;
    const size_t ts_at = v1 ? 4 + 16 : 4 + 8;
    const size_t lang_at = v1 ? 4 + 28 : 4 + 16;
    if (mdhd->size() >= lang_at + 2) {
      info.timescale = be32(*mdhd, ts_at);
      const uint32_t lang = be16(*mdhd, lang_at) & 0x7fff;
      std::string code;
      for (int shift : {10, 5, 0}) {
        const uint32_t c = (lang >> shift) & 0x1f;
        if (c == 0) break;
        code += static_cast<char>(c + 0x60);
      }
      if (code.size() == 3) info.language = code;
    }
  }
  if (const auto hdlr = child(*mdia, "hdlr"); hdlr && hdlr->size() >= 12) info.handler = std::string(hdlr->substr(8, 4));
  const auto minf = child(*mdia, "minf");
  const auto stbl = minf ? child(*minf, "stbl") : std::nullopt;
  const auto stsd = stbl ? child(*stbl, "stsd") : std::nullopt;
  if (!stsd) return bad("no stsd box");
  if (stsd->size() < 8) return bad("short stsd box");
  Boxes entries(stsd->substr(8));
  const auto entry = entries.next();
  if (!entry) return bad("no sample entry");

  std::string_view fourcc = entry->type;
  const std::string_view e = entry->payload;
  // Fixed fields of the sample entry before its child boxes (ISO/IEC 14496-12 §12.1, §12.2).
  size_t children_at = 0;
  if (info.handler == "vide") {
    if (e.size() < 78) return bad("short visual sample entry");
    info.width = static_cast<int>(be16(e, 24));
    info.height = static_cast<int>(be16(e, 26));
    children_at = 78;
  } else if (info.handler == "soun") {
    if (e.size() < 28) return bad("short audio sample entry");
    const uint32_t version = be16(e, 8);  // QuickTime sound description versions add fields
    info.channels = static_cast<int>(be16(e, 16));
    info.sample_rate = static_cast<int>(be32(e, 24) >> 16);
    children_at = version == 1 ? 44 : version == 2 ? 64 : 28;
    if (e.size() < children_at) return bad("short audio sample entry");
    if (version == 2 && e.size() >= 48) {
      // Version 2 keeps the rate as a float64 and the channel count after it.
      const uint64_t bits = be64(e, 32);
      double rate = 0;
      static_assert(sizeof rate == sizeof bits);
      std::memcpy(&rate, &bits, sizeof rate);
      if (rate > 0 && rate < 1e7) info.sample_rate = static_cast<int>(rate);
      info.channels = static_cast<int>(be32(e, 40));
    }
  } else {
    // Other tracks (text, metadata): the codec is the sample entry's type.
    info.codecs = std::string(fourcc);
    return info;
  }
  const std::string_view boxes = e.substr(children_at);
  // Protected content: the original format is in sinf/frma.
  if (fourcc == "encv" || fourcc == "enca") {
    const auto sinf = child(boxes, "sinf");
    const auto frma = sinf ? child(*sinf, "frma") : std::nullopt;
    if (!frma || frma->size() < 4) return bad("protected sample entry without sinf/frma");
    fourcc = frma->substr(0, 4);
  }
  auto config = [&](std::string_view type) { return child(boxes, type); };
  if (fourcc == "avc1" || fourcc == "avc3") {
    const auto c = config("avcC");
    if (!c) return bad("avc1 sample entry without avcC");
    info.codecs = avc_codecs(fourcc, *c);
  } else if (fourcc == "hvc1" || fourcc == "hev1") {
    const auto c = config("hvcC");
    if (!c) return bad("hvc1 sample entry without hvcC");
    info.codecs = hevc_codecs(fourcc, *c);
  } else if (fourcc == "vp08" || fourcc == "vp09") {
    const auto c = config("vpcC");
    info.codecs = c ? vp9_codecs(fourcc, *c) : std::string(fourcc);
  } else if (fourcc == "av01") {
    const auto c = config("av1C");
    if (!c) return bad("av01 sample entry without av1C");
    info.codecs = av1_codecs(fourcc, *c);
  } else if (fourcc == "mp4a") {
    const auto c = config("esds");
    if (!c) return bad("mp4a sample entry without esds");
    info.codecs = mp4a_codecs(*c, info.channels);
  } else if (fourcc == "Opus") {
    info.codecs = "opus";
    if (const auto c = config("dOps"); c && c->size() >= 2 && byte(*c, 1) > 0) info.channels = byte(*c, 1);
  } else if (fourcc == "fLaC") {
    info.codecs = "flac";
  } else {
    info.codecs = std::string(fourcc);  // ac-3, ec-3, ac-4, mp4v, ...
  }
  return info;
}

// ---------------------------------------------------------------------------
// Manifests

namespace {

bool pchar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("-._~!$&'()*+,;=:@").find(c) != std::string_view::npos;
}

// A path segment, percent-encoded where RFC 3986 requires it.
std::string encode_segment(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    if (pchar(c)) {
      out += c;
    } else {
      out += '%';
      out += hex[static_cast<uint8_t>(c) >> 4];
      out += hex[static_cast<uint8_t>(c) & 15];
    }
  }
  return out;
}

// A DASH template: encoded like a path segment except inside $...$ identifiers.
std::string encode_template(std::string_view s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] == '$') {
      const size_t close = s.find('$', i + 1);
      if (close == std::string_view::npos) break;
      out += s.substr(i, close - i + 1);
      i = close + 1;
    } else {
      const size_t next = std::min(s.find('$', i), s.size());
      out += encode_segment(s.substr(i, next - i));
      i = next;
    }
  }
  if (i < s.size()) out += encode_segment(s.substr(i));
  return out;
}

std::string xml_escape(std::string_view s) { return markup_escape(s); }

// xs:duration of whole milliseconds: PT2S, PT1.92S, PT3600S.
std::string iso_duration(int64_t ms) {
  std::string out = "PT" + std::to_string(ms / 1000);
  if (int64_t frac = ms % 1000; frac != 0) {
    std::string f = std::to_string(frac);
    f.insert(0, 3 - f.size(), '0');
    while (!f.empty() && f.back() == '0') f.pop_back();
    out += "." + f;
  }
  return out + "S";
}

std::string seconds3(int64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld.%03lld", static_cast<long long>(ms / 1000), static_cast<long long>(ms % 1000));
  return buf;
}

// HLS quoted-string values may not hold '"' or line breaks.
std::string hls_quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c != '"' && c != '\r' && c != '\n') out += c;
  }
  return out + "\"";
}

bool is_video(const ManifestStream& m) {
  if (m.init && !m.init->handler.empty()) return m.init->handler == "vide";
  return m.config->content_type == ContentType::video;
}

std::string representation(const ManifestStream& m, int64_t pto_ms, int indent) {
  const StreamConfig& s = *m.config;
  const std::string pad(static_cast<size_t>(indent), ' ');
  std::string out = pad + "<Representation id=\"" + xml_escape(s.id) + "\" bandwidth=\"" +
                    std::to_string(m.bandwidth_bps) + "\" codecs=\"" + xml_escape(m.codecs()) + "\"";
  if (m.init && m.init->width > 0 && m.init->height > 0) {
    out += " width=\"" + std::to_string(m.init->width) + "\" height=\"" + std::to_string(m.init->height) + "\"";
  }
  if (m.init && m.init->sample_rate > 0) out += " audioSamplingRate=\"" + std::to_string(m.init->sample_rate) + "\"";
  out += ">\n";
  if (m.init && m.init->channels > 0 && !is_video(m)) {
    out += pad + "  <AudioChannelConfiguration schemeIdUri=\"urn:mpeg:dash:23003:3:audio_channel_configuration:2011\" value=\"" +
           std::to_string(m.init->channels) + "\"/>\n";
  }
  const std::string dir = encode_segment(s.id) + "/";
  out += pad + "  <SegmentTemplate timescale=\"1000\" duration=\"" + std::to_string(s.segment_duration_ms) +
         "\" startNumber=\"" + std::to_string(s.start_number + pto_ms / s.segment_duration_ms) + "\"";
  if (pto_ms > 0) out += " presentationTimeOffset=\"" + std::to_string(pto_ms) + "\"";
  if (!m.init_object.empty()) out += " initialization=\"" + xml_escape(dir + encode_segment(m.init_object)) + "\"";
  out += " media=\"" + xml_escape(dir + encode_template(s.segment_template)) + "\"/>\n";
  out += pad + "</Representation>\n";
  return out;
}

}  // namespace

std::string ManifestStream::codecs() const {
  if (!config->codecs.empty()) return config->codecs;
  return init ? init->codecs : std::string();
}

std::string ManifestStream::language() const {
  if (!config->language.empty()) return config->language;
  if (init && init->language != "und") return init->language;
  return {};
}

std::string build_dash_mpd(const ManifestInput& in) {
  // One Period for every stream. Its time 0 is the latest availability_start_ms of the
  // described streams; a stream that started earlier is mapped with a
  // presentationTimeOffset (a whole number of its segments; streams whose offset is not
  // are left out). Availability: availabilityStartTime carries the largest
  // publish_latency_ms, availabilityTimeOffset gives the others back their earlier times.
  std::vector<const ManifestStream*> described;
  int64_t start = std::numeric_limits<int64_t>::min();
  int64_t latency = 0;
  int64_t d_max = 0;
  for (const auto& m : in.streams) {
    if (!m.describable()) continue;
    start = std::max(start, m.config->availability_start_ms);
  }
  for (const auto& m : in.streams) {
    if (!m.describable()) continue;
    if ((start - m.config->availability_start_ms) % m.config->segment_duration_ms != 0) continue;
    described.push_back(&m);
    latency = std::max(latency, m.config->publish_latency_ms);
    d_max = std::max(d_max, m.config->segment_duration_ms);
  }
  if (described.empty()) start = 0;
  const std::string ast = format_iso8601_ms(start + latency);
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" profiles=\"urn:mpeg:dash:profile:isoff-live:2011\"";
  out += " type=\"dynamic\" availabilityStartTime=\"" + ast + "\" publishTime=\"" + ast + "\"";
  out += " minBufferTime=\"" + iso_duration(std::max<int64_t>(d_max, 1000)) + "\"";
  out += " timeShiftBufferDepth=\"" + iso_duration(in.event->dvr_window_s * 1000) + "\"";
  out += " suggestedPresentationDelay=\"" + iso_duration(3 * d_max) + "\"";
  out += " maxSegmentDuration=\"" + iso_duration(d_max) + "\">\n";
  out += "  <Period id=\"0\" start=\"PT0S\">\n";

  auto set = [&](int id, bool video, std::string_view lang, const std::vector<const ManifestStream*>& members) {
    out += "    <AdaptationSet id=\"" + std::to_string(id) + "\" contentType=\"" + (video ? "video" : "audio") +
           "\" mimeType=\"" + (video ? "video/mp4" : "audio/mp4") + "\"";
    if (!lang.empty()) out += " lang=\"" + xml_escape(lang) + "\"";
    out += " segmentAlignment=\"true\" startWithSAP=\"1\">\n";
    for (const ManifestStream* m : members) {
      const int64_t ato = latency - m->config->publish_latency_ms;
      std::string rep = representation(*m, start - m->config->availability_start_ms, 6);
      if (ato > 0) {
        const std::string attr = " availabilityTimeOffset=\"" + seconds3(ato) + "\"";
        rep.insert(rep.find("<SegmentTemplate ") + 16, attr);
      }
      out += rep;
    }
    out += "    </AdaptationSet>\n";
  };
  int next_id = 1;
  std::vector<const ManifestStream*> video;
  std::vector<std::pair<std::string, std::vector<const ManifestStream*>>> audio;  // by language
  for (const ManifestStream* m : described) {
    if (is_video(*m)) {
      video.push_back(m);
      continue;
    }
    const std::string lang = m->language();
    auto it = std::find_if(audio.begin(), audio.end(), [&](const auto& a) { return a.first == lang; });
    if (it == audio.end()) {
      audio.emplace_back(lang, std::vector<const ManifestStream*>{m});
    } else {
      it->second.push_back(m);
    }
  }
  if (!video.empty()) set(next_id++, true, "", video);
  for (const auto& [lang, members] : audio) set(next_id++, false, lang, members);
  out += "  </Period>\n";
  // Relative to the MPD (/live/{event}/_dash.mpd), so it stays right behind a CDN prefix.
  out += "  <UTCTiming schemeIdUri=\"urn:mpeg:dash:utc:http-iso:2014\" value=\"../../time\"/>\n";
  out += "</MPD>\n";
  return out;
}

std::string build_hls_multivariant(const ManifestInput& in) {
  std::vector<const ManifestStream*> video, audio;
  for (const auto& m : in.streams) {
    if (!m.describable()) continue;
    (is_video(m) ? video : audio).push_back(&m);
  }
  std::string out = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n";
  int64_t audio_bw = 0;
  std::vector<std::string> audio_codecs;
  bool first = true;
  if (!video.empty()) {
    for (const ManifestStream* m : audio) {
      out += "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",NAME=" + hls_quoted(m->config->id);
      if (const std::string lang = m->language(); !lang.empty()) out += ",LANGUAGE=" + hls_quoted(lang);
      out += first ? ",DEFAULT=YES,AUTOSELECT=YES" : ",DEFAULT=NO,AUTOSELECT=YES";
      if (m->init && m->init->channels > 0) out += ",CHANNELS=\"" + std::to_string(m->init->channels) + "\"";
      out += ",URI=" + hls_quoted(hls_media_name(m->config->id)) + "\n";
      first = false;
      audio_bw = std::max(audio_bw, m->bandwidth_bps);
      const std::string c = m->codecs();
      if (std::find(audio_codecs.begin(), audio_codecs.end(), c) == audio_codecs.end()) audio_codecs.push_back(c);
    }
  }
  const auto& variants = video.empty() ? audio : video;
  for (const ManifestStream* m : variants) {
    std::string codecs = m->codecs();
    if (!video.empty()) {
      for (const auto& c : audio_codecs) codecs += "," + c;
    }
    out += "#EXT-X-STREAM-INF:BANDWIDTH=" + std::to_string(m->bandwidth_bps + (video.empty() ? 0 : audio_bw)) +
           ",CODECS=" + hls_quoted(codecs);
    if (m->init && m->init->width > 0 && m->init->height > 0) {
      out += ",RESOLUTION=" + std::to_string(m->init->width) + "x" + std::to_string(m->init->height);
    }
    if (!video.empty() && !audio.empty()) out += ",AUDIO=\"audio\"";
    out += "\n" + encode_segment(hls_media_name(m->config->id)) + "\n";
  }
  return out;
}

std::string build_hls_media(const ManifestInput& in, size_t index) {
  const ManifestStream& m = in.streams.at(index);
  const StreamConfig& s = *m.config;
  const int64_t edge = live_edge(s, in.now_ms);
  int64_t from = dvr_floor(*in.event, s, edge);
  if (m.first_stored >= 0) from = std::max(from, m.first_stored);
  const bool any = m.first_stored >= 0 && from <= edge;
  const bool gaps = any && std::any_of(m.gaps.begin(), m.gaps.end(), [&](int64_t n) { return n >= from && n <= edge; });
  std::string out = "#EXTM3U\n#EXT-X-VERSION:" + std::string(gaps ? "8" : "7") + "\n";
  out += "#EXT-X-TARGETDURATION:" + std::to_string((s.segment_duration_ms + 999) / 1000) + "\n";
  out += "#EXT-X-MEDIA-SEQUENCE:" + std::to_string(any ? from : std::max(edge + 1, s.start_number)) + "\n";
  const std::string dir = encode_segment(s.id) + "/";
  if (!m.init_object.empty()) out += "#EXT-X-MAP:URI=" + hls_quoted(dir + encode_segment(m.init_object)) + "\n";
  if (!any) return out;
  out += "#EXT-X-PROGRAM-DATE-TIME:" + format_iso8601_ms(media_start_ms(s, from)) + "\n";
  const std::string extinf = "#EXTINF:" + seconds3(s.segment_duration_ms) + ",\n";
  for (int64_t n = from; n <= edge; ++n) {
    out += extinf;
    if (std::binary_search(m.gaps.begin(), m.gaps.end(), n)) out += "#EXT-X-GAP\n";
    out += dir + encode_segment(s.parsed_template.format(n)) + "\n";
  }
  return out;
}

std::string hls_media_name(std::string_view stream_id) {
  return "_hls_" + std::string(stream_id) + ".m3u8";
}

std::string_view hls_media_stream(std::string_view object) {
  constexpr std::string_view prefix = "_hls_";
  constexpr std::string_view suffix = ".m3u8";
  if (object.size() <= prefix.size() + suffix.size() || !object.starts_with(prefix) || !object.ends_with(suffix)) {
    return {};
  }
  return object.substr(prefix.size(), object.size() - prefix.size() - suffix.size());
}

int64_t estimate_bandwidth_bps(const StreamConfig& s, int64_t largest_recent_segment_bytes) {
  if (s.bandwidth_bps > 0) return s.bandwidth_bps;
  if (largest_recent_segment_bytes <= 0) return s.content_type == ContentType::audio ? 128'000 : 2'000'000;
  const int64_t bps = (largest_recent_segment_bytes * 8 * 1000 + s.segment_duration_ms - 1) / s.segment_duration_ms;
  // Two significant digits, rounded up: the figure changes only when the rate really does.
  int64_t unit = 1;
  while (bps / unit >= 100) unit *= 10;
  return (bps + unit - 1) / unit * unit;
}

}  // namespace liveorigin
