// File names that try to display as other names: U+202E RIGHT-TO-LEFT
// OVERRIDE and U+200B ZERO WIDTH SPACE in names moved by the real sftp and
// scp clients. The audit row shows an escaped name and keeps the raw bytes
// in path_hex; neither `audit ls` nor `audit ls --json` prints the raw
// characters; the chain still verifies.

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "broker/common/encoding.h"
#include "broker/common/files.h"
#include "tests/integration/ssh_test_env.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kRlo[] = "\xE2\x80\xAE";  // U+202E
constexpr char kZwsp[] = "\xE2\x80\x8B";  // U+200B

class SshFileNamesTest : public SshTest {
 protected:
  // argv[0], then the usual client options, then the rest of argv.
  std::vector<std::string> WithOptions(std::vector<std::string> argv) {
    std::vector<std::string> out = {argv[0]};
    for (const auto& o : ClientOptions()) out.push_back(o);
    out.insert(out.end(), argv.begin() + 1, argv.end());
    return out;
  }
  // The file.transfer row of `user` whose raw path is `raw`.
  std::optional<nlohmann::json> TransferRow(const SshUser& user, const std::string& raw) {
    return WaitForEvent("file.transfer", [&](const nlohmann::json& e) {
      return e["actor"] == user.name && DetailIs(e, "path_hex", HexEncode(raw));
    });
  }
  void ExpectNoRawCharacters(const std::string& text) {
    EXPECT_THAT(text, Not(HasSubstr(kRlo)));
    EXPECT_THAT(text, Not(HasSubstr(kZwsp)));
  }
};

TEST_F(SshFileNamesTest, BidiAndZeroWidthNamesAreEscapedInTheAuditWithTheRawBytesKept) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  const std::string dir = broker().Join("names");
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
  // Shows as "report-exe.pdf" in a terminal that honours the override.
  const std::string local = dir + "/local.bin";
  const std::string sftp_remote = dir + "/report-" + kRlo + "fdp.exe";
  const std::string scp_remote = dir + "/rtu" + kZwsp + "-01.cfg";
  const std::string legacy_remote = dir + "/legacy" + kRlo + "txt.sh";
  ASSERT_TRUE(WriteWholeFile(local, "firmware\n").ok());
  ASSERT_TRUE(WriteWholeFile(legacy_remote, "log\n").ok());

  SshUser u = NewUser();
  CommandResult put = Client(
      u, WithOptions({"sftp", "-P", std::to_string(ssh_port()), u.name + "+rtu-01@127.0.0.1"}),
      "put " + local + " \"" + sftp_remote + "\"\nbye\n");
  ASSERT_EQ(put.exit_code, 0) << Describe(put);
  EXPECT_TRUE(PathExists(sftp_remote));
  SshUser v = NewUser();
  CommandResult scp = Client(v, WithOptions({"scp", "-q", "-P", std::to_string(ssh_port()),
                                             local, v.name + "+rtu-01@127.0.0.1:" + scp_remote}));
  ASSERT_EQ(scp.exit_code, 0) << Describe(scp);
  EXPECT_TRUE(PathExists(scp_remote));
  SshUser w = NewUser();
  CommandResult legacy = Client(
      w, WithOptions({"scp", "-q", "-P", std::to_string(ssh_port()), "-O", "-o",
                      "User=" + w.name + ":rtu-01", "127.0.0.1:" + legacy_remote,
                      dir + "/got.sh"}));
  ASSERT_EQ(legacy.exit_code, 0) << Describe(legacy);

  struct Want {
    const SshUser* user;
    std::string raw, shown;
  };
  const std::vector<Want> wants = {
      {&u, sftp_remote, dir + "/report-\\u202efdp.exe"},
      {&v, scp_remote, dir + "/rtu\\u200b-01.cfg"},
      {&w, legacy_remote, dir + "/legacy\\u202etxt.sh"},
  };
  for (const auto& want : wants) {
    auto row = TransferRow(*want.user, want.raw);
    ASSERT_TRUE(row.has_value()) << want.shown << "\n" << DumpEvents("file.");
    EXPECT_TRUE(DetailIs(*row, "path", want.shown)) << row->dump();
    // The raw bytes come back from path_hex.
    auto raw = HexDecode((*row)["details"].value("path_hex", ""));
    ASSERT_TRUE(raw.ok());
    EXPECT_EQ(*raw, want.raw);
  }

  CommandResult json = Admin({"audit", "ls", "--json", "--type", "file."});
  ASSERT_EQ(json.exit_code, 0) << Describe(json);
  ExpectNoRawCharacters(json.out);
  EXPECT_THAT(json.out, HasSubstr("report-\\\\u202efdp.exe"));
  CommandResult text = Admin({"audit", "ls", "--type", "file."});
  ASSERT_EQ(text.exit_code, 0) << Describe(text);
  ExpectNoRawCharacters(text.out);
  EXPECT_THAT(text.out, HasSubstr("u202efdp.exe"));
  CommandResult verify = Admin({"audit", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << Describe(verify);
}

}  // namespace
}  // namespace portcullis::testing
