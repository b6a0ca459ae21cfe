// tls::ValidateServerIdentity: one test per refusal case, and what an
// accepted identity becomes (the bundle the API server loads).

#include "broker/tls/tls_import.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "broker/tls/server_identity.h"
#include "tests/broker/tls/test_pki.h"

namespace portcullis::tls {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using testing::CertSpec;
using testing::Issued;
using testing::kNow;
using testing::kT0;
using testing::MakeCert;
using testing::MakeIntermediate;
using testing::MakeRoot;
using testing::NewKey;

class TlsImportTest : public ::testing::Test {
 protected:
  TlsImportTest()
      : root_(MakeRoot()), intermediate_(MakeIntermediate(root_)),
        leaf_(MakeCert(CertSpec{}, &intermediate_)) {}

  absl::StatusOr<ValidatedIdentity> Validate(const std::string& cert, const std::string& key,
                                             const std::string& chain, int64_t now = kNow) {
    cert_ = cert;
    key_ = key;
    chain_ = chain;
    ImportRequest req{cert_, key_, chain_, {"127.0.0.1", "localhost"}};
    return ValidateServerIdentity(req, FromUnix(now));
  }
  // The leaf of `spec` signed by the intermediate, with the full chain.
  absl::StatusOr<ValidatedIdentity> ValidateSpec(const CertSpec& spec, int64_t now = kNow) {
    Issued leaf = MakeCert(spec, &intermediate_);
    return Validate(leaf.CertPem(), leaf.KeyPem(), Chain(), now);
  }
  std::string Chain() const { return intermediate_.CertPem() + root_.CertPem(); }

  Issued root_, intermediate_, leaf_;
  std::string cert_, key_, chain_;
};

TEST_F(TlsImportTest, AcceptsCertificateWithFullChain) {
  auto id = Validate(leaf_.CertPem(), leaf_.KeyPem(), Chain());
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->leaf.subject, "CN=portcullisd,O=Test Plant");
  EXPECT_EQ(id->leaf.issuer, "CN=Test Issuing CA,O=Test Plant");
  EXPECT_EQ(id->leaf.sha256_fingerprint.size(), 32u * 3 - 1);
  EXPECT_THAT(id->leaf.sans, ElementsAre("IP:127.0.0.1", "DNS:localhost"));
  EXPECT_EQ(id->leaf.not_after_unix, kT0 + 365 * 86400);
  EXPECT_EQ(id->key_type, "ECDSA P-256");
  ASSERT_EQ(id->chain.size(), 2u);
  EXPECT_EQ(id->chain[0].subject, "CN=Test Issuing CA,O=Test Plant");
  EXPECT_EQ(id->chain[1].subject, "CN=Test Root CA,O=Test Plant");
  EXPECT_THAT(id->warnings, IsEmpty());

  // The bundle: key, then the leaf, then the chain in path order.
  auto certs = ParsePemCertificates(id->bundle.Reveal(), "bundle");
  ASSERT_TRUE(certs.ok()) << certs.status();
  ASSERT_EQ(certs->size(), 3u);
  EXPECT_EQ(X509_cmp((*certs)[0].get(), leaf_.cert.get()), 0);
  EXPECT_EQ(X509_cmp((*certs)[1].get(), intermediate_.cert.get()), 0);
  EXPECT_EQ(X509_cmp((*certs)[2].get(), root_.cert.get()), 0);
  auto key = ParsePrivateKeyPem(id->bundle.Reveal(), "bundle");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(EVP_PKEY_eq(key->get(), leaf_.key.get()), 1);
}

TEST_F(TlsImportTest, AcceptsChainWithoutTheRoot) {
  auto id = Validate(leaf_.CertPem(), leaf_.KeyPem(), intermediate_.CertPem());
  ASSERT_TRUE(id.ok()) << id.status();
  ASSERT_EQ(id->chain.size(), 1u);
  EXPECT_EQ(id->chain[0].subject, "CN=Test Issuing CA,O=Test Plant");
}

TEST_F(TlsImportTest, ChainOrderInTheFileDoesNotMatter) {
  auto id = Validate(leaf_.CertPem(), leaf_.KeyPem(), root_.CertPem() + intermediate_.CertPem());
  ASSERT_TRUE(id.ok()) << id.status();
  ASSERT_EQ(id->chain.size(), 2u);
  EXPECT_EQ(id->chain[0].subject, "CN=Test Issuing CA,O=Test Plant");
}

TEST_F(TlsImportTest, CertificatesAfterTheLeafInCertFileJoinTheChain) {
  auto id = Validate(leaf_.CertPem() + intermediate_.CertPem(), leaf_.KeyPem(), "");
  ASSERT_TRUE(id.ok()) << id.status();
  ASSERT_EQ(id->chain.size(), 1u);
}

TEST_F(TlsImportTest, NoChainIsAcceptedWithAWarning) {
  auto id = Validate(leaf_.CertPem(), leaf_.KeyPem(), "");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_THAT(id->chain, IsEmpty());
  ASSERT_EQ(id->warnings.size(), 1u);
  EXPECT_THAT(id->warnings[0], HasSubstr("no --chain"));
}

TEST_F(TlsImportTest, NameNotCoveredBySanIsAWarning) {
  CertSpec spec;
  spec.san = "DNS:broker.plant.example";
  auto id = ValidateSpec(spec);
  ASSERT_TRUE(id.ok()) << id.status();
  ASSERT_EQ(id->warnings.size(), 2u);
  EXPECT_THAT(id->warnings[0], HasSubstr("does not cover 127.0.0.1"));
  EXPECT_THAT(id->warnings[1], HasSubstr("does not cover localhost"));
}

TEST_F(TlsImportTest, AcceptsRsa2048) {
  Issued leaf = MakeCert(CertSpec{}, &intermediate_, NewKey(2048));
  auto id = Validate(leaf.CertPem(), leaf.KeyPem(), Chain());
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->key_type, "RSA 2048");
}

TEST_F(TlsImportTest, RefusesMismatchedKey) {
  Issued other = MakeCert(CertSpec{}, &intermediate_);
  auto id = Validate(leaf_.CertPem(), other.KeyPem(), Chain());
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(id.status().message(), HasSubstr("--key does not match --cert"));
}

TEST_F(TlsImportTest, RefusesExpired) {
  auto id = Validate(leaf_.CertPem(), leaf_.KeyPem(), Chain(), kT0 + 366 * 86400);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(id.status().message(), HasSubstr("has expired"));
}

TEST_F(TlsImportTest, RefusesNotYetValid) {
  auto id = Validate(leaf_.CertPem(), leaf_.KeyPem(), Chain(), kT0 - 60);
  ASSERT_FALSE(id.ok());
  EXPECT_THAT(id.status().message(), HasSubstr("not valid yet (valid from 2026-09-21T14:13:20Z"));
}

TEST_F(TlsImportTest, RefusesExpiringWithinADay) {
  auto id = Validate(leaf_.CertPem(), leaf_.KeyPem(), Chain(), kT0 + 365 * 86400 - 3600);
  ASSERT_FALSE(id.ok());
  EXPECT_THAT(id.status().message(), HasSubstr("expires within a day"));
}

TEST_F(TlsImportTest, ExpiringWithinAMonthIsAWarning) {
  auto id = Validate(leaf_.CertPem(), leaf_.KeyPem(), Chain(), kT0 + 350 * 86400);
  ASSERT_TRUE(id.ok()) << id.status();
  ASSERT_EQ(id->warnings.size(), 1u);
  EXPECT_THAT(id->warnings[0], HasSubstr("expires soon"));
}

TEST_F(TlsImportTest, RefusesNoSan) {
  CertSpec spec;
  spec.san = std::nullopt;
  auto id = ValidateSpec(spec);
  ASSERT_FALSE(id.ok());
  EXPECT_THAT(id.status().message(), HasSubstr("no subjectAltName"));
}

TEST_F(TlsImportTest, RefusesSanWithOnlyAnEmailAddress) {
  CertSpec spec;
  spec.san = "email:ops@plant.example";
  auto id = ValidateSpec(spec);
  ASSERT_FALSE(id.ok());
  EXPECT_THAT(id.status().message(), HasSubstr("no subjectAltName (DNS or IP)"));
}

TEST_F(TlsImportTest, RefusesKeyUsageWithoutDigitalSignature) {
  CertSpec spec;
  spec.key_usage = "critical,keyEncipherment";
  auto id = ValidateSpec(spec);
  ASSERT_FALSE(id.ok());
  EXPECT_THAT(id.status().message(), HasSubstr("key usage does not allow digitalSignature"));
}

TEST_F(TlsImportTest, RefusesClientOnlyExtendedKeyUsage) {
  CertSpec spec;
  spec.ext_key_usage = "clientAuth";
  auto id = ValidateSpec(spec);
  ASSERT_FALSE(id.ok());
  EXPECT_THAT(id.status().message(), HasSubstr("does not include TLS server authentication"));
}

TEST_F(TlsImportTest, AcceptsNoKeyUsageExtensions) {
  CertSpec spec;
  spec.key_usage = std::nullopt;
  spec.ext_key_usage = std::nullopt;
  auto id = ValidateSpec(spec);
  EXPECT_TRUE(id.ok()) << id.status();
}

TEST_F(TlsImportTest, RefusesCaCertificate) {
  CertSpec spec;
  spec.ca = true;
  auto id = ValidateSpec(spec);
  ASSERT_FALSE(id.ok());
  EXPECT_THAT(id.status().message(), HasSubstr("is a CA certificate"));
}

TEST_F(TlsImportTest, RefusesChainOfAnotherCa) {
  Issued other_root = MakeRoot("Other Root CA");
  Issued other_intermediate = MakeIntermediate(other_root, "Other Issuing CA");
  auto id = Validate(leaf_.CertPem(), leaf_.KeyPem(),
                     other_intermediate.CertPem() + other_root.CertPem());
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(id.status().message(), HasSubstr("--chain does not verify the certificate"));
}

TEST_F(TlsImportTest, RefusesChainMissingTheIntermediate) {
  auto id = Validate(leaf_.CertPem(), leaf_.KeyPem(), root_.CertPem());
  ASSERT_FALSE(id.ok());
  EXPECT_THAT(id.status().message(), HasSubstr("--chain does not verify the certificate"));
}

TEST_F(TlsImportTest, RefusesChainWithACertificateOffThePath) {
  Issued unrelated = MakeRoot("Unrelated Root CA");
  auto id = Validate(leaf_.CertPem(), leaf_.KeyPem(), Chain() + unrelated.CertPem());
  ASSERT_FALSE(id.ok());
  EXPECT_THAT(id.status().message(), HasSubstr("not on the certificate's path"));
  EXPECT_THAT(id.status().message(), HasSubstr("Unrelated Root CA"));
}

TEST_F(TlsImportTest, RefusesChainWithAnExpiredIntermediate) {
  CertSpec spec;
  spec.cn = "Old Issuing CA";
  spec.ca = true;
  spec.san = std::nullopt;
  spec.key_usage = "critical,keyCertSign";
  spec.ext_key_usage = std::nullopt;
  spec.not_before = kT0 - 400 * 86400;
  spec.not_after = kT0;
  Issued old = MakeCert(spec, &root_);
  Issued leaf = MakeCert(CertSpec{}, &old);
  auto id = Validate(leaf.CertPem(), leaf.KeyPem(), old.CertPem() + root_.CertPem());
  ASSERT_FALSE(id.ok());
  EXPECT_THAT(id.status().message(), HasSubstr("certificate has expired"));
}

TEST_F(TlsImportTest, RefusesGarbageCertificateFile) {
  auto id = Validate("this is not a certificate\n", leaf_.KeyPem(), Chain());
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(id.status().message(), HasSubstr("--cert: no PEM certificate"));
}

TEST_F(TlsImportTest, RefusesTruncatedCertificate) {
  std::string pem = leaf_.CertPem();
  pem.replace(pem.size() / 2, 40, "!!!!");
  auto id = Validate(pem, leaf_.KeyPem(), Chain());
  ASSERT_FALSE(id.ok());
  EXPECT_THAT(id.status().message(), HasSubstr("--cert: certificate 1 does not parse"));
}

TEST_F(TlsImportTest, RefusesGarbageKeyFile) {
  auto id = Validate(leaf_.CertPem(), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
                     Chain());
  ASSERT_FALSE(id.ok());
  EXPECT_THAT(id.status().message(), HasSubstr("--key: no PEM private key"));
}

TEST_F(TlsImportTest, RefusesACertificateGivenAsTheKey) {
  auto id = Validate(leaf_.CertPem(), leaf_.CertPem(), Chain());
  ASSERT_FALSE(id.ok());
  EXPECT_THAT(id.status().message(), HasSubstr("--key: no PEM private key"));
}

TEST_F(TlsImportTest, RefusesGarbageChainFile) {
  auto id = Validate(leaf_.CertPem(), leaf_.KeyPem(), "garbage\n");
  ASSERT_FALSE(id.ok());
  EXPECT_THAT(id.status().message(), HasSubstr("--chain: no PEM certificate"));
}

TEST_F(TlsImportTest, RefusesEncryptedKeyWithoutShowingIt) {
  const std::string encrypted = testing::EncryptedKeyPem(leaf_.key.get(), "hunter2-hunter2");
  ASSERT_THAT(encrypted, HasSubstr("ENCRYPTED PRIVATE KEY"));
  auto id = Validate(leaf_.CertPem(), encrypted, Chain());
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(id.status().message(), HasSubstr("--key: the private key is encrypted"));
  EXPECT_THAT(id.status().message(), Not(HasSubstr("BEGIN")));
}

TEST_F(TlsImportTest, RefusesWeakRsaKey) {
  Issued leaf = MakeCert(CertSpec{}, &intermediate_, NewKey(1024));
  auto id = Validate(leaf.CertPem(), leaf.KeyPem(), Chain());
  ASSERT_FALSE(id.ok());
  EXPECT_THAT(id.status().message(), HasSubstr("at least 2048"));
}

TEST_F(TlsImportTest, RefusesEd25519Key) {
  Issued leaf = MakeCert(CertSpec{}, &intermediate_, NewKey(0, /*ed25519=*/true));
  auto id = Validate(leaf.CertPem(), leaf.KeyPem(), Chain());
  ASSERT_FALSE(id.ok());
  EXPECT_THAT(id.status().message(), HasSubstr("neither ECDSA nor RSA"));
}

}  // namespace
}  // namespace portcullis::tls
