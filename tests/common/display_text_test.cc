// DisplayText and friends: every disguising code point escaped, invalid
// UTF-8 handled, the raw bytes recoverable.

#include "broker/common/display_text.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "broker/common/encoding.h"

namespace portcullis {
namespace {

// UTF-8 of code point `cp` (< U+10000 is enough here).
std::string Utf8(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    s.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
  return s;
}

std::vector<uint32_t> Disguising() {
  std::vector<uint32_t> v;
  for (uint32_t c = 0; c < 0x20; ++c) v.push_back(c);
  for (uint32_t c = 0x7F; c <= 0x9F; ++c) v.push_back(c);
  v.push_back(0x061C);
  for (uint32_t c = 0x200B; c <= 0x200F; ++c) v.push_back(c);
  for (uint32_t c = 0x202A; c <= 0x202E; ++c) v.push_back(c);
  for (uint32_t c = 0x2066; c <= 0x2069; ++c) v.push_back(c);
  v.push_back(0xFEFF);
  return v;
}

TEST(DisplayTextTest, EveryListedCodePointIsEscapedAndRoundTrips) {
  for (uint32_t cp : Disguising()) {
    EXPECT_TRUE(IsDisguisingCodePoint(cp)) << std::hex << cp;
    const std::string raw = "a" + Utf8(cp) + "b";
    const std::string shown = DisplayText(raw);
    EXPECT_TRUE(NeedsDisplayEscape(raw)) << std::hex << cp;
    EXPECT_FALSE(NeedsDisplayEscape(shown)) << shown;
    const std::string want =
        cp < 0x80 ? fmt::format("a\\x{:02x}b", cp) : fmt::format("a\\u{:04x}b", cp);
    EXPECT_EQ(shown, want);
    EXPECT_EQ(DisplayText(raw, DisplayMode::kReversible), want);
    auto back = RawFromDisplayText(DisplayText(raw, DisplayMode::kReversible));
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, raw) << std::hex << cp;
  }
}

TEST(DisplayTextTest, NeighboursOfTheListedRangesAreKept) {
  for (uint32_t cp : {0x20u, 0x7Eu, 0xA0u, 0xE9u, 0x061Bu, 0x061Du, 0x200Au, 0x2010u, 0x2029u,
                      0x202Fu, 0x2065u, 0x206Au, 0xFEFEu, 0xFFFDu}) {
    EXPECT_FALSE(IsDisguisingCodePoint(cp)) << std::hex << cp;
    const std::string raw = Utf8(cp);
    EXPECT_FALSE(NeedsDisplayEscape(raw)) << std::hex << cp;
    EXPECT_EQ(DisplayText(raw), raw);
  }
  EXPECT_EQ(DisplayText("\xF0\x9F\x94\x92 caf\xC3\xA9"), "\xF0\x9F\x94\x92 caf\xC3\xA9");
}

TEST(DisplayTextTest, ABidiOverrideCannotReverseAFileName) {
  // "report" U+202E "fdp.exe": displays as "reportexe.pdf".
  const std::string raw = "report\xE2\x80\xAE" "fdp.exe";
  EXPECT_EQ(DisplayText(raw), "report\\u202efdp.exe");
  const std::string zw = "rtu\xE2\x80\x8B-01";
  EXPECT_EQ(DisplayText(zw), "rtu\\u200b-01");
}

TEST(DisplayTextTest, InvalidUtf8) {
  for (const std::string& raw :
       {std::string("x\xC3"), std::string("\xFF\xFE"), std::string("\xC0\xAF"),  // overlong
        std::string("\xED\xA0\x80"),                                             // surrogate
        std::string("\xF4\x90\x80\x80"),                                         // > U+10FFFF
        std::string("\xE2\x80"), std::string("\x80"), std::string("a\0b", 3)}) {
    EXPECT_TRUE(NeedsDisplayEscape(raw)) << HexEncode(raw);
    const std::string text = DisplayText(raw);
    EXPECT_FALSE(NeedsDisplayEscape(text)) << HexEncode(raw);
    const std::string rev = DisplayText(raw, DisplayMode::kReversible);
    EXPECT_FALSE(NeedsDisplayEscape(rev)) << HexEncode(raw);
    auto back = RawFromDisplayText(rev);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, raw) << HexEncode(raw);
  }
  EXPECT_EQ(DisplayText("x\xC3"), "x\xEF\xBF\xBD");
  EXPECT_EQ(DisplayText("x\xC3", DisplayMode::kReversible), "x\\xc3");
}

TEST(DisplayTextTest, ReversibleFormEscapesBackslashAndRoundTripsAnyBytes) {
  EXPECT_EQ(DisplayText("a\\x41", DisplayMode::kReversible), "a\\\\x41");
  EXPECT_EQ(DisplayText("a\\x41"), "a\\x41") << "kText keeps a backslash";
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  all += Utf8(0x202E) + Utf8(0xFEFF) + "\\" + Utf8(0xE9);
  auto back = RawFromDisplayText(DisplayText(all, DisplayMode::kReversible));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(HexEncode(*back), HexEncode(all));
}

TEST(DisplayTextTest, RawFromDisplayTextRefusesWhatDisplayTextNeverWrites) {
  for (const char* bad : {"\\", "a\\q", "\\x4", "\\xzz", "\\u202", "\\x41", "\\u00e9",
                          "\xE2\x80\xAE", "\x01"}) {
    EXPECT_FALSE(RawFromDisplayText(bad).ok()) << bad;
  }
}

TEST(DisplayTextTest, JsonStringsAreMadeSafeWithTheRawBytesInHex) {
  nlohmann::json j = {{"path", "/srv/report\xE2\x80\xAE" "fdp.exe"},
                      {"size", 3},
                      {"clean", "caf\xC3\xA9"},
                      {"list", {"a\xE2\x80\x8B" "b", "ok"}},
                      {"inner", {{"name", "x\x1b[31m"}}}};
  MakeJsonDisplaySafe(j);
  EXPECT_EQ(j["path"], "/srv/report\\u202efdp.exe");
  EXPECT_EQ(j["path_hex"], HexEncode("/srv/report\xE2\x80\xAE" "fdp.exe"));
  EXPECT_EQ(j["size"], 3);
  EXPECT_EQ(j["clean"], "caf\xC3\xA9");
  EXPECT_FALSE(j.contains("clean_hex"));
  EXPECT_EQ(j["list"][0], "a\\u200bb");
  EXPECT_EQ(j["inner"]["name"], "x\\x1b[31m");
  EXPECT_EQ(j["inner"]["name_hex"], HexEncode("x\x1b[31m"));
  // Idempotent: a safe document is left as it is.
  nlohmann::json again = j;
  MakeJsonDisplaySafe(again);
  EXPECT_EQ(again, j);
}

}  // namespace
}  // namespace portcullis
