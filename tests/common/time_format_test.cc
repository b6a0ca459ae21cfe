#include "broker/common/time_format.h"

#include <gtest/gtest.h>

namespace portcullis {
namespace {

TEST(TimeFormatTest, RoundTripUtc) {
  auto t = ParseUtc("2026-11-23T09:00:00Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(ToUnix(*t), 1795424400);
  EXPECT_EQ(FormatUtc(*t), "2026-11-23T09:00:00Z");
  EXPECT_EQ(ToUnix(*ParseUtc("2026-11-23T10:00:00+01:00")), 1795424400);
  EXPECT_EQ(ToUnix(*ParseUtc("2026-11-23")), 1795392000);
  EXPECT_FALSE(ParseUtc("yesterday").ok());
}

TEST(TimeFormatTest, Durations) {
  EXPECT_EQ(ParseDuration("30s")->count(), 30);
  EXPECT_EQ(ParseDuration("15m")->count(), 900);
  EXPECT_EQ(ParseDuration("1h30m")->count(), 5400);
  EXPECT_EQ(ParseDuration("7d")->count(), 604800);
  EXPECT_FALSE(ParseDuration("").ok());
  EXPECT_FALSE(ParseDuration("5").ok());
  EXPECT_FALSE(ParseDuration("5x").ok());
  EXPECT_FALSE(ParseDuration("0s").ok());
  EXPECT_FALSE(ParseDuration("99999999d").ok());
  EXPECT_EQ(FormatDuration(std::chrono::seconds(5400)), "1h30m");
}

}  // namespace
}  // namespace portcullis
