#include "agentless/vnc/rfb/pixel_convert.h"

#include <cstring>

namespace portcullis::agentless::rfb::internal {
namespace {

constexpr uint32_t kOpaque = 0xff000000u;

uint32_t Scale(uint32_t c, uint32_t max) { return (c * 255 + max / 2) / max; }

uint32_t Load(const uint8_t* s, int n, bool big) {
  uint32_t v = 0;
  if (big) {
    for (int i = 0; i < n; ++i) v = (v << 8) | s[i];
  } else {
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | s[i];
  }
  return v;
}

}  // namespace

void PixelConverter::Configure(const PixelFormat& pf) {
  pf_ = pf;
  pixel_bytes_ = pf.bits_per_pixel / 8;
  lut_.clear();
  const bool bgrx = pf.bits_per_pixel == 32 && !pf.big_endian && pf.red_max == 255 && pf.green_max == 255 &&
                    pf.blue_max == 255 && pf.red_shift == 16 && pf.green_shift == 8 && pf.blue_shift == 0;
  if (bgrx) {
    kind_ = Kind::kBgrx32;
  } else if (pf.bits_per_pixel == 32) {
    kind_ = Kind::kGeneric32;
  } else {
    kind_ = pf.bits_per_pixel == 8 ? Kind::kLut8 : Kind::kLut16;
    const uint32_t n = pf.bits_per_pixel == 8 ? 256 : 65536;
    lut_.resize(n);
    for (uint32_t v = 0; v < n; ++v) lut_[v] = FromValue(v);
  }
  // ZRLE's CPIXEL: 3 bytes when 32 bpp, depth <= 24 and every colour bit
  // fits in the low or the high three bytes.
  cpixel_bytes_ = pixel_bytes_;
  cpixel_shift_ = 0;
  if (pf.bits_per_pixel == 32 && pf.depth <= 24 && pf.true_colour) {
    const uint32_t bits = (uint32_t{pf.red_max} << pf.red_shift) | (uint32_t{pf.green_max} << pf.green_shift) |
                          (uint32_t{pf.blue_max} << pf.blue_shift);
    if ((bits & 0xff000000u) == 0) {
      cpixel_bytes_ = 3;
    } else if ((bits & 0x000000ffu) == 0) {
      cpixel_bytes_ = 3;
      cpixel_shift_ = 8;
    }
  }
  cpixel_bgr_ = bgrx;
  // Tight's TPIXEL: R, G, B when 32 bpp, depth 24 and 8 bits per colour.
  tpixel_rgb_ = pf.bits_per_pixel == 32 && pf.depth == 24 && pf.true_colour && pf.red_max == 255 &&
                pf.green_max == 255 && pf.blue_max == 255;
  tpixel_bytes_ = tpixel_rgb_ ? 3 : pixel_bytes_;
}

uint32_t PixelConverter::RawValue(const uint8_t* s) const { return Load(s, pixel_bytes_, pf_.big_endian); }

uint32_t PixelConverter::FromValue(uint32_t v) const {
  const uint32_t r = Scale((v >> pf_.red_shift) & pf_.red_max, pf_.red_max);
  const uint32_t g = Scale((v >> pf_.green_shift) & pf_.green_max, pf_.green_max);
  const uint32_t b = Scale((v >> pf_.blue_shift) & pf_.blue_max, pf_.blue_max);
  return kOpaque | (r << 16) | (g << 8) | b;
}

void PixelConverter::Pixels(const uint8_t* src, size_t n, uint32_t* dst) const {
  switch (kind_) {
    case Kind::kBgrx32:
      for (size_t i = 0; i < n; ++i) {
        uint32_t v;
        std::memcpy(&v, src + 4 * i, 4);
        dst[i] = v | kOpaque;
      }
      return;
    case Kind::kLut8:
      for (size_t i = 0; i < n; ++i) dst[i] = lut_[src[i]];
      return;
    case Kind::kLut16:
      if (pf_.big_endian) {
        for (size_t i = 0; i < n; ++i) dst[i] = lut_[(src[2 * i] << 8) | src[2 * i + 1]];
      } else {
        for (size_t i = 0; i < n; ++i) dst[i] = lut_[src[2 * i] | (src[2 * i + 1] << 8)];
      }
      return;
    case Kind::kGeneric32:
      for (size_t i = 0; i < n; ++i) dst[i] = FromValue(Load(src + 4 * i, 4, pf_.big_endian));
      return;
  }
}

void PixelConverter::CPixels(const uint8_t* src, size_t n, uint32_t* dst) const {
  if (cpixel_bytes_ != 3) {
    Pixels(src, n, dst);
    return;
  }
  if (cpixel_bgr_) {
    for (size_t i = 0; i < n; ++i, src += 3) {
      dst[i] = kOpaque | (uint32_t{src[2]} << 16) | (uint32_t{src[1]} << 8) | src[0];
    }
    return;
  }
  for (size_t i = 0; i < n; ++i, src += 3) dst[i] = FromValue(Load(src, 3, pf_.big_endian) << cpixel_shift_);
}

void PixelConverter::TPixels(const uint8_t* src, size_t n, uint32_t* dst) const {
  if (!tpixel_rgb_) {
    Pixels(src, n, dst);
    return;
  }
  for (size_t i = 0; i < n; ++i, src += 3) {
    dst[i] = kOpaque | (uint32_t{src[0]} << 16) | (uint32_t{src[1]} << 8) | src[2];
  }
}

}  // namespace portcullis::agentless::rfb::internal
