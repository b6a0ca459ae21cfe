// `portcullisd init` end to end, and `portcullis ca export` against what
// init created.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <regex>
#include <sstream>

#include "tests/integration/broker_fixture.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct FileState {
  int mode = -1;
  std::string content;  // empty for directories
  bool operator==(const FileState&) const = default;
};

// Every path under `root` with its mode and content.
std::map<std::string, FileState> Snapshot(const std::string& root) {
  std::map<std::string, FileState> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
    FileState s;
    s.mode = FileMode(e.path().string());
    if (e.is_regular_file()) {
      auto text = ReadWholeFile(e.path().string());
      s.content = text.ok() ? *text : "<unreadable>";
    }
    out[e.path().string()] = std::move(s);
  }
  return out;
}

// Width of a UTF-8 line in code points.
size_t CodePoints(const std::string& line) {
  size_t n = 0;
  for (unsigned char c : line) n += (c & 0xC0) != 0x80;
  return n;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The SSH user CA line printed by init (without its indentation).
std::string InitCaLine(const std::string& init_stdout) {
  static const std::regex kCaLine(R"(^  (ssh-ed25519 AAAA[A-Za-z0-9+/]+=* portcullis-user-ca)$)");
  for (const auto& line : Lines(init_stdout)) {
    std::smatch m;
    if (std::regex_match(line, m, kCaLine)) return m[1];
  }
  return "";
}

CommandResult RunInit(const std::string& config, const std::string& admin,
                      const std::string& password) {
  return RunCommand({DaemonPath(), "init", "--config", config, "--admin", admin,
                     "--password-stdin"},
                    password + "\n", std::chrono::seconds(60));
}

TEST(InitTest, PrintsEnrolmentWritesConfigAndPrivateDataDir) {
  TempDir dir("pc-init-it");
  const std::string config = dir.Join("etc/portcullis.yaml");  // parent does not exist yet
  CommandResult r = RunInit(config, "alice", kAdminPassword);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);

  // Enrolment: otpauth URI with a base32 secret, a QR block, the CA line.
  EXPECT_THAT(r.out, HasSubstr("otpauth://totp/Portcullis:alice?secret="));
  EXPECT_GE(ExtractTotpSecret(r.out).size(), 32u) << r.out;  // 160-bit seed
  int qr_lines = 0;
  size_t qr_width = 0;
  bool same_width = true;
  for (const auto& line : Lines(r.out)) {
    if (line.find("\u2588") == std::string::npos && line.find("\u2580") == std::string::npos)
      continue;
    if (qr_lines++ == 0) qr_width = CodePoints(line);
    same_width = same_width && CodePoints(line) == qr_width;
  }
  EXPECT_GE(qr_lines, 15) << "no QR block in:\n" << r.out;
  EXPECT_TRUE(same_width) << "ragged QR block:\n" << r.out;
  EXPECT_FALSE(InitCaLine(r.out).empty()) << "no SSH user CA line in:\n" << r.out;
  EXPECT_THAT(r.out, HasSubstr("Wrote default config to " + config));

  // The default config: written, not world-readable, and it says where the API is.
  auto cfg = ReadWholeFile(config);
  ASSERT_TRUE(cfg.ok());
  EXPECT_THAT(*cfg, HasSubstr("grpc: 127.0.0.1:7443"));
  EXPECT_THAT(*cfg, HasSubstr("data_dir: data"));
  EXPECT_EQ(FileMode(config), 0640);

  // The data directory: secrets readable by the broker's user only.
  const std::string data = dir.Join("etc/data");
  for (const char* d : {"", "/keys", "/tls", "/recordings"}) {
    EXPECT_EQ(FileMode(data + d), 0700) << data + d;
  }
  for (const char* f : {"/keys/secrets.key", "/keys/ssh_user_ca", "/tls/ca.key",
                        "/tls/server.key", "/portcullis.db", "/audit.anchor"}) {
    EXPECT_EQ(FileMode(data + f), 0600) << data + f;
  }
  // Nothing else in there is group/world accessible except public certificates.
  for (const auto& e : std::filesystem::recursive_directory_iterator(data)) {
    if (e.path().extension() == ".pem") continue;
    EXPECT_EQ(FileMode(e.path().string()) & 077, 0) << e.path();
  }
}

TEST(InitTest, SecondInitOnSameDataDirFailsAndChangesNothing) {
  TempDir dir("pc-init-it");
  const std::string config = dir.Join("portcullis.yaml");
  CommandResult first = RunInit(config, "alice", kAdminPassword);
  ASSERT_EQ(first.exit_code, 0) << Describe(first);
  auto before = Snapshot(dir.path());

  CommandResult second = RunInit(config, "mallory", "another-valid-password-9");
  EXPECT_NE(second.exit_code, 0) << Describe(second);
  EXPECT_THAT(second.err, HasSubstr("already initialised"));
  EXPECT_THAT(second.err, HasSubstr("refusing to run init twice"));
  EXPECT_THAT(second.out, Not(HasSubstr("otpauth://")));
  auto after = Snapshot(dir.path());
  EXPECT_EQ(before.size(), after.size());
  for (const auto& [path, state] : before) {
    auto it = after.find(path);
    ASSERT_NE(it, after.end()) << path << " vanished";
    EXPECT_EQ(it->second.mode, state.mode) << path;
    EXPECT_TRUE(it->second.content == state.content) << path << " changed";
  }
}

class CaExportTest : public BrokerTest {};

TEST_F(CaExportTest, SshEqualsInitLineAndTlsEqualsCaPem) {
  ASSERT_NO_FATAL_FAILURE(StartBrokerAndLoginAdmin());
  std::string init_line = InitCaLine(broker().init_result().out);
  ASSERT_FALSE(init_line.empty()) << broker().init_result().out;

  CommandResult ssh = Admin({"ca", "export", "--ssh"});
  ASSERT_EQ(ssh.exit_code, 0) << Describe(ssh);
  EXPECT_EQ(ssh.out, init_line + "\n");

  CommandResult tls = Admin({"ca", "export", "--tls"});
  ASSERT_EQ(tls.exit_code, 0) << Describe(tls);
  auto pem = ReadWholeFile(broker().ca_pem_path());
  ASSERT_TRUE(pem.ok());
  EXPECT_THAT(*pem, HasSubstr("-----BEGIN CERTIFICATE-----"));
  EXPECT_EQ(tls.out, *pem);

  CommandResult neither = Admin({"ca", "export"});
  EXPECT_EQ(neither.exit_code, 2) << Describe(neither);
}

}  // namespace
}  // namespace portcullis::testing
