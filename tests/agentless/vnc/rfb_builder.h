#pragma once
// Test-only: builds target-to-viewer RFB messages by hand (pixels in any
// true-colour format, Hextile tiles, ZRLE and Tight rectangles with a real
// zlib deflater) and says what the shadow framebuffer should then hold.
// Thread-compatible.

#include <zlib.h>

#include <cstdint>
#include <string>
#include <vector>

#include "agentless/vnc/rfb/rfb_types.h"

namespace portcullis::agentless::rfb::testing {

inline std::string U16(uint16_t v) { return {static_cast<char>(v >> 8), static_cast<char>(v & 0xff)}; }
inline std::string U32(uint32_t v) {
  return U16(static_cast<uint16_t>(v >> 16)) + U16(static_cast<uint16_t>(v & 0xffff));
}
inline std::string B(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

inline PixelFormat Bgrx32(bool big_endian = false) {
  PixelFormat pf;
  pf.big_endian = big_endian;
  return pf;
}
inline PixelFormat Rgb565(bool big_endian = false) {
  PixelFormat pf;
  pf.bits_per_pixel = 16;
  pf.depth = 16;
  pf.big_endian = big_endian;
  pf.red_max = 31;
  pf.green_max = 63;
  pf.blue_max = 31;
  pf.red_shift = 11;
  pf.green_shift = 5;
  pf.blue_shift = 0;
  return pf;
}
inline PixelFormat Bgr233() {
  PixelFormat pf;
  pf.bits_per_pixel = 8;
  pf.depth = 8;
  pf.red_max = 7;
  pf.green_max = 7;
  pf.blue_max = 3;
  pf.red_shift = 0;
  pf.green_shift = 3;
  pf.blue_shift = 6;
  return pf;
}
// 32 bpp with red in the low byte (RGBX in memory): not the fast path.
inline PixelFormat Rgbx32() {
  PixelFormat pf;
  pf.red_shift = 0;
  pf.blue_shift = 16;
  return pf;
}

// A colour as components in the format's ranges.
struct Colour {
  uint32_t r = 0, g = 0, b = 0;
};

inline uint32_t Value(const PixelFormat& pf, Colour c) {
  return (c.r << pf.red_shift) | (c.g << pf.green_shift) | (c.b << pf.blue_shift);
}
// The shadow framebuffer's pixel (0xFFRRGGBB) for a colour.
inline uint32_t Expected(const PixelFormat& pf, Colour c) {
  auto scale = [](uint32_t v, uint32_t max) { return (v * 255 + max / 2) / max; };
  return 0xff000000u | (scale(c.r, pf.red_max) << 16) | (scale(c.g, pf.green_max) << 8) | scale(c.b, pf.blue_max);
}
// A deterministic colour for (x, y), in range for the format.
inline Colour ColourAt(const PixelFormat& pf, int x, int y, int seed = 0) {
  uint32_t h = static_cast<uint32_t>(x * 73856093 ^ y * 19349663 ^ seed * 83492791);
  h ^= h >> 13;
  h *= 0x5bd1e995;
  h ^= h >> 15;
  return {h & pf.red_max, (h >> 8) & pf.green_max, (h >> 16) & pf.blue_max};
}

inline std::string PixelBytes(const PixelFormat& pf, uint32_t v, int bytes = 0) {
  const int n = bytes ? bytes : pf.bits_per_pixel / 8;
  std::string s(n, '\0');
  for (int i = 0; i < n; ++i) {
    const int sh = 8 * i;
    s[pf.big_endian ? n - 1 - i : i] = static_cast<char>((v >> sh) & 0xff);
  }
  return s;
}
inline std::string Pixel(const PixelFormat& pf, Colour c) { return PixelBytes(pf, Value(pf, c)); }
// ZRLE's CPIXEL (3 bytes for 32 bpp depth 24 with colours in the low bytes).
inline std::string CPixel(const PixelFormat& pf, Colour c) {
  if (pf.bits_per_pixel == 32 && pf.depth <= 24) return PixelBytes(pf, Value(pf, c), 3);
  return Pixel(pf, c);
}
// Tight's TPIXEL (R, G, B for 32 bpp depth 24 with 8-bit colours).
inline std::string TPixel(const PixelFormat& pf, Colour c) {
  if (pf.bits_per_pixel == 32 && pf.depth == 24 && pf.red_max == 255 && pf.green_max == 255 && pf.blue_max == 255) {
    return B({static_cast<int>(c.r), static_cast<int>(c.g), static_cast<int>(c.b)});
  }
  return Pixel(pf, c);
}

inline std::string RectHeader(int x, int y, int w, int h, int32_t enc) {
  return U16(static_cast<uint16_t>(x)) + U16(static_cast<uint16_t>(y)) + U16(static_cast<uint16_t>(w)) +
         U16(static_cast<uint16_t>(h)) + U32(static_cast<uint32_t>(enc));
}
inline std::string UpdateHeader(int rects) { return B({0, 0}) + U16(static_cast<uint16_t>(rects)); }

// A connection-long deflate stream, flushed after each rectangle.
class Deflater {
 public:
  Deflater() { deflateInit(&zs_, 6); }
  ~Deflater() { deflateEnd(&zs_); }
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;
  std::string Deflate(const std::string& in) {
    std::string out(in.size() + in.size() / 100 + 64, '\0');
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs_.avail_in = static_cast<uInt>(in.size());
    zs_.next_out = reinterpret_cast<Bytef*>(out.data());
    zs_.avail_out = static_cast<uInt>(out.size());
    deflate(&zs_, Z_SYNC_FLUSH);
    out.resize(out.size() - zs_.avail_out);
    return out;
  }

 private:
  z_stream zs_{};
};

inline std::string CompactLength(size_t n) {
  std::string s;
  s.push_back(static_cast<char>((n & 0x7f) | (n > 0x7f ? 0x80 : 0)));
  if (n > 0x7f) {
    s.push_back(static_cast<char>(((n >> 7) & 0x7f) | (n > 0x3fff ? 0x80 : 0)));
    if (n > 0x3fff) s.push_back(static_cast<char>((n >> 14) & 0xff));
  }
  return s;
}

}  // namespace portcullis::agentless::rfb::testing
