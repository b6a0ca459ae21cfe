#include "broker/core/target_validation.h"

#include <gtest/gtest.h>

namespace portcullis::core {
namespace {

TEST(TargetValidationTest, Names) {
  EXPECT_TRUE(ValidateTargetName("rtu-01").ok());
  EXPECT_TRUE(ValidateTargetName("plc.09_a").ok());
  EXPECT_FALSE(ValidateTargetName("").ok());
  EXPECT_FALSE(ValidateTargetName("RTU").ok());
  EXPECT_FALSE(ValidateTargetName("rtu:1").ok());
  EXPECT_FALSE(ValidateTargetName("rtu@x").ok());
  EXPECT_FALSE(ValidateTargetName(std::string(64, 'a')).ok());
}

TEST(TargetValidationTest, Addresses) {
  EXPECT_EQ(*NormaliseTargetAddress("127.0.0.1:2022"), "127.0.0.1:2022");
  EXPECT_EQ(*NormaliseTargetAddress("[::1]:22"), "[::1]:22");
  EXPECT_FALSE(NormaliseTargetAddress("127.0.0.1:0").ok());
  EXPECT_FALSE(NormaliseTargetAddress("127.0.0.1").ok());
}

TEST(TargetValidationTest, Labels) {
  EXPECT_TRUE(ValidateLabel("site", "plant-a").ok());
  EXPECT_FALSE(ValidateLabel("", "x").ok());
  EXPECT_FALSE(ValidateLabel("a b", "x").ok());
  EXPECT_FALSE(ValidateLabel("k", std::string(64, 'v')).ok());
}

TEST(TargetValidationTest, HostKeys) {
  const std::string line =
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICY2DMglhABwb+oTXxijpm1EH3LOalKocIqS6UbkgrMT host";
  EXPECT_EQ(*NormaliseHostKeyLine(line),
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICY2DMglhABwb+oTXxijpm1EH3LOalKocIqS6UbkgrMT");
  // Type does not match the blob.
  EXPECT_FALSE(NormaliseHostKeyLine(
                   "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAICY2DMglhABwb+oTXxijpm1EH3LOalKocIqS6UbkgrMT")
                   .ok());
  EXPECT_FALSE(NormaliseHostKeyLine("ssh-dss AAAA").ok());
  EXPECT_FALSE(NormaliseHostKeyLine("ssh-ed25519 !!!!").ok());
  EXPECT_FALSE(NormaliseHostKeyLine("garbage").ok());
}

}  // namespace
}  // namespace portcullis::core
