// ServerStream against hand-built target messages in every encoding and
// pixel format, each stream fed whole, split at every byte and byte by byte.
#include "agentless/vnc/rfb/server_stream.h"

#include <gtest/gtest.h>

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
      {"tight wide", UpdateHeader(1) + RectHeader(0, 0, 2049, 1, encoding::kTight) + B({0x80}), kAll},
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

}  // namespace
}  // namespace portcullis::agentless::rfb
