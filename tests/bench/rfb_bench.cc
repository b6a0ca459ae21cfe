// Decode throughput of ServerStream (the VNC relay's recording decoder) on
// a full-screen 1280x1024 update in each encoding, beside a plain memcpy of
// the same framebuffer bytes in the same run. The screen is HMI-like: flat
// panels, a gradient, small detailed widgets. Prints MB/s of decoded
// framebuffer (4 bytes a pixel) and the ratio to memcpy.
// clang-format off
#include <cstddef>
#include <cstdio>
#include <jpeglib.h>  // needs size_t and FILE first
// clang-format on

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "agentless/vnc/rfb/server_stream.h"
#include "tests/agentless/vnc/rfb_builder.h"

namespace {

using namespace portcullis::agentless::rfb;  // NOLINT
namespace tb = portcullis::agentless::rfb::testing;

constexpr int kW = 1280, kH = 1024;
constexpr int kRounds = 12;

// The screen as 8-bit components.
struct Screen {
  std::vector<tb::Colour> px;
  tb::Colour At(int x, int y) const { return px[static_cast<size_t>(y) * kW + x]; }
};

Screen MakeScreen() {
  Screen s;
  s.px.resize(static_cast<size_t>(kW) * kH);
  uint32_t noise = 1;
  for (int y = 0; y < kH; ++y) {
    for (int x = 0; x < kW; ++x) {
      tb::Colour c{200, 200, 205};                                        // background
      if (y < 40) c = {30, 60, 120};                                      // title bar
      if (x > 100 && x < 700 && y > 100 && y < 500) c = {static_cast<uint32_t>(x * 255 / kW), static_cast<uint32_t>(y / 4), 90};
      if (x > 800 && x < 1200 && y > 600 && y < 900 && (x / 20 + y / 20) % 2 == 0) {
        noise = noise * 1103515245u + 12345u;  // detailed widgets
        c = {noise >> 24, (noise >> 16) & 0xff, (noise >> 8) & 0xff};
      }
      s.px[static_cast<size_t>(y) * kW + x] = c;
    }
  }
  return s;
}

// A screen colour (8 bits a component) in the format's ranges.
tb::Colour In(const PixelFormat& pf, tb::Colour c) {
  return {c.r * pf.red_max / 255, c.g * pf.green_max / 255, c.b * pf.blue_max / 255};
}

bool Flat(const Screen& s, int x0, int y0, int w, int h, tb::Colour* c) {
  *c = s.At(x0, y0);
  for (int y = y0; y < y0 + h; ++y)
    for (int x = x0; x < x0 + w; ++x) {
      const tb::Colour d = s.At(x, y);
      if (d.r != c->r || d.g != c->g || d.b != c->b) return false;
    }
  return true;
}

std::string Raw(const Screen& s, const PixelFormat& pf) {
  std::string out = tb::UpdateHeader(1) + tb::RectHeader(0, 0, kW, kH, encoding::kRaw);
  for (const tb::Colour& c : s.px) out += tb::Pixel(pf, In(pf, c));
  return out;
}

// Hextile: a solid tile where flat, raw otherwise.
std::string Hextile(const Screen& s, const PixelFormat& pf) {
  std::string out = tb::UpdateHeader(1) + tb::RectHeader(0, 0, kW, kH, encoding::kHextile);
  for (int ty = 0; ty < kH; ty += 16)
    for (int tx = 0; tx < kW; tx += 16) {
      tb::Colour c;
      if (Flat(s, tx, ty, 16, 16, &c)) {
        out += tb::B({2}) + tb::Pixel(pf, In(pf, c));
        continue;
      }
      out += tb::B({1});
      for (int y = ty; y < ty + 16; ++y)
        for (int x = tx; x < tx + 16; ++x) out += tb::Pixel(pf, In(pf, s.At(x, y)));
    }
  return out;
}

// ZRLE: a solid tile where flat, raw CPIXELs otherwise.
std::string Zrle(const Screen& s, const PixelFormat& pf, tb::Deflater& z) {
  std::string tiles;
  for (int ty = 0; ty < kH; ty += 64)
    for (int tx = 0; tx < kW; tx += 64) {
      tb::Colour c;
      if (Flat(s, tx, ty, 64, 64, &c)) {
        tiles += tb::B({1}) + tb::CPixel(pf, In(pf, c));
        continue;
      }
      tiles += tb::B({0});
      for (int y = ty; y < ty + 64; ++y)
        for (int x = tx; x < tx + 64; ++x) tiles += tb::CPixel(pf, In(pf, s.At(x, y)));
    }
  const std::string data = z.Deflate(tiles);
  return tb::UpdateHeader(1) + tb::RectHeader(0, 0, kW, kH, encoding::kZrle) + tb::U32(data.size()) + data;
}

// Tight basic (copy filter), one stripe of 64 rows a rectangle.
std::string Tight(const Screen& s, const PixelFormat& pf, tb::Deflater& z) {
  std::string out = tb::UpdateHeader(kH / 64);
  for (int y0 = 0; y0 < kH; y0 += 64) {
    std::string raw;
    for (int y = y0; y < y0 + 64; ++y)
      for (int x = 0; x < kW; ++x) raw += tb::TPixel(pf, In(pf, s.At(x, y)));
    const std::string data = z.Deflate(raw);
    out += tb::RectHeader(0, y0, kW, 64, encoding::kTight) + tb::B({0x00}) + tb::CompactLength(data.size()) + data;
  }
  return out;
}

std::string Jpeg(const Screen& s, int y0, int h) {
  jpeg_compress_struct c;
  jpeg_error_mgr err;
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char* buf = nullptr;
  unsigned long len = 0;
  jpeg_mem_dest(&c, &buf, &len);
  c.image_width = kW;
  c.image_height = h;
  c.input_components = 3;
  c.in_color_space = JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, 75, TRUE);
  jpeg_start_compress(&c, TRUE);
  std::vector<uint8_t> row(kW * 3);
  for (int y = y0; y < y0 + h; ++y) {
    for (int x = 0; x < kW; ++x) {
      const tb::Colour col = s.At(x, y);
      row[3 * x] = col.r;
      row[3 * x + 1] = col.g;
      row[3 * x + 2] = col.b;
    }
    JSAMPROW r = row.data();
    jpeg_write_scanlines(&c, &r, 1);
  }
  jpeg_finish_compress(&c);
  std::string out(reinterpret_cast<char*>(buf), len);
  free(buf);
  jpeg_destroy_compress(&c);
  return out;
}

std::string TightJpeg(const Screen& s) {
  std::string out = tb::UpdateHeader(kH / 64);
  for (int y0 = 0; y0 < kH; y0 += 64) {
    const std::string j = Jpeg(s, y0, 64);
    out += tb::RectHeader(0, y0, kW, 64, encoding::kTight) + tb::B({0x90}) + tb::CompactLength(j.size()) + j;
  }
  return out;
}

double Seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

struct NoEvents : ServerEvents {};

// How far a decoded framebuffer is from the screen: the largest component
// error and the mean one.
struct Error {
  int max = 0;
  double mean = 0;
};
Error Check(const ServerStream& stream, const Screen& screen, const PixelFormat& pf) {
  Error e;
  uint64_t sum = 0;
  for (int y = 0; y < kH; ++y) {
    const auto* row = reinterpret_cast<const uint32_t*>(stream.framebuffer() + y * stream.stride());
    for (int x = 0; x < kW; ++x) {
      const tb::Colour c = screen.At(x, y);
      // What the format can carry of the colour, back in 8 bits.
      const uint32_t want = tb::Expected(pf, In(pf, c));
      for (int sh = 0; sh < 24; sh += 8) {
        const int d = std::abs(static_cast<int>((row[x] >> sh) & 0xff) - static_cast<int>((want >> sh) & 0xff));
        e.max = std::max(e.max, d);
        sum += d;
      }
    }
  }
  e.mean = static_cast<double>(sum) / (3.0 * kW * kH);
  return e;
}

// Feeds the updates in 64 KiB reads, as the relay would; best of 3 rounds
// (each over all the updates, every one from a buffer of its own, so the
// input comes from memory as it would off the socket). Checks the result.
double Decode(const PixelFormat& pf, const std::vector<std::string>& updates, const Screen& screen, Error* err) {
  double best = 1e9;
  for (int attempt = 0; attempt < 3; ++attempt) {
    ServerStream stream(pf, kW, kH);
    stream.SetEncodings({encoding::kRaw, encoding::kHextile, encoding::kZrle, encoding::kTight});
    NoEvents ev;
    const auto t0 = std::chrono::steady_clock::now();
    for (const std::string& u : updates) {
      for (size_t at = 0; at < u.size(); at += 65536) {
        if (!stream.Feed(std::string_view(u).substr(at, 65536), ev).ok()) {
          std::fprintf(stderr, "decode failed\n");
          std::exit(1);
        }
      }
    }
    best = std::min(best, Seconds(std::chrono::steady_clock::now() - t0) / updates.size());
    if (attempt == 0) *err = Check(stream, screen, pf);
  }
  return best;
}

// The baseline: memcpy of a framebuffer's bytes (5.2 MB) from kRounds
// distinct buffers into one, as Decode reads kRounds distinct updates.
double Memcpy() {
  const size_t n = static_cast<size_t>(kW) * kH * 4;
  std::vector<std::vector<uint8_t>> src(kRounds, std::vector<uint8_t>(n, 1));
  std::vector<uint8_t> dst(n);
  double best = 1e9;
  for (int attempt = 0; attempt < 3; ++attempt) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kRounds; ++i) {
      src[i][0] = static_cast<uint8_t>(i);
      std::memcpy(dst.data(), src[i].data(), n);
      asm volatile("" : : "r"(dst.data()) : "memory");
    }
    best = std::min(best, Seconds(std::chrono::steady_clock::now() - t0) / kRounds);
  }
  return best;
}

}  // namespace

int main() {
  const Screen screen = MakeScreen();
  const double fb_mb = kW * kH * 4 / 1e6;
  const double base = Memcpy();
  std::printf("rfb decode, 1280x1024 full update (%.2f MB of framebuffer), fed in 64 KiB reads\n", fb_mb);
  std::printf("  %-22s %8.2f ms/update, %7.0f MB/s\n", "memcpy of 5.24 MB", base * 1e3, fb_mb / base);
  enum Kind { kRawK, kHextileK, kZrleK, kTightK, kTightJpegK };
  struct Run {
    const char* name;
    PixelFormat pf;
    Kind kind;
  };
  const Run runs[] = {
      {"raw 32 bpp BGRX", tb::Bgrx32(), kRawK},
      {"raw 32 bpp big-endian", tb::Bgrx32(true), kRawK},
      {"raw 16 bpp", tb::Rgb565(), kRawK},
      {"hextile 32 bpp", tb::Bgrx32(), kHextileK},
      {"hextile 16 bpp", tb::Rgb565(), kHextileK},
      {"zrle 32 bpp", tb::Bgrx32(), kZrleK},
      {"zrle 16 bpp", tb::Rgb565(), kZrleK},
      {"tight 32 bpp", tb::Bgrx32(), kTightK},
      {"tight 16 bpp", tb::Rgb565(), kTightK},
      {"tight jpeg q75", tb::Bgrx32(), kTightJpegK},
  };
  bool wrong = false;
  for (const Run& r : runs) {
    std::vector<std::string> updates;
    tb::Deflater z;  // ZRLE and Tight: one connection-long stream, kRounds updates on it
    for (int i = 0; i < kRounds; ++i) {
      switch (r.kind) {
        case kRawK: updates.push_back(Raw(screen, r.pf)); break;
        case kHextileK: updates.push_back(Hextile(screen, r.pf)); break;
        case kZrleK: updates.push_back(Zrle(screen, r.pf, z)); break;
        case kTightK: updates.push_back(Tight(screen, r.pf, z)); break;
        case kTightJpegK: updates.push_back(TightJpeg(screen)); break;
      }
    }
    size_t wire = 0;
    for (const std::string& u : updates) wire += u.size();
    Error err;
    const double t = Decode(r.pf, updates, screen, &err);
    std::printf("  %-22s %8.2f ms/update, %7.0f MB/s, %5.1fx memcpy's time, %5.2f MB on the wire, max error %d (mean %.2f)\n",
                r.name, t * 1e3, fb_mb / t, t / base, wire / 1e6 / kRounds, err.max, err.mean);
    // Lossless: exact; JPEG: close on the whole (its large errors are in
    // the noisy widgets).
    if (r.kind == kTightJpegK ? err.mean > 5.0 : err.max != 0) {
      std::fprintf(stderr, "%s: decoded framebuffer differs from the screen (max %d, mean %.2f)\n", r.name, err.max,
                   err.mean);
      wrong = true;
    }
  }
  return wrong ? 1 : 0;
}
