// Byte-exact file transfers through the broker both ways with the stock
// clients: scp (SFTP protocol, OpenSSH 9's default), scp -O (the legacy
// protocol) and sftp put/get; each file gets a file.transfer audit row whose
// size and SHA-256 are those of the file.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fmt/format.h>

#include "tests/integration/ssh_test_env.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;

class SshTransferTest : public SshTest {
 protected:
  std::vector<std::string> Scp(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"scp", "-q", "-P", std::to_string(ssh_port())};
    for (const auto& o : ClientOptions()) argv.push_back(o);
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }
  // The file.transfer row of `user` for `path` (fatal if missing); checks
  // direction, size, SHA-256 and the channel (`via`).
  void ExpectTransferRow(const SshUser& user, const std::string& path, const std::string& direction,
                         const std::string& data, const std::string& via) {
    auto e = WaitForEvent("file.transfer", [&](const nlohmann::json& ev) {
      return ev["actor"] == user.name && DetailIs(ev, "path", path);
    });
    ASSERT_TRUE(e.has_value()) << "no file.transfer of " << path << " by " << user.name << "\n"
                               << DumpEvents("file.");
    EXPECT_EQ((*e)["outcome"], "success") << e->dump();
    EXPECT_EQ((*e)["subject"], "rtu-01") << e->dump();
    EXPECT_TRUE(DetailIs(*e, "direction", direction)) << e->dump();
    EXPECT_EQ((*e)["details"].value("size", uint64_t{0}), data.size()) << e->dump();
    EXPECT_TRUE(DetailIs(*e, "sha256", Sha256Hex(data))) << e->dump();
    EXPECT_TRUE(DetailIs(*e, "via", via)) << e->dump();
  }
  void ExpectFileIs(const std::string& path, const std::string& data) {
    auto got = ReadWholeFile(path);
    ASSERT_TRUE(got.ok()) << path << ": " << got.status();
    EXPECT_EQ(got->size(), data.size()) << path;
    EXPECT_EQ(Sha256Hex(*got), Sha256Hex(data)) << path;
  }
};

TEST_F(SshTransferTest, ScpOverSftpBothWaysIsByteExactAndAudited) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  const std::string up = PseudoRandomBytes(3'000'017, 21);
  const std::string down = PseudoRandomBytes(2'500'001, 22);
  const std::string local_up = broker().Join("fw.bin");
  const std::string remote_up = broker().Join("target-fw.bin");
  const std::string remote_down = broker().Join("target-log.bin");
  const std::string local_down = broker().Join("log.bin");
  ASSERT_TRUE(WriteWholeFile(local_up, up).ok());
  ASSERT_TRUE(WriteWholeFile(remote_down, down).ok());

  // "USER+TARGET": scp splits "USER:TARGET@host:path" at the first ':'.
  SshUser a = NewUser();
  CommandResult r = Client(a, Scp({local_up, a.name + "+rtu-01@127.0.0.1:" + remote_up}));
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  ExpectFileIs(remote_up, up);
  ExpectTransferRow(a, remote_up, "upload", up, "sftp");

  SshUser b = NewUser();
  CommandResult d = Client(b, Scp({b.name + "+rtu-01@127.0.0.1:" + remote_down, local_down}));
  ASSERT_EQ(d.exit_code, 0) << Describe(d);
  ExpectFileIs(local_down, down);
  ExpectTransferRow(b, remote_down, "download", down, "sftp");
}

TEST_F(SshTransferTest, LegacyScpBothWaysIsByteExactAndAudited) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  const std::string up = PseudoRandomBytes(1'048'583, 31);
  const std::string down = PseudoRandomBytes(777'777, 32);
  // The usual forms: a file to a directory, a file from a path. (Only the
  // target knows whether "scp -t PATH" names a directory; the audit row's
  // path is exact for these forms, see agentless/ssh/scp_parser.h.)
  const std::string local_dir = broker().Join("local");
  const std::string remote_dir = broker().Join("remote");
  ASSERT_EQ(::mkdir(local_dir.c_str(), 0700), 0);
  ASSERT_EQ(::mkdir(remote_dir.c_str(), 0700), 0);
  const std::string local_up = local_dir + "/fw.bin";
  const std::string remote_up = remote_dir + "/fw.bin";
  const std::string remote_down = remote_dir + "/log.bin";
  const std::string local_down = local_dir + "/log.bin";
  ASSERT_TRUE(WriteWholeFile(local_up, up).ok());
  ASSERT_TRUE(WriteWholeFile(remote_down, down).ok());

  SshUser a = NewUser();
  CommandResult r = Client(
      a, Scp({"-O", "-o", "User=" + a.name + ":rtu-01", local_up, "127.0.0.1:" + remote_dir}));
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  ExpectFileIs(remote_up, up);
  ExpectTransferRow(a, remote_up, "upload", up, "scp");

  SshUser b = NewUser();
  CommandResult d = Client(
      b, Scp({"-O", "-o", "User=" + b.name + ":rtu-01", "127.0.0.1:" + remote_down, local_dir}));
  ASSERT_EQ(d.exit_code, 0) << Describe(d);
  ExpectFileIs(local_down, down);
  ExpectTransferRow(b, remote_down, "download", down, "scp");
}

TEST_F(SshTransferTest, SftpPutAndGetInOneSessionAreByteExactAndAudited) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  const std::string up = PseudoRandomBytes(4'194'319, 41);
  const std::string down = PseudoRandomBytes(65'537, 42);
  const std::string empty;
  const std::string local_up = broker().Join("config.bin");
  const std::string remote_up = broker().Join("target-config.bin");
  const std::string remote_down = broker().Join("target-trace.bin");
  const std::string local_down = broker().Join("trace.bin");
  const std::string remote_empty = broker().Join("target-empty.bin");
  const std::string local_empty = broker().Join("empty.bin");
  ASSERT_TRUE(WriteWholeFile(local_up, up).ok());
  ASSERT_TRUE(WriteWholeFile(remote_down, down).ok());
  ASSERT_TRUE(WriteWholeFile(remote_empty, empty).ok());

  // Not -b: batch mode turns keyboard-interactive off. Commands on stdin.
  SshUser u = NewUser();
  std::vector<std::string> argv = {"sftp", "-P", std::to_string(ssh_port())};
  for (const auto& o : ClientOptions()) argv.push_back(o);
  argv.push_back(u.name + "+rtu-01@127.0.0.1");
  CommandResult r =
      Client(u, argv,
             fmt::format("put {} {}\nget {} {}\nget {} {}\nbye\n", local_up, remote_up, remote_down,
                         local_down, remote_empty, local_empty));
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("denied"))) << Describe(r);
  ExpectFileIs(remote_up, up);
  ExpectFileIs(local_down, down);
  ExpectFileIs(local_empty, empty);
  ExpectTransferRow(u, remote_up, "upload", up, "sftp");
  ExpectTransferRow(u, remote_down, "download", down, "sftp");
  ExpectTransferRow(u, remote_empty, "download", empty, "sftp");
}

}  // namespace
}  // namespace portcullis::testing
