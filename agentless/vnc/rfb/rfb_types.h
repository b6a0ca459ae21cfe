#pragma once
// RFB (VNC) wire types shared by the viewer-side and target-side parsers
// (RFC 6143 and the community extensions the relay permits).
// Plain values; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace portcullis::agentless::rfb {

// The 16-byte PIXEL_FORMAT of ServerInit and SetPixelFormat.
struct PixelFormat {
  uint8_t bits_per_pixel = 32;  // 8, 16 or 32
  uint8_t depth = 24;
  bool big_endian = false;
  bool true_colour = true;
  uint16_t red_max = 255, green_max = 255, blue_max = 255;
  uint8_t red_shift = 16, green_shift = 8, blue_shift = 0;
  bool operator==(const PixelFormat&) const = default;
};

// InvalidArgument unless bpp is 8/16/32, depth 1..bpp, maxes 2^n-1 and
// shifts in range. Colour maps (true_colour = false) parse but are
// refused by the relay (FailedPrecondition in the relay, not here).
[[nodiscard]] absl::StatusOr<PixelFormat> ParsePixelFormat(std::string_view sixteen_bytes);
std::string SerializePixelFormat(const PixelFormat& pf);  // 16 bytes

// Encodings (signed 32-bit on the wire).
namespace encoding {
inline constexpr int32_t kRaw = 0;
inline constexpr int32_t kCopyRect = 1;
inline constexpr int32_t kHextile = 5;
inline constexpr int32_t kTight = 7;
inline constexpr int32_t kZrle = 16;
inline constexpr int32_t kCursor = -239;
inline constexpr int32_t kDesktopSize = -223;
inline constexpr int32_t kLastRect = -224;
inline constexpr int32_t kPointerPos = -232;
inline constexpr int32_t kXCursor = -240;
inline constexpr int32_t kDesktopName = -307;
inline constexpr int32_t kExtendedDesktopSize = -308;
// Tight quality (-32..-23) and compression (-256..-247) levels.
inline constexpr int32_t kTightQuality0 = -32, kTightQuality9 = -23;
inline constexpr int32_t kCompressLevel0 = -256, kCompressLevel9 = -247;
}  // namespace encoding

// True iff the relay forwards `e` in a SetEncodings (the allow-list above:
// Raw, CopyRect, Hextile, Tight, ZRLE, the Tight quality/compression
// levels, Cursor, XCursor, PointerPos, DesktopSize, ExtendedDesktopSize,
// LastRect, DesktopName). Everything else (Fence, ContinuousUpdates, QEMU,
// xvp, TightPNG, ZYWRLE, Ultra, H.264, ...) is stripped.
bool EncodingAllowed(int32_t e);

}  // namespace portcullis::agentless::rfb
