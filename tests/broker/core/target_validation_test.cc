#include "broker/core/target_validation.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>

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

TEST(TargetValidationTest, CertificatePins) {
  const std::string hex = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
  const std::string pin = "x509-sha256 " + hex;
  std::string colons;
  for (size_t i = 0; i < hex.size(); i += 2) {
    if (i) colons += ':';
    colons += static_cast<char>(std::toupper(static_cast<unsigned char>(hex[i])));
    colons += static_cast<char>(std::toupper(static_cast<unsigned char>(hex[i + 1])));
  }
  EXPECT_EQ(*NormaliseCertificatePin(pin), pin);
  EXPECT_EQ(*NormaliseCertificatePin(hex), pin);
  EXPECT_EQ(*NormaliseCertificatePin("sha256 Fingerprint=" + colons), pin);  // openssl x509
  EXPECT_EQ(*NormaliseCertificatePin("SHA256 Fingerprint=" + colons + "\n"), pin);
  EXPECT_EQ(*NormaliseCertificatePin(" " + colons), pin);
  EXPECT_FALSE(NormaliseCertificatePin("ssh-ed25519 AAAA").ok());
  EXPECT_FALSE(NormaliseCertificatePin(hex.substr(2)).ok());
  EXPECT_FALSE(NormaliseCertificatePin(hex + "00").ok());
  EXPECT_FALSE(NormaliseCertificatePin("").ok());
}

}  // namespace
}  // namespace portcullis::core
