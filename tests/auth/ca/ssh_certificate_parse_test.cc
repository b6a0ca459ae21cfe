// One test per malformed-certificate case. Certificates are assembled field
// by field (and properly signed) so only the targeted defect is present.
#include <gtest/gtest.h>

#include "auth/ca/ssh_certificate.h"
#include "broker/common/bounded_reader.h"
#include "tests/auth/ca/test_keys.h"

namespace portcullis::ca {
namespace {

std::string S(std::string_view s) { return WireWriter().String(s).Take(); }
std::string U32(uint32_t v) { return WireWriter().U32(v).Take(); }
std::string U64(uint64_t v) { return WireWriter().U64(v).Take(); }

// The wire fields of a certificate up to the signature, in order.
struct RawCert {
  enum Field {
    kType,
    kNonce,
    kKey,
    kSerial,
    kCertType,
    kKeyId,
    kPrincipals,
    kAfter,
    kBefore,
    kCritical,
    kExtensions,
    kReserved,
    kCaKey,
    kNumFields
  };
  std::string f[kNumFields];

  RawCert() {
    f[kType] = S("ssh-ed25519-cert-v01@openssh.com");
    f[kNonce] = S(std::string(32, 'n'));
    f[kKey] = S(testkeys::FixedSubject().PublicRaw());
    f[kSerial] = U64(7);
    f[kCertType] = U32(1);
    f[kKeyId] = S("portcullis:bob:s-1");
    f[kPrincipals] = S(S("root"));
    f[kAfter] = U64(100);
    f[kBefore] = U64(200);
    f[kCritical] = S(S("source-address") + S(S("127.0.0.1/32")));
    f[kExtensions] = S(S("permit-port-forwarding") + S("") + S("permit-pty") + S(""));
    f[kReserved] = S("");
    f[kCaKey] = S(testkeys::FixedCa().PublicBlob());
  }
  std::string SignedPart() const {
    std::string out;
    for (const auto& x : f) out += x;
    return out;
  }
  std::string Build() const {
    std::string signed_part = SignedPart();
    std::string sig = testkeys::FixedCa().Sign(signed_part).value();
    return signed_part + S(S("ssh-ed25519") + S(sig));
  }
};

void ExpectMalformed(std::string_view blob, std::string_view field) {
  auto parsed = ParseCertificate(blob);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(parsed.status().message()).find(field), std::string::npos)
      << parsed.status();
}

TEST(ParseCertificateTest, BaselineIsValid) {
  auto parsed = ParseCertificate(RawCert().Build());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(VerifyUserCertificate(*parsed, testkeys::FixedCa().PublicBlob(), 150, "root").ok());
}

TEST(ParseCertificateTest, Empty) { ExpectMalformed("", "key type"); }

TEST(ParseCertificateTest, TruncatedAtEveryFieldBoundary) {
  RawCert raw;
  const std::string blob = raw.Build();
  size_t boundary = 0;
  for (const auto& field : raw.f) {
    boundary += field.size();
    SCOPED_TRACE(boundary);
    EXPECT_FALSE(ParseCertificate(blob.substr(0, boundary)).ok());
  }
  EXPECT_FALSE(ParseCertificate(blob.substr(0, blob.size() - 1)).ok());
}

TEST(ParseCertificateTest, TruncatedAtEveryByte) {
  const std::string blob = RawCert().Build();
  for (size_t n = 0; n < blob.size(); ++n) {
    EXPECT_FALSE(ParseCertificate(blob.substr(0, n)).ok()) << n;
  }
}

TEST(ParseCertificateTest, TrailingBytes) {
  ExpectMalformed(RawCert().Build() + "x", "trailing bytes");
  ExpectMalformed(RawCert().Build() + std::string(4, '\0'), "trailing bytes");
}

TEST(ParseCertificateTest, WrongTypeString) {
  RawCert raw;
  raw.f[RawCert::kType] = S("ssh-rsa-cert-v01@openssh.com");
  ExpectMalformed(raw.Build(), "key type");
  raw.f[RawCert::kType] = S("ssh-ed25519");
  ExpectMalformed(raw.Build(), "key type");
}

TEST(ParseCertificateTest, SubjectKeyWrongLength) {
  RawCert raw;
  raw.f[RawCert::kKey] = S(std::string(31, 'k'));
  ExpectMalformed(raw.Build(), "public key");
  raw.f[RawCert::kKey] = S(std::string(33, 'k'));
  ExpectMalformed(raw.Build(), "public key");
}

TEST(ParseCertificateTest, UnknownCertType) {
  RawCert raw;
  raw.f[RawCert::kCertType] = U32(3);
  ExpectMalformed(raw.Build(), "type");
  raw.f[RawCert::kCertType] = U32(0);
  ExpectMalformed(raw.Build(), "type");
}

TEST(ParseCertificateTest, KeyIdWithNul) {
  RawCert raw;
  raw.f[RawCert::kKeyId] = S(std::string("bob\0evil", 8));
  ExpectMalformed(raw.Build(), "key id");
}

TEST(ParseCertificateTest, KeyIdNotUtf8) {
  RawCert raw;
  raw.f[RawCert::kKeyId] = S("\xc0\xaf");
  ExpectMalformed(raw.Build(), "key id");
}

TEST(ParseCertificateTest, OversizedString) {
  RawCert raw;
  raw.f[RawCert::kKeyId] = U32(0xffffffff) + "abc";
  ExpectMalformed(raw.Build(), "key id");
  raw = RawCert();
  raw.f[RawCert::kNonce] = S(std::string(kMaxNonceLength + 1, 'n'));
  ExpectMalformed(raw.Build(), "nonce");
  raw = RawCert();
  raw.f[RawCert::kPrincipals] = S(S(std::string(kMaxNameLength + 1, 'p')));
  ExpectMalformed(raw.Build(), "principals");
}

TEST(ParseCertificateTest, OversizedCertificate) {
  RawCert raw;
  raw.f[RawCert::kKeyId] = S(std::string(kMaxCertificateSize, 'k'));
  ExpectMalformed(raw.SignedPart(), "too large");
}

TEST(ParseCertificateTest, PrincipalsSectionMalformed) {
  RawCert raw;
  raw.f[RawCert::kPrincipals] =
      S(S("root") + std::string(2, '\0'));  // a truncated second principal
  ExpectMalformed(raw.Build(), "principals");
  raw.f[RawCert::kPrincipals] = S(S("root") + S(""));
  ExpectMalformed(raw.Build(), "principals");
  raw.f[RawCert::kPrincipals] = S(S(std::string("ro\0ot", 5)));
  ExpectMalformed(raw.Build(), "principals");
}

TEST(ParseCertificateTest, TooManyPrincipals) {
  RawCert raw;
  std::string many;
  for (size_t i = 0; i <= kMaxPrincipals; ++i) many += S("p");
  raw.f[RawCert::kPrincipals] = S(many);
  ExpectMalformed(raw.Build(), "too many principals");
}

TEST(ParseCertificateTest, EmptyPrincipalListParsesButFailsVerify) {
  RawCert raw;
  raw.f[RawCert::kPrincipals] = S("");
  auto parsed = ParseCertificate(raw.Build());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  auto st = VerifyUserCertificate(*parsed, testkeys::FixedCa().PublicBlob(), 150, "root");
  EXPECT_NE(std::string(st.message()).find("lacks principal list"), std::string::npos) << st;
}

TEST(ParseCertificateTest, UnsortedExtensions) {
  RawCert raw;
  raw.f[RawCert::kExtensions] = S(S("permit-pty") + S("") + S("permit-port-forwarding") + S(""));
  ExpectMalformed(raw.Build(), "extensions: names not sorted");
}

TEST(ParseCertificateTest, DuplicateExtension) {
  RawCert raw;
  raw.f[RawCert::kExtensions] = S(S("permit-pty") + S("") + S("permit-pty") + S(""));
  ExpectMalformed(raw.Build(), "extensions: names not sorted or not unique");
}

TEST(ParseCertificateTest, ExtensionWithData) {
  RawCert raw;
  raw.f[RawCert::kExtensions] = S(S("permit-pty") + S("x"));
  ExpectMalformed(raw.Build(), "extension data must be empty");
}

TEST(ParseCertificateTest, ExtensionMissingData) {
  RawCert raw;
  raw.f[RawCert::kExtensions] = S(S("permit-pty"));
  ExpectMalformed(raw.Build(), "extensions");
}

TEST(ParseCertificateTest, UnsortedCriticalOptions) {
  RawCert raw;
  raw.f[RawCert::kCritical] =
      S(S("source-address") + S(S("127.0.0.1")) + S("force-command") + S(S("/bin/true")));
  ExpectMalformed(raw.Build(), "critical options: names not sorted");
}

TEST(ParseCertificateTest, CriticalOptionDataMalformed) {
  RawCert raw;
  raw.f[RawCert::kCritical] = S(S("source-address") + S(S("127.0.0.1") + "x"));
  ExpectMalformed(raw.Build(), "trailing bytes in option data");
  raw.f[RawCert::kCritical] = S(S("source-address") + S("127.0.0.1"));  // not nested
  ExpectMalformed(raw.Build(), "critical options");
  raw.f[RawCert::kCritical] = S(S("source-address") + S(S("")));
  ExpectMalformed(raw.Build(), "empty string in option data");
}

TEST(ParseCertificateTest, NonEmptyReserved) {
  RawCert raw;
  raw.f[RawCert::kReserved] = S("r");
  ExpectMalformed(raw.Build(), "reserved");
}

TEST(ParseCertificateTest, SignatureKeyNotEd25519) {
  RawCert raw;
  raw.f[RawCert::kCaKey] = S(S("ssh-rsa") + S("\x01\x00\x01") + S(std::string(64, 'm')));
  ExpectMalformed(raw.Build(), "signature key");
  raw.f[RawCert::kCaKey] = S(S("ssh-ed25519-cert-v01@openssh.com") + S(std::string(32, 'k')));
  ExpectMalformed(raw.Build(), "signature key");
}

TEST(ParseCertificateTest, SignatureKeyTrailingBytes) {
  RawCert raw;
  raw.f[RawCert::kCaKey] = S(testkeys::FixedCa().PublicBlob() + "x");
  ExpectMalformed(raw.Build(), "signature key");
}

TEST(ParseCertificateTest, SignatureBlobMalformed) {
  const std::string signed_part = RawCert().SignedPart();
  const std::string sig64(64, 's');
  ExpectMalformed(signed_part + S(S("ssh-rsa") + S(sig64)), "signature");
  ExpectMalformed(signed_part + S(S("ssh-ed25519") + S(sig64.substr(1))), "signature: must be 64");
  ExpectMalformed(signed_part + S(S("ssh-ed25519") + S(sig64) + "x"), "signature: trailing");
  ExpectMalformed(signed_part + S(S("ssh-ed25519")), "signature");
  ExpectMalformed(signed_part, "signature");
}

}  // namespace
}  // namespace portcullis::ca
