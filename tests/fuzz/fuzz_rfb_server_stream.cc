// Fuzzes the RFB target-stream decoder. Input: one byte choosing the pixel
// format (32 bpp little/big endian, 16 bpp little/big endian, 8 bpp) and
// the split seed, one byte each for the framebuffer's width and height,
// then the stream. Properties: any split decodes to the same events, the
// same framebuffer and the same verdict as one Feed; nothing is read or
// written out of bounds (the sanitizers).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "agentless/vnc/rfb/server_stream.h"

namespace {

using namespace portcullis::agentless::rfb;  // NOLINT

PixelFormat Format(int i) {
  PixelFormat pf;
  switch (i % 5) {
    case 1:
      pf.big_endian = true;
      break;
    case 2:
    case 3:
      pf.bits_per_pixel = 16;
      pf.depth = 16;
      pf.big_endian = i % 5 == 3;
      pf.red_max = 31;
      pf.green_max = 63;
      pf.blue_max = 31;
      pf.red_shift = 11;
      pf.green_shift = 5;
      pf.blue_shift = 0;
      break;
    case 4:
      pf.bits_per_pixel = 8;
      pf.depth = 8;
      pf.red_max = 7;
      pf.green_max = 7;
      pf.blue_max = 3;
      pf.red_shift = 0;
      pf.green_shift = 3;
      pf.blue_shift = 6;
      break;
    default:
      break;
  }
  return pf;
}

struct Log : ServerEvents {
  void Resized(int w, int h) override { Add('R', w, h); }
  void Damaged(int x, int y, int w, int h) override {
    Add('D', x, y);
    Add('d', w, h);
  }
  void UpdateEnd() override { Add('E', 0, 0); }
  void CursorShape(int hx, int hy, int w, int h, const uint8_t* bgra) override {
    Add('C', w, h);
    s.append(reinterpret_cast<const char*>(bgra), static_cast<size_t>(w) * h * 4);
  }
  void PointerMoved(int x, int y) override { Add('P', x, y); }
  void CutText(std::string_view t) override { s += t; }
  void Bell() override { Add('B', 0, 0); }
  void DesktopName(std::string_view n) override { s += n; }
  void Add(char c, int a, int b) {
    s.push_back(c);
    s.append(reinterpret_cast<const char*>(&a), sizeof a);
    s.append(reinterpret_cast<const char*>(&b), sizeof b);
  }
  std::string s;
};

ServerLimits Limits() {
  ServerLimits l;
  l.max_width = 512;
  l.max_height = 512;
  l.max_cut_text = 4096;
  l.max_rect_bytes = 1 << 20;
  l.max_cursor_bytes = 64 << 10;
  return l;
}

const std::vector<int32_t> kEncodings = {
    encoding::kRaw,    encoding::kCopyRect,   encoding::kHextile,     encoding::kZrle,
    encoding::kTight,  encoding::kCursor,     encoding::kXCursor,     encoding::kPointerPos,
    encoding::kDesktopSize, encoding::kExtendedDesktopSize, encoding::kLastRect, encoding::kDesktopName};

std::string Pixels(const ServerStream& s) {
  std::string out;
  for (int y = 0; y < s.height(); ++y) {
    out.append(reinterpret_cast<const char*>(s.framebuffer() + y * s.stride()), static_cast<size_t>(s.width()) * 4);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const PixelFormat pf = Format(data[0]);
  uint32_t seed = data[0] * 2654435761u + 7;
  const int w = 1 + data[1], h = 1 + data[2] % 128;
  std::string_view input(reinterpret_cast<const char*>(data + 3), size - 3);

  ServerStream whole(pf, w, h, Limits());
  whole.SetEncodings(kEncodings);
  Log la;
  const bool ok_a = whole.Feed(input, la).ok();

  ServerStream split(pf, w, h, Limits());
  split.SetEncodings(kEncodings);
  Log lb;
  bool ok_b = true;
  std::string_view rest = input;
  while (!rest.empty() && ok_b) {
    seed = seed * 1103515245u + 12345u;
    const size_t n = std::min<size_t>(rest.size(), 1 + (seed >> 16) % 97);
    ok_b = split.Feed(rest.substr(0, n), lb).ok();
    rest.remove_prefix(n);
  }
  if (ok_a != ok_b) __builtin_trap();
  if (ok_a) {
    if (la.s != lb.s || whole.width() != split.width() || whole.height() != split.height()) __builtin_trap();
    if (whole.AtMessageBoundary() != split.AtMessageBoundary()) __builtin_trap();
    if (Pixels(whole) != Pixels(split)) __builtin_trap();
  }
  return 0;
}
