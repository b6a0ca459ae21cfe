// File transfers started through an exec channel, with the real ssh, scp
// and sftp clients through the broker to a real sshd: scp -t / -f however
// the command spells it, sftp -s / -D with an sftp-server path, commands
// that may transfer files but cannot be audited, the role option
// `exec: false`, and the per-file names of scp globs and recursive copies.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "tests/integration/ssh_test_env.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kSftpServer[] = "/usr/lib/openssh/sftp-server";

class SshExecTransferTest : public SshTest {
 protected:
  void SetUp() override {
    SshTest::SetUp();
    if (::access(kSftpServer, X_OK) != 0) GTEST_SKIP() << kSftpServer << " is not installed";
  }

  std::vector<std::string> WithOptions(std::vector<std::string> argv) {
    std::vector<std::string> out;
    out.push_back(argv[0]);
    for (const auto& o : ClientOptions()) out.push_back(o);
    out.insert(out.end(), argv.begin() + 1, argv.end());
    return out;
  }
  std::vector<std::string> Scp(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"scp", "-q", "-P", std::to_string(ssh_port())};
    for (const auto& o : ClientOptions()) argv.push_back(o);
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }
  // The file.transfer row of `user` for `path`, checked like the other
  // transfer tests (size, SHA-256, via).
  std::optional<nlohmann::json> ExpectTransferRow(const SshUser& user, const std::string& path,
                                                  const std::string& direction,
                                                  const std::string& data, const std::string& via) {
    auto e = WaitForEvent("file.transfer", [&](const nlohmann::json& ev) {
      return ev["actor"] == user.name && DetailIs(ev, "path", path);
    });
    EXPECT_TRUE(e.has_value()) << "no file.transfer of " << path << " by " << user.name << "\n"
                               << DumpEvents("file.");
    if (!e) return e;
    EXPECT_EQ((*e)["outcome"], "success") << e->dump();
    EXPECT_TRUE(DetailIs(*e, "direction", direction)) << e->dump();
    EXPECT_EQ((*e)["details"].value("size", uint64_t{0}), data.size()) << e->dump();
    EXPECT_TRUE(DetailIs(*e, "sha256", Sha256Hex(data))) << e->dump();
    EXPECT_TRUE(DetailIs(*e, "via", via)) << e->dump();
    return e;
  }
  std::string MakeDir(const std::string& name) {
    const std::string d = broker().Join(name);
    EXPECT_EQ(::mkdir(d.c_str(), 0700), 0) << d;
    return d;
  }
};

// What `scp -O` sends to an "scp -t DIR" sink: one 6-byte file.
constexpr char kUploadStream[] = "C0644 6 up.txt\nhello\n";

TEST_F(SshExecTransferTest, DisguisedScpUploadsAreRefusedLikeScp) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  ASSERT_NO_FATAL_FAILURE(ApplyRole(OpsRoleYaml("readers", login(), "download")));
  const std::string dir = MakeDir("drop");
  const std::string stream = std::string(kUploadStream) + std::string(1, '\0');
  const std::vector<std::string> spellings = {
      "'scp' -t {}",   "env scp -t {}",     "A=1 scp -t {}",          "exec scp -t {}",
      "/usr/bin/scp -t {}", "command scp -t {}", "nice scp -t {}", "sh -c 'scp -t {}'",
      "scp -v -t {}",  "env -i nice -n 5 /usr/bin/scp -t {}", "bash -c \"exec 'scp' -t {}\"",
  };
  for (const std::string& spelling : spellings) {
    SCOPED_TRACE(spelling);
    const std::string cmd = fmt::format(fmt::runtime(spelling), dir);
    SshUser u = NewUser({"readers"});
    CommandResult r = Ssh(u, u.name + ":rtu-01", {cmd}, stream);
    EXPECT_EQ(r.exit_code, 1) << Describe(r);
    EXPECT_THAT(r.err,
                HasSubstr("portcullis: upload denied by policy (role file_transfer: download)"))
        << Describe(r);
    EXPECT_NE(::access((dir + "/up.txt").c_str(), F_OK), 0) << "the file must not reach the target";
    auto refusal = WaitForEvent("policy.decision", [&](const nlohmann::json& e) {
      return e["actor"] == u.name && e["outcome"] == "denied" && DetailIs(e, "direction", "upload");
    });
    ASSERT_TRUE(refusal.has_value()) << DumpEvents("policy.");
    EXPECT_TRUE(DetailIs(*refusal, "path", dir)) << refusal->dump();
  }
}

TEST_F(SshExecTransferTest, DisguisedScpDownloadsAreAuditedLikeScp) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  ASSERT_NO_FATAL_FAILURE(ApplyRole(OpsRoleYaml("readers", login(), "download")));
  const std::string file = broker().Join("on-target.bin");
  const std::string data = PseudoRandomBytes(70'001, 7);
  ASSERT_TRUE(WriteWholeFile(file, data).ok());
  for (const char* spelling :
       {"sh -c 'env A=1 scp -f {}'", "/usr/bin/scp -f {}", "'scp' -f {}"}) {
    SCOPED_TRACE(spelling);
    SshUser u = NewUser({"readers"});
    // The sink's answers: before the first record, to the C record, after the data.
    CommandResult r = Ssh(u, u.name + ":rtu-01", {fmt::format(fmt::runtime(spelling), file)},
                          std::string(3, '\0'));
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    EXPECT_THAT(r.out, HasSubstr(fmt::format("C0644 {} on-target.bin\n", data.size())));
    ExpectTransferRow(u, file, "download", data, "scp");
  }
}

TEST_F(SshExecTransferTest, CommandsThatMayTransferButCannotBeAuditedAreRefused) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  ASSERT_NO_FATAL_FAILURE(ApplyRole(OpsRoleYaml("readers", login(), "download")));
  const std::string dir = MakeDir("drop");
  const std::string stream = std::string(kUploadStream) + std::string(1, '\0');
  for (const char* spelling :
       {"scp -t {}; true", "echo $(scp -t {})", "X=scp; $X -t {}", "sudo -n scp -t {}"}) {
    SCOPED_TRACE(spelling);
    const std::string cmd = fmt::format(fmt::runtime(spelling), dir);
    SshUser u = NewUser({"readers"});
    CommandResult r = Ssh(u, u.name + ":rtu-01", {cmd}, stream);
    EXPECT_EQ(r.exit_code, 1) << Describe(r);
    EXPECT_THAT(r.err, HasSubstr("portcullis: this command may transfer files in a way the "
                                 "broker cannot audit; refused (role file_transfer: download)"))
        << Describe(r);
    EXPECT_NE(::access((dir + "/up.txt").c_str(), F_OK), 0);
    auto row = WaitForEvent("file.refused", [&](const nlohmann::json& e) {
      return e["actor"] == u.name && DetailIs(e, "command", cmd);
    });
    ASSERT_TRUE(row.has_value()) << DumpEvents("file.");
    EXPECT_EQ((*row)["outcome"], "denied");
  }
  // Words that only mention scp are an ordinary command.
  SshUser u = NewUser({"readers"});
  CommandResult r = Ssh(u, u.name + ":rtu-01", {"echo scp -t /tmp"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "scp -t /tmp\n") << Describe(r);
}

TEST_F(SshExecTransferTest, SftpClientWithAnSftpServerPathGoesThroughTheSftpAuditor) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  ASSERT_NO_FATAL_FAILURE(ApplyRole(OpsRoleYaml("readers", login(), "download")));
  const std::string local = broker().Join("fw.bin");
  const std::string remote_new = broker().Join("uploaded.bin");
  const std::string remote = broker().Join("on-target.bin");
  const std::string payload = PseudoRandomBytes(200'003, 9);
  ASSERT_TRUE(WriteWholeFile(local, PseudoRandomBytes(1000, 8)).ok());
  ASSERT_TRUE(WriteWholeFile(remote, payload).ok());
  const std::string port = std::to_string(ssh_port());

  // -s PATH: sftp asks ssh to run PATH as a command. -D CMD: sftp runs CMD
  // (here an ssh that runs the sftp-server) instead of ssh.
  std::string inner_ssh = "ssh -p " + port;
  for (const auto& o : ClientOptions()) inner_ssh += " " + o;
  int n = 0;
  for (bool direct : {false, true}) {
    SCOPED_TRACE(direct ? "sftp -D" : "sftp -s");
    SshUser u = NewUser({"readers"});
    const std::string fetched = broker().Join(fmt::format("fetched-{}.bin", n++));
    std::vector<std::string> argv;
    if (direct) {
      argv = {"sftp", "-D",
              fmt::format("{} {}:rtu-01@127.0.0.1 {}", inner_ssh, u.name, kSftpServer)};
    } else {
      argv = WithOptions({"sftp", "-P", port, "-s", kSftpServer, u.name + "+rtu-01@127.0.0.1"});
    }
    CommandResult s = Client(
        u, argv, fmt::format("put {} {}\nget {} {}\nbye\n", local, remote_new, remote, fetched));
    EXPECT_THAT(s.err, HasSubstr("Permission denied")) << Describe(s);
    EXPECT_NE(::access(remote_new.c_str(), F_OK), 0) << "the upload must not reach the target";
    auto got = ReadWholeFile(fetched);
    ASSERT_TRUE(got.ok()) << Describe(s);
    EXPECT_EQ(Sha256Hex(*got), Sha256Hex(payload));
    ExpectTransferRow(u, remote, "download", payload, "sftp");
    auto refused = WaitForEvent("policy.decision", [&](const nlohmann::json& e) {
      return e["actor"] == u.name && e["outcome"] == "denied" && DetailIs(e, "request", "sftp");
    });
    ASSERT_TRUE(refused.has_value()) << DumpEvents("policy.");
    EXPECT_TRUE(DetailIs(*refused, "path", remote_new)) << refused->dump();
  }
}

TEST_F(SshExecTransferTest, ExecFalseRefusesCommandsButAllowsShellsAndScp) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  ASSERT_NO_FATAL_FAILURE(
      ApplyRole(OpsRoleYaml("shell-only", login(), "download") + "options:\n  exec: false\n"));
  SshUser a = NewUser({"shell-only"});
  CommandResult r = Ssh(a, a.name + ":rtu-01", {"id"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(r.out, "") << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("portcullis: exec commands are not allowed (role shell-only exec: "
                               "false)"))
      << Describe(r);
  auto row = WaitForEvent("policy.decision", [&](const nlohmann::json& e) {
    return e["actor"] == a.name && DetailIs(e, "request", "exec");
  });
  ASSERT_TRUE(row.has_value()) << DumpEvents("policy.");
  EXPECT_EQ((*row)["outcome"], "denied");
  EXPECT_TRUE(DetailIs(*row, "command", "id")) << row->dump();
  EXPECT_TRUE(DetailIs(*row, "reason", "role shell-only exec: false")) << row->dump();

  // A disguised scp is an exec like any other.
  SshUser b = NewUser({"shell-only"});
  const std::string file = broker().Join("on-target.bin");
  const std::string data = PseudoRandomBytes(5000, 5);
  ASSERT_TRUE(WriteWholeFile(file, data).ok());
  CommandResult d = Ssh(b, b.name + ":rtu-01", {"env scp -f " + file}, std::string(3, '\0'));
  EXPECT_EQ(d.exit_code, 1) << Describe(d);
  EXPECT_THAT(d.err, HasSubstr("exec: false")) << Describe(d);

  // The interactive shell works.
  SshUser c = NewUser({"shell-only"});
  auto ssh = SshOnPty(c, c.name + ":rtu-01", {});
  ASSERT_NE(ssh, nullptr);
  ASSERT_TRUE(ssh->Write("echo shell-$((6*7))\r"));
  EXPECT_TRUE(ssh->ReadUntil("shell-42")) << ssh->output();
  ASSERT_TRUE(ssh->Write("exit 0\r"));
  auto code = ssh->WaitExit(std::chrono::seconds(20));
  ASSERT_TRUE(code.has_value()) << ssh->output();
  EXPECT_EQ(*code, 0) << ssh->output();

  // scp -O (what it sends is governed by file_transfer) and sftp still work.
  SshUser e = NewUser({"shell-only"});
  const std::string local_dir = MakeDir("local");
  CommandResult s = Client(
      e, Scp({"-O", "-o", "User=" + e.name + ":rtu-01", "127.0.0.1:" + file, local_dir}));
  ASSERT_EQ(s.exit_code, 0) << Describe(s);
  ExpectTransferRow(e, file, "download", data, "scp");
  SshUser f = NewUser({"shell-only"});
  CommandResult m = Client(f, Scp({f.name + "+rtu-01@127.0.0.1:" + file, local_dir + "/again"}));
  ASSERT_EQ(m.exit_code, 0) << Describe(m);
  ExpectTransferRow(f, file, "download", data, "sftp");
}

TEST_F(SshExecTransferTest, ScpGlobDownloadNamesEachFile) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  const std::string root = MakeDir("logs");
  MakeDir("logs/f1");
  MakeDir("logs/f2");
  const std::string one = PseudoRandomBytes(10'007, 11);
  const std::string two = PseudoRandomBytes(20'011, 12);
  ASSERT_TRUE(WriteWholeFile(root + "/f1/x", one).ok());
  ASSERT_TRUE(WriteWholeFile(root + "/f2/x", two).ok());
  const std::string pattern = root + "/f*/x";
  int n = 0;
  for (bool legacy : {true, false}) {
    SCOPED_TRACE(legacy ? "scp -O" : "scp (SFTP)");
    SshUser u = NewUser();
    const std::string local = MakeDir(fmt::format("local-{}", n++));
    CommandResult r =
        legacy ? Client(u, Scp({"-O", "-o", "User=" + u.name + ":rtu-01", "127.0.0.1:" + pattern,
                                local}))
               : Client(u, Scp({u.name + "+rtu-01@127.0.0.1:" + pattern, local}));
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
    const char* via = legacy ? "scp" : "sftp";
    auto e1 = ExpectTransferRow(u, root + "/f1/x", "download", one, via);
    auto e2 = ExpectTransferRow(u, root + "/f2/x", "download", two, via);
    if (legacy && e1 && e2) {
      EXPECT_TRUE(DetailIs(*e1, "pattern", pattern)) << e1->dump();
      EXPECT_TRUE(DetailIs(*e2, "pattern", pattern)) << e2->dump();
    }
  }
}

TEST_F(SshExecTransferTest, RecursiveScpUploadNamesEachFileWithItsDirectory) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  const std::string tree = MakeDir("tree");
  MakeDir("tree/sub");
  const std::string a = PseudoRandomBytes(3001, 13);
  const std::string b = PseudoRandomBytes(4001, 14);
  ASSERT_TRUE(WriteWholeFile(tree + "/a.cfg", a).ok());
  ASSERT_TRUE(WriteWholeFile(tree + "/sub/b.cfg", b).ok());
  int n = 0;
  for (bool legacy : {true, false}) {
    SCOPED_TRACE(legacy ? "scp -O -r" : "scp -r (SFTP)");
    const std::string dest = MakeDir(fmt::format("dest-{}", n++));
    SshUser u = NewUser();
    CommandResult r =
        legacy ? Client(u, Scp({"-O", "-r", "-o", "User=" + u.name + ":rtu-01", tree,
                                "127.0.0.1:" + dest}))
               : Client(u, Scp({"-r", tree, u.name + "+rtu-01@127.0.0.1:" + dest}));
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
    const char* via = legacy ? "scp" : "sftp";
    ExpectTransferRow(u, dest + "/tree/a.cfg", "upload", a, via);
    ExpectTransferRow(u, dest + "/tree/sub/b.cfg", "upload", b, via);
  }
}

}  // namespace
}  // namespace portcullis::testing
