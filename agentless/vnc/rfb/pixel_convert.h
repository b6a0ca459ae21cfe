#pragma once
// Internal to pc_rfb: converts pixels of an RFB pixel format (PIXEL, ZRLE's
// CPIXEL, Tight's TPIXEL) to the shadow framebuffer's 32-bit B, G, R, 0xFF
// (a little-endian uint32 0xFFRRGGBB). The format is chosen once
// (Configure); each call converts a run with one switch outside the loop,
// with a straight path for 32 bpp little-endian BGRX. Thread-compatible.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "agentless/vnc/rfb/rfb_types.h"

namespace portcullis::agentless::rfb::internal {

static_assert(std::endian::native == std::endian::little, "the shadow framebuffer layout assumes a little-endian host");

class PixelConverter {
 public:
  // `pf` must have passed ParsePixelFormat and be true-colour.
  void Configure(const PixelFormat& pf);
  const PixelFormat& format() const { return pf_; }

  int pixel_bytes() const { return pixel_bytes_; }
  int cpixel_bytes() const { return cpixel_bytes_; }
  int tpixel_bytes() const { return tpixel_bytes_; }

  void Pixels(const uint8_t* src, size_t n, uint32_t* dst) const;
  void CPixels(const uint8_t* src, size_t n, uint32_t* dst) const;
  void TPixels(const uint8_t* src, size_t n, uint32_t* dst) const;
  uint32_t Pixel(const uint8_t* src) const {
    uint32_t v;
    Pixels(src, 1, &v);
    return v;
  }
  uint32_t CPixel(const uint8_t* src) const {
    uint32_t v;
    CPixels(src, 1, &v);
    return v;
  }
  uint32_t TPixel(const uint8_t* src) const {
    uint32_t v;
    TPixels(src, 1, &v);
    return v;
  }
  // The pixel value (in the format's own bits) read from `pixel_bytes()`
  // bytes, and its conversion.
  uint32_t RawValue(const uint8_t* src) const;
  uint32_t FromValue(uint32_t v) const;

 private:
  enum class Kind { kBgrx32, kLut8, kLut16, kGeneric32 };
  PixelFormat pf_;
  Kind kind_ = Kind::kBgrx32;
  int pixel_bytes_ = 4, cpixel_bytes_ = 3, tpixel_bytes_ = 3;
  int cpixel_shift_ = 0;      // a 3-byte CPIXEL's value is shifted left by this
  bool cpixel_bgr_ = true;    // 3-byte CPIXEL bytes are B, G, R
  bool tpixel_rgb_ = true;    // 3-byte TPIXEL (R, G, B)
  std::vector<uint32_t> lut_;
};

}  // namespace portcullis::agentless::rfb::internal
