#include "agentless/vnc/rfb/server_stream.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "absl/strings/str_cat.h"
#include "agentless/vnc/rfb/decoders.h"
#include "agentless/vnc/rfb/pixel_convert.h"

namespace portcullis::agentless::rfb {
namespace {

using internal::kOpaqueBlack;
using internal::Rect;

constexpr size_t kMaxDesktopName = 64 << 10;

uint8_t U8(std::string_view b, size_t at) { return static_cast<uint8_t>(b[at]); }
uint16_t U16(std::string_view b, size_t at) { return static_cast<uint16_t>((U8(b, at) << 8) | U8(b, at + 1)); }
uint32_t U32(std::string_view b, size_t at) { return (static_cast<uint32_t>(U16(b, at)) << 16) | U16(b, at + 2); }
const uint8_t* Bytes(std::string_view b, size_t at = 0) { return reinterpret_cast<const uint8_t*>(b.data()) + at; }

absl::Status Bad(const std::string& what) { return absl::InvalidArgumentError("RFB server stream: " + what); }

}  // namespace

struct ServerStream::Impl {
  enum class State { kMessage, kRectHeader, kRaw, kHextile, kZrle, kTight, kCopyRect, kCursor, kXCursor,
                     kExtendedDesktopSize, kDesktopName };

  Impl(PixelFormat f, int w, int h, ServerLimits l) : limits(l) {
    format = f;
    conv.Configure(f);
    Resize(w, h);
  }

  void Resize(int w, int h) {
    width = w;
    height = h;
    fb.assign(static_cast<size_t>(w) * static_cast<size_t>(h), kOpaqueBlack);
  }
  internal::Surface surface() { return {fb.data(), static_cast<size_t>(width)}; }
  bool Allowed(int32_t e) const {
    return e == encoding::kRaw || std::find(allowed.begin(), allowed.end(), e) != allowed.end();
  }

  absl::Status Step(std::string_view in, ServerEvents& ev, size_t* consumed, size_t* need);
  absl::Status Message(std::string_view in, ServerEvents& ev, size_t* consumed, size_t* need);
  absl::Status RectHeader(std::string_view in, ServerEvents& ev, size_t* consumed, size_t* need);
  absl::Status Body(std::string_view in, ServerEvents& ev, size_t* consumed, size_t* need);
  void RectDone(ServerEvents& ev, bool damaged);

  ServerLimits limits;
  PixelFormat format;
  std::optional<PixelFormat> pending_format;
  internal::PixelConverter conv;
  std::vector<int32_t> allowed;
  int width = 0, height = 0;
  std::vector<uint32_t> fb;

  State state = State::kMessage;
  std::string buf;  // a partial unit, never longer than the unit needs
  bool dead = false;
  bool update_open = false;
  uint32_t rects_left = 0;
  bool until_last_rect = false;
  Rect rect;
  int32_t rect_encoding = 0;
  int raw_row = 0;
  internal::HextileState hextile;
  internal::Inflater zrle_zlib;
  std::vector<uint8_t> zrle_scratch;
  internal::TightDecoder tight;
  std::vector<uint8_t> cursor_bgra;
  uint64_t offset = 0;  // stream offset of the first byte not consumed (buf starts there)
  uint64_t fed = 0;     // bytes fed in all
  std::vector<std::pair<uint64_t, uint64_t>> cut_ranges;
};

absl::Status ServerStream::Impl::Step(std::string_view in, ServerEvents& ev, size_t* consumed, size_t* need) {
  *consumed = 0;
  *need = 0;
  switch (state) {
    case State::kMessage:
      return Message(in, ev, consumed, need);
    case State::kRectHeader:
      return RectHeader(in, ev, consumed, need);
    default:
      return Body(in, ev, consumed, need);
  }
}

absl::Status ServerStream::Impl::Message(std::string_view in, ServerEvents& ev, size_t* consumed, size_t* need) {
  if (pending_format) {
    format = *pending_format;
    conv.Configure(format);
    pending_format.reset();
  }
  if (in.empty()) {
    *need = 1;
    return absl::OkStatus();
  }
  switch (U8(in, 0)) {
    case 0: {  // FramebufferUpdate
      if (in.size() < 4) {
        *need = 4;
        return absl::OkStatus();
      }
      rects_left = U16(in, 2);
      until_last_rect = rects_left == 0xffff && Allowed(encoding::kLastRect);
      *consumed = 4;
      if (rects_left == 0) {
        ev.UpdateEnd();
        return absl::OkStatus();
      }
      update_open = true;
      state = State::kRectHeader;
      return absl::OkStatus();
    }
    case 1:
      return absl::FailedPreconditionError("RFB server stream: colour maps (SetColourMapEntries) are not supported");
    case 2:
      *consumed = 1;
      ev.Bell();
      return absl::OkStatus();
    case 3: {  // ServerCutText
      if (in.size() < 8) {
        *need = 8;
        return absl::OkStatus();
      }
      const uint32_t n = U32(in, 4);
      if (n > limits.max_cut_text) return Bad("ServerCutText too long");
      if (in.size() < 8 + size_t{n}) {
        *need = 8 + size_t{n};
        return absl::OkStatus();
      }
      *consumed = 8 + size_t{n};
      cut_ranges.emplace_back(offset, offset + 8 + n);
      ev.CutText(in.substr(8, n));
      return absl::OkStatus();
    }
    default:
      return Bad(absl::StrCat("message type ", U8(in, 0), " not allowed"));
  }
}

void ServerStream::Impl::RectDone(ServerEvents& ev, bool damaged) {
  if (damaged && rect.w > 0 && rect.h > 0) ev.Damaged(rect.x, rect.y, rect.w, rect.h);
  state = State::kRectHeader;
  if (!until_last_rect) --rects_left;
  if (rects_left == 0) {
    state = State::kMessage;
    update_open = false;
    ev.UpdateEnd();
  }
}

absl::Status ServerStream::Impl::RectHeader(std::string_view in, ServerEvents& ev, size_t* consumed, size_t* need) {
  if (in.size() < 12) {
    *need = 12;
    return absl::OkStatus();
  }
  *consumed = 12;
  rect = {U16(in, 0), U16(in, 2), U16(in, 4), U16(in, 6)};
  rect_encoding = static_cast<int32_t>(U32(in, 8));
  const int32_t e = rect_encoding;
  if (!Allowed(e)) return Bad(absl::StrCat("encoding ", e, " was not asked for"));
  const bool pixels = e == encoding::kRaw || e == encoding::kCopyRect || e == encoding::kHextile ||
                      e == encoding::kZrle || e == encoding::kTight;
  if (pixels && (rect.x + rect.w > width || rect.y + rect.h > height)) {
    return Bad("rectangle outside the framebuffer");
  }
  switch (e) {
    case encoding::kRaw:
      raw_row = 0;
      state = State::kRaw;
      if (rect.w == 0 || rect.h == 0) RectDone(ev, false);
      return absl::OkStatus();
    case encoding::kCopyRect:
      state = State::kCopyRect;
      return absl::OkStatus();
    case encoding::kHextile:
      hextile = {};
      state = State::kHextile;
      if (rect.w == 0 || rect.h == 0) RectDone(ev, false);
      return absl::OkStatus();
    case encoding::kZrle:
      state = State::kZrle;
      return absl::OkStatus();
    case encoding::kTight:
      state = State::kTight;
      return absl::OkStatus();
    case encoding::kLastRect:
      state = State::kMessage;
      update_open = false;
      rects_left = 0;
      ev.UpdateEnd();
      return absl::OkStatus();
    case encoding::kDesktopSize:
      if (rect.w < 1 || rect.h < 1 || rect.w > limits.max_width || rect.h > limits.max_height) {
        return Bad("DesktopSize out of range");
      }
      Resize(rect.w, rect.h);
      ev.Resized(width, height);
      rect = {};
      RectDone(ev, false);
      return absl::OkStatus();
    case encoding::kExtendedDesktopSize:
      state = State::kExtendedDesktopSize;
      return absl::OkStatus();
    case encoding::kPointerPos:
      ev.PointerMoved(rect.x, rect.y);
      rect = {};
      RectDone(ev, false);
      return absl::OkStatus();
    case encoding::kCursor:
      state = State::kCursor;
      return absl::OkStatus();
    case encoding::kXCursor:
      state = State::kXCursor;
      return absl::OkStatus();
    case encoding::kDesktopName:
      state = State::kDesktopName;
      return absl::OkStatus();
    default:
      return Bad(absl::StrCat("encoding ", e, " not supported"));
  }
}

absl::Status ServerStream::Impl::Body(std::string_view in, ServerEvents& ev, size_t* consumed, size_t* need) {
  internal::Surface s = surface();
  switch (state) {
    case State::kRaw: {
      const size_t row_bytes = static_cast<size_t>(rect.w) * conv.pixel_bytes();
      const size_t rows = std::min<size_t>(in.size() / row_bytes, static_cast<size_t>(rect.h - raw_row));
      if (rows == 0) {
        *need = row_bytes;
        return absl::OkStatus();
      }
      for (size_t i = 0; i < rows; ++i) {
        conv.Pixels(Bytes(in, i * row_bytes), rect.w, s.At(rect.x, rect.y + raw_row));
        ++raw_row;
      }
      *consumed = rows * row_bytes;
      if (raw_row == rect.h) RectDone(ev, true);
      return absl::OkStatus();
    }
    case State::kCopyRect: {
      if (in.size() < 4) {
        *need = 4;
        return absl::OkStatus();
      }
      const int sx = U16(in, 0), sy = U16(in, 2);
      if (sx + rect.w > width || sy + rect.h > height) return Bad("CopyRect source outside the framebuffer");
      *consumed = 4;
      // Row order chosen so that an overlapping source is read before it is written.
      const size_t n = static_cast<size_t>(rect.w) * 4;
      if (sy < rect.y) {
        for (int r = rect.h - 1; r >= 0; --r) std::memmove(s.At(rect.x, rect.y + r), s.At(sx, sy + r), n);
      } else {
        for (int r = 0; r < rect.h; ++r) std::memmove(s.At(rect.x, rect.y + r), s.At(sx, sy + r), n);
      }
      RectDone(ev, true);
      return absl::OkStatus();
    }
    case State::kHextile: {
      bool done = false;
      absl::Status st = internal::HextileStep(in, rect, conv, s, hextile, consumed, need, &done);
      if (!st.ok()) return st;
      if (done) RectDone(ev, true);
      return absl::OkStatus();
    }
    case State::kZrle: {
      if (absl::Status st = internal::ZrleSize(in, limits.max_rect_bytes, need); !st.ok()) return st;
      if (*need > in.size()) return absl::OkStatus();
      if (absl::Status st = internal::ZrleDecode(in.substr(0, *need), rect, conv, s, zrle_zlib, zrle_scratch);
          !st.ok()) {
        return st;
      }
      *consumed = *need;
      *need = 0;
      RectDone(ev, true);
      return absl::OkStatus();
    }
    case State::kTight: {
      if (absl::Status st = tight.Size(in, rect, conv, limits.max_rect_bytes, need); !st.ok()) return st;
      if (*need > in.size()) return absl::OkStatus();
      if (absl::Status st = tight.Decode(in.substr(0, *need), rect, conv, s); !st.ok()) return st;
      *consumed = *need;
      *need = 0;
      RectDone(ev, true);
      return absl::OkStatus();
    }
    case State::kCursor: {
      const size_t w = rect.w, h = rect.h;
      const size_t mask_row = (w + 7) / 8;
      const size_t total = w * h * conv.pixel_bytes() + mask_row * h;
      if (total > limits.max_cursor_bytes) return Bad("cursor too large");
      if (in.size() < total) {
        *need = total;
        return absl::OkStatus();
      }
      cursor_bgra.assign(w * h * 4, 0);
      std::vector<uint32_t> row(w);
      const uint8_t* mask = Bytes(in, w * h * conv.pixel_bytes());
      for (size_t y = 0; y < h; ++y) {
        conv.Pixels(Bytes(in, y * w * conv.pixel_bytes()), w, row.data());
        for (size_t x = 0; x < w; ++x) {
          const bool on = (mask[y * mask_row + x / 8] >> (7 - x % 8)) & 1;
          const uint32_t v = on ? row[x] : 0;  // BGRA: alpha 255 from the converter, or 0
          std::memcpy(&cursor_bgra[(y * w + x) * 4], &v, 4);
        }
      }
      *consumed = total;
      ev.CursorShape(rect.x, rect.y, rect.w, rect.h, cursor_bgra.data());
      RectDone(ev, false);
      return absl::OkStatus();
    }
    case State::kXCursor: {
      const size_t w = rect.w, h = rect.h;
      const size_t mask_row = (w + 7) / 8;
      const size_t total = w * h == 0 ? 0 : 6 + 2 * mask_row * h;
      if (total > limits.max_cursor_bytes) return Bad("cursor too large");
      if (in.size() < total) {
        *need = total;
        return absl::OkStatus();
      }
      cursor_bgra.assign(w * h * 4, 0);
      if (total > 0) {
        const uint8_t* c = Bytes(in);
        const uint8_t* src = c + 6;
        const uint8_t* mask = src + mask_row * h;
        for (size_t y = 0; y < h; ++y) {
          for (size_t x = 0; x < w; ++x) {
            const size_t bit = y * mask_row + x / 8, sh = 7 - x % 8;
            const uint8_t* rgb = ((src[bit] >> sh) & 1) ? c : c + 3;
            uint8_t* d = &cursor_bgra[(y * w + x) * 4];
            d[0] = rgb[2];
            d[1] = rgb[1];
            d[2] = rgb[0];
            d[3] = ((mask[bit] >> sh) & 1) ? 255 : 0;
          }
        }
      }
      *consumed = total;
      ev.CursorShape(rect.x, rect.y, rect.w, rect.h, cursor_bgra.data());
      RectDone(ev, false);
      return absl::OkStatus();
    }
    case State::kExtendedDesktopSize: {
      if (in.size() < 4) {
        *need = 4;
        return absl::OkStatus();
      }
      const size_t total = 4 + 16 * size_t{U8(in, 0)};
      if (in.size() < total) {
        *need = total;
        return absl::OkStatus();
      }
      *consumed = total;
      // x is the reason, y the status: a refused request (status != 0)
      // carries the unchanged size.
      if (rect.y == 0 && (rect.w != width || rect.h != height)) {
        if (rect.w < 1 || rect.h < 1 || rect.w > limits.max_width || rect.h > limits.max_height) {
          return Bad("ExtendedDesktopSize out of range");
        }
        Resize(rect.w, rect.h);
        ev.Resized(width, height);
      }
      rect = {};
      RectDone(ev, false);
      return absl::OkStatus();
    }
    case State::kDesktopName: {
      if (in.size() < 4) {
        *need = 4;
        return absl::OkStatus();
      }
      const uint32_t n = U32(in, 0);
      if (n > kMaxDesktopName) return Bad("desktop name too long");
      if (in.size() < 4 + size_t{n}) {
        *need = 4 + size_t{n};
        return absl::OkStatus();
      }
      *consumed = 4 + size_t{n};
      ev.DesktopName(in.substr(4, n));
      rect = {};
      RectDone(ev, false);
      return absl::OkStatus();
    }
    case State::kMessage:
    case State::kRectHeader:
      break;
  }
  return absl::InternalError("RFB server stream: bad state");
}

ServerStream::ServerStream(PixelFormat format, int width, int height, ServerLimits limits)
    : impl_(std::make_unique<Impl>(format, std::clamp(width, 0, limits.max_width),
                                   std::clamp(height, 0, limits.max_height), limits)) {}

ServerStream::~ServerStream() = default;

void ServerStream::SetPixelFormat(const PixelFormat& format) { impl_->pending_format = format; }

void ServerStream::SetEncodings(const std::vector<int32_t>& encodings) {
  // Every encoding ever allowed stays allowed: an update already on its
  // way may use one the viewer has since given up.
  for (int32_t e : encodings) {
    if (EncodingAllowed(e) && !impl_->Allowed(e)) impl_->allowed.push_back(e);
  }
}

absl::Status ServerStream::Feed(std::string_view bytes, ServerEvents& events) {
  Impl& m = *impl_;
  if (m.dead) return absl::FailedPreconditionError("RFB server stream already refused");
  auto fail = [&m](absl::Status s) {
    m.dead = true;
    m.buf.clear();
    return s;
  };
  m.fed += bytes.size();
  size_t consumed = 0, need = 0;
  while (true) {
    if (m.buf.empty()) {
      // Runs with no input too: steps that need no bytes (an empty cursor,
      // a pending pixel format at a boundary) happen now.
      if (absl::Status s = m.Step(bytes, events, &consumed, &need); !s.ok()) return fail(s);
      if (bytes.empty() && need > 0) return absl::OkStatus();
      if (consumed > 0) {
        bytes.remove_prefix(consumed);
        m.offset += consumed;
        continue;
      }
      if (need <= bytes.size()) continue;  // a zero-byte transition
      m.buf.assign(bytes);
      return absl::OkStatus();
    }
    if (absl::Status s = m.Step(m.buf, events, &consumed, &need); !s.ok()) return fail(s);
    if (consumed > 0) {
      m.buf.erase(0, consumed);
      m.offset += consumed;
      continue;
    }
    if (need <= m.buf.size()) continue;
    const size_t take = std::min(need - m.buf.size(), bytes.size());
    m.buf.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
    if (m.buf.size() < need) return absl::OkStatus();
  }
}

uint64_t ServerStream::ForwardableUntil() const {
  const Impl& m = *impl_;
  if (m.state == Impl::State::kMessage && !m.buf.empty() && static_cast<uint8_t>(m.buf[0]) == 3)
    return m.offset;
  return m.fed;
}

std::vector<std::pair<uint64_t, uint64_t>> ServerStream::TakeCutTextRanges() {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  out.swap(impl_->cut_ranges);
  return out;
}

bool ServerStream::AtMessageBoundary() const { return impl_->state == Impl::State::kMessage && impl_->buf.empty(); }
int ServerStream::width() const { return impl_->width; }
int ServerStream::height() const { return impl_->height; }
const uint8_t* ServerStream::framebuffer() const { return reinterpret_cast<const uint8_t*>(impl_->fb.data()); }
size_t ServerStream::stride() const { return static_cast<size_t>(impl_->width) * 4; }

}  // namespace portcullis::agentless::rfb
