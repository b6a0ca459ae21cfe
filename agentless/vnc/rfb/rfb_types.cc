#include "agentless/vnc/rfb/rfb_types.h"

#include "absl/status/status.h"

namespace portcullis::agentless::rfb {
namespace {

uint16_t Be16(const char* p) {
  return static_cast<uint16_t>((static_cast<uint8_t>(p[0]) << 8) | static_cast<uint8_t>(p[1]));
}

// 2^n - 1 for some n >= 1.
bool IsMask(uint32_t v) { return v != 0 && (v & (v + 1)) == 0; }

int Bits(uint32_t mask) {
  int n = 0;
  while (mask != 0) {
    ++n;
    mask >>= 1;
  }
  return n;
}

}  // namespace

absl::StatusOr<PixelFormat> ParsePixelFormat(std::string_view b) {
  if (b.size() != 16) return absl::InvalidArgumentError("pixel format: not 16 bytes");
  PixelFormat pf;
  pf.bits_per_pixel = static_cast<uint8_t>(b[0]);
  pf.depth = static_cast<uint8_t>(b[1]);
  pf.big_endian = b[2] != 0;
  pf.true_colour = b[3] != 0;
  pf.red_max = Be16(&b[4]);
  pf.green_max = Be16(&b[6]);
  pf.blue_max = Be16(&b[8]);
  pf.red_shift = static_cast<uint8_t>(b[10]);
  pf.green_shift = static_cast<uint8_t>(b[11]);
  pf.blue_shift = static_cast<uint8_t>(b[12]);
  const int bpp = pf.bits_per_pixel;
  if (bpp != 8 && bpp != 16 && bpp != 32) {
    return absl::InvalidArgumentError("pixel format: bits per pixel not 8, 16 or 32");
  }
  if (pf.depth < 1 || pf.depth > bpp) return absl::InvalidArgumentError("pixel format: bad depth");
  if (!pf.true_colour) return pf;  // colour map: the maxes and shifts are unused
  const uint16_t maxes[3] = {pf.red_max, pf.green_max, pf.blue_max};
  const uint8_t shifts[3] = {pf.red_shift, pf.green_shift, pf.blue_shift};
  for (int i = 0; i < 3; ++i) {
    if (!IsMask(maxes[i])) return absl::InvalidArgumentError("pixel format: a colour max is not 2^n-1");
    if (shifts[i] + Bits(maxes[i]) > bpp) {
      return absl::InvalidArgumentError("pixel format: a colour lies outside the pixel");
    }
  }
  return pf;
}

std::string SerializePixelFormat(const PixelFormat& pf) {
  std::string out(16, '\0');
  out[0] = static_cast<char>(pf.bits_per_pixel);
  out[1] = static_cast<char>(pf.depth);
  out[2] = pf.big_endian ? 1 : 0;
  out[3] = pf.true_colour ? 1 : 0;
  const uint16_t maxes[3] = {pf.red_max, pf.green_max, pf.blue_max};
  for (int i = 0; i < 3; ++i) {
    out[4 + 2 * i] = static_cast<char>(maxes[i] >> 8);
    out[5 + 2 * i] = static_cast<char>(maxes[i] & 0xff);
  }
  out[10] = static_cast<char>(pf.red_shift);
  out[11] = static_cast<char>(pf.green_shift);
  out[12] = static_cast<char>(pf.blue_shift);
  return out;
}

bool EncodingAllowed(int32_t e) {
  using namespace encoding;
  switch (e) {
    case kRaw:
    case kCopyRect:
    case kHextile:
    case kTight:
    case kZrle:
    case kCursor:
    case kXCursor:
    case kPointerPos:
    case kDesktopSize:
    case kExtendedDesktopSize:
    case kLastRect:
    case kDesktopName:
      return true;
    default:
      break;
  }
  return (e >= kTightQuality0 && e <= kTightQuality9) || (e >= kCompressLevel0 && e <= kCompressLevel9);
}

}  // namespace portcullis::agentless::rfb
