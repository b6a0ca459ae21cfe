#include "agentless/ssh/scp_command.h"

#include <gtest/gtest.h>

namespace portcullis::ssh {
namespace {

TEST(ScpCommandTest, OpenSshLegacyCommands) {
  auto up = ParseScpCommand("scp -t /tmp/in");
  ASSERT_TRUE(up.ok()) << up.status();
  EXPECT_EQ(up->direction, FileDirection::kUpload);
  EXPECT_EQ(up->path, "/tmp/in");
  EXPECT_FALSE(up->recursive);
  EXPECT_FALSE(up->has_shell_syntax);

  auto down = ParseScpCommand("scp -v -r -p -f -- -odd name");
  ASSERT_FALSE(down.ok()) << "two path words";
  down = ParseScpCommand("scp -v -r -p -f -- '-odd name'");
  ASSERT_TRUE(down.ok()) << down.status();
  EXPECT_EQ(down->direction, FileDirection::kDownload);
  EXPECT_EQ(down->path, "-odd name");
  EXPECT_TRUE(down->recursive);
  EXPECT_TRUE(down->preserve);

  auto combined = ParseScpCommand("/usr/bin/scp -rdt dir");
  ASSERT_TRUE(combined.ok());
  EXPECT_TRUE(combined->target_is_dir);
  EXPECT_TRUE(combined->recursive);
  EXPECT_EQ(combined->direction, FileDirection::kUpload);
}

TEST(ScpCommandTest, QuotingAndShellSyntax) {
  auto q = ParseScpCommand(R"(scp -f "my dir/a\"b" )");
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->path, "my dir/a\"b");
  EXPECT_FALSE(q->has_shell_syntax);

  auto esc = ParseScpCommand(R"(scp -f a\ b)");
  ASSERT_TRUE(esc.ok());
  EXPECT_EQ(esc->path, "a b");

  auto glob = ParseScpCommand("scp -f /var/log/*.log");
  ASSERT_TRUE(glob.ok());
  EXPECT_FALSE(glob->has_shell_syntax) << "globs are expected with -f";

  for (const char* cmd : {"scp -t /tmp;reboot", "scp -t $(id)", "scp -t `id`", "scp -t a|b", "scp -t \"$HOME\""}) {
    auto s = ParseScpCommand(cmd);
    ASSERT_TRUE(s.ok()) << cmd << ": " << s.status();
    EXPECT_TRUE(s->has_shell_syntax) << cmd;
  }
  auto quoted = ParseScpCommand("scp -t 'a;b$c'");
  ASSERT_TRUE(quoted.ok());
  EXPECT_FALSE(quoted->has_shell_syntax);
  EXPECT_EQ(quoted->path, "a;b$c");
}

TEST(ScpCommandTest, Refused) {
  const char* bad[] = {
      "",                    "ls -t /tmp",        "scp /tmp",        "scp -t -f /tmp", "scp -t",
      "scp -t a b",          "scp -x -t /tmp",    "scp -t 'open",    "scp -t \"open",  "scp -t a\\",
      "scp -t ''",           "notscp -t /tmp",    "xscp -t /tmp",
  };
  for (const char* cmd : bad) {
    EXPECT_FALSE(ParseScpCommand(cmd).ok()) << cmd;
  }
  EXPECT_FALSE(ParseScpCommand(std::string("scp -t a\x01")).ok());
  EXPECT_FALSE(ParseScpCommand("scp -t " + std::string(kMaxScpCommandLength, 'a')).ok());
}

TEST(ScpCommandTest, ErrorIsSanitized) {
  auto s = ParseScpCommand("evil\x1b[2J -t x");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(std::string(s.status().message()).find('\x1b'), std::string::npos);
}

}  // namespace
}  // namespace portcullis::ssh
