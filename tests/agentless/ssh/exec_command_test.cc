#include "agentless/ssh/exec_command.h"

#include <gtest/gtest.h>

#include <string>

namespace portcullis::ssh {
namespace {

void ExpectScp(const std::string& cmd, FileDirection dir, const std::string& path, bool plain = false) {
  SCOPED_TRACE(cmd);
  ExecCommand e = ClassifyExecCommand(cmd);
  ASSERT_EQ(e.kind, ExecKind::kScp) << ExecKindName(e.kind) << ": " << e.reason;
  EXPECT_EQ(e.scp.direction, dir);
  EXPECT_EQ(e.scp.path, path);
  EXPECT_EQ(e.plain, plain);
}

void ExpectKind(const std::string& cmd, ExecKind kind) {
  ExecCommand e = ClassifyExecCommand(cmd);
  EXPECT_EQ(e.kind, kind) << cmd << " -> " << ExecKindName(e.kind) << ": " << e.reason;
  if (kind == ExecKind::kUncertain) {
    EXPECT_FALSE(e.reason.empty()) << cmd;
  }
}

constexpr auto kUp = FileDirection::kUpload;
constexpr auto kDown = FileDirection::kDownload;

TEST(ExecCommandTest, WhatScpDashOSends) {
  ExpectScp("scp -t /tmp/x", kUp, "/tmp/x", true);
  ExpectScp("scp -f /tmp/f*/x", kDown, "/tmp/f*/x", true);
  ExpectScp("scp -v -r -p -d -t -- /tmp/dir", kUp, "/tmp/dir", true);
  EXPECT_TRUE(ClassifyExecCommand("scp -f /tmp/f*/x").scp.path_is_pattern);
  EXPECT_FALSE(ClassifyExecCommand("scp -t /tmp/x").scp.path_is_pattern);
}

TEST(ExecCommandTest, QuotedProgramName) { ExpectScp("'scp' -t /tmp/x", kUp, "/tmp/x", true); }
TEST(ExecCommandTest, PartlyQuotedProgramName) { ExpectScp("s''cp -t /tmp/x", kUp, "/tmp/x", true); }
TEST(ExecCommandTest, DoubleQuotedProgramName) { ExpectScp("\"scp\" -t /tmp/x", kUp, "/tmp/x", true); }
TEST(ExecCommandTest, EscapedProgramName) { ExpectScp("s\\cp -t /tmp/x", kUp, "/tmp/x", true); }
TEST(ExecCommandTest, Env) { ExpectScp("env scp -t /tmp/x", kUp, "/tmp/x"); }
TEST(ExecCommandTest, EnvWithOptionsAndAssignments) {
  ExpectScp("env -i -u HOME A=1 B=2 /usr/bin/scp -t /tmp/x", kUp, "/tmp/x");
  ExpectScp("env - PATH=/usr/bin scp -f /etc/hosts", kDown, "/etc/hosts");
}
TEST(ExecCommandTest, Assignment) { ExpectScp("A=1 scp -t /tmp/x", kUp, "/tmp/x"); }
TEST(ExecCommandTest, Exec) { ExpectScp("exec scp -t /tmp/x", kUp, "/tmp/x"); }
TEST(ExecCommandTest, ExecWithArgv0) { ExpectScp("exec -a x scp -t /tmp/x", kUp, "/tmp/x"); }
TEST(ExecCommandTest, AbsolutePath) { ExpectScp("/usr/bin/scp -t /tmp/x", kUp, "/tmp/x"); }
TEST(ExecCommandTest, RelativePath) { ExpectScp("./bin/scp -f y", kDown, "y"); }
TEST(ExecCommandTest, Command) { ExpectScp("command scp -t /tmp/x", kUp, "/tmp/x"); }
TEST(ExecCommandTest, CommandDashP) { ExpectScp("command -p scp -t /tmp/x", kUp, "/tmp/x"); }
TEST(ExecCommandTest, Nice) { ExpectScp("nice scp -t /tmp/x", kUp, "/tmp/x"); }
TEST(ExecCommandTest, NiceWithAdjustment) {
  ExpectScp("nice -n 5 scp -t /tmp/x", kUp, "/tmp/x");
  ExpectScp("nice -10 scp -t /tmp/x", kUp, "/tmp/x");
  ExpectScp("nice --adjustment=3 scp -t /tmp/x", kUp, "/tmp/x");
}
TEST(ExecCommandTest, OtherWrappers) {
  ExpectScp("nohup scp -t /tmp/x", kUp, "/tmp/x");
  ExpectScp("setsid -w scp -t /tmp/x", kUp, "/tmp/x");
  ExpectScp("stdbuf -o0 scp -t /tmp/x", kUp, "/tmp/x");
  ExpectScp("timeout -k 5 60 scp -t /tmp/x", kUp, "/tmp/x");
  ExpectScp("time -p scp -t /tmp/x", kUp, "/tmp/x");
  ExpectScp("ionice -c 3 scp -t /tmp/x", kUp, "/tmp/x");
  ExpectScp("busybox scp -t /tmp/x", kUp, "/tmp/x");
  ExpectScp("builtin exec command nice scp -t /tmp/x", kUp, "/tmp/x");
}
TEST(ExecCommandTest, ShDashC) { ExpectScp("sh -c 'scp -t /tmp'", kUp, "/tmp"); }
TEST(ExecCommandTest, ShellsAndOptions) {
  ExpectScp("bash -lc 'scp -t /tmp'", kUp, "/tmp");
  ExpectScp("/bin/dash -e -c \"exec scp -f /etc/hosts\" argv0", kDown, "/etc/hosts");
  ExpectScp("sh -c \"sh -c 'env A=1 scp -t /tmp'\"", kUp, "/tmp");
  ExpectScp("bash -o pipefail -c 'scp -t /tmp'", kUp, "/tmp");
}
TEST(ExecCommandTest, Verbose) { ExpectScp("scp -v -t /tmp/x", kUp, "/tmp/x", true); }
TEST(ExecCommandTest, RedirectionOfStderrOnlyIsStillUncertain) {
  ExpectKind("scp -t /tmp 2>/dev/null", ExecKind::kUncertain);
}

TEST(ExecCommandTest, SftpServers) {
  ExpectKind("/usr/lib/openssh/sftp-server", ExecKind::kSftpServer);
  ExpectKind("exec /usr/lib/sftp-server", ExecKind::kSftpServer);
  ExpectKind("internal-sftp", ExecKind::kSftpServer);
  ExpectKind("/usr/lib/openssh/sftp-server -l INFO -e", ExecKind::kSftpServer);
  ExpectKind("sh -c /usr/libexec/openssh/sftp-server", ExecKind::kSftpServer);
  ExpectKind("env LC_ALL=C '/usr/lib/openssh/sftp-server'", ExecKind::kSftpServer);
}

TEST(ExecCommandTest, NotTakenForScp) {
  for (const char* cmd :
       {"echo scp -t", "grep scp /var/log/auth.log", "ls -l /usr/bin/scp", "id", "uptime",
        "cat /etc/hosts", "printf '%s\\n' 'scp -t /tmp'", "man scp", "command -v scp",
        "echo hi # scp -t /tmp", "which sftp-server", "true", "", "   ", "A=1", "tar cf - /etc",
        "sh", "bash -s", "sh script-about-scp.sh", "journalctl -u ssh | grep scp",
        "echo \"$HOME\"", "ls ~/x", "ls *.log", "echo recorded-$((2*4))",
        "seq $((1 + 2)) 9", "echo $(( (1+2) * 3 ))"}) {
    ExpectKind(cmd, ExecKind::kOther);
  }
}

TEST(ExecCommandTest, UncertainWhereTheTransferCannotBeAudited) {
  for (const char* cmd : {
           "scp -t /tmp; id",                      // list
           "id; scp -t /tmp",                      //
           "scp -t /tmp && id",                    //
           "scp -f /etc/passwd | tee copy",        // pipeline
           "(scp -t /tmp)",                        // subshell
           "{ scp -t /tmp; }",                     // group
           "scp -t /tmp &",                        // background
           "scp -t $(id)",                         // expansion in the path
           "scp -t \"$HOME\"",                     //
           "scp -t `pwd`",                         //
           "$(printf sc)p -t /tmp",                // computed program name
           "${S:-scp} -t /tmp",                    //
           "$'\\x73cp' -t /tmp",                   //
           "/usr/bin/sc? -t /tmp",                 // glob as program
           "echo $(scp -t /tmp)",                  // command substitution
           "echo `scp -t /tmp`",                   //
           "cat <(scp -f /etc/passwd)",            // process substitution
           "sh -c \"$CMD\"",                       // computed nested command
           "sudo scp -t /tmp",                     // runners
           "xargs scp -t < list",                  //
           "find / -exec scp -t {} ;",             //
           "perl -e 'exec q(scp), q(-t), q(/tmp)'",  //
           "python3 -c 'import os; os.system(\"scp -t /tmp\")'",
           "eval scp -t /tmp",                     //
           "env -S 'scp -t /tmp'",                 //
           "rsync --server -e.LsfxC . /tmp",       // rsync itself
           "scp /etc/passwd other:/tmp",           // scp without -t/-f
           "scp -x -t /tmp",                       // unknown option
           "scp -t a b",                           // two paths
           "scp -t '/tmp",                         // unbalanced
           "for f in a; do scp -t /tmp; done",     //
           "if true; then scp -t /tmp; fi",        //
           "sftp-server > /tmp/log",               //
           "/usr/lib/openssh/sftp-server; id",     //
           "nice --bogus scp -t /tmp",             // unknown wrapper option
           "sh <<< 'scp -f /etc/passwd <&3' 3<&0",  // a shell fed commands by a redirection
           "bash -s < run-scp.sh",                 //
           "coproc scp -t /tmp",                   //
           "echo $(( $(scp -t /tmp) ))",           // a substitution inside arithmetic
           "x='a[$(scp -t /tmp)]'; echo $((x))",   // a subscript evaluated by arithmetic
       }) {
    ExpectKind(cmd, ExecKind::kUncertain);
  }
}

TEST(ExecCommandTest, AWrapperOptionWithoutItsArgumentLeavesNoCommand) {
  // Found by fuzzing: the option's argument ran past the last word.
  for (const char* cmd : {"nice -n", "env A=1 nice -n", "timeout --signal", "stdbuf -o",
                          "sh -c 'env A=1 nice -n ) /u1 nice -n'"}) {
    ExpectKind(cmd, ExecKind::kOther);
  }
}

TEST(ExecCommandTest, NestingIsBounded) {
  std::string cmd = "scp -t /tmp";
  for (int i = 0; i < kMaxExecNesting + 2; ++i) {
    std::string q;
    for (char c : cmd) {
      if (c == '\'') {
        q += "'\\''";
      } else {
        q += c;
      }
    }
    cmd = "sh -c '" + q + "'";
  }
  ExpectKind(cmd, ExecKind::kUncertain);
}

TEST(ExecCommandTest, HugeAndControlCharacters) {
  ExpectKind(std::string(kMaxExecCommandLength + 1, 'a'), ExecKind::kOther);
  ExpectKind("scp -t /tmp " + std::string(kMaxExecCommandLength, 'a'), ExecKind::kUncertain);
  ExpectKind(std::string("scp -t /tmp\x01"), ExecKind::kUncertain);
  ExpectKind(std::string("ls\x01"), ExecKind::kOther);
}

TEST(ExecCommandTest, ReasonIsDisplayable) {
  ExecCommand e = ClassifyExecCommand("$'\\x1b[2J'scp -t /tmp \x1b[2J");
  ASSERT_EQ(e.kind, ExecKind::kUncertain);
  EXPECT_EQ(e.reason.find('\x1b'), std::string::npos) << e.reason;
}

}  // namespace
}  // namespace portcullis::ssh
