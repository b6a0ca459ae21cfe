// ServerStream against hand-built target messages in every encoding and
// pixel format, each stream fed whole, split at every byte and byte by byte.
#include "agentless/vnc/rfb/server_stream.h"

#include <gtest/gtest.h>

// clang-format off
#include <cstddef>
#include <cstdio>
#include <jpeglib.h>  // needs size_t and FILE first
// clang-format on

#include <algorithm>
#include <cstdlib>
#include <utility>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "tests/agentless/vnc/rfb_builder.h"

namespace portcullis::agentless::rfb {
namespace {

using namespace testing;  // NOLINT: the builder's helpers

struct Events : ServerEvents {
  void Resized(int w, int h) override { log += "resized " + std::to_string(w) + "x" + std::to_string(h) + ";"; }
  void Damaged(int x, int y, int w, int h) override {
    log += "damaged " + std::to_string(x) + "," + std::to_string(y) + " " + std::to_string(w) + "x" +
           std::to_string(h) + ";";
  }
  void UpdateEnd() override { log += "end;"; }
  void CursorShape(int hx, int hy, int w, int h, const uint8_t* bgra) override {
    log += "cursor " + std::to_string(hx) + "," + std::to_string(hy) + " " + std::to_string(w) + "x" +
           std::to_string(h) + ";";
    cursor.assign(bgra, bgra + static_cast<size_t>(w) * h * 4);
  }
  void PointerMoved(int x, int y) override { log += "pointer " + std::to_string(x) + "," + std::to_string(y) + ";"; }
  void CutText(std::string_view t) override { log += "cut " + std::string(t) + ";"; }
  void Bell() override { log += "bell;"; }
  void DesktopName(std::string_view n) override { log += "name " + std::string(n) + ";"; }
  std::string log;
  std::vector<uint8_t> cursor;
};

const std::vector<int32_t> kAll = {encoding::kRaw,         encoding::kCopyRect,   encoding::kHextile,
                                   encoding::kZrle,        encoding::kTight,      encoding::kCursor,
                                   encoding::kXCursor,     encoding::kPointerPos, encoding::kDesktopSize,
                                   encoding::kExtendedDesktopSize, encoding::kLastRect, encoding::kDesktopName};

struct Result {
  std::string log;
  std::vector<uint32_t> fb;
  int w = 0, h = 0;
  std::vector<uint8_t> cursor;
  bool boundary = false;
};

Result Decode(const PixelFormat& pf, int w, int h, const std::vector<std::string_view>& parts,
           const std::vector<int32_t>& encodings = kAll) {
  ServerStream s(pf, w, h);
  s.SetEncodings(encodings);
  Events ev;
  for (std::string_view p : parts) {
    absl::Status st = s.Feed(p, ev);
    EXPECT_TRUE(st.ok()) << st;
    if (!st.ok()) break;
  }
  Result r;
  r.log = ev.log;
  r.w = s.width();
  r.h = s.height();
  r.fb.resize(static_cast<size_t>(r.w) * r.h);
  for (int y = 0; y < r.h; ++y) std::memcpy(&r.fb[static_cast<size_t>(y) * r.w], s.framebuffer() + y * s.stride(), r.w * 4);
  r.cursor = ev.cursor;
  r.boundary = s.AtMessageBoundary();
  return r;
}

// Feeds `bytes` whole, in two parts at every cut, and one byte at a time;
// every way must give `want`.
void EverySplit(const PixelFormat& pf, int w, int h, const std::string& bytes, const Result& want,
                const std::vector<int32_t>& encodings = kAll) {
  std::string_view all(bytes);
  for (size_t cut = 0; cut <= bytes.size(); ++cut) {
    Result r = Decode(pf, w, h, {all.substr(0, cut), all.substr(cut)}, encodings);
    ASSERT_EQ(r.log, want.log) << "cut at " << cut;
    ASSERT_EQ(r.w, want.w);
    ASSERT_EQ(r.h, want.h);
    ASSERT_TRUE(r.fb == want.fb) << "cut at " << cut;
    ASSERT_EQ(r.cursor, want.cursor);
    ASSERT_TRUE(r.boundary);
  }
  std::vector<std::string_view> bytewise;
  for (size_t i = 0; i < bytes.size(); ++i) bytewise.push_back(all.substr(i, 1));
  Result r = Decode(pf, w, h, bytewise, encodings);
  ASSERT_EQ(r.log, want.log);
  ASSERT_TRUE(r.fb == want.fb);
}

std::vector<uint32_t> Black(int w, int h) { return std::vector<uint32_t>(static_cast<size_t>(w) * h, 0xff000000u); }

const PixelFormat kFormats[] = {Bgrx32(), Bgrx32(true), Rgbx32(), Rgb565(), Rgb565(true), Bgr233()};

std::string RawRect(const PixelFormat& pf, int x, int y, int w, int h, std::vector<uint32_t>* fb, int fb_w,
                    int seed = 0) {
  std::string s = RectHeader(x, y, w, h, encoding::kRaw);
  for (int j = 0; j < h; ++j) {
    for (int i = 0; i < w; ++i) {
      const Colour c = ColourAt(pf, x + i, y + j, seed);
      s += Pixel(pf, c);
      (*fb)[static_cast<size_t>(y + j) * fb_w + x + i] = Expected(pf, c);
    }
  }
  return s;
}

TEST(ServerStreamTest, RawInEveryFormat) {
  for (const PixelFormat& pf : kFormats) {
    SCOPED_TRACE(testing::PixelBytes(pf, 0).size());
    Result want{"damaged 2,1 7x5;damaged 0,7 16x1;end;", Black(16, 8), 16, 8, {}, true};
    std::string bytes = UpdateHeader(2) + RawRect(pf, 2, 1, 7, 5, &want.fb, 16) + RawRect(pf, 0, 7, 16, 1, &want.fb, 16, 1);
    EverySplit(pf, 16, 8, bytes, want);
  }
}

TEST(ServerStreamTest, ConversionOfKnownColours) {
  // Pure colours land in the right channels: red is 0x00ff0000 in BGRA.
  struct Case {
    PixelFormat pf;
    Colour c;
    uint32_t want;
  };
  const Case cases[] = {
      {Bgrx32(), {255, 0, 0}, 0xffff0000u},     {Bgrx32(true), {0, 255, 0}, 0xff00ff00u},
      {Rgbx32(), {0, 0, 255}, 0xff0000ffu},     {Rgb565(), {31, 0, 0}, 0xffff0000u},
      {Rgb565(true), {0, 63, 0}, 0xff00ff00u},  {Bgr233(), {0, 0, 3}, 0xff0000ffu},
      {Rgb565(), {16, 32, 16}, 0xff848284u},
  };
  for (const Case& k : cases) {
    std::string bytes = UpdateHeader(1) + RectHeader(0, 0, 1, 1, encoding::kRaw) + Pixel(k.pf, k.c);
    Result r = Decode(k.pf, 1, 1, {bytes});
    ASSERT_EQ(r.fb.size(), 1u);
    EXPECT_EQ(r.fb[0], k.want) << std::hex << r.fb[0];
  }
}

TEST(ServerStreamTest, CopyRectOverlapping) {
  const PixelFormat pf = Bgrx32();
  Result want{"damaged 0,0 8x8;damaged 1,2 5x4;damaged 2,0 5x4;end;", Black(8, 8), 8, 8, {}, true};
  std::string bytes = UpdateHeader(3) + RawRect(pf, 0, 0, 8, 8, &want.fb, 8);
  // Down and right by one, then up and right by one: both overlap their source.
  bytes += RectHeader(1, 2, 5, 4, encoding::kCopyRect) + U16(0) + U16(1);
  bytes += RectHeader(2, 0, 5, 4, encoding::kCopyRect) + U16(1) + U16(1);
  auto copy = [](std::vector<uint32_t>& fb, int dx, int dy, int w, int h, int sx, int sy) {
    std::vector<uint32_t> src = fb;
    for (int j = 0; j < h; ++j)
      for (int i = 0; i < w; ++i) fb[(dy + j) * 8 + dx + i] = src[(sy + j) * 8 + sx + i];
  };
  copy(want.fb, 1, 2, 5, 4, 0, 1);
  copy(want.fb, 2, 0, 5, 4, 1, 1);
  EverySplit(pf, 8, 8, bytes, want);
}

TEST(ServerStreamTest, PseudoEncodingsAndOtherMessages) {
  const PixelFormat pf = Rgb565();
  std::string bytes;
  bytes += B({2});                                      // Bell
  bytes += B({3, 0, 0, 0}) + U32(5) + "clip!";          // ServerCutText
  bytes += UpdateHeader(0xffff);                        // until LastRect
  bytes += RectHeader(0, 0, 12, 6, encoding::kDesktopSize);
  bytes += RectHeader(3, 4, 0, 0, encoding::kPointerPos);
  bytes += RectHeader(0, 0, 0, 0, encoding::kDesktopName) + U32(6) + "HMI #1";
  // A 3x2 cursor, hot spot (1,1), mask 101 / 010.
  bytes += RectHeader(1, 1, 3, 2, encoding::kCursor);
  for (int i = 0; i < 6; ++i) bytes += Pixel(pf, {31, 0, 0});
  bytes += B({0xa0, 0x40});
  bytes += RectHeader(0, 0, 0, 0, encoding::kLastRect);
  bytes += UpdateHeader(2);
  bytes += RectHeader(1, 0, 10, 5, encoding::kExtendedDesktopSize) + B({1, 0, 0, 0}) + std::string(16, '\0');
  // XCursor 2x1: fg white, bg black, source 10, mask 11.
  bytes += RectHeader(0, 0, 2, 1, encoding::kXCursor) + B({255, 255, 255, 0, 0, 0, 0x80, 0xc0});
  bytes += UpdateHeader(1) + RectHeader(0, 0, 0, 0, encoding::kCursor);  // an empty cursor
  Result want;
  want.log =
      "bell;cut clip!;resized 12x6;pointer 3,4;name HMI #1;cursor 1,1 3x2;end;resized 10x5;cursor 0,0 2x1;end;"
      "cursor 0,0 0x0;end;";
  want.w = 10;
  want.h = 5;
  want.fb = Black(10, 5);
  want.cursor = {};
  want.boundary = true;
  // The log alone for the every-split run (its last cursor is empty).
  EverySplit(pf, 4, 4, bytes, want);

  // The cursors' pixels.
  std::string first = bytes.substr(0, bytes.find(RectHeader(0, 0, 0, 0, encoding::kLastRect)));
  Result r = Decode(pf, 4, 4, {first});
  const std::vector<uint8_t> cursor = {0, 0, 255, 255, 0, 0, 0, 0, 0, 0, 255, 255,
                                       0, 0, 0,   0,   0, 0, 255, 255, 0, 0, 0, 0};
  EXPECT_EQ(r.cursor, cursor);
  std::string second = bytes.substr(0, bytes.rfind(UpdateHeader(1)));
  r = Decode(pf, 4, 4, {second});
  EXPECT_EQ(r.cursor, (std::vector<uint8_t>{255, 255, 255, 255, 0, 0, 0, 255}));
}

TEST(ServerStreamTest, RefusesMalformedStreams) {
  const PixelFormat pf = Bgrx32();
  struct Case {
    const char* what;
    std::string bytes;
    std::vector<int32_t> encodings;
  };
  const std::vector<Case> cases = {
      {"colour map", B({1, 0}) + U16(0) + U16(1) + std::string(6, '\0'), kAll},
      {"unknown message", B({7}), kAll},
      {"not asked for", UpdateHeader(1) + RectHeader(0, 0, 1, 1, encoding::kHextile) + B({0}), {encoding::kRaw}},
      {"unknown encoding", UpdateHeader(1) + RectHeader(0, 0, 1, 1, 6), kAll},
      {"outside", UpdateHeader(1) + RectHeader(60, 0, 8, 1, encoding::kRaw), kAll},
      {"copy source outside", UpdateHeader(1) + RectHeader(0, 0, 8, 8, encoding::kCopyRect) + U16(60) + U16(0), kAll},
      {"cut text too long", B({3, 0, 0, 0}) + U32(2 << 20), kAll},
      {"desktop too big", UpdateHeader(1) + RectHeader(0, 0, 9000, 10, encoding::kDesktopSize), kAll},
      {"desktop empty", UpdateHeader(1) + RectHeader(0, 0, 0, 10, encoding::kDesktopSize), kAll},
      {"cursor too big", UpdateHeader(1) + RectHeader(0, 0, 1000, 1000, encoding::kCursor), kAll},
      {"hextile subrect outside",
       UpdateHeader(1) + RectHeader(0, 0, 4, 4, encoding::kHextile) + B({2 | 8}) + Pixel(pf, {1, 2, 3}) + B({1, 0x22, 0x33}),
       kAll},
      {"hextile bad bits", UpdateHeader(1) + RectHeader(0, 0, 4, 4, encoding::kHextile) + B({32}), kAll},
      {"zrle too long", UpdateHeader(1) + RectHeader(0, 0, 4, 4, encoding::kZrle) + U32(100 << 20), kAll},
      {"zrle not zlib", UpdateHeader(1) + RectHeader(0, 0, 4, 4, encoding::kZrle) + U32(4) + "junk", kAll},
      {"tight wide", UpdateHeader(1) + RectHeader(0, 0, 2049, 1, encoding::kTight) + B({0x00}), kAll},
      {"tight png", UpdateHeader(1) + RectHeader(0, 0, 4, 4, encoding::kTight) + B({0xa0}), kAll},
      {"tight filter", UpdateHeader(1) + RectHeader(0, 0, 4, 4, encoding::kTight) + B({0x40, 3}), kAll},
      {"tight jpeg junk", UpdateHeader(1) + RectHeader(0, 0, 4, 4, encoding::kTight) + B({0x90, 4}) + "junk", kAll},
  };
  for (const Case& c : cases) {
    ServerStream s(pf, 64, 64);
    s.SetEncodings(c.encodings);
    Events ev;
    absl::Status st = s.Feed(c.bytes, ev);
    EXPECT_FALSE(st.ok()) << c.what;
    // Dead from then on.
    EXPECT_FALSE(s.Feed(B({2}), ev).ok()) << c.what;
    EXPECT_EQ(ev.log.find("bell"), std::string::npos) << c.what;
  }
}

TEST(ServerStreamTest, PixelFormatChangesAfterTheCurrentUpdate) {
  const PixelFormat a = Bgrx32(), b = Rgb565(true);
  ServerStream s(a, 4, 1);
  s.SetEncodings(kAll);
  Events ev;
  std::string first = UpdateHeader(2) + RectHeader(0, 0, 1, 1, encoding::kRaw) + Pixel(a, {255, 0, 0});
  std::string rest = RectHeader(1, 0, 1, 1, encoding::kRaw) + Pixel(a, {0, 255, 0});
  std::string next = UpdateHeader(1) + RectHeader(2, 0, 2, 1, encoding::kRaw) + Pixel(b, {0, 0, 31}) + Pixel(b, {31, 63, 31});
  ASSERT_TRUE(s.Feed(first, ev).ok());
  EXPECT_FALSE(s.AtMessageBoundary());
  s.SetPixelFormat(b);  // mid-update: the rest is still in `a`
  ASSERT_TRUE(s.Feed(rest, ev).ok());
  EXPECT_TRUE(s.AtMessageBoundary());
  ASSERT_TRUE(s.Feed(next, ev).ok());
  const auto* px = reinterpret_cast<const uint32_t*>(s.framebuffer());
  EXPECT_EQ(px[0], 0xffff0000u);
  EXPECT_EQ(px[1], 0xff00ff00u);
  EXPECT_EQ(px[2], 0xff0000ffu);
  EXPECT_EQ(px[3], 0xffffffffu);
}

// ---- Hextile, ZRLE and Tight: valid rectangles built by hand ----

// The expected framebuffer of a test, painted as the encoder goes.
struct Want {
  Want(const PixelFormat& pf, int w, int h) : pf(pf), w(w), fb(Black(w, h)) {}
  void Paint(int x, int y, int pw, int ph, Colour c) {
    for (int j = 0; j < ph; ++j)
      for (int i = 0; i < pw; ++i) fb[static_cast<size_t>(y + j) * w + x + i] = Expected(pf, c);
  }
  PixelFormat pf;
  int w;
  std::vector<uint32_t> fb;
};

std::string Damage(int x, int y, int w, int h) {
  return "damaged " + std::to_string(x) + "," + std::to_string(y) + " " + std::to_string(w) + "x" +
         std::to_string(h) + ";";
}

std::string Subrect(int x, int y, int w, int h) { return B({(x << 4) | y, ((w - 1) << 4) | (h - 1)}); }

TEST(ServerStreamTest, HextileEverySubencoding) {
  for (const PixelFormat& pf : kFormats) {
    SCOPED_TRACE(std::to_string(pf.bits_per_pixel) + (pf.big_endian ? " BE" : ""));
    constexpr int kW = 40, kH = 24;
    const int rx = 1, ry = 2, rw = 35, rh = 20;  // 3x2 tiles, the last column and row partial
    Want want(pf, kW, kH);
    std::string bytes = UpdateHeader(1) + RectHeader(rx, ry, rw, rh, encoding::kHextile);
    Colour bg, fg;
    int tile = 0;
    for (int ty = ry; ty < ry + rh; ty += 16) {
      for (int tx = rx; tx < rx + rw; tx += 16, ++tile) {
        const int w = std::min(16, rx + rw - tx), h = std::min(16, ry + rh - ty);
        switch (tile) {
          case 0:  // raw
            bytes += B({1});
            for (int y = 0; y < h; ++y)
              for (int x = 0; x < w; ++x) {
                const Colour c = ColourAt(pf, tx + x, ty + y);
                bytes += Pixel(pf, c);
                want.Paint(tx + x, ty + y, 1, 1, c);
              }
            break;
          case 1:  // background only
            bg = ColourAt(pf, 1, 1, 7);
            bytes += B({2}) + Pixel(pf, bg);
            want.Paint(tx, ty, w, h, bg);
            break;
          case 2:  // background, foreground, three subrectangles
            bg = ColourAt(pf, 2, 2, 7);
            fg = ColourAt(pf, 3, 3, 7);
            bytes += B({2 | 4 | 8}) + Pixel(pf, bg) + Pixel(pf, fg) + B({3}) + Subrect(0, 0, 1, 1) +
                     Subrect(1, 2, 2, 2) + Subrect(w - 1, h - 1, 1, 1);
            want.Paint(tx, ty, w, h, bg);
            want.Paint(tx, ty, 1, 1, fg);
            want.Paint(tx + 1, ty + 2, 2, 2, fg);
            want.Paint(tx + w - 1, ty + h - 1, 1, 1, fg);
            break;
          case 3: {  // coloured subrectangles on the previous background
            const Colour a = ColourAt(pf, 4, 4, 7), b = ColourAt(pf, 5, 5, 7);
            bytes += B({8 | 16, 2}) + Pixel(pf, a) + Subrect(0, 0, w, h) + Pixel(pf, b) + Subrect(w - 2, 1, 2, 3);
            want.Paint(tx, ty, w, h, a);
            want.Paint(tx + w - 2, ty + 1, 2, 3, b);
            break;
          }
          case 4:  // nothing: the previous background
            bytes += B({0});
            want.Paint(tx, ty, w, h, bg);
            break;
          default:  // a new foreground on the previous background
            fg = ColourAt(pf, 6, 6, 7);
            bytes += B({4 | 8}) + Pixel(pf, fg) + B({2}) + Subrect(0, 1, 3, 1) + Subrect(2, 3, 1, 1);
            want.Paint(tx, ty, w, h, bg);
            want.Paint(tx, ty + 1, 3, 1, fg);
            want.Paint(tx + 2, ty + 3, 1, 1, fg);
            break;
        }
      }
    }
    Result r{Damage(rx, ry, rw, rh) + "end;", want.fb, kW, kH, {}, true};
    EverySplit(pf, kW, kH, bytes, r);
  }
}

// ZRLE tiles of every kind. `kind`: 0 raw, 1 solid, 2/3/16 packed palette
// of that many colours, 128 plain runs, 130+ palette runs.
std::string RunLength(size_t n) {  // n >= 1
  std::string s;
  for (n -= 1; n >= 255; n -= 255) s.push_back(static_cast<char>(255));
  s.push_back(static_cast<char>(n));
  return s;
}

std::string ZrleTile(const PixelFormat& pf, int kind, int tx, int ty, int w, int h, Want& want) {
  std::string s;
  const size_t pixels = static_cast<size_t>(w) * h;
  std::vector<Colour> palette;
  for (int i = 0; i < 127; ++i) palette.push_back(ColourAt(pf, i, kind, 3));
  auto at = [&](size_t i) { return std::pair<int, int>{tx + static_cast<int>(i % w), ty + static_cast<int>(i / w)}; };
  if (kind == 0) {
    s += B({0});
    for (size_t i = 0; i < pixels; ++i) {
      const Colour c = ColourAt(pf, at(i).first, at(i).second, 5);
      s += CPixel(pf, c);
      want.Paint(at(i).first, at(i).second, 1, 1, c);
    }
  } else if (kind == 1) {
    s += B({1}) + CPixel(pf, palette[0]);
    want.Paint(tx, ty, w, h, palette[0]);
  } else if (kind <= 16) {
    s += B({kind});
    for (int i = 0; i < kind; ++i) s += CPixel(pf, palette[i]);
    const int bits = kind == 2 ? 1 : kind <= 4 ? 2 : 4;
    for (int y = 0; y < h; ++y) {
      uint32_t acc = 0;
      int n = 0;
      for (int x = 0; x < w; ++x) {
        const int idx = (x * 7 + y * 3) % kind;
        want.Paint(tx + x, ty + y, 1, 1, palette[idx]);
        acc = (acc << bits) | idx;
        n += bits;
        if (n == 8) {
          s.push_back(static_cast<char>(acc));
          acc = 0;
          n = 0;
        }
      }
      if (n > 0) s.push_back(static_cast<char>(acc << (8 - n)));  // rows padded to a byte
    }
  } else {
    s += B({kind});
    const int colours = kind - 128;
    for (int i = 0; i < colours; ++i) s += CPixel(pf, palette[i]);
    // Runs of 1, 2, 255, 256, 300, 3, ... pixels until the tile is full.
    const size_t lengths[] = {1, 2, 255, 256, 300, 3, 1, 510, 511};
    size_t done = 0;
    for (int run = 0; done < pixels; ++run) {
      const size_t len = std::min(lengths[run % 9], pixels - done);
      const Colour c = colours == 0 ? ColourAt(pf, run, 0, 9) : palette[run % colours];
      if (colours == 0) {
        s += CPixel(pf, c) + RunLength(len);
      } else if (len == 1) {
        s += B({run % colours});
      } else {
        s += B({128 | (run % colours)}) + RunLength(len);
      }
      for (size_t i = done; i < done + len; ++i) want.Paint(at(i).first, at(i).second, 1, 1, c);
      done += len;
    }
  }
  return s;
}

TEST(ServerStreamTest, ZrleEveryTileKindOnOneZlibStream) {
  for (const PixelFormat& pf : kFormats) {
    SCOPED_TRACE(std::to_string(pf.bits_per_pixel) + (pf.big_endian ? " BE" : ""));
    constexpr int kW = 140, kH = 30;
    Want want(pf, kW, kH);
    Deflater z;
    const int kinds[] = {0, 1, 2, 3, 16, 128, 130, 131, 255};
    std::string log, bytes = UpdateHeader(3);
    int k = 0;
    // Three rectangles of 134 x 9, three tiles each (64, 64, 6 wide).
    for (int rect = 0; rect < 3; ++rect) {
      const int rx = 2, ry = 1 + rect * 9, rw = 134, rh = 9;
      std::string tiles;
      for (int tx = rx; tx < rx + rw; tx += 64) tiles += ZrleTile(pf, kinds[k++], tx, ry, std::min(64, rx + rw - tx), rh, want);
      const std::string data = z.Deflate(tiles);
      bytes += RectHeader(rx, ry, rw, rh, encoding::kZrle) + U32(static_cast<uint32_t>(data.size())) + data;
      log += Damage(rx, ry, rw, rh);
    }
    Result r{log + "end;", want.fb, kW, kH, {}, true};
    EverySplit(pf, kW, kH, bytes, r);
  }
}

TEST(ServerStreamTest, ZrleRefusesTileDataOfTheWrongLength) {
  const PixelFormat pf = Bgrx32();
  for (int extra : {-1, 1}) {
    Want want(pf, 8, 8);
    std::string tiles = ZrleTile(pf, 0, 0, 0, 8, 8, want);
    if (extra < 0) tiles.pop_back(); else tiles += "x";
    Deflater z;
    const std::string data = z.Deflate(tiles);
    ServerStream s(pf, 8, 8);
    s.SetEncodings(kAll);
    Events ev;
    EXPECT_FALSE(s.Feed(UpdateHeader(1) + RectHeader(0, 0, 8, 8, encoding::kZrle) + U32(data.size()) + data, ev).ok())
        << extra;
  }
}

// Tight's gradient filter from the encoder's side: each component minus
// the prediction left + above - above-left (clamped), modulo its range.
std::string TightGradient(const PixelFormat& pf, const std::vector<Colour>& px, int w, int h) {
  const bool rgb = TPixel(pf, {}).size() == 3;
  const uint32_t max[3] = {rgb ? 255u : pf.red_max, rgb ? 255u : pf.green_max, rgb ? 255u : pf.blue_max};
  auto comp = [&](int x, int y, int c) -> int {
    if (x < 0 || y < 0) return 0;
    const Colour& k = px[static_cast<size_t>(y) * w + x];
    return static_cast<int>(c == 0 ? k.r : c == 1 ? k.g : k.b);
  };
  std::string s;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      uint32_t d[3];
      for (int c = 0; c < 3; ++c) {
        const int est = std::clamp(comp(x - 1, y, c) + comp(x, y - 1, c) - comp(x - 1, y - 1, c), 0,
                                   static_cast<int>(max[c]));
        d[c] = static_cast<uint32_t>(comp(x, y, c) - est) & max[c];
      }
      s += TPixel(pf, {d[0], d[1], d[2]});
    }
  }
  return s;
}

// A relay that must not pass the target's clipboard on learns where each
// ServerCutText lies in the stream and never forwards the start of one
// that is not complete yet, however the bytes are split.
TEST(ServerStreamTest, CutTextRangesAndForwardableOffset) {
  const PixelFormat pf = Bgrx32();
  const std::string bell = B({2});
  const std::string cut = B({3, 0, 0, 0}) + U32(5) + "hello";
  const std::string update = UpdateHeader(1) + RectHeader(0, 0, 1, 1, encoding::kRaw) + Pixel(pf, {1, 2, 3});
  const std::string all = bell + cut + update + cut + bell;
  for (size_t split = 0; split <= all.size(); ++split) {
    SCOPED_TRACE(split);
    ServerStream s(pf, 4, 4);
    struct Nop : ServerEvents {} events;
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    ASSERT_TRUE(s.Feed(std::string_view(all).substr(0, split), events).ok());
    const uint64_t safe = s.ForwardableUntil();
    for (auto& r : s.TakeCutTextRanges()) ranges.push_back(r);
    // Never inside a cut text that is not complete.
    for (uint64_t start : {uint64_t{1}, uint64_t{1 + cut.size() + update.size()}}) {
      const uint64_t end = start + cut.size();
      if (split > start && split < end) {
        EXPECT_EQ(safe, start);
      }
    }
    EXPECT_LE(safe, split);
    ASSERT_TRUE(s.Feed(std::string_view(all).substr(split), events).ok());
    EXPECT_EQ(s.ForwardableUntil(), all.size());
    for (auto& r : s.TakeCutTextRanges()) ranges.push_back(r);
    ASSERT_EQ(ranges.size(), 2u);
    EXPECT_EQ(ranges[0], std::make_pair(uint64_t{1}, uint64_t{1 + cut.size()}));
    const uint64_t second = 1 + cut.size() + update.size();
    EXPECT_EQ(ranges[1], std::make_pair(second, second + cut.size()));
    EXPECT_TRUE(s.TakeCutTextRanges().empty());
  }
}

// Only basic compression is limited to 2048 pixels across: a fill may span
// a wider screen.
TEST(ServerStreamTest, TightFillWiderThan2048Decodes) {
  const PixelFormat pf = Bgrx32();
  ServerStream s(pf, 3000, 2);
  s.SetEncodings({encoding::kTight});
  const Colour fill = ColourAt(pf, 0, 0, 5);
  struct Nop : ServerEvents {} events;
  ASSERT_TRUE(s.Feed(UpdateHeader(1) + RectHeader(0, 1, 3000, 1, encoding::kTight) + B({0x80}) +
                         TPixel(pf, fill),
                     events)
                  .ok());
  uint32_t px = 0;
  std::memcpy(&px, s.framebuffer() + s.stride() + 2999 * 4, sizeof px);
  EXPECT_EQ(px, Expected(pf, fill));
  EXPECT_FALSE(s.Feed(UpdateHeader(1) + RectHeader(0, 0, 2049, 1, encoding::kTight) + B({0x00}),
                      events)
                   .ok());
}

TEST(ServerStreamTest, TightFillCopyPaletteGradientOnFourStreams) {
  for (const PixelFormat& pf : kFormats) {
    SCOPED_TRACE(std::to_string(pf.bits_per_pixel) + (pf.big_endian ? " BE" : ""));
    constexpr int kW = 48, kH = 40;
    Want want(pf, kW, kH);
    Deflater z[4];
    std::string log, bytes = UpdateHeader(9);
    auto rect = [&](int x, int y, int w, int h, const std::string& body) {
      bytes += RectHeader(x, y, w, h, encoding::kTight) + body;
      log += Damage(x, y, w, h);
    };
    auto pixels = [&](int x, int y, int w, int h, int seed, std::vector<Colour>* out) {
      std::string s;
      for (int j = 0; j < h; ++j)
        for (int i = 0; i < w; ++i) {
          const Colour c = ColourAt(pf, x + i, y + j, seed);
          s += TPixel(pf, c);
          want.Paint(x + i, y + j, 1, 1, c);
          if (out) out->push_back(c);
        }
      return s;
    };
    auto compressed = [&](int stream, const std::string& raw) {
      const std::string d = z[stream].Deflate(raw);
      return CompactLength(d.size()) + d;
    };
    // Fill.
    const Colour fill = ColourAt(pf, 0, 0, 11);
    rect(0, 0, 10, 5, B({0x80}) + TPixel(pf, fill));
    want.Paint(0, 0, 10, 5, fill);
    // Copy filter, implicit, under 12 bytes: not compressed.
    rect(10, 0, 2, 1, B({0x00}) + pixels(10, 0, 2, 1, 1, nullptr));
    // Copy filter, implicit, stream 0; explicit, stream 1 (160+ bytes: a
    // two-byte compact length).
    rect(0, 5, 16, 8, B({0x00}) + compressed(0, pixels(0, 5, 16, 8, 2, nullptr)));
    rect(16, 5, 20, 10, B({0x50, 0}) + compressed(1, pixels(16, 5, 20, 10, 3, nullptr)));
    // Palette of 2 (a bit a pixel, rows padded), stream 2; and one too
    // small to compress.
    std::vector<Colour> pal;
    for (int i = 0; i < 5; ++i) pal.push_back(ColourAt(pf, i, 99, 4));
    auto palette = [&](int x, int y, int w, int h, int colours) {
      std::string head = B({1, colours - 1});
      for (int i = 0; i < colours; ++i) head += TPixel(pf, pal[i]);
      std::string data;
      for (int j = 0; j < h; ++j) {
        uint32_t acc = 0;
        int n = 0;
        for (int i = 0; i < w; ++i) {
          const int idx = (i * 5 + j * 3) % colours;
          want.Paint(x + i, y + j, 1, 1, pal[idx]);
          if (colours > 2) {
            data.push_back(static_cast<char>(idx));
            continue;
          }
          acc = (acc << 1) | idx;
          if (++n == 8) {
            data.push_back(static_cast<char>(acc));
            acc = 0;
            n = 0;
          }
        }
        if (n > 0) data.push_back(static_cast<char>(acc << (8 - n)));
      }
      return std::pair<std::string, std::string>{head, data};
    };
    auto [head2, data2] = palette(0, 15, 13, 6, 2);
    rect(0, 15, 13, 6, B({0x60}) + head2 + compressed(2, data2));
    auto [head_small, data_small] = palette(13, 15, 9, 1, 2);
    rect(13, 15, 9, 1, B({0x60}) + head_small + data_small);
    // Palette of 5 (a byte a pixel), stream 3.
    auto [head5, data5] = palette(0, 21, 17, 7, 5);
    rect(0, 21, 17, 7, B({0x70}) + head5 + compressed(3, data5));
    // Gradient on stream 0 after resetting it (bit 0 of the control byte).
    std::vector<Colour> g;
    pixels(20, 20, 24, 12, 6, &g);
    Deflater fresh;
    const std::string gradient = fresh.Deflate(TightGradient(pf, g, 24, 12));
    rect(20, 20, 24, 12, B({0x41, 2}) + CompactLength(gradient.size()) + gradient);
    // Stream 1 again, continuing.
    rect(36, 0, 12, 4, B({0x10}) + compressed(1, pixels(36, 0, 12, 4, 7, nullptr)));
    Result r{log + "end;", want.fb, kW, kH, {}, true};
    EverySplit(pf, kW, kH, bytes, r);
  }
}

std::string JpegOf(const std::vector<Colour>& px, int w, int h, int quality) {
  jpeg_compress_struct c;
  jpeg_error_mgr err;
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char* buf = nullptr;
  unsigned long len = 0;
  jpeg_mem_dest(&c, &buf, &len);
  c.image_width = static_cast<JDIMENSION>(w);
  c.image_height = static_cast<JDIMENSION>(h);
  c.input_components = 3;
  c.in_color_space = JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, quality, TRUE);
  jpeg_start_compress(&c, TRUE);
  std::vector<uint8_t> row(static_cast<size_t>(w) * 3);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const Colour& k = px[static_cast<size_t>(y) * w + x];
      row[3 * x] = static_cast<uint8_t>(k.r);
      row[3 * x + 1] = static_cast<uint8_t>(k.g);
      row[3 * x + 2] = static_cast<uint8_t>(k.b);
    }
    JSAMPROW r = row.data();
    jpeg_write_scanlines(&c, &r, 1);
  }
  jpeg_finish_compress(&c);
  std::string out(reinterpret_cast<char*>(buf), len);
  std::free(buf);
  jpeg_destroy_compress(&c);
  return out;
}

TEST(ServerStreamTest, TightJpegWithinTolerance) {
  // A smooth 8-bit picture; JPEG at quality 90 keeps it within a few steps.
  constexpr int kW = 40, kH = 24, kX = 3, kY = 2, kRw = 33, kRh = 19;
  std::vector<Colour> px;
  for (int y = 0; y < kRh; ++y)
    for (int x = 0; x < kRw; ++x) px.push_back({static_cast<uint32_t>(x * 7), static_cast<uint32_t>(y * 12), 128});
  const std::string jpeg = JpegOf(px, kRw, kRh, 90);
  for (const PixelFormat& pf : {Bgrx32(), Bgrx32(true), Rgb565(), Rgb565(true)}) {
    SCOPED_TRACE(std::to_string(pf.bits_per_pixel) + (pf.big_endian ? " BE" : ""));
    const std::string bytes = UpdateHeader(1) + RectHeader(kX, kY, kRw, kRh, encoding::kTight) + B({0x90}) +
                              CompactLength(jpeg.size()) + jpeg;
    Result whole = Decode(pf, kW, kH, {bytes});
    ASSERT_EQ(whole.log, Damage(kX, kY, kRw, kRh) + "end;");
    int worst = 0;
    for (int y = 0; y < kH; ++y) {
      for (int x = 0; x < kW; ++x) {
        const uint32_t got = whole.fb[static_cast<size_t>(y) * kW + x];
        const bool inside = x >= kX && x < kX + kRw && y >= kY && y < kY + kRh;
        if (!inside) {
          ASSERT_EQ(got, 0xff000000u) << x << "," << y;
          continue;
        }
        ASSERT_EQ(got >> 24, 0xffu);
        const Colour& c = px[static_cast<size_t>(y - kY) * kRw + (x - kX)];
        const uint32_t want[3] = {c.r, c.g, c.b};
        for (int k = 0; k < 3; ++k) {
          const int v = static_cast<int>((got >> (16 - 8 * k)) & 0xff);
          worst = std::max(worst, std::abs(v - static_cast<int>(want[k])));
        }
      }
    }
    EXPECT_LE(worst, 12);
    EXPECT_GT(worst, 0) << "JPEG is lossy: an exact picture means it was not decoded as JPEG";
    EverySplit(pf, kW, kH, bytes, whole);
  }
  // A JPEG of another size than its rectangle is refused.
  ServerStream s(Bgrx32(), kW, kH);
  s.SetEncodings(kAll);
  Events ev;
  EXPECT_FALSE(s.Feed(UpdateHeader(1) + RectHeader(0, 0, kRw, kRh + 1, encoding::kTight) + B({0x90}) +
                          CompactLength(jpeg.size()) + jpeg,
                      ev)
                   .ok());
}

}  // namespace
}  // namespace portcullis::agentless::rfb
