#include "recorder/utf8_json.h"

#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "broker/common/encoding.h"
#include "tests/recorder/recording_files.h"
#include "tests/support/test_util.h"

namespace portcullis::recorder {
namespace {

std::string Escape(std::string_view s) {
  std::string out;
  AppendJsonEscaped(s, &out);
  return out;
}

std::string EscapeInChunks(const std::vector<std::string>& chunks) {
  Utf8JsonEscaper esc;
  std::string out;
  for (const auto& c : chunks) esc.Append(c, &out);
  esc.Finish(&out);
  return out;
}

const std::string kFffd(kReplacementChar);

TEST(Utf8JsonTest, AsciiAndEscapes) {
  EXPECT_EQ(Escape("plain text 123 ~"), "plain text 123 ~");
  EXPECT_EQ(Escape("a\"b\\c"), "a\\\"b\\\\c");
  EXPECT_EQ(Escape("\r\n\t\b\f"), "\\r\\n\\t\\b\\f");
  EXPECT_EQ(Escape(std::string("\x1b[0m\x00\x01\x1f\x7f", 8)), "\\u001b[0m\\u0000\\u0001\\u001f\x7f");
}

TEST(Utf8JsonTest, ValidMultibytePassesThrough) {
  const std::string s = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbf \xf4\x8f\xbf\xbf";
  EXPECT_EQ(Escape(s), s);
}

TEST(Utf8JsonTest, InvalidBytesBecomeReplacementCharacters) {
  EXPECT_EQ(Escape("a\xff" "b"), "a" + kFffd + "b");
  EXPECT_EQ(Escape("\x80\xbf"), kFffd + kFffd);           // lone continuation bytes
  EXPECT_EQ(Escape("\xc0\xaf"), kFffd + kFffd);           // overlong lead
  EXPECT_EQ(Escape("\xe0\x80\x80"), kFffd + kFffd + kFffd);  // overlong 3-byte
  EXPECT_EQ(Escape("\xed\xa0\x80"), kFffd + kFffd + kFffd);  // UTF-16 surrogate
  EXPECT_EQ(Escape("\xf4\x90\x80\x80"), kFffd + kFffd + kFffd + kFffd);  // > U+10FFFF
  // A truncated sequence followed by ASCII: one U+FFFD for the maximal subpart.
  EXPECT_EQ(Escape("\xe2\x82x"), kFffd + "x");
  EXPECT_EQ(Escape("\xf0\x9f\x98"), kFffd);  // incomplete at the very end
}

TEST(Utf8JsonTest, SequenceSplitAcrossChunksIsCarried) {
  Utf8JsonEscaper esc;
  std::string out;
  esc.Append("ab\xe2\x82", &out);
  EXPECT_EQ(out, "ab");
  EXPECT_EQ(esc.carried(), 2u);
  esc.Append("\xac!", &out);
  EXPECT_EQ(out, "ab\xe2\x82\xac!");
  EXPECT_EQ(esc.carried(), 0u);
  // A 4-byte character handed over one byte at a time.
  EXPECT_EQ(EscapeInChunks({"\xf0", "\x9f", "\x98", "\x80"}), "\xf0\x9f\x98\x80");
}

TEST(Utf8JsonTest, CarryThatIsNotContinuedBecomesReplacement) {
  EXPECT_EQ(EscapeInChunks({"\xe2\x82", "x"}), kFffd + "x");
  EXPECT_EQ(EscapeInChunks({"\xe2", "\x82\xff"}), kFffd + kFffd);
  EXPECT_EQ(EscapeInChunks({"\xe2\x82"}), kFffd);  // Finish
  EXPECT_EQ(EscapeInChunks({"\xf0\x9f", "", "\x98", "\x41"}), kFffd + "A");
}

TEST(Utf8JsonTest, EmptyChunkKeepsTheCarry) {
  EXPECT_EQ(EscapeInChunks({"\xc2", "", "\xa9"}), "\xc2\xa9");
  EXPECT_EQ(EscapeInChunks({"\xc2", ""}), kFffd);
}

// Each special byte at each position of a long plain run: the word-at-a-
// time scan must stop for it wherever it is.
TEST(Utf8JsonTest, SpecialBytesAnywhereInAPlainRun) {
  const std::string plain(24, 'p');
  const std::vector<std::pair<std::string, std::string>> specials = {
      {"\"", "\\\""},        {"\\", "\\\\"},        {"\n", "\\n"},
      {std::string(1, '\0'), "\\u0000"}, {"\x1f", "\\u001f"}, {"\x80", kFffd},
      {"\xc3\xa9", "\xc3\xa9"}, {"\xff", kFffd},           {" ", " "},
      {"\x7f", "\x7f"},         {"~", "~"}};
  for (const auto& [in, want] : specials) {
    for (size_t pos = 0; pos <= plain.size(); ++pos) {
      std::string s = plain;
      s.insert(pos, in);
      std::string expect = plain;
      expect.insert(pos, want);
      EXPECT_EQ(Escape(s), expect) << HexEncode(in) << " at " << pos;
    }
  }
}

TEST(Utf8JsonTest, OutputIsAlwaysValidJson) {
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string s(rng() % 40, '\0');
    for (char& c : s) c = static_cast<char>(rng() & 0xff);
    std::string body = EscapeInChunks({s.substr(0, s.size() / 3), s.substr(s.size() / 3)});
    auto j = nlohmann::json::parse("\"" + body + "\"", nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << HexEncode(s);
  }
}

// Cross-checks against Python's incremental UTF-8 decoder with
// errors="replace" and json.dumps(ensure_ascii=False): what asciinema
// itself does when it records.
TEST(Utf8JsonTest, MatchesPythonDecoderAndJsonDumps) {
  if (std::system("command -v python3 >/dev/null 2>&1") != 0) GTEST_SKIP() << "no python3";
  static const unsigned char kPalette[] = {'a',  '"',  '\\', '\n', 0x1b, 0x00, 0x7f, 0x80, 0x8f,
                                           0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xe1, 0xed,
                                           0xef, 0xf0, 0xf1, 0xf4, 0xf5, 0xff};
  std::mt19937 rng(42);
  std::vector<std::pair<std::string, std::string>> cases;
  std::string input;
  for (int i = 0; i < 6000; ++i) {
    // Odd cases: short and dense. Even cases: long runs of plain text with
    // a few special bytes, so the word-at-a-time path meets each of them.
    const bool sparse = i % 2 == 0;
    std::string s(rng() % (sparse ? 48 : 10), '\0');
    for (char& c : s) {
      c = sparse && rng() % 6 != 0 ? 'x' : static_cast<char>(kPalette[rng() % sizeof kPalette]);
    }
    size_t split = s.empty() ? 0 : rng() % (s.size() + 1);
    cases.emplace_back(s.substr(0, split), s.substr(split));
    input += fmt::format("{} {}\n", HexEncode(cases.back().first), HexEncode(cases.back().second));
  }
  testing::TempDir dir("pc-utf8");
  ASSERT_TRUE(testing::WriteWholeFile(dir.Join("cases"), input).ok());
  const char* kScript = R"(
import codecs, json, sys
for line in open(sys.argv[1]):
    a, b = (line.rstrip('\n').split(' ') + [''])[:2]
    d = codecs.getincrementaldecoder('utf-8')('replace')
    s = d.decode(bytes.fromhex(a)) + d.decode(bytes.fromhex(b), final=True)
    sys.stdout.buffer.write(json.dumps(s, ensure_ascii=False).encode('utf-8') + b'\n')
)";
  auto r = testing::RunCommand({"python3", "-c", kScript, dir.Join("cases")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto want = testing::SplitLines(r.out);
  ASSERT_EQ(want.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    std::string got = "\"" + EscapeInChunks({cases[i].first, cases[i].second}) + "\"";
    ASSERT_EQ(got, want[i]) << "case " << HexEncode(cases[i].first) << " | "
                            << HexEncode(cases[i].second);
  }
}

}  // namespace
}  // namespace portcullis::recorder
