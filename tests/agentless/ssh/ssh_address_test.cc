#include "agentless/ssh/ssh_address.h"

#include <gtest/gtest.h>

#include <string>

namespace portcullis::ssh {
namespace {

struct Valid {
  std::string in, user, login, target;
};

TEST(SshAddressTest, ValidForms) {
  const Valid cases[] = {
      {"bob", "bob", "", ""},
      {"bob:rtu-01", "bob", "", "rtu-01"},
      {"bob:maint@rtu-01", "bob", "maint", "rtu-01"},
      {"a", "a", "", ""},
      {"j.doe_2-x:7plc.site-a_1", "j.doe_2-x", "", "7plc.site-a_1"},
      {"bob:Administrator@hmi-3", "bob", "Administrator", "hmi-3"},
      {"bob:_svc.x-1@h", "bob", "_svc.x-1", "h"},
      {std::string("u") + std::string(31, 'x'), std::string("u") + std::string(31, 'x'), "", ""},
      {"bob:" + std::string(63, 't'), "bob", "", std::string(63, 't')},
      {"bob:L" + std::string(63, 'l') + "@t", "bob", "L" + std::string(63, 'l'), "t"},
  };
  for (const auto& c : cases) {
    auto a = ParseSshAddress(c.in);
    ASSERT_TRUE(a.ok()) << c.in << ": " << a.status();
    EXPECT_EQ(a->user, c.user) << c.in;
    EXPECT_EQ(a->login, c.login) << c.in;
    EXPECT_EQ(a->target, c.target) << c.in;
  }
}

struct Invalid {
  std::string in;
  std::string why;  // substring of the error message
};

TEST(SshAddressTest, InvalidForms) {
  const Invalid cases[] = {
      {"", "empty"},
      {"bob:", "empty target"},
      {":rtu", "empty user"},
      {"bob:@rtu", "empty login"},
      {"bob:maint@", "empty target"},
      {"bob@rtu", "'@' without a target"},
      {"bob:a:b", "more than one ':'"},
      {"bob:a@b@c", "more than one '@'"},
      {"bob@x:y", "'@' before ':'"},
      {"Bob", "user must be"},
      {"1bob", "user must be"},
      {std::string("u") + std::string(32, 'x'), "user must be"},
      {"bob:RTU", "target must be"},
      {"bob:-rtu", "target must be"},
      {"bob:" + std::string(64, 't'), "target must be"},
      {"bob:1maint@rtu", "login must be"},
      {"bob:ma$int@rtu", "login must be"},
      {"bob:L" + std::string(64, 'l') + "@t", "login must be"},
      {"bob rtu", "whitespace"},
      {"bob:\trtu", "whitespace"},
      {std::string("bob:rt\0u", 8), "control"},
      {"bob:rtu\x7f", "control"},
      {"bob:rtu\n", "control"},
      {"b\xc3\xa9" "b", "user must be"},
      {std::string(257, 'a'), "longer than 256"},
  };
  for (const auto& c : cases) {
    auto a = ParseSshAddress(c.in);
    ASSERT_FALSE(a.ok()) << "accepted: " << c.in;
    EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(a.status().message()).find(c.why), std::string::npos)
        << c.in << " -> " << a.status();
  }
}

TEST(SshAddressTest, ErrorEchoesSanitizedTruncatedInput) {
  std::string evil = "bob:\x1b[31mred\x07";
  auto a = ParseSshAddress(evil);
  ASSERT_FALSE(a.ok());
  const std::string msg(a.status().message());
  EXPECT_EQ(msg.find('\x1b'), std::string::npos);
  EXPECT_EQ(msg.find('\x07'), std::string::npos);
  EXPECT_NE(msg.find("bob:?[31mred?"), std::string::npos) << msg;

  auto long_input = ParseSshAddress(std::string(200, 'a') + ":");
  ASSERT_FALSE(long_input.ok());
  const std::string long_msg(long_input.status().message());
  EXPECT_NE(long_msg.find(std::string(64, 'a') + "..."), std::string::npos) << long_msg;
  EXPECT_EQ(long_msg.find(std::string(65, 'a')), std::string::npos);
}

}  // namespace
}  // namespace portcullis::ssh
