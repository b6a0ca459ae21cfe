#include "broker/common/encoding.h"

#include <gtest/gtest.h>

namespace portcullis {
namespace {

TEST(EncodingTest, Base64) {
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(*Base64Decode("Zm9vYg=="), "foob");
  EXPECT_FALSE(Base64Decode("Zm9vYg=").ok());
  EXPECT_FALSE(Base64Decode("Zm9v!!==").ok());
}

TEST(EncodingTest, Base32Rfc4648Vectors) {
  EXPECT_EQ(Base32Encode("foobar"), "MZXW6YTBOI");
  EXPECT_EQ(Base32Encode("f"), "MY");
}

TEST(EncodingTest, HexAndSha256) {
  EXPECT_EQ(HexEncode(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_FALSE(HexDecode("zz").ok());
  EXPECT_EQ(*HexDecode("6162"), "ab");
}

}  // namespace
}  // namespace portcullis
