#include "broker/audit/audit_anchor.h"

#include <gtest/gtest.h>

namespace portcullis::audit {
namespace {

const std::string kHash(64, 'a');

TEST(AuditAnchorTest, RoundTrip) {
  const std::string text = FormatAuditAnchor({42, kHash});
  EXPECT_EQ(text, "42 " + kHash + "\n");
  auto a = ParseAuditAnchor(text);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->seq, 42);
  EXPECT_EQ(a->hash, kHash);
  EXPECT_TRUE(ParseAuditAnchor("42 " + kHash).ok());  // final newline optional
}

TEST(AuditAnchorTest, RejectsMalformed) {
  for (const std::string& bad : {
           std::string(""),
           std::string("\n"),
           "42" + kHash,
           "42  " + kHash,
           "042 " + kHash,
           "0 " + kHash,
           "-1 " + kHash,
           "+1 " + kHash,
           "1 " + std::string(63, 'a'),
           "1 " + std::string(65, 'a'),
           "1 " + std::string(64, 'A'),
           "1 " + kHash + "\n\n",
           "1 " + kHash + " ",
           "1234567890123456789 " + kHash,
           std::string("1\0 ", 3) + kHash,
       }) {
    EXPECT_FALSE(ParseAuditAnchor(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace portcullis::audit
