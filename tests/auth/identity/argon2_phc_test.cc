#include "auth/identity/argon2_phc.h"

#include <string>

#include <gtest/gtest.h>

namespace portcullis::auth {
namespace {

constexpr char kSalt[] = "c29tZXNhbHRzb21lc2FsdA";                       // 16 bytes
constexpr char kTag[] = "dGFnLXRhZy10YWctdGFnLXRhZy10YWctdGFnLXRhZyE";  // 32 bytes

std::string Phc(const std::string& params) {
  return "$argon2id$v=19$" + params + "$" + kSalt + "$" + kTag;
}

TEST(Argon2PhcTest, ParsesLibargon2Output) {
  auto h = ParseArgon2idPhc(Phc("m=19456,t=2,p=1"));
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->m_cost_kib, 19456u);
  EXPECT_EQ(h->t_cost, 2u);
  EXPECT_EQ(h->parallelism, 1u);
  EXPECT_EQ(h->salt_b64_len, 22u);
  EXPECT_EQ(h->hash_b64_len, 43u);
}

TEST(Argon2PhcTest, RefusesOtherVariantsAndVersions) {
  for (std::string bad : {
           std::string("$argon2i$v=19$m=19456,t=2,p=1$") + kSalt + "$" + kTag,
           std::string("$argon2d$v=19$m=19456,t=2,p=1$") + kSalt + "$" + kTag,
           std::string("$argon2id$v=16$m=19456,t=2,p=1$") + kSalt + "$" + kTag,
           std::string("$argon2id$m=19456,t=2,p=1$") + kSalt + "$" + kTag,
           std::string("$2b$12$abcdefghijklmnopqrstuv"),
       }) {
    EXPECT_FALSE(ParseArgon2idPhc(bad).ok()) << bad;
  }
}

TEST(Argon2PhcTest, RefusesMalformedShapes) {
  for (std::string bad : {
           std::string(""),
           std::string("$"),
           std::string("$argon2id$v=19$"),
           Phc("m=19456,t=2"),
           Phc("t=2,m=19456,p=1"),
           Phc("m=019456,t=2,p=1"),
           Phc("m=-1,t=2,p=1"),
           Phc("m=19456,t=2,p=1,x=3"),
           Phc("m=99999999999,t=2,p=1"),
           std::string("$argon2id$v=19$m=19456,t=2,p=1$") + kSalt + "$" + kTag + "=",
           std::string("$argon2id$v=19$m=19456,t=2,p=1$") + kSalt + "$" + kTag + "$",
           std::string("$argon2id$v=19$m=19456,t=2,p=1$") + kSalt,
           std::string("$argon2id$v=19$m=19456,t=2,p=1$$") + kTag,
           std::string("$argon2id$v=19$m=19456,t=2,p=1$abc$") + kTag,  // salt < 8 bytes
           std::string("$argon2id$v=19$m=19456,t=2,p=1$") + kSalt + "$A",
           std::string("$argon2id$v=19$m=19456,t=2,p=1$") + kSalt + std::string(1, '\0') + "$" +
               kTag,
           Phc("m=19456,t=2,p=1") + std::string(300, 'A'),
       }) {
    EXPECT_FALSE(ParseArgon2idPhc(bad).ok()) << bad;
  }
}

TEST(Argon2PhcTest, RefusesExcessiveCosts) {
  EXPECT_TRUE(ParseArgon2idPhc(Phc("m=1048576,t=10,p=16")).ok());
  EXPECT_FALSE(ParseArgon2idPhc(Phc("m=1048577,t=2,p=1")).ok());  // > 1 GiB
  EXPECT_FALSE(ParseArgon2idPhc(Phc("m=4294967295,t=2,p=1")).ok());
  EXPECT_FALSE(ParseArgon2idPhc(Phc("m=19456,t=11,p=1")).ok());
  EXPECT_FALSE(ParseArgon2idPhc(Phc("m=19456,t=0,p=1")).ok());
  EXPECT_FALSE(ParseArgon2idPhc(Phc("m=19456,t=2,p=17")).ok());
  EXPECT_FALSE(ParseArgon2idPhc(Phc("m=19456,t=2,p=0")).ok());
  EXPECT_FALSE(ParseArgon2idPhc(Phc("m=15,t=2,p=2")).ok());  // m < 8p
}

}  // namespace
}  // namespace portcullis::auth
