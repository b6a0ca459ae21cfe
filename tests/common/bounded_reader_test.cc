#include "broker/common/bounded_reader.h"

#include <gtest/gtest.h>

namespace portcullis {
namespace {

TEST(BoundedReaderTest, ReadsSshWireTypes) {
  WireWriter w;
  w.U8(7).U32(0xdeadbeef).U64(0x0102030405060708ULL).String("hello").Bool(true);
  BoundedReader r(w.data());
  EXPECT_EQ(*r.U8(), 7);
  EXPECT_EQ(*r.U32(), 0xdeadbeefu);
  EXPECT_EQ(*r.U64(), 0x0102030405060708ULL);
  EXPECT_EQ(*r.String(), "hello");
  EXPECT_TRUE(*r.Bool());
  EXPECT_TRUE(r.Finish().ok());
}

TEST(BoundedReaderTest, TruncatedIntegerIsError) {
  BoundedReader r(std::string_view("\x00\x01", 2));
  EXPECT_FALSE(r.U32().ok());
}

TEST(BoundedReaderTest, StringLongerThanInputIsError) {
  WireWriter w;
  w.U32(100).Raw("abc");
  BoundedReader r(w.data());
  EXPECT_EQ(r.String().status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(r.position(), 0u);  // failed read consumes nothing
}

TEST(BoundedReaderTest, StringOverCapIsError) {
  WireWriter w;
  w.String(std::string(100, 'a'));
  BoundedReader r(w.data());
  EXPECT_EQ(r.String(10).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(BoundedReaderTest, TrailingBytesRefused) {
  WireWriter w;
  w.U32(1).U8(0);
  BoundedReader r(w.data());
  ASSERT_TRUE(r.U32().ok());
  EXPECT_FALSE(r.Finish().ok());
}

TEST(BoundedReaderTest, EmbeddedNulRefusedInText) {
  WireWriter w;
  w.String(std::string("ab\0cd", 5));
  BoundedReader r(w.data());
  EXPECT_FALSE(r.Text().ok());
}

TEST(BoundedReaderTest, InvalidUtf8RefusedInText) {
  WireWriter w;
  w.String("\xc0\xaf");  // overlong '/'
  BoundedReader r(w.data());
  EXPECT_FALSE(r.Text().ok());
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("\xc3\xa9t\xc3\xa9"));
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));  // surrogate
}

TEST(BoundedReaderTest, OversizedInputRefused) {
  std::string big(100, 'x');
  BoundedReader r(big, 10);
  EXPECT_FALSE(r.U8().ok());
  EXPECT_FALSE(r.Finish().ok());
}

}  // namespace
}  // namespace portcullis
