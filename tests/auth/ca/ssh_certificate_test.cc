// Encoding, signing and verification of OpenSSH certificates. Byte-exact:
// fixed CA key, fixed nonce, deterministic Ed25519.
#include "auth/ca/ssh_certificate.h"

#include <gtest/gtest.h>

#include "broker/common/bounded_reader.h"
#include "broker/common/encoding.h"
#include "tests/auth/ca/test_keys.h"

namespace portcullis::ca {
namespace {

std::string FixedNonce() { return testkeys::GoldenNonce(); }
CertificateFields FixedFields() { return testkeys::GoldenFields(); }

std::string SignFixed(const CertificateFields& f) {
  auto blob = internal::SignCertificateWithNonce(f, testkeys::FixedCa(), FixedNonce());
  EXPECT_TRUE(blob.ok()) << blob.status();
  return blob.ok() ? *blob : std::string();
}

TEST(SshCertificateTest, ByteExactLayout) {
  const CertificateFields f = FixedFields();
  const std::string blob = SignFixed(f);
  Ed25519Key ca = testkeys::FixedCa();

  // The first bytes, written out by hand.
  const std::string head =
      std::string("\0\0\0\x20", 4) + "ssh-ed25519-cert-v01@openssh.com" +
      std::string("\0\0\0\x20", 4) + FixedNonce() + std::string("\0\0\0\x20", 4) +
      testkeys::FixedSubject().PublicRaw() + std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8) +
      std::string("\0\0\0\x01", 4) + std::string("\0\0\0\x14", 4) + "portcullis:bob:s-123";
  ASSERT_GE(blob.size(), head.size());
  EXPECT_EQ(HexEncode(blob.substr(0, head.size())), HexEncode(head));

  // Options: string name, string(string value). Extensions sorted bytewise.
  const std::string critical = std::string("\0\0\0\x0e", 4) + "source-address" +
                               std::string("\0\0\0\x0f\0\0\0\x0b", 8) + "10.0.0.1/32";
  const std::string extensions = std::string("\0\0\0\x16", 4) + "permit-port-forwarding" +
                                 std::string(4, '\0') + std::string("\0\0\0\x0a", 4) +
                                 "permit-pty" + std::string(4, '\0');
  const std::string signed_part = WireWriter()
                                      .String("ssh-ed25519-cert-v01@openssh.com")
                                      .String(FixedNonce())
                                      .String(testkeys::FixedSubject().PublicRaw())
                                      .U64(0x0102030405060708ULL)
                                      .U32(1)
                                      .String("portcullis:bob:s-123")
                                      .String(WireWriter().String("maint").String("root").Take())
                                      .U64(1'700'000'000)
                                      .U64(1'700'000'300)
                                      .String(critical)
                                      .String(extensions)
                                      .String("")
                                      .String(ca.PublicBlob())
                                      .Take();
  auto sig = ca.Sign(signed_part);
  ASSERT_TRUE(sig.ok());
  const std::string expected =
      signed_part +
      WireWriter().String(WireWriter().String("ssh-ed25519").String(*sig).Take()).Take();
  EXPECT_EQ(HexEncode(blob), HexEncode(expected));
}

TEST(SshCertificateTest, GoldenDigest) {
  // Ed25519 is deterministic: fixed CA key + fixed nonce => a stable blob.
  // Changing the encoding in any way changes this digest.
  // ssh_ca_integration_test checks with ssh-keygen that this very blob is a
  // valid certificate.
  EXPECT_EQ(HexEncode(Sha256(SignFixed(FixedFields()))), testkeys::kGoldenSha256);
}

TEST(SshCertificateTest, ParseRoundTripsEveryField) {
  const CertificateFields f = FixedFields();
  const std::string blob = SignFixed(f);
  auto parsed = ParseCertificate(blob);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const CertificateFields& g = parsed->fields;
  EXPECT_EQ(g.subject_public_blob, f.subject_public_blob);
  EXPECT_EQ(g.serial, f.serial);
  EXPECT_EQ(g.type, f.type);
  EXPECT_EQ(g.key_id, f.key_id);
  EXPECT_EQ(g.principals, f.principals);
  EXPECT_EQ(g.valid_after, f.valid_after);
  EXPECT_EQ(g.valid_before, f.valid_before);
  EXPECT_EQ(g.critical_options, f.critical_options);
  EXPECT_EQ(g.extensions, f.extensions);
  EXPECT_EQ(parsed->nonce, FixedNonce());
  EXPECT_EQ(parsed->signature_key_blob, testkeys::FixedCa().PublicBlob());
  EXPECT_EQ(parsed->signed_part, blob.substr(0, parsed->signed_part.size()));
  EXPECT_EQ(blob.size(), parsed->signed_part.size() + 4 + parsed->signature_blob.size());
}

TEST(SshCertificateTest, FlagCriticalOptionHasEmptyData) {
  CertificateFields f = FixedFields();
  f.critical_options = {{"force-command", "/bin/true"}, {"verify-required", ""}};
  auto parsed = ParseCertificate(SignFixed(f));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->fields.critical_options, f.critical_options);
}

TEST(SshCertificateTest, RandomNonceDiffersPerCertificate) {
  Ed25519Key ca = testkeys::FixedCa();
  auto a = SignCertificate(FixedFields(), ca);
  auto b = SignCertificate(FixedFields(), ca);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_EQ(ParseCertificate(*a)->nonce.size(), 32u);
}

TEST(SshCertificateTest, SignRefusesBadFields) {
  Ed25519Key ca = testkeys::FixedCa();
  auto refuse = [&](CertificateFields f) { return !SignCertificate(f, ca).ok(); };
  CertificateFields f = FixedFields();
  f.subject_public_blob = WireWriter().String("ssh-rsa").String("x").Take();
  EXPECT_TRUE(refuse(f));
  f = FixedFields(), f.type = 3;
  EXPECT_TRUE(refuse(f));
  f = FixedFields(), f.principals.clear();
  EXPECT_TRUE(refuse(f));
  f = FixedFields(), f.principals = {""};
  EXPECT_TRUE(refuse(f));
  f = FixedFields(), f.principals = {std::string("a\0b", 3)};
  EXPECT_TRUE(refuse(f));
  f = FixedFields(), f.valid_before = f.valid_after;
  EXPECT_TRUE(refuse(f));
  f = FixedFields(), f.key_id = std::string("\xff\xfe");
  EXPECT_TRUE(refuse(f));
  f = FixedFields(), f.extensions.insert("");
  EXPECT_TRUE(refuse(f));
  f = FixedFields(), f.principals.assign(kMaxPrincipals + 1, "p");
  EXPECT_TRUE(refuse(f));
  EXPECT_FALSE(refuse(FixedFields()));
  EXPECT_FALSE(internal::SignCertificateWithNonce(FixedFields(), ca, "").ok());
}

TEST(SshCertificateTest, CertificateLine) {
  std::string line = CertificateLine("\x01\x02\x03", "c");
  EXPECT_EQ(line, "ssh-ed25519-cert-v01@openssh.com AQID c");
  EXPECT_EQ(CertificateLine("\x01\x02\x03", ""), "ssh-ed25519-cert-v01@openssh.com AQID");
}

class VerifyUserCertificateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto parsed = ParseCertificate(SignFixed(FixedFields()));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    cert_ = *parsed;
  }
  absl::Status Verify(uint64_t now, std::string_view principal) const {
    return VerifyUserCertificate(cert_, ca_.PublicBlob(), now, principal);
  }
  static void ExpectDenied(const absl::Status& st, std::string_view reason) {
    EXPECT_EQ(st.code(), absl::StatusCode::kPermissionDenied) << st;
    EXPECT_NE(std::string(st.message()).find(reason), std::string::npos) << st;
  }
  Ed25519Key ca_ = testkeys::FixedCa();
  ParsedCertificate cert_;
};

TEST_F(VerifyUserCertificateTest, Valid) {
  EXPECT_TRUE(Verify(1'700'000'100, "root").ok());
  EXPECT_TRUE(Verify(1'700'000'100, "maint").ok());
  EXPECT_TRUE(Verify(1'700'000'000, "root").ok());  // valid_after is inclusive
  EXPECT_TRUE(Verify(1'700'000'299, "root").ok());
}

TEST_F(VerifyUserCertificateTest, Expired) {
  ExpectDenied(Verify(1'700'000'300, "root"), "expired");  // valid_before is exclusive
  ExpectDenied(Verify(1'800'000'000, "root"), "expired");
}

TEST_F(VerifyUserCertificateTest, NotYetValid) {
  ExpectDenied(Verify(1'699'999'999, "root"), "not yet valid");
}

TEST_F(VerifyUserCertificateTest, WrongPrincipal) {
  ExpectDenied(Verify(1'700'000'100, "admin"), "not a listed principal");
  ExpectDenied(Verify(1'700'000'100, "roo"), "not a listed principal");
  ExpectDenied(Verify(1'700'000'100, ""), "not a listed principal");
}

TEST_F(VerifyUserCertificateTest, WrongCa) {
  auto st =
      VerifyUserCertificate(cert_, testkeys::FixedSubject().PublicBlob(), 1'700'000'100, "root");
  ExpectDenied(st, "not signed by the trusted CA");
  EXPECT_EQ(VerifyUserCertificate(cert_, "garbage", 1'700'000'100, "root").code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(VerifyUserCertificateTest, TamperedByteInSignedPart) {
  std::string blob = SignFixed(FixedFields());
  size_t pos = blob.find("portcullis:bob");
  ASSERT_NE(pos, std::string::npos);
  blob[pos + 11] = 'B';  // "portcullis:Bob"
  auto parsed = ParseCertificate(blob);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ExpectDenied(VerifyUserCertificate(*parsed, ca_.PublicBlob(), 1'700'000'100, "root"),
               "bad CA signature");
  // Also every single byte of the nonce.
  for (size_t i = 0; i < 32; ++i) {
    std::string b = SignFixed(FixedFields());
    b[4 + 32 + 4 + i] ^= 0x01;
    auto p = ParseCertificate(b);
    ASSERT_TRUE(p.ok());
    EXPECT_FALSE(VerifyUserCertificate(*p, ca_.PublicBlob(), 1'700'000'100, "root").ok()) << i;
  }
}

TEST_F(VerifyUserCertificateTest, TamperedSignature) {
  cert_.signature_blob.back() ^= 0x40;
  ExpectDenied(Verify(1'700'000'100, "root"), "bad CA signature");
}

TEST_F(VerifyUserCertificateTest, ChecksSignedBytesNotParsedFields) {
  cert_.fields.principals.push_back("admin");
  cert_.fields.valid_before = UINT64_MAX;
  ExpectDenied(Verify(1'700'000'100, "admin"), "not a listed principal");
  ExpectDenied(Verify(1'800'000'000, "root"), "expired");
}

TEST_F(VerifyUserCertificateTest, HostCertificateRefused) {
  CertificateFields f = FixedFields();
  f.type = kCertTypeHost;
  auto parsed = ParseCertificate(SignFixed(f));
  ASSERT_TRUE(parsed.ok());
  ExpectDenied(VerifyUserCertificate(*parsed, ca_.PublicBlob(), 1'700'000'100, "root"),
               "not a user certificate");
}

TEST_F(VerifyUserCertificateTest, UnknownCriticalOptionRefused) {
  CertificateFields f = FixedFields();
  f.critical_options["no-such-option@example.com"] = "x";
  auto parsed = ParseCertificate(SignFixed(f));
  ASSERT_TRUE(parsed.ok());
  ExpectDenied(VerifyUserCertificate(*parsed, ca_.PublicBlob(), 1'700'000'100, "root"),
               "unsupported critical option");
}

}  // namespace
}  // namespace portcullis::ca
