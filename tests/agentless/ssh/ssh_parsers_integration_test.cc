// Runs the real OpenSSH clients (sftp, scp -O, scp in its default SFTP mode)
// against the real server-side programs (sftp-server, scp -t/-f) through
// ssh_audit_relay, which passes every byte through the auditors, and checks
// the audit events against the files on disk.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "broker/common/encoding.h"
#include "tests/support/test_util.h"

namespace portcullis::ssh {
namespace {

using portcullis::testing::CommandResult;
using portcullis::testing::ReadWholeFile;
using portcullis::testing::RunCommand;
using portcullis::testing::TempDir;
using portcullis::testing::WriteWholeFile;

constexpr char kRelay[] = PC_SSH_AUDIT_RELAY;
constexpr char kSftpServer[] = "/usr/lib/openssh/sftp-server";

std::string HexSha(std::string_view s) { return HexEncode(Sha256(s)); }

std::vector<nlohmann::json> ReadEvents(const std::string& path) {
  std::vector<nlohmann::json> out;
  auto text = ReadWholeFile(path);
  if (!text.ok()) return out;
  std::istringstream in(*text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

std::vector<nlohmann::json> OfType(const std::vector<nlohmann::json>& events, const std::string& type) {
  std::vector<nlohmann::json> out;
  for (const auto& e : events) {
    if (e["type"] == type) out.push_back(e);
  }
  return out;
}

void ExpectTransfer(const nlohmann::json& e, const std::string& path, const std::string& direction,
                    const std::string& content) {
  EXPECT_EQ(e["path"], path) << e.dump();
  EXPECT_EQ(e["direction"], direction) << e.dump();
  EXPECT_EQ(e["size"], content.size()) << e.dump();
  EXPECT_EQ(e["sha256"], HexSha(content)) << e.dump();
  EXPECT_EQ(e["complete"], true) << e.dump();
}

class SshParsersIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* bin : {kSftpServer, "/usr/bin/sftp", "/usr/bin/scp"}) {
      if (access(bin, X_OK) != 0) GTEST_SKIP() << bin << " not installed";
    }
    events_ = dir_.Join("events.jsonl");
    content_ = RandomBytes(3 << 20);
    src_ = dir_.Join("src.bin");
    ASSERT_TRUE(WriteWholeFile(src_, content_).ok());
  }

  CommandResult Sftp(const std::string& batch, bool deny_uploads = false) {
    const std::string batch_file = dir_.Join("batch");
    EXPECT_TRUE(WriteWholeFile(batch_file, batch).ok());
    const std::string server = fmt::format("{} --sftp {} {}-- {}", kRelay, events_,
                                           deny_uploads ? "--deny-uploads " : "", kSftpServer);
    return RunCommand({"sftp", "-b", batch_file, "-D", server}, "", std::chrono::seconds(60));
  }

  CommandResult Scp(std::vector<std::string> args, bool deny_uploads = false) {
    args.insert(args.begin(), {"scp", "-S", kRelay});
    std::vector<std::string> env = {"PC_AUDIT_EVENTS=" + events_};
    if (deny_uploads) env.push_back("PC_AUDIT_DENY_UPLOADS=1");
    return RunCommand(args, "", std::chrono::seconds(60), env);
  }

  TempDir dir_{"pc-ssh-audit"};
  std::string events_, content_, src_;
};

TEST_F(SshParsersIntegrationTest, SftpPutGetAndFileOperations) {
  const std::string up = dir_.Join("up.bin"), down = dir_.Join("down.bin");
  auto r = Sftp(fmt::format("put {0} {1}\nget {1} {2}\nmkdir {3}\nrename {1} {4}\nrm {4}\nrmdir {3}\n", src_, up,
                            down, dir_.Join("d"), dir_.Join("up2.bin")));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto got = ReadWholeFile(down);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(*got, content_);

  const auto events = ReadEvents(events_);
  ASSERT_TRUE(OfType(events, "error").empty()) << events.back().dump();
  const auto transfers = OfType(events, "transfer");
  ASSERT_EQ(transfers.size(), 2u);
  ExpectTransfer(transfers[0], up, "upload", content_);
  ExpectTransfer(transfers[1], up, "download", content_);
  const auto ops = OfType(events, "op");
  ASSERT_EQ(ops.size(), 4u);
  EXPECT_EQ(ops[0]["op"], "mkdir");
  EXPECT_EQ(ops[0]["path"], dir_.Join("d"));
  EXPECT_EQ(ops[1]["op"], "rename");
  EXPECT_EQ(ops[1]["path"], up);
  EXPECT_EQ(ops[1]["path2"], dir_.Join("up2.bin"));
  EXPECT_EQ(ops[2]["op"], "remove");
  EXPECT_EQ(ops[3]["op"], "rmdir");
}

TEST_F(SshParsersIntegrationTest, SftpUploadRefusedByPolicyDownloadAllowed) {
  const std::string up = dir_.Join("up.bin"), down = dir_.Join("down.bin");
  // '-' lets the batch go on after the refused put.
  auto r = Sftp(fmt::format("-put {} {}\nget {} {}\n", src_, up, src_, down), /*deny_uploads=*/true);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(up)) << "the refused OPEN reached the server";
  auto got = ReadWholeFile(down);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, content_);

  const auto events = ReadEvents(events_);
  const auto denied = OfType(events, "denied");
  ASSERT_EQ(denied.size(), 1u);
  EXPECT_EQ(denied[0]["kind"], "open");
  EXPECT_EQ(denied[0]["path"], up);
  const auto transfers = OfType(events, "transfer");
  ASSERT_EQ(transfers.size(), 1u);
  ExpectTransfer(transfers[0], src_, "download", content_);
}

TEST_F(SshParsersIntegrationTest, ScpLegacyUploadAndDownload) {
  const std::string dst = dir_.Join("dst");
  std::filesystem::create_directory(dst);
  auto up = Scp({"-O", src_, "localhost:" + dst});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  const std::string back = dir_.Join("back.bin");
  auto down = Scp({"-O", "localhost:" + dst + "/src.bin", back});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  auto got = ReadWholeFile(back);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(*got, content_);

  const auto events = ReadEvents(events_);
  ASSERT_TRUE(OfType(events, "error").empty());
  const auto commands = OfType(events, "scp");
  ASSERT_EQ(commands.size(), 2u) << "both ran as legacy scp exec commands";
  const auto transfers = OfType(events, "transfer");
  ASSERT_EQ(transfers.size(), 2u);
  ExpectTransfer(transfers[0], dst + "/src.bin", "upload", content_);
  ExpectTransfer(transfers[1], dst + "/src.bin", "download", content_);
}

TEST_F(SshParsersIntegrationTest, ScpLegacyRecursiveWithTimes) {
  const std::string tree = dir_.Join("tree"), dst = dir_.Join("dst");
  std::filesystem::create_directories(tree + "/sub/deeper");
  std::filesystem::create_directory(dst);
  const std::string small = RandomBytes(12345);
  ASSERT_TRUE(WriteWholeFile(tree + "/big.bin", content_).ok());
  ASSERT_TRUE(WriteWholeFile(tree + "/sub/deeper/small.bin", small).ok());
  ASSERT_TRUE(WriteWholeFile(tree + "/sub/empty", "").ok());
  auto r = Scp({"-O", "-r", "-p", tree, "localhost:" + dst});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  const auto transfers = OfType(ReadEvents(events_), "transfer");
  ASSERT_EQ(transfers.size(), 3u);
  // readdir order is the file system's; match by path.
  for (const auto& e : transfers) {
    const std::string path = e["path"];
    ASSERT_TRUE(path.starts_with(dst + "/tree/")) << path;
    ASSERT_TRUE(std::filesystem::exists(path)) << "event path does not exist: " << path;
    auto source = ReadWholeFile(tree + "/" + path.substr(dst.size() + 6));
    ASSERT_TRUE(source.ok()) << path;
    ExpectTransfer(e, path, "upload", *source);
  }
  auto copied = ReadWholeFile(dst + "/tree/sub/deeper/small.bin");
  ASSERT_TRUE(copied.ok());
  EXPECT_EQ(*copied, small);
}

TEST_F(SshParsersIntegrationTest, ScpDefaultModeIsSftpAndIsAudited) {
  const std::string dst = dir_.Join("modern.bin");
  auto r = Scp({src_, "localhost:" + dst});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto events = ReadEvents(events_);
  EXPECT_TRUE(OfType(events, "scp").empty()) << "OpenSSH 9 scp should use the sftp subsystem";
  const auto transfers = OfType(events, "transfer");
  ASSERT_EQ(transfers.size(), 1u);
  ExpectTransfer(transfers[0], dst, "upload", content_);

  auto denied = Scp({src_, "localhost:" + dir_.Join("denied.bin")}, /*deny_uploads=*/true);
  EXPECT_NE(denied.exit_code, 0);
  EXPECT_FALSE(std::filesystem::exists(dir_.Join("denied.bin")));
}

}  // namespace
}  // namespace portcullis::ssh
