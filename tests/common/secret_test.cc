#include "broker/common/secret.h"

#include <gtest/gtest.h>

#include <type_traits>

namespace portcullis {
namespace {

static_assert(!std::is_copy_constructible_v<SecretBytes>);
static_assert(!std::is_copy_assignable_v<SecretBytes>);

TEST(SecretBytesTest, ConstantTimeEquality) {
  auto a = *SecretBytes::FromString("correct horse");
  auto b = *SecretBytes::FromString("correct horse");
  auto c = *SecretBytes::FromString("correct horsf");
  auto d = *SecretBytes::FromString("correct");
  EXPECT_TRUE(a.Equals(b));
  EXPECT_FALSE(a.Equals(c));
  EXPECT_FALSE(a.Equals(d));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

TEST(SecretBytesTest, TakeWipesSource) {
  std::string s = "hunter2";
  auto secret = SecretBytes::Take(s);
  ASSERT_TRUE(secret.ok());
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(secret->Reveal(), "hunter2");
}

TEST(SecretBytesTest, MoveLeavesSourceEmpty) {
  auto a = *SecretBytes::FromString("k");
  SecretBytes b = std::move(a);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(b.size(), 1u);
}

TEST(SecretBytesTest, LengthCapped) {
  EXPECT_FALSE(SecretBytes::FromString(std::string(SecretBytes::kMaxSize + 1, 'a')).ok());
  EXPECT_EQ(SecretBytes::Random(32).size(), 32u);
}

}  // namespace
}  // namespace portcullis
