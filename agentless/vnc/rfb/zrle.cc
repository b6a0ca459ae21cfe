// ZRLE (RFC 6143 7.7.6) and the zlib stream ZRLE and Tight keep per
// connection.
#include <algorithm>
#include <cstring>

#include "agentless/vnc/rfb/decoders.h"

namespace portcullis::agentless::rfb::internal {

Inflater::Inflater() { ok_ = inflateInit(&zs_) == Z_OK; }
Inflater::~Inflater() {
  if (ok_) inflateEnd(&zs_);
}
void Inflater::Reset() {
  if (ok_) ok_ = inflateReset(&zs_) == Z_OK;
}

absl::Status Inflater::Inflate(std::string_view in, size_t expected, size_t max_out, std::vector<uint8_t>* out,
                              size_t* produced_out) {
  if (!ok_) return absl::DataLossError("zlib: stream not usable");
  auto fail = [this](const char* what) {
    ok_ = false;  // the stream's state is lost with the rectangle
    return absl::DataLossError(what);
  };
  const size_t limit = expected > 0 ? expected : max_out;
  size_t cap = expected > 0 ? expected : std::min(max_out, std::max<size_t>(in.size() * 4, 64 << 10));
  if (out->size() < cap) out->resize(cap);
  zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs_.avail_in = static_cast<uInt>(in.size());
  size_t produced = 0;
  while (true) {
    zs_.next_out = out->data() + produced;
    zs_.avail_out = static_cast<uInt>(cap - produced);
    const int rc = inflate(&zs_, Z_SYNC_FLUSH);
    produced = cap - zs_.avail_out;
    if (rc == Z_STREAM_END) return fail("zlib: stream ended");  // a connection-long stream never ends
    if (rc != Z_OK && rc != Z_BUF_ERROR) return fail("zlib: corrupt data");
    if (produced < cap) {
      if (zs_.avail_in != 0) return fail("zlib: stalled");
      break;
    }
    if (cap == limit) {
      // Full: the rest of the input (a flush marker, say) must add nothing.
      while (zs_.avail_in != 0 || produced == cap) {
        uint8_t spare;
        zs_.next_out = &spare;
        zs_.avail_out = 1;
        const uInt before = zs_.avail_in;
        const int rc2 = inflate(&zs_, Z_SYNC_FLUSH);
        if (zs_.avail_out == 0 || rc2 == Z_STREAM_END) return fail("zlib: more data than the rectangle needs");
        if (rc2 != Z_OK && rc2 != Z_BUF_ERROR) return fail("zlib: corrupt data");
        if (zs_.avail_in == before) {
          if (zs_.avail_in != 0) return fail("zlib: stalled");
          break;
        }
      }
      break;
    }
    cap = std::min(limit, cap * 2);
    if (out->size() < cap) out->resize(cap);
  }
  if (expected > 0 && produced != expected) return fail("zlib: less data than the rectangle needs");
  *produced_out = produced;
  return absl::OkStatus();
}

absl::Status ZrleSize(std::string_view in, size_t max_rect_bytes, size_t* need) {
  if (in.size() < 4) {
    *need = 4;
    return absl::OkStatus();
  }
  const auto* b = reinterpret_cast<const uint8_t*>(in.data());
  const size_t len = (size_t{b[0]} << 24) | (size_t{b[1]} << 16) | (size_t{b[2]} << 8) | b[3];
  if (len > max_rect_bytes) return absl::InvalidArgumentError("ZRLE: rectangle too long");
  *need = 4 + len;
  return absl::OkStatus();
}

namespace {

// Reads the inflated tile data with bounds; every getter fails past the end.
class Cursor {
 public:
  Cursor(const uint8_t* p, size_t n) : p_(p), end_(p + n) {}
  bool Take(size_t n, const uint8_t** out) {
    if (static_cast<size_t>(end_ - p_) < n) return false;
    *out = p_;
    p_ += n;
    return true;
  }
  bool Byte(uint8_t* v) {
    if (p_ == end_) return false;
    *v = *p_++;
    return true;
  }
  bool AtEnd() const { return p_ == end_; }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

absl::Status Short() { return absl::DataLossError("ZRLE: tile data ends early"); }

// A run length: 1 + the sum of bytes up to the first that is not 255.
bool RunLength(Cursor& c, size_t max, size_t* len) {
  size_t n = 1;
  uint8_t b;
  do {
    if (!c.Byte(&b)) return false;
    n += b;
    if (n > max) return false;
  } while (b == 255);
  *len = n;
  return true;
}

absl::Status Tile(Cursor& c, const PixelConverter& pc, Surface s, int x, int y, int w, int h, uint32_t* tile) {
  const size_t cp = pc.cpixel_bytes();
  const size_t pixels = static_cast<size_t>(w) * h;
  uint8_t sub;
  if (!c.Byte(&sub)) return Short();
  const uint8_t* p;
  uint32_t palette[128];
  if (sub == 0) {  // raw CPIXELs
    if (!c.Take(pixels * cp, &p)) return Short();
    for (int r = 0; r < h; ++r) pc.CPixels(p + static_cast<size_t>(r) * w * cp, w, s.At(x, y + r));
    return absl::OkStatus();
  }
  if (sub == 1) {  // solid
    if (!c.Take(cp, &p)) return Short();
    s.Fill(x, y, w, h, pc.CPixel(p));
    return absl::OkStatus();
  }
  if (sub >= 17 && sub <= 127) return absl::InvalidArgumentError("ZRLE: unknown subencoding");
  if (sub == 129) return absl::InvalidArgumentError("ZRLE: unknown subencoding");
  const size_t palette_size = sub == 128 ? 0 : (sub & 127);
  if (palette_size > 0) {
    if (!c.Take(palette_size * cp, &p)) return Short();
    pc.CPixels(p, palette_size, palette);
  }
  if (sub <= 16) {  // packed palette indices, rows padded to a byte
    const int bits = palette_size == 2 ? 1 : palette_size <= 4 ? 2 : 4;
    const size_t row_bytes = (static_cast<size_t>(w) * bits + 7) / 8;
    if (!c.Take(row_bytes * h, &p)) return Short();
    const int mask = (1 << bits) - 1;
    for (int r = 0; r < h; ++r) {
      const uint8_t* row = p + r * row_bytes;
      uint32_t* out = s.At(x, y + r);
      for (int i = 0; i < w; ++i) {
        const int bit = i * bits;
        const size_t idx = (row[bit / 8] >> (8 - bits - bit % 8)) & mask;
        if (idx >= palette_size) return absl::InvalidArgumentError("ZRLE: palette index out of range");
        out[i] = palette[idx];
      }
    }
    return absl::OkStatus();
  }
  // Runs (plain, or of palette indices), into the tile buffer.
  size_t at = 0;
  while (at < pixels) {
    uint32_t colour;
    size_t len = 1;
    if (sub == 128) {
      if (!c.Take(cp, &p)) return Short();
      colour = pc.CPixel(p);
      if (!RunLength(c, pixels - at, &len)) return absl::DataLossError("ZRLE: bad run length");
    } else {
      uint8_t idx;
      if (!c.Byte(&idx)) return Short();
      if ((idx & 127) >= palette_size) return absl::InvalidArgumentError("ZRLE: palette index out of range");
      colour = palette[idx & 127];
      if ((idx & 128) && !RunLength(c, pixels - at, &len)) return absl::DataLossError("ZRLE: bad run length");
    }
    std::fill_n(tile + at, len, colour);
    at += len;
  }
  for (int r = 0; r < h; ++r) std::memcpy(s.At(x, y + r), tile + static_cast<size_t>(r) * w, w * 4);
  return absl::OkStatus();
}

}  // namespace

absl::Status ZrleDecode(std::string_view whole, const Rect& r, const PixelConverter& pc, Surface s, Inflater& zlib,
                        std::vector<uint8_t>& scratch) {
  if (r.w == 0 || r.h == 0) {
    if (whole.size() != 4) return absl::InvalidArgumentError("ZRLE: data for an empty rectangle");
    return absl::OkStatus();
  }
  // The most tile data a rectangle can need: per tile a subencoding byte
  // and a palette, per pixel a CPIXEL and a run-length byte... bounded by
  // raw CPIXELs plus 2 bytes a pixel.
  const size_t tiles = static_cast<size_t>((r.w + 63) / 64) * ((r.h + 63) / 64);
  const size_t cp = pc.cpixel_bytes();
  const size_t max_out = static_cast<size_t>(r.w) * r.h * (cp + 2) + tiles * (1 + 127 * cp);
  size_t produced = 0;
  if (absl::Status st = zlib.Inflate(whole.substr(4), 0, max_out, &scratch, &produced); !st.ok()) return st;
  Cursor c(scratch.data(), produced);
  uint32_t tile[64 * 64];
  for (int ty = r.y; ty < r.y + r.h; ty += 64) {
    for (int tx = r.x; tx < r.x + r.w; tx += 64) {
      const int w = std::min(64, r.x + r.w - tx), h = std::min(64, r.y + r.h - ty);
      if (absl::Status st = Tile(c, pc, s, tx, ty, w, h, tile); !st.ok()) return st;
    }
  }
  if (!c.AtEnd()) return absl::DataLossError("ZRLE: more data than the rectangle needs");
  return absl::OkStatus();
}

}  // namespace portcullis::agentless::rfb::internal
