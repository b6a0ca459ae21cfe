// Hextile (RFC 6143 7.7.4): 16x16 tiles, left to right, top to bottom.
#include <algorithm>

#include "agentless/vnc/rfb/decoders.h"

namespace portcullis::agentless::rfb::internal {
namespace {

constexpr uint8_t kRawBit = 1, kBackground = 2, kForeground = 4, kAnySubrects = 8, kColoured = 16;

}  // namespace

void Surface::Fill(int x, int y, int w, int h, uint32_t v) const {
  for (int r = 0; r < h; ++r) std::fill_n(At(x, y + r), w, v);
}

absl::Status HextileStep(std::string_view in, const Rect& r, const PixelConverter& pc, Surface s,
                         HextileState& st, size_t* consumed, size_t* need, bool* done) {
  const auto* b = reinterpret_cast<const uint8_t*>(in.data());
  const size_t n = in.size();
  const int tiles_x = (r.w + 15) / 16, tiles_y = (r.h + 15) / 16;
  const int tiles = tiles_x * tiles_y;
  const size_t bpp = pc.pixel_bytes();
  size_t pos = 0;
  *done = st.next_tile >= tiles;
  while (!*done) {
    const int tx = st.next_tile % tiles_x, ty = st.next_tile / tiles_x;
    const int x = r.x + tx * 16, y = r.y + ty * 16;
    const int w = std::min(16, r.x + r.w - x), h = std::min(16, r.y + r.h - y);
    // The tile's length, from its header as far as it is in.
    size_t len = 1;
    if (pos + len > n) break;
    const uint8_t sub = b[pos];
    if (sub & kRawBit) {
      len += static_cast<size_t>(w) * h * bpp;
    } else {
      if (sub & ~(kBackground | kForeground | kAnySubrects | kColoured)) {
        return absl::InvalidArgumentError("Hextile: unknown subencoding bits");
      }
      if (sub & kBackground) len += bpp;
      if (sub & kForeground) len += bpp;
      if (sub & kAnySubrects) {
        if (pos + len + 1 > n) {
          len += 1;
          *need = pos + len;
          break;
        }
        const size_t count = b[pos + len];
        len += 1 + count * (2 + ((sub & kColoured) ? bpp : 0));
      }
    }
    if (pos + len > n) {
      *need = pos + len;
      break;
    }
    const uint8_t* p = b + pos + 1;
    if (sub & kRawBit) {
      for (int row = 0; row < h; ++row) pc.Pixels(p + static_cast<size_t>(row) * w * bpp, w, s.At(x, y + row));
    } else {
      if (sub & kBackground) {
        st.bg = pc.Pixel(p);
        p += bpp;
      }
      if (sub & kForeground) {
        st.fg = pc.Pixel(p);
        p += bpp;
      }
      s.Fill(x, y, w, h, st.bg);
      if (sub & kAnySubrects) {
        const int count = *p++;
        for (int i = 0; i < count; ++i) {
          uint32_t colour = st.fg;
          if (sub & kColoured) {
            colour = pc.Pixel(p);
            p += bpp;
          }
          const int sx = p[0] >> 4, sy = p[0] & 15, sw = (p[1] >> 4) + 1, sh = (p[1] & 15) + 1;
          p += 2;
          if (sx + sw > w || sy + sh > h) return absl::InvalidArgumentError("Hextile: subrectangle outside its tile");
          s.Fill(x + sx, y + sy, sw, sh, colour);
        }
      }
    }
    pos += len;
    ++st.next_tile;
    *done = st.next_tile >= tiles;
  }
  *consumed = pos;
  if (pos == 0 && !*done && *need <= n) *need = n + 1;
  return absl::OkStatus();
}

}  // namespace portcullis::agentless::rfb::internal
