// Tight (the community RFB extension): fill, JPEG, and basic compression
// with the copy, palette and gradient filters over four zlib streams.
#include <algorithm>
#include <cstring>

#include "agentless/vnc/rfb/decoders.h"

namespace portcullis::agentless::rfb::internal {
namespace {

constexpr int kMaxWidth = 2048;
constexpr size_t kMinToCompress = 12;
constexpr int kFill = 8, kJpeg = 9;
constexpr int kFilterCopy = 0, kFilterPalette = 1, kFilterGradient = 2;

// Where a rectangle's parts lie, from its header.
struct Layout {
  int control = 0;
  int filter = kFilterCopy;
  int colours = 0;           // palette filter
  size_t palette_at = 0;     // offset of the palette's TPIXELs
  size_t data_at = 0;        // offset of the (compressed or raw) data
  size_t data_len = 0;       // its length on the wire
  size_t raw_len = 0;        // its length uncompressed
  bool compressed = false;
};

// "Need more" is `*need` > in.size(); errors are final.
absl::Status CompactLength(std::string_view in, size_t at, size_t* len, size_t* width, size_t* need) {
  size_t v = 0;
  for (size_t i = 0; i < 3; ++i) {
    if (in.size() < at + i + 1) {
      *need = at + i + 1;
      return absl::OkStatus();
    }
    const uint8_t b = static_cast<uint8_t>(in[at + i]);
    if (i < 2) {
      v |= size_t{b & 0x7fu} << (7 * i);
      if (!(b & 0x80)) {
        *len = v;
        *width = i + 1;
        return absl::OkStatus();
      }
    } else {
      v |= size_t{b} << 14;
    }
  }
  *len = v;
  *width = 3;
  return absl::OkStatus();
}

absl::Status Parse(std::string_view in, const Rect& r, const PixelConverter& pc, size_t max_rect_bytes, Layout* l,
                   size_t* need) {
  *need = 0;
  if (r.w > kMaxWidth) return absl::InvalidArgumentError("Tight: rectangle wider than 2048");
  if (in.empty()) {
    *need = 1;
    return absl::OkStatus();
  }
  l->control = static_cast<uint8_t>(in[0]);
  const int kind = l->control >> 4;
  const size_t tp = pc.tpixel_bytes();
  if (kind == kFill) {
    l->data_at = 1;
    l->data_len = tp;
    *need = 1 + tp;
    return absl::OkStatus();
  }
  if (kind == kJpeg) {
    if (pc.pixel_bytes() == 1) return absl::InvalidArgumentError("Tight: JPEG at 8 bits per pixel");
    size_t len = 0, width = 0;
    if (absl::Status s = CompactLength(in, 1, &len, &width, need); !s.ok() || *need > 0) return s;
    if (len > max_rect_bytes) return absl::InvalidArgumentError("Tight: rectangle too long");
    l->data_at = 1 + width;
    l->data_len = len;
    *need = l->data_at + len;
    return absl::OkStatus();
  }
  if (kind > kJpeg) return absl::InvalidArgumentError("Tight: unknown compression type");
  size_t at = 1;
  l->filter = kFilterCopy;
  if (kind & 4) {
    if (in.size() < 2) {
      *need = 2;
      return absl::OkStatus();
    }
    l->filter = static_cast<uint8_t>(in[1]);
    at = 2;
  }
  const size_t pixels = static_cast<size_t>(r.w) * r.h;
  switch (l->filter) {
    case kFilterCopy:
    case kFilterGradient:
      l->raw_len = pixels * tp;
      break;
    case kFilterPalette: {
      if (in.size() < at + 1) {
        *need = at + 1;
        return absl::OkStatus();
      }
      l->colours = static_cast<uint8_t>(in[at]) + 1;
      l->palette_at = at + 1;
      at += 1 + l->colours * tp;
      l->raw_len = l->colours == 2 ? static_cast<size_t>((r.w + 7) / 8) * r.h : pixels;
      break;
    }
    default:
      return absl::InvalidArgumentError("Tight: unknown filter");
  }
  if (l->raw_len < kMinToCompress) {
    l->compressed = false;
    l->data_at = at;
    l->data_len = l->raw_len;
    *need = at + l->raw_len;
    return absl::OkStatus();
  }
  size_t len = 0, width = 0;
  if (absl::Status s = CompactLength(in, at, &len, &width, need); !s.ok() || *need > 0) return s;
  if (len > max_rect_bytes) return absl::InvalidArgumentError("Tight: rectangle too long");
  l->compressed = true;
  l->data_at = at + width;
  l->data_len = len;
  *need = l->data_at + len;
  return absl::OkStatus();
}

}  // namespace

absl::Status TightDecoder::Size(std::string_view in, const Rect& r, const PixelConverter& pc, size_t max_rect_bytes,
                                size_t* need) const {
  Layout l;
  return Parse(in, r, pc, max_rect_bytes, &l, need);
}

absl::Status TightDecoder::Decode(std::string_view whole, const Rect& r, const PixelConverter& pc, Surface s) {
  Layout l;
  size_t need = 0;
  if (absl::Status st = Parse(whole, r, pc, whole.size(), &l, &need); !st.ok()) return st;
  if (need != whole.size()) return absl::InternalError("Tight: length changed");
  for (int i = 0; i < 4; ++i) {
    if (l.control & (1 << i)) zlib_[i].Reset();
  }
  const auto* b = reinterpret_cast<const uint8_t*>(whole.data());
  const int kind = l.control >> 4;
  if (kind == kFill) {
    if (r.w > 0 && r.h > 0) s.Fill(r.x, r.y, r.w, r.h, pc.TPixel(b + l.data_at));
    return absl::OkStatus();
  }
  if (kind == kJpeg) return DecodeJpeg(whole.substr(l.data_at, l.data_len), r, s);
  if (r.w == 0 || r.h == 0) {
    if (l.raw_len != 0 || l.data_len != 0) return absl::InvalidArgumentError("Tight: data for an empty rectangle");
    return absl::OkStatus();
  }
  const uint8_t* data = b + l.data_at;
  if (l.compressed) {
    size_t produced = 0;
    if (absl::Status st = zlib_[kind & 3].Inflate(whole.substr(l.data_at, l.data_len), l.raw_len, l.raw_len, &data_,
                                                  &produced);
        !st.ok()) {
      return st;
    }
    data = data_.data();
  }
  const size_t tp = pc.tpixel_bytes();
  if (l.filter == kFilterCopy) {
    for (int y = 0; y < r.h; ++y) pc.TPixels(data + static_cast<size_t>(y) * r.w * tp, r.w, s.At(r.x, r.y + y));
    return absl::OkStatus();
  }
  if (l.filter == kFilterPalette) {
    uint32_t palette[256];
    pc.TPixels(b + l.palette_at, l.colours, palette);
    for (int y = 0; y < r.h; ++y) {
      uint32_t* out = s.At(r.x, r.y + y);
      if (l.colours == 2) {
        const uint8_t* row = data + static_cast<size_t>(y) * ((r.w + 7) / 8);
        for (int x = 0; x < r.w; ++x) out[x] = palette[(row[x / 8] >> (7 - x % 8)) & 1];
      } else {
        const uint8_t* row = data + static_cast<size_t>(y) * r.w;
        for (int x = 0; x < r.w; ++x) {
          if (row[x] >= l.colours) return absl::InvalidArgumentError("Tight: palette index out of range");
          out[x] = palette[row[x]];
        }
      }
    }
    return absl::OkStatus();
  }
  // Gradient: each component is predicted from left + above - above-left
  // (clamped to its range) and the data holds the difference.
  const PixelFormat& pf = pc.format();
  const bool rgb = tp == 3;
  const int max[3] = {rgb ? 255 : pf.red_max, rgb ? 255 : pf.green_max, rgb ? 255 : pf.blue_max};
  const int shift[3] = {rgb ? 16 : pf.red_shift, rgb ? 8 : pf.green_shift, rgb ? 0 : pf.blue_shift};
  const size_t row_len = static_cast<size_t>(r.w) * 3;
  std::vector<int> prev(row_len, 0), cur(row_len, 0);
  row_.resize(r.w);
  for (int y = 0; y < r.h; ++y) {
    const uint8_t* row = data + static_cast<size_t>(y) * r.w * tp;
    for (int x = 0; x < r.w; ++x) {
      uint32_t diff;
      if (rgb) {
        const uint8_t* p = row + 3 * static_cast<size_t>(x);
        diff = (uint32_t{p[0]} << 16) | (uint32_t{p[1]} << 8) | p[2];
      } else {
        diff = pc.RawValue(row + static_cast<size_t>(x) * tp);
      }
      uint32_t value = 0;
      for (int c = 0; c < 3; ++c) {
        const size_t i = 3 * static_cast<size_t>(x) + c;
        int est = prev[i];
        if (x > 0) est = std::clamp(est + cur[i - 3] - prev[i - 3], 0, max[c]);
        const int v = (est + static_cast<int>((diff >> shift[c]) & max[c])) & max[c];
        cur[i] = v;
        value |= static_cast<uint32_t>(v) << shift[c];
      }
      row_[x] = rgb ? (kOpaqueBlack | value) : pc.FromValue(value);
    }
    std::memcpy(s.At(r.x, r.y + y), row_.data(), static_cast<size_t>(r.w) * 4);
    std::swap(prev, cur);
  }
  return absl::OkStatus();
}

}  // namespace portcullis::agentless::rfb::internal
