#include "agentless/ssh/offset_ordered_hash.h"

#include <gtest/gtest.h>

#include "broker/common/encoding.h"

namespace portcullis::ssh {
namespace {

std::string HexSha(std::string_view s) { return HexEncode(Sha256(s)); }

TEST(Sha256StreamTest, MatchesOneShot) {
  Sha256Stream s;
  s.Update("hello ");
  s.Update("");
  s.Update("world");
  EXPECT_EQ(s.FinishHex(), HexSha("hello world"));
  EXPECT_EQ(Sha256Stream().FinishHex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(OffsetOrderedHashTest, InOrderAndReordered) {
  ReorderBudget budget{1 << 20, 0};
  OffsetOrderedHash h(&budget);
  h.Add(6, "world");
  h.Add(3, "lo ");
  EXPECT_EQ(budget.used, 8u);
  h.Add(0, "hel");
  EXPECT_EQ(budget.used, 0u);
  h.Finish();
  EXPECT_TRUE(h.complete());
  EXPECT_EQ(h.bytes(), 11u);
  EXPECT_EQ(h.sha256_hex(), HexSha("hello world"));
}

TEST(OffsetOrderedHashTest, OverlapWithHeldPieceIsIncomplete) {
  ReorderBudget budget{1 << 20, 0};
  OffsetOrderedHash h(&budget);
  h.Add(5, "abcde");
  h.Add(0, "012345");  // reaches into the held piece
  EXPECT_FALSE(h.complete());
  EXPECT_EQ(budget.used, 0u) << "held bytes are released";
  h.Finish();
  EXPECT_EQ(h.sha256_hex(), "");
  EXPECT_EQ(h.bytes(), 11u);
}

TEST(OffsetOrderedHashTest, OverlapBetweenHeldPiecesIsIncomplete) {
  ReorderBudget budget{1 << 20, 0};
  OffsetOrderedHash h(&budget);
  h.Add(10, "abcde");
  h.Add(12, "xyz");
  EXPECT_FALSE(h.complete());
}

TEST(OffsetOrderedHashTest, PerFileAndSessionCaps) {
  ReorderBudget budget{100, 0};
  OffsetOrderedHash a(&budget, 60);
  a.Add(10, std::string(50, 'a'));
  EXPECT_TRUE(a.complete());
  a.Add(60, std::string(20, 'a'));  // 70 > 60 per file
  EXPECT_FALSE(a.complete());
  EXPECT_EQ(budget.used, 0u);

  OffsetOrderedHash b(&budget, 60), c(&budget, 60);
  b.Add(10, std::string(60, 'b'));
  c.Add(10, std::string(41, 'c'));  // 60 + 41 > 100 for the session
  EXPECT_TRUE(b.complete());
  EXPECT_FALSE(c.complete());
  EXPECT_EQ(budget.used, 60u);
}

TEST(OffsetOrderedHashTest, DestructorReturnsBudget) {
  ReorderBudget budget{100, 0};
  {
    OffsetOrderedHash h(&budget);
    h.Add(10, "abc");
    EXPECT_EQ(budget.used, 3u);
  }
  EXPECT_EQ(budget.used, 0u);
}

TEST(OffsetOrderedHashTest, OffsetOverflowIsIncomplete) {
  ReorderBudget budget{100, 0};
  OffsetOrderedHash h(&budget);
  h.Add(UINT64_MAX - 1, "abc");
  EXPECT_FALSE(h.complete());
}

}  // namespace
}  // namespace portcullis::ssh
