#include "auth/ca/login_binding.h"

#include <gtest/gtest.h>

namespace portcullis::ca {
namespace {

TEST(LoginBindingTest, RoundTrips) {
  LoginBinding b{"frank", 12, 3};
  EXPECT_EQ(LoginKeyId(b), "portcullis-login:frank/u12/g3");
  auto parsed = ParseLoginKeyId(LoginKeyId(b));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->user, "frank");
  EXPECT_EQ(parsed->user_id, 12);
  EXPECT_EQ(parsed->generation, 3);
}

TEST(LoginBindingTest, RefusesEverythingElse) {
  for (std::string_view bad : {
           "", "portcullis-login:frank",  // issued before bindings existed
           "portcullis-login:/u1/g1", "portcullis-login:frank/u0/g1", "portcullis-login:frank/u1/g0",
           "portcullis-login:frank/u01/g1", "portcullis-login:frank/u1/g1/", "portcullis-login:frank/u1",
           "portcullis-login:frank/g1/u1", "portcullis-login:frank/u1/g1 ", "portcullis-login:frank/u-1/g1",
           "portcullis-login:frank/u1234567890123456789/g1", "other:frank/u1/g1",
           "portcullis-login:frank/ux/g1"}) {
    EXPECT_FALSE(ParseLoginKeyId(bad).ok()) << bad;
  }
  EXPECT_FALSE(ParseLoginKeyId(std::string_view("portcullis-login:fr\0nk/u1/g1", 28)).ok());
}

}  // namespace
}  // namespace portcullis::ca
