// ClientMessageParser and the shared RFB types: hand-built viewer messages,
// fed whole, split at every byte and one byte at a time.
#include "agentless/vnc/rfb/client_messages.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "agentless/vnc/rfb/rfb_types.h"

namespace portcullis::agentless::rfb {
namespace {

std::string U16(uint16_t v) { return {static_cast<char>(v >> 8), static_cast<char>(v & 0xff)}; }
std::string U32(uint32_t v) { return U16(static_cast<uint16_t>(v >> 16)) + U16(static_cast<uint16_t>(v & 0xffff)); }
std::string B(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

PixelFormat Rgb565() {
  PixelFormat pf;
  pf.bits_per_pixel = 16;
  pf.depth = 16;
  pf.red_max = 31;
  pf.green_max = 63;
  pf.blue_max = 31;
  pf.red_shift = 11;
  pf.green_shift = 5;
  pf.blue_shift = 0;
  return pf;
}

TEST(PixelFormatTest, RoundTripsAndRefusesNonsense) {
  for (const PixelFormat& pf : {PixelFormat{}, Rgb565()}) {
    const std::string wire = SerializePixelFormat(pf);
    ASSERT_EQ(wire.size(), 16u);
    auto back = ParsePixelFormat(wire);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, pf);
  }
  EXPECT_FALSE(ParsePixelFormat("short").ok());
  PixelFormat bad;
  bad.bits_per_pixel = 24;
  EXPECT_FALSE(ParsePixelFormat(SerializePixelFormat(bad)).ok());
  bad = {};
  bad.depth = 0;
  EXPECT_FALSE(ParsePixelFormat(SerializePixelFormat(bad)).ok());
  bad = {};
  bad.red_max = 254;  // not 2^n-1
  EXPECT_FALSE(ParsePixelFormat(SerializePixelFormat(bad)).ok());
  bad = {};
  bad.red_shift = 25;  // 8 bits from 25 leave a 32-bit pixel
  EXPECT_FALSE(ParsePixelFormat(SerializePixelFormat(bad)).ok());
  bad = Rgb565();
  bad.green_max = 255;
  bad.green_shift = 10;  // 10 + 8 bits > 16
  EXPECT_FALSE(ParsePixelFormat(SerializePixelFormat(bad)).ok());
  PixelFormat map;
  map.bits_per_pixel = 8;
  map.depth = 8;
  map.true_colour = false;
  map.red_max = 0;  // unused with a colour map
  auto parsed = ParsePixelFormat(SerializePixelFormat(map));
  ASSERT_TRUE(parsed.ok());
  EXPECT_FALSE(parsed->true_colour);
}

TEST(EncodingAllowedTest, AllowListOnly) {
  for (int32_t e : {0, 1, 5, 7, 16, -239, -223, -224, -232, -240, -307, -308, -32, -23, -256, -247}) {
    EXPECT_TRUE(EncodingAllowed(e)) << e;
  }
  // Zlib, ZlibHex, TightPNG, ZYWRLE, H.264, Fence, ContinuousUpdates, QEMU, xvp, Ultra, -22, -246.
  for (int32_t e : {6, 8, -260, 17, 0x48323634, -312, -313, -258, -309, 9, -22, -246, -33, -257}) {
    EXPECT_FALSE(EncodingAllowed(e)) << e;
  }
}

// One of each message type, and what the parser should make of it.
std::string AllMessages() {
  std::string s;
  s += B({0, 0, 0, 0}) + SerializePixelFormat(Rgb565());
  // SetEncodings: Raw, Fence, Tight, ContinuousUpdates, ZRLE, H.264, quality 5.
  s += B({2, 0}) + U16(7) + U32(0) + U32(static_cast<uint32_t>(-312)) + U32(7) + U32(static_cast<uint32_t>(-313)) +
       U32(16) + U32(0x48323634) + U32(static_cast<uint32_t>(-27));
  s += B({3, 1}) + U16(1) + U16(2) + U16(640) + U16(480);
  s += B({4, 1, 0, 0}) + U32(0xff0d);
  s += B({5, 3}) + U16(100) + U16(200);
  s += B({6, 0, 0, 0}) + U32(5) + "hello";
  s += B({6, 0, 0, 0}) + U32(0);
  s += B({251, 0}) + U16(800) + U16(600) + B({2, 0}) + std::string(32, '\x01');
  return s;
}

void CheckAll(const std::vector<ClientMessage>& m) {
  ASSERT_EQ(m.size(), 8u);
  EXPECT_EQ(m[0].type, ClientMessage::Type::kSetPixelFormat);
  EXPECT_EQ(m[0].pixel_format, Rgb565());
  EXPECT_EQ(m[0].wire.size(), 20u);
  EXPECT_EQ(m[1].type, ClientMessage::Type::kSetEncodings);
  EXPECT_EQ(m[1].encodings, (std::vector<int32_t>{0, 7, 16, -27}));
  EXPECT_EQ(m[1].encodings_dropped, 3u);
  EXPECT_EQ(m[1].wire, B({2, 0}) + U16(4) + U32(0) + U32(7) + U32(16) + U32(static_cast<uint32_t>(-27)));
  EXPECT_EQ(m[2].type, ClientMessage::Type::kUpdateRequest);
  EXPECT_TRUE(m[2].incremental);
  EXPECT_EQ(m[2].x, 1);
  EXPECT_EQ(m[2].y, 2);
  EXPECT_EQ(m[2].w, 640);
  EXPECT_EQ(m[2].h, 480);
  EXPECT_EQ(m[3].type, ClientMessage::Type::kKey);
  EXPECT_TRUE(m[3].down);
  EXPECT_EQ(m[3].keysym, 0xff0du);
  EXPECT_EQ(m[4].type, ClientMessage::Type::kPointer);
  EXPECT_EQ(m[4].button_mask, 3);
  EXPECT_EQ(m[4].x, 100);
  EXPECT_EQ(m[4].y, 200);
  EXPECT_EQ(m[5].type, ClientMessage::Type::kCutText);
  EXPECT_EQ(m[5].text, "hello");
  EXPECT_EQ(m[5].wire, B({6, 0, 0, 0}) + U32(5) + "hello");
  EXPECT_EQ(m[6].text, "");
  EXPECT_EQ(m[7].type, ClientMessage::Type::kSetDesktopSize);
  EXPECT_EQ(m[7].width, 800);
  EXPECT_EQ(m[7].height, 600);
  EXPECT_EQ(m[7].wire.size(), 8u + 32u);
}

TEST(ClientMessageParserTest, WholeStream) {
  ClientMessageParser p;
  std::vector<ClientMessage> out;
  ASSERT_TRUE(p.Feed(AllMessages(), &out).ok());
  CheckAll(out);
}

TEST(ClientMessageParserTest, EverySplitGivesTheSameMessages) {
  const std::string all = AllMessages();
  for (size_t cut = 0; cut <= all.size(); ++cut) {
    for (size_t cut2 = cut; cut2 <= all.size(); cut2 += 7) {
      ClientMessageParser p;
      std::vector<ClientMessage> out;
      ASSERT_TRUE(p.Feed(std::string_view(all).substr(0, cut), &out).ok());
      ASSERT_TRUE(p.Feed(std::string_view(all).substr(cut, cut2 - cut), &out).ok());
      ASSERT_TRUE(p.Feed(std::string_view(all).substr(cut2), &out).ok());
      CheckAll(out);
    }
  }
}

TEST(ClientMessageParserTest, OneByteAtATime) {
  const std::string all = AllMessages();
  ClientMessageParser p;
  std::vector<ClientMessage> out;
  for (char c : all) ASSERT_TRUE(p.Feed(std::string_view(&c, 1), &out).ok());
  CheckAll(out);
}

TEST(ClientMessageParserTest, UnknownTypeEndsTheStream) {
  for (int type : {1, 7, 8, 150, 248, 250, 252, 255}) {
    ClientMessageParser p;
    std::vector<ClientMessage> out;
    auto s = p.Feed(B({type, 1, 2, 3}), &out);
    EXPECT_FALSE(s.ok()) << type;
    EXPECT_TRUE(out.empty());
    // Dead: later valid input fails too.
    EXPECT_FALSE(p.Feed(B({3, 0}) + U16(0) + U16(0) + U16(1) + U16(1), &out).ok());
    EXPECT_TRUE(out.empty());
  }
}

TEST(ClientMessageParserTest, MessagesBeforeAnErrorAreDelivered) {
  ClientMessageParser p;
  std::vector<ClientMessage> out;
  EXPECT_FALSE(p.Feed(B({5, 0}) + U16(1) + U16(1) + B({9}), &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type, ClientMessage::Type::kPointer);
}

TEST(ClientMessageParserTest, LimitsBeforeTheBody) {
  ClientLimits limits;
  limits.max_encodings = 4;
  limits.max_cut_text = 10;
  limits.max_screens = 2;
  {
    ClientMessageParser p(limits);
    std::vector<ClientMessage> out;
    EXPECT_FALSE(p.Feed(B({2, 0}) + U16(5), &out).ok());  // header alone is enough to refuse
  }
  {
    ClientMessageParser p(limits);
    std::vector<ClientMessage> out;
    EXPECT_TRUE(p.Feed(B({2, 0}) + U16(4) + U32(0) + U32(1) + U32(5) + U32(16), &out).ok());
    EXPECT_EQ(out.size(), 1u);
  }
  {
    ClientMessageParser p(limits);
    std::vector<ClientMessage> out;
    EXPECT_FALSE(p.Feed(B({6, 0, 0, 0}) + U32(11), &out).ok());
  }
  {
    ClientMessageParser p(limits);
    std::vector<ClientMessage> out;
    // The extended-clipboard form (a negative length) is not allowed.
    EXPECT_FALSE(p.Feed(B({6, 0, 0, 0}) + U32(0x80000004), &out).ok());
  }
  {
    ClientMessageParser p(limits);
    std::vector<ClientMessage> out;
    EXPECT_FALSE(p.Feed(B({251, 0}) + U16(800) + U16(600) + B({3, 0}), &out).ok());
  }
  {
    ClientMessageParser p(limits);
    std::vector<ClientMessage> out;
    EXPECT_FALSE(p.Feed(B({251, 0}) + U16(800) + U16(600) + B({0, 0}), &out).ok());
  }
}

TEST(ClientMessageParserTest, BadPixelFormatAndEmptyDesktopSize) {
  {
    PixelFormat bad;
    bad.bits_per_pixel = 12;
    ClientMessageParser p;
    std::vector<ClientMessage> out;
    EXPECT_FALSE(p.Feed(B({0, 0, 0, 0}) + SerializePixelFormat(bad), &out).ok());
  }
  {
    ClientMessageParser p;
    std::vector<ClientMessage> out;
    EXPECT_FALSE(p.Feed(B({251, 0}) + U16(0) + U16(600) + B({1, 0}) + std::string(16, '\0'), &out).ok());
  }
}

TEST(ClientMessageParserTest, ErrorsNameNoContent) {
  ClientMessageParser p;
  std::vector<ClientMessage> out;
  auto s = p.Feed(B({6, 0, 0, 0}) + U32(2 << 20) + "s3cret-password", &out);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(std::string(s.message()).find("s3cret"), std::string::npos);
}

TEST(ClientMessageParserTest, KeepsOnlyAPartialMessage) {
  ClientMessageParser p;
  std::vector<ClientMessage> out;
  // Half a SetEncodings of 1000: nothing out yet, then the rest.
  std::string m = B({2, 0}) + U16(1000);
  for (int i = 0; i < 1000; ++i) m += U32(i % 2 == 0 ? 16 : 6);
  ASSERT_TRUE(p.Feed(std::string_view(m).substr(0, 2001), &out).ok());
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(p.Feed(std::string_view(m).substr(2001), &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].encodings.size(), 500u);
  EXPECT_EQ(out[0].encodings_dropped, 500u);
}

}  // namespace
}  // namespace portcullis::agentless::rfb
