// MenuLineEditor and ParseMenuChoice: the target menu's keyboard handling.

#include "agentless/ssh/menu_input.h"

#include <gtest/gtest.h>

#include <string>

namespace portcullis::ssh {
namespace {

using Event = MenuLineEditor::Event;
using Kind = MenuChoice::Kind;

TEST(MenuLineEditorTest, EchoesPrintableBytesAndEndsALineAtCr) {
  MenuLineEditor ed(/*echo=*/true);
  auto s = ed.Feed("ab");
  EXPECT_EQ(s.event, Event::kNeedMore);
  EXPECT_EQ(s.consumed, 2u);
  EXPECT_EQ(s.echo, "ab");
  EXPECT_EQ(ed.pending(), "ab");
  s = ed.Feed("c\rrest");
  EXPECT_EQ(s.event, Event::kLine);
  EXPECT_EQ(s.line, "abc");
  EXPECT_EQ(s.consumed, 2u) << "bytes after the line are left for the target";
  EXPECT_EQ(s.echo, "c\r\n");
  EXPECT_EQ(ed.pending(), "");
}

TEST(MenuLineEditorTest, WithoutATerminalNothingIsEchoedAndLfEndsALine) {
  MenuLineEditor ed(/*echo=*/false);
  auto s = ed.Feed("1\n");
  EXPECT_EQ(s.event, Event::kLine);
  EXPECT_EQ(s.line, "1");
  EXPECT_EQ(s.echo, "");
}

TEST(MenuLineEditorTest, EmptyLinesAreSkipped) {
  MenuLineEditor ed(true);
  auto s = ed.Feed("\r\n\r\nx\r");
  EXPECT_EQ(s.event, Event::kLine);
  EXPECT_EQ(s.line, "x");
  EXPECT_EQ(s.consumed, 6u);
  EXPECT_EQ(s.echo, "\r\n\r\n\r\n\r\nx\r\n");
}

TEST(MenuLineEditorTest, BackspaceAndDeleteEraseOneCharacter) {
  MenuLineEditor ed(true);
  auto s = ed.Feed("ab\x7f" "c\x08\x08\x08z\r");
  EXPECT_EQ(s.event, Event::kLine);
  EXPECT_EQ(s.line, "z");
  // Two characters and three erasures: the third has nothing to erase.
  EXPECT_EQ(s.echo, "ab\b \bc\b \b\b \bz\r\n");
}

TEST(MenuLineEditorTest, CtrlCAndCtrlDAbort) {
  for (char c : {'\x03', '\x04'}) {
    MenuLineEditor ed(true);
    auto s = ed.Feed(std::string("ab") + c + "1\r");
    EXPECT_EQ(s.event, Event::kAbort);
    EXPECT_EQ(s.consumed, 3u);
    EXPECT_EQ(ed.pending(), "");
  }
}

TEST(MenuLineEditorTest, OtherBytesAreIgnored) {
  MenuLineEditor ed(true);
  auto s = ed.Feed(std::string("\x1b[A\x00\xe2\x80\xaeq\t\r", 11));
  EXPECT_EQ(s.event, Event::kLine);
  EXPECT_EQ(s.line, "[Aq") << "ESC, NUL, non-ASCII and TAB are dropped";
  EXPECT_EQ(s.echo, "[Aq\r\n");
}

TEST(MenuLineEditorTest, LinesAreCappedAtTheLimit) {
  MenuLineEditor ed(true);
  auto s = ed.Feed(std::string(kMaxMenuLine + 50, '7'));
  EXPECT_EQ(s.event, Event::kNeedMore);
  EXPECT_EQ(s.echo.size(), kMaxMenuLine) << "dropped bytes are not echoed";
  s = ed.Feed("\r");
  EXPECT_EQ(s.line, std::string(kMaxMenuLine, '7'));
}

TEST(ParseMenuChoiceTest, QuitNumbersAndNames) {
  EXPECT_EQ(ParseMenuChoice("q", 3).kind, Kind::kQuit);
  EXPECT_EQ(ParseMenuChoice(" quit ", 3).kind, Kind::kQuit);
  auto c = ParseMenuChoice("2", 3);
  EXPECT_EQ(c.kind, Kind::kIndex);
  EXPECT_EQ(c.index, 1u);
  c = ParseMenuChoice(" 3 ", 3);
  EXPECT_EQ(c.kind, Kind::kIndex);
  EXPECT_EQ(c.index, 2u);
  c = ParseMenuChoice("007", 9);
  EXPECT_EQ(c.kind, Kind::kIndex);
  EXPECT_EQ(c.index, 6u);
  c = ParseMenuChoice("rtu-01", 3);
  EXPECT_EQ(c.kind, Kind::kName);
  EXPECT_EQ(c.name, "rtu-01");
  c = ParseMenuChoice("  ", 3);
  EXPECT_EQ(c.kind, Kind::kName);
  EXPECT_EQ(c.name, "");
}

TEST(ParseMenuChoiceTest, NumbersOutsideTheListAreNamesAndNeverOverflow) {
  for (const char* s : {"0", "4", "00", "99999999999999999999999999", "-1", "+1", "1e3",
                        "4294967297", "18446744073709551617"}) {
    auto c = ParseMenuChoice(s, 3);
    EXPECT_EQ(c.kind, Kind::kName) << s;
    EXPECT_EQ(c.name, s);
  }
  EXPECT_EQ(ParseMenuChoice("1", 0).kind, Kind::kName) << "an empty list has no numbers";
}

}  // namespace
}  // namespace portcullis::ssh
