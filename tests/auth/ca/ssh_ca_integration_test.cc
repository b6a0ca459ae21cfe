// The CA against the real OpenSSH tools: ssh-keygen must read what we write
// (certificates, OpenSSH private keys, fingerprints) and a stock sshd with
// TrustedUserCAKeys = ExportLine() must accept exactly the certificates it
// should. Needs root, ssh, ssh-keygen and /usr/sbin/sshd; loopback only.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "auth/ca/ssh_ca.h"
#include "auth/ca/ssh_certificate.h"
#include "broker/common/encoding.h"
#include "tests/auth/ca/test_keys.h"
#include "tests/support/sshd_fixture.h"

namespace portcullis::ca {
namespace {

using portcullis::testing::CommandResult;
using portcullis::testing::RunCommand;
using portcullis::testing::SshdFixture;
using portcullis::testing::SshdOptions;
using portcullis::testing::TempDir;
using portcullis::testing::WriteWholeFile;

constexpr int64_t kFixedNow = 1'700'000'000;  // 2023-11-14T22:13:20Z

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  size_t e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// `ssh-keygen -L` output with times in UTC, as trimmed lines after the first.
std::vector<std::string> KeygenList(const TempDir& dir, const std::string& cert_line) {
  const std::string path = dir.Join("cert.pub");
  EXPECT_TRUE(WriteWholeFile(path, cert_line + "\n").ok());
  CommandResult r =
      RunCommand({"ssh-keygen", "-L", "-f", path}, "", std::chrono::seconds(30), {"TZ=UTC"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines;
  for (const auto& l : Lines(r.out)) lines.push_back(Trim(l));
  EXPECT_FALSE(lines.empty());
  EXPECT_EQ(lines.front(), path + ":");
  if (!lines.empty()) lines.erase(lines.begin());
  return lines;
}

class OpenSshToolsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (RunCommand({"ssh-keygen", "-?"}).exit_code < 0) GTEST_SKIP() << "no ssh-keygen";
  }
  TempDir dir_;
};

TEST_F(OpenSshToolsTest, KeygenListsMintedCertificate) {
  FakeClock clock(kFixedNow);
  SshCertificateAuthority ca(testkeys::FixedCa(), &clock, CaOptions(), [] { return 42; });
  TargetCertRequest req;
  req.subject_public_blob = testkeys::FixedSubject().PublicBlob();
  req.user = "bob";
  req.session_id = "s-123";
  req.login = "maint";
  auto issued = ca.IssueTargetCertificate(req);
  ASSERT_TRUE(issued.ok()) << issued.status();
  const std::vector<std::string> expected = {
      "Type: ssh-ed25519-cert-v01@openssh.com user certificate",
      "Public key: ED25519-CERT " + Fingerprint(testkeys::FixedSubject().PublicBlob()),
      "Signing CA: ED25519 " + Fingerprint(ca.PublicBlob()) + " (using ssh-ed25519)",
      "Key ID: \"portcullis:bob:s-123\"",
      "Serial: 42",
      "Valid: from 2023-11-14T22:12:50 to 2023-11-14T22:18:20",
      "Principals:",
      "maint",
      "Critical Options: (none)",
      "Extensions:",
      "permit-pty",
  };
  EXPECT_EQ(KeygenList(dir_, issued->line), expected);
}

TEST_F(OpenSshToolsTest, KeygenListsSourceAddressAndPortForwarding) {
  FakeClock clock(kFixedNow);
  CaOptions options;
  options.source_address = "192.0.2.7,10.0.0.0/8";
  SshCertificateAuthority ca(testkeys::FixedCa(), &clock, options, [] { return 7; });
  TargetCertRequest req;
  req.subject_public_blob = testkeys::FixedSubject().PublicBlob();
  req.user = "bob";
  req.session_id = "s-123";
  req.login = "maint";
  req.permit_port_forwarding = true;
  req.ttl = std::chrono::seconds(60);
  auto issued = ca.IssueTargetCertificate(req);
  ASSERT_TRUE(issued.ok()) << issued.status();
  const std::vector<std::string> expected = {
      "Type: ssh-ed25519-cert-v01@openssh.com user certificate",
      "Public key: ED25519-CERT " + Fingerprint(testkeys::FixedSubject().PublicBlob()),
      "Signing CA: ED25519 " + Fingerprint(ca.PublicBlob()) + " (using ssh-ed25519)",
      "Key ID: \"portcullis:bob:s-123\"",
      "Serial: 7",
      "Valid: from 2023-11-14T22:12:50 to 2023-11-14T22:14:20",
      "Principals:",
      "maint",
      "Critical Options:",
      "source-address 192.0.2.7,10.0.0.0/8",
      "Extensions:",
      "permit-port-forwarding",
      "permit-pty",
  };
  EXPECT_EQ(KeygenList(dir_, issued->line), expected);
}

// ssh-keygen verifies the CA signature when it loads a certificate, so this
// independently checks the golden certificate of ssh_certificate_test.
TEST_F(OpenSshToolsTest, KeygenAcceptsGoldenCertificate) {
  const std::string blob = testkeys::GoldenCertificate();
  ASSERT_EQ(HexEncode(Sha256(blob)), testkeys::kGoldenSha256);
  const std::vector<std::string> expected = {
      "Type: ssh-ed25519-cert-v01@openssh.com user certificate",
      "Public key: ED25519-CERT " + Fingerprint(testkeys::FixedSubject().PublicBlob()),
      "Signing CA: ED25519 " + Fingerprint(testkeys::FixedCa().PublicBlob()) +
          " (using ssh-ed25519)",
      "Key ID: \"portcullis:bob:s-123\"",
      "Serial: 72623859790382856",  // 0x0102030405060708
      "Valid: from 2023-11-14T22:13:20 to 2023-11-14T22:18:20",
      "Principals:",
      "maint",
      "root",
      "Critical Options:",
      "source-address 10.0.0.1/32",
      "Extensions:",
      "permit-port-forwarding",
      "permit-pty"};
  EXPECT_EQ(KeygenList(dir_, CertificateLine(blob, "golden")), expected);
}

TEST_F(OpenSshToolsTest, KeygenAcceptsFlagCriticalOption) {
  CertificateFields f = testkeys::GoldenFields();
  f.critical_options = {{"force-command", "/bin/true"}, {"verify-required", ""}};
  auto blob = SignCertificate(f, testkeys::FixedCa());
  ASSERT_TRUE(blob.ok()) << blob.status();
  auto lines = KeygenList(dir_, CertificateLine(*blob, "c"));
  const std::vector<std::string> expected = {"Critical Options:", "force-command /bin/true",
                                             "verify-required", "Extensions:"};
  ASSERT_GE(lines.size(), 13u);
  EXPECT_EQ(std::vector<std::string>(lines.begin() + 9, lines.begin() + 13), expected);
}

TEST_F(OpenSshToolsTest, KeygenRejectsCertificateWithBadSignature) {
  CertificateFields f;
  f.subject_public_blob = testkeys::FixedSubject().PublicBlob();
  f.principals = {"maint"};
  f.valid_after = kFixedNow;
  f.valid_before = kFixedNow + 300;
  auto blob = SignCertificate(f, testkeys::FixedCa());
  ASSERT_TRUE(blob.ok());
  std::string bad = *blob;
  bad[bad.size() - 1] ^= 0x01;  // last signature byte
  const std::string path = dir_.Join("bad-cert.pub");
  ASSERT_TRUE(WriteWholeFile(path, CertificateLine(bad, "c") + "\n").ok());
  EXPECT_NE(RunCommand({"ssh-keygen", "-L", "-f", path}).exit_code, 0);
}

TEST_F(OpenSshToolsTest, KeygenReadsOpenSshPrivateKey) {
  Ed25519Key key = Ed25519Key::Generate();
  const std::string path = dir_.Join("id_ed25519");
  SecretBytes text = key.OpenSshPrivateKey("bob@portcullis");
  ASSERT_TRUE(WriteWholeFile(path, text.Reveal(), 0600).ok());
  CommandResult r = RunCommand({"ssh-keygen", "-y", "-f", path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Trim(r.out), key.AuthorizedKeyLine("bob@portcullis"));
}

TEST_F(OpenSshToolsTest, FingerprintMatchesKeygen) {
  Ed25519Key key = testkeys::FixedCa();
  const std::string path = dir_.Join("ca.pub");
  ASSERT_TRUE(WriteWholeFile(path, key.AuthorizedKeyLine("ca") + "\n").ok());
  CommandResult r = RunCommand({"ssh-keygen", "-l", "-E", "sha256", "-f", path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Trim(r.out), "256 " + Fingerprint(key.PublicBlob()) + " ca (ED25519)");
}

// Each test gets its own sshd trusting a fresh CA.
class SshdCertLoginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!SshdFixture::Available()) GTEST_SKIP() << "needs root and /usr/sbin/sshd";
    user_ = portcullis::testing::CurrentUserName();
    ASSERT_FALSE(user_.empty());
    SshdOptions options;
    options.trusted_user_ca_keys = MakeCa(&real_clock_, {}).ExportLine() + "\n";
    sshd_ = std::make_unique<SshdFixture>(std::move(options));
    auto st = sshd_->Start();
    ASSERT_TRUE(st.ok()) << st;
  }
  void TearDown() override {
    if (sshd_ != nullptr) sshd_->Stop();
  }

  SshCertificateAuthority MakeCa(const Clock* clock, CaOptions options) {
    // Every CA made here shares ca_key_, the key sshd trusts.
    auto key = Ed25519Key::FromPrivatePem(ca_key_.PrivatePem());
    EXPECT_TRUE(key.ok());
    return SshCertificateAuthority(std::move(key).value(), clock, std::move(options),
                                   [this] { return ++serial_; });
  }

  // Writes the subject key (+ "-cert.pub" unless `cert_line` is empty) and
  // runs the real ssh client against the fixture.
  CommandResult Login(const std::string& cert_line, const std::string& user) {
    const std::string key_path = client_dir_.Join("id_ed25519");
    EXPECT_TRUE(
        WriteWholeFile(key_path, subject_.OpenSshPrivateKey("subject").Reveal(), 0600).ok());
    const std::string cert_path = key_path + "-cert.pub";
    ::unlink(cert_path.c_str());
    if (!cert_line.empty()) {
      EXPECT_TRUE(WriteWholeFile(cert_path, cert_line + "\n").ok());
    }
    return RunCommand({"ssh",
                       "-F",
                       "/dev/null",
                       "-o",
                       "StrictHostKeyChecking=no",
                       "-o",
                       "UserKnownHostsFile=/dev/null",
                       "-o",
                       "IdentitiesOnly=yes",
                       "-o",
                       "BatchMode=yes",
                       "-o",
                       "ConnectTimeout=10",
                       "-o",
                       "LogLevel=ERROR",
                       "-i",
                       key_path,
                       "-p",
                       std::to_string(sshd_->port()),
                       user + "@127.0.0.1",
                       "echo",
                       "ok"},
                      "", std::chrono::seconds(30));
  }

  absl::StatusOr<IssuedCertificate> Issue(const SshCertificateAuthority& ca,
                                          const std::string& login) {
    TargetCertRequest req;
    req.subject_public_blob = subject_.PublicBlob();
    req.user = "bob";
    req.session_id = "s-123";
    req.login = login;
    return ca.IssueTargetCertificate(req);
  }

  SystemClock real_clock_;
  Ed25519Key ca_key_ = Ed25519Key::Generate();
  Ed25519Key subject_ = Ed25519Key::Generate();
  uint64_t serial_ = 1000;
  std::string user_;
  TempDir client_dir_{"pc-ssh-client"};
  std::unique_ptr<SshdFixture> sshd_;
};

TEST_F(SshdCertLoginTest, LoginWithMintedCertificate) {
  auto ca = MakeCa(&real_clock_, {});
  auto cert = Issue(ca, user_);
  ASSERT_TRUE(cert.ok()) << cert.status();
  CommandResult r = Login(cert->line, user_);
  EXPECT_EQ(r.exit_code, 0) << r.err << "\nsshd log:\n" << sshd_->log();
  EXPECT_EQ(r.out, "ok\n");
  const std::string log = sshd_->log();
  EXPECT_TRUE(Contains(log, "Accepted publickey for " + user_ + " from 127.0.0.1")) << log;
  EXPECT_TRUE(Contains(log, fmt::format("ID portcullis:bob:s-123 (serial {})", cert->serial)))
      << log;
}

TEST_F(SshdCertLoginTest, KeyWithoutCertificateRefused) {
  CommandResult r = Login("", user_);
  EXPECT_EQ(r.exit_code, 255) << r.out;
  EXPECT_FALSE(Contains(sshd_->log(), "Accepted publickey"));
}

TEST_F(SshdCertLoginTest, ExpiredCertificateRefused) {
  FakeClock past(static_cast<int64_t>(std::time(nullptr)) - 3600);
  auto ca = MakeCa(&past, {});
  auto cert = Issue(ca, user_);
  ASSERT_TRUE(cert.ok());
  ASSERT_LT(cert->valid_before, static_cast<uint64_t>(std::time(nullptr)));
  CommandResult r = Login(cert->line, user_);
  EXPECT_EQ(r.exit_code, 255) << r.out;
  const std::string log = sshd_->log();
  EXPECT_FALSE(Contains(log, "Accepted publickey")) << log;
  EXPECT_TRUE(Contains(log, "expired")) << log;
}

TEST_F(SshdCertLoginTest, WrongPrincipalRefused) {
  auto ca = MakeCa(&real_clock_, {});
  auto cert = Issue(ca, "not-" + user_);
  ASSERT_TRUE(cert.ok());
  CommandResult r = Login(cert->line, user_);
  EXPECT_EQ(r.exit_code, 255) << r.out;
  const std::string log = sshd_->log();
  EXPECT_FALSE(Contains(log, "Accepted publickey")) << log;
  EXPECT_TRUE(Contains(log, "name is not a listed principal")) << log;
}

TEST_F(SshdCertLoginTest, OtherCaRefused) {
  SshCertificateAuthority other(Ed25519Key::Generate(), &real_clock_, CaOptions());
  auto cert = Issue(other, user_);
  ASSERT_TRUE(cert.ok());
  CommandResult r = Login(cert->line, user_);
  EXPECT_EQ(r.exit_code, 255) << r.out;
  const std::string log = sshd_->log();
  EXPECT_FALSE(Contains(log, "Accepted publickey")) << log;
  // At LogLevel VERBOSE sshd names the untrusted CA only in the failure line.
  EXPECT_TRUE(Contains(log, "Failed publickey for " + user_)) << log;
  EXPECT_TRUE(Contains(log, "CA ED25519 " + Fingerprint(other.PublicBlob()))) << log;
}

TEST_F(SshdCertLoginTest, SourceAddressEnforcedBySshd) {
  CaOptions loopback;
  loopback.source_address = "127.0.0.1/32";
  auto ok_cert = Issue(MakeCa(&real_clock_, loopback), user_);
  ASSERT_TRUE(ok_cert.ok());
  CommandResult r = Login(ok_cert->line, user_);
  EXPECT_EQ(r.exit_code, 0) << r.err << "\nsshd log:\n" << sshd_->log();

  CaOptions elsewhere;
  elsewhere.source_address = "192.0.2.7";
  auto bad_cert = Issue(MakeCa(&real_clock_, elsewhere), user_);
  ASSERT_TRUE(bad_cert.ok());
  r = Login(bad_cert->line, user_);
  EXPECT_EQ(r.exit_code, 255) << r.out;
  EXPECT_TRUE(Contains(sshd_->log(), "not from a permitted source address")) << sshd_->log();
}

}  // namespace
}  // namespace portcullis::ca
