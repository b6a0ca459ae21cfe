// Installing an imported identity (tls/imported.pem, its backup, roll
// back), what the API server then loads, and `portcullisd tls import`
// (RunTlsImport) against a data directory made by RunInit: a refused
// import changes nothing and writes no audit row; an accepted one writes
// `tls.imported` without key bytes.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <sstream>

#include "broker/audit/audit_log.h"
#include "broker/config/config.h"
#include "broker/daemon/init_command.h"
#include "broker/daemon/tls_command.h"
#include "broker/store/database.h"
#include "broker/tls/server_identity.h"
#include "broker/tls/tls_import.h"
#include "tests/broker/tls/test_pki.h"
#include "tests/support/test_util.h"

namespace portcullis::tls {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using portcullis::testing::ReadWholeFile;
using portcullis::testing::TempDir;
using portcullis::testing::WriteWholeFile;
using testing::CertSpec;
using testing::Issued;
using testing::kNow;

int Mode(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 07777) : -1;
}

ValidatedIdentity MustValidate(const Issued& leaf, const std::string& chain) {
  const std::string cert = leaf.CertPem(), key = leaf.KeyPem();
  ImportRequest req{cert, key, chain, {}};
  auto id = ValidateServerIdentity(req, FromUnix(kNow));
  EXPECT_TRUE(id.ok()) << id.status();
  return std::move(*id);
}

TEST(TlsInstallTest, InstallKeepsThePreviousImportAndRollsBack) {
  TempDir dir("pc-tls-install");
  const InstallPaths paths{dir.Join("imported.pem"), dir.Join("imported.pem.previous")};
  Issued root = testing::MakeRoot();
  Issued first = testing::MakeCert(CertSpec{}, &root);
  Issued second = testing::MakeCert(CertSpec{}, &root);

  auto prev1 = InstallImportedIdentity(paths, MustValidate(first, root.CertPem()));
  ASSERT_TRUE(prev1.ok()) << prev1.status();
  EXPECT_FALSE(prev1->existed);
  EXPECT_EQ(Mode(paths.imported), 0600);
  EXPECT_FALSE(std::filesystem::exists(paths.backup));
  const std::string first_bundle = *ReadWholeFile(paths.imported);

  auto prev2 = InstallImportedIdentity(paths, MustValidate(second, root.CertPem()));
  ASSERT_TRUE(prev2.ok()) << prev2.status();
  EXPECT_TRUE(prev2->existed);
  EXPECT_EQ(*ReadWholeFile(paths.backup), first_bundle);
  EXPECT_EQ(Mode(paths.backup), 0600);
  EXPECT_NE(*ReadWholeFile(paths.imported), first_bundle);

  ASSERT_TRUE(RollBackInstall(paths, *prev2).ok());
  EXPECT_EQ(*ReadWholeFile(paths.imported), first_bundle);
  ASSERT_TRUE(RollBackInstall(paths, *prev1).ok());
  EXPECT_FALSE(std::filesystem::exists(paths.imported));
  // No temporary file is left behind.
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_THAT(e.path().filename().string(), Not(HasSubstr(".tmp")));
  }
}

TEST(TlsInstallTest, AsRootTheFilesBelongToTheDirectorysOwner) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (chown to another user)";
  TempDir dir("pc-tls-install");
  ASSERT_EQ(::chown(dir.path().c_str(), 65534, 65534), 0);
  const InstallPaths paths{dir.Join("imported.pem"), dir.Join("imported.pem.previous")};
  Issued root = testing::MakeRoot();
  Issued leaf = testing::MakeCert(CertSpec{}, &root);
  ASSERT_TRUE(InstallImportedIdentity(paths, MustValidate(leaf, root.CertPem())).ok());
  ASSERT_TRUE(InstallImportedIdentity(paths, MustValidate(leaf, root.CertPem())).ok());
  for (const std::string& path : {paths.imported, paths.backup}) {
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0) << path;
    EXPECT_EQ(st.st_uid, 65534u) << path;
    EXPECT_EQ(st.st_gid, 65534u) << path;
    EXPECT_EQ(st.st_mode & 07777, 0600u) << path;
  }
}

TEST(TlsInstallTest, LoadsTheBrokersOwnFilesVerbatimWithoutAnImport) {
  TempDir dir("pc-tls-load");
  ServerIdentityPaths paths{dir.Join("server.pem"), dir.Join("server.key"),
                            dir.Join("imported.pem")};
  ASSERT_TRUE(WriteWholeFile(paths.server_cert, "CERT BYTES\n").ok());
  ASSERT_TRUE(WriteWholeFile(paths.server_key, "KEY BYTES\n", 0600).ok());
  auto id = LoadServerIdentity(paths);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_FALSE(id->imported);
  EXPECT_FALSE(id->rsa);
  EXPECT_EQ(id->cert_chain_pem, "CERT BYTES\n");
  EXPECT_EQ(id->key_pem.Reveal(), "KEY BYTES\n");
}

TEST(TlsInstallTest, LoadsAnImportWithItsChain) {
  TempDir dir("pc-tls-load");
  ServerIdentityPaths paths{dir.Join("server.pem"), dir.Join("server.key"),
                            dir.Join("imported.pem")};
  Issued root = testing::MakeRoot();
  Issued mid = testing::MakeIntermediate(root);
  Issued leaf = testing::MakeCert(CertSpec{}, &mid, testing::NewKey(2048));
  ASSERT_TRUE(InstallImportedIdentity({paths.imported, paths.imported + ".previous"},
                                      MustValidate(leaf, mid.CertPem()))
                  .ok());
  auto id = LoadServerIdentity(paths);  // server.pem/server.key do not even exist
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_TRUE(id->imported);
  EXPECT_TRUE(id->rsa);
  EXPECT_EQ(id->cert_chain_pem, leaf.CertPem() + mid.CertPem());
  EXPECT_THAT(id->key_pem.Reveal(), HasSubstr("BEGIN PRIVATE KEY"));
  EXPECT_EQ(id->leaf.subject, "CN=portcullisd,O=Test Plant");
}

TEST(TlsInstallTest, RefusesAnImportOthersCanRead) {
  TempDir dir("pc-tls-load");
  ServerIdentityPaths paths{dir.Join("server.pem"), dir.Join("server.key"),
                            dir.Join("imported.pem")};
  Issued leaf = testing::MakeCert(CertSpec{}, nullptr);
  ASSERT_TRUE(WriteWholeFile(paths.imported, leaf.KeyPem() + leaf.CertPem(), 0644).ok());
  auto id = LoadServerIdentity(paths);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(id.status().message(), HasSubstr("chmod 0600"));
}

TEST(TlsInstallTest, RefusesAnImportWhoseKeyDoesNotMatch) {
  TempDir dir("pc-tls-load");
  ServerIdentityPaths paths{dir.Join("server.pem"), dir.Join("server.key"),
                            dir.Join("imported.pem")};
  Issued a = testing::MakeCert(CertSpec{}, nullptr);
  Issued b = testing::MakeCert(CertSpec{}, nullptr);
  ASSERT_TRUE(WriteWholeFile(paths.imported, b.KeyPem() + a.CertPem(), 0600).ok());
  auto id = LoadServerIdentity(paths);
  ASSERT_FALSE(id.ok());
  EXPECT_THAT(id.status().message(), HasSubstr("does not match"));
}

// ---- RunTlsImport against a real data directory. ----

// Every path under `root` with its mode and content.
std::map<std::string, std::pair<int, std::string>> Snapshot(const std::string& root) {
  std::map<std::string, std::pair<int, std::string>> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
    std::string content;
    if (e.is_regular_file()) content = ReadWholeFile(e.path().string()).value_or("?");
    out[e.path().string()] = {Mode(e.path().string()), content};
  }
  return out;
}

class TlsImportCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = dir_.Join("portcullis.yaml");
    auto password = SecretBytes::FromString("alice-Admin-pw-7f3a-staple");
    ASSERT_TRUE(password.ok());
    std::ostringstream out;
    absl::Status init = daemon::RunInit({config_, "alice"}, *password, &clock_, out);
    ASSERT_TRUE(init.ok()) << init;
    auto cfg = config::LoadConfig(config_);
    ASSERT_TRUE(cfg.ok()) << cfg.status();
    cfg_ = *cfg;
    // Certificate files outside the data directory.
    root_ = testing::MakeRoot();
    mid_ = testing::MakeIntermediate(root_);
    leaf_ = testing::MakeCert(CertSpec{}, &mid_);
    ASSERT_TRUE(WriteWholeFile(dir_.Join("server.pem"), leaf_.CertPem()).ok());
    ASSERT_TRUE(WriteWholeFile(dir_.Join("server.key"), leaf_.KeyPem(), 0600).ok());
    ASSERT_TRUE(WriteWholeFile(dir_.Join("chain.pem"), mid_.CertPem()).ok());
  }
  absl::Status Import(const std::string& cert, const std::string& key, const std::string& chain,
                      std::string* out_text = nullptr) {
    std::ostringstream out;
    absl::Status st = daemon::RunTlsImport({config_, cert, key, chain}, &clock_, out);
    if (out_text) *out_text = out.str();
    return st;
  }
  std::vector<audit::AuditRow> TlsRows() {
    auto db = store::Database::Open(cfg_.DbPath(), &clock_);
    EXPECT_TRUE(db.ok()) << db.status();
    audit::AuditLog log(db->get(), &clock_, cfg_.AuditAnchorPath());
    audit::AuditFilter f;
    f.type_prefix = "tls.";
    auto rows = log.List(f);
    EXPECT_TRUE(rows.ok()) << rows.status();
    auto verified = log.Verify();
    EXPECT_TRUE(verified.ok() && verified->ok) << (verified.ok() ? verified->message : "");
    return rows.ok() ? *rows : std::vector<audit::AuditRow>{};
  }

  FakeClock clock_{kNow};
  TempDir dir_{"pc-tls-cmd"};
  std::string config_;
  config::BrokerConfig cfg_;
  Issued root_, mid_, leaf_;
};

TEST_F(TlsImportCommandTest, ImportsAndAuditsWithoutKeyBytes) {
  std::string out;
  absl::Status st = Import(dir_.Join("server.pem"), dir_.Join("server.key"),
                           dir_.Join("chain.pem"), &out);
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_THAT(out, HasSubstr("subject:      CN=portcullisd,O=Test Plant"));
  EXPECT_THAT(out, HasSubstr("Restart portcullisd"));
  EXPECT_THAT(out, Not(HasSubstr("PRIVATE KEY")));
  EXPECT_EQ(Mode(cfg_.TlsImportedPath()), 0600);

  std::vector<audit::AuditRow> rows = TlsRows();
  ASSERT_EQ(rows.size(), 1u);
  const audit::AuditEvent& ev = rows[0].event;
  EXPECT_EQ(ev.type, "tls.imported");
  EXPECT_EQ(ev.subject, "CN=portcullisd,O=Test Plant");
  EXPECT_EQ(ev.details["issuer"], "CN=Test Issuing CA,O=Test Plant");
  EXPECT_EQ(ev.details["not_after"], "2027-09-21T14:13:20Z");
  EXPECT_EQ(ev.details["sha256_fingerprint"].get<std::string>().size(), 95u);
  EXPECT_FALSE(ev.details["replaces_sha256_fingerprint"].get<std::string>().empty());
  EXPECT_THAT(ev.details.dump(), Not(HasSubstr("PRIVATE")));

  // The API now loads the imported identity.
  auto id = LoadServerIdentity(
      {cfg_.TlsServerCertPath(), cfg_.TlsServerKeyPath(), cfg_.TlsImportedPath()});
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_TRUE(id->imported);
  EXPECT_EQ(id->cert_chain_pem, leaf_.CertPem() + mid_.CertPem());
}

TEST_F(TlsImportCommandTest, RefusalsChangeNothing) {
  const auto before = Snapshot(cfg_.data_dir);
  Issued other = testing::MakeCert(CertSpec{}, &mid_);
  ASSERT_TRUE(WriteWholeFile(dir_.Join("other.key"), other.KeyPem(), 0600).ok());
  ASSERT_TRUE(WriteWholeFile(dir_.Join("garbage"), "garbage\n").ok());

  absl::Status missing = Import(dir_.Join("server.pem"), dir_.Join("nope.key"), "");
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.message(), HasSubstr("--key: no such file"));
  absl::Status missing_chain =
      Import(dir_.Join("server.pem"), dir_.Join("server.key"), dir_.Join("nope.pem"));
  EXPECT_THAT(missing_chain.message(), HasSubstr("--chain: no such file"));
  absl::Status mismatched = Import(dir_.Join("server.pem"), dir_.Join("other.key"), "");
  EXPECT_THAT(mismatched.message(), HasSubstr("does not match"));
  absl::Status garbage = Import(dir_.Join("garbage"), dir_.Join("server.key"), "");
  EXPECT_THAT(garbage.message(), HasSubstr("--cert: no PEM certificate"));
  absl::Status bad_chain =
      Import(dir_.Join("server.pem"), dir_.Join("server.key"), dir_.Join("garbage"));
  EXPECT_THAT(bad_chain.message(), HasSubstr("--chain: no PEM certificate"));

  clock_.SetUnix(testing::kT0 + 400 * 86400);
  absl::Status expired = Import(dir_.Join("server.pem"), dir_.Join("server.key"), "");
  EXPECT_THAT(expired.message(), HasSubstr("has expired"));

  EXPECT_EQ(Snapshot(cfg_.data_dir), before);
  EXPECT_TRUE(TlsRows().empty());
}

TEST_F(TlsImportCommandTest, RefusesAnUninitialisedDataDirectory) {
  TempDir other("pc-tls-cmd");
  const std::string config = other.Join("portcullis.yaml");
  ASSERT_TRUE(WriteWholeFile(config, config::DefaultConfigYaml()).ok());
  std::ostringstream out;
  absl::Status st = daemon::RunTlsImport(
      {config, dir_.Join("server.pem"), dir_.Join("server.key"), ""}, &clock_, out);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(st.message(), HasSubstr("portcullisd init"));
  EXPECT_FALSE(std::filesystem::exists(other.Join("data")));
}

TEST_F(TlsImportCommandTest, SecondImportKeepsTheFirstAsBackup) {
  ASSERT_TRUE(Import(dir_.Join("server.pem"), dir_.Join("server.key"), dir_.Join("chain.pem")).ok());
  const std::string first = *ReadWholeFile(cfg_.TlsImportedPath());
  Issued next = testing::MakeCert(CertSpec{}, &mid_);
  ASSERT_TRUE(WriteWholeFile(dir_.Join("next.pem"), next.CertPem()).ok());
  ASSERT_TRUE(WriteWholeFile(dir_.Join("next.key"), next.KeyPem(), 0600).ok());
  std::string out;
  ASSERT_TRUE(Import(dir_.Join("next.pem"), dir_.Join("next.key"), dir_.Join("chain.pem"), &out).ok());
  EXPECT_THAT(out, HasSubstr("Previous import kept as"));
  EXPECT_EQ(*ReadWholeFile(cfg_.TlsImportedBackupPath()), first);
  std::vector<audit::AuditRow> rows = TlsRows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].event.details["replaces_sha256_fingerprint"],
            rows[0].event.details["sha256_fingerprint"]);
}

}  // namespace
}  // namespace portcullis::tls
