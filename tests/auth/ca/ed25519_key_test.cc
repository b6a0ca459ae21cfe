#include "auth/ca/ed25519_key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/common/bounded_reader.h"
#include "broker/common/encoding.h"
#include "tests/auth/ca/test_keys.h"
#include "tests/support/test_util.h"

namespace portcullis::ca {
namespace {

// RFC 8032 section 7.1, TEST 1 (empty message), as a PKCS#8 PEM.
constexpr std::string_view kRfc8032Pem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
    "-----END PRIVATE KEY-----\n";
constexpr std::string_view kRfc8032PublicHex =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
constexpr std::string_view kRfc8032SignatureHex =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9"
    "b46bd25bf5f0595bbe24655141438e7a100b";

constexpr std::string_view kEcPem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgQUECqq+/IGnmlgHL\n"
    "3tl+/nmJTEOgD7lLXmkXGNjVbTChRANCAAQzmqL3Ebtf89vAxigGTRXqiipvPbV4\n"
    "2F4RQY0c6fa+kg6rDW+vNQnzT4D8t310aGwSUYAh64Tofl8OS6MbNQRS\n"
    "-----END PRIVATE KEY-----\n";
// kRfc8032Pem encrypted with the passphrase "secret".
constexpr std::string_view kEncryptedPem =
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    "MIGbMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAjEd5NifKk9GAICCAAw\n"
    "DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEByxkmlIeuvSsNl4wuZ82GcEQDuv\n"
    "hx5C/NseNyXD7K/eFicg5+j5jHks3/TbaEMoSe3G1NlMFWSZx9njT4L420HQKkJB\n"
    "MVqUGKFk3EM0aDYMVV8=\n"
    "-----END ENCRYPTED PRIVATE KEY-----\n";

absl::StatusOr<Ed25519Key> FromPem(std::string_view pem) {
  auto secret = SecretBytes::FromString(pem);
  if (!secret.ok()) return secret.status();
  return Ed25519Key::FromPrivatePem(*secret);
}

TEST(Ed25519KeyTest, Rfc8032KnownAnswer) {
  auto key = FromPem(kRfc8032Pem);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(HexEncode(key->PublicRaw()), kRfc8032PublicHex);
  auto sig = key->Sign("");
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_EQ(HexEncode(*sig), kRfc8032SignatureHex);
  EXPECT_TRUE(VerifyEd25519(key->PublicRaw(), "", *sig).ok());
}

TEST(Ed25519KeyTest, GeneratedKeysDifferAndSignVerifies) {
  Ed25519Key a = Ed25519Key::Generate();
  Ed25519Key b = Ed25519Key::Generate();
  EXPECT_EQ(a.PublicRaw().size(), 32u);
  EXPECT_NE(a.PublicRaw(), b.PublicRaw());
  auto sig = a.Sign("hello");
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(sig->size(), 64u);
  EXPECT_TRUE(VerifyEd25519(a.PublicRaw(), "hello", *sig).ok());
  EXPECT_EQ(VerifyEd25519(a.PublicRaw(), "hellO", *sig).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_FALSE(VerifyEd25519(b.PublicRaw(), "hello", *sig).ok());
  EXPECT_FALSE(VerifyEd25519(a.PublicRaw(), "hello", sig->substr(0, 63)).ok());
}

TEST(Ed25519KeyTest, PublicBlobIsSshWireFormat) {
  Ed25519Key key = testkeys::FixedCa();
  std::string expected = WireWriter().String("ssh-ed25519").String(key.PublicRaw()).Take();
  EXPECT_EQ(key.PublicBlob(), expected);
  ASSERT_EQ(key.PublicBlob().size(), 4u + 11 + 4 + 32);
  EXPECT_EQ(key.PublicBlob().substr(0, 15), std::string("\0\0\0\x0bssh-ed25519", 15));
}

TEST(Ed25519KeyTest, PemRoundTrip) {
  Ed25519Key key = Ed25519Key::Generate();
  SecretBytes pem = key.PrivatePem();
  EXPECT_EQ(pem.Reveal().substr(0, 27), "-----BEGIN PRIVATE KEY-----");
  auto again = Ed25519Key::FromPrivatePem(pem);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->PublicRaw(), key.PublicRaw());
}

TEST(Ed25519KeyTest, FromPemRefusesBadInput) {
  EXPECT_FALSE(FromPem("").ok());
  EXPECT_FALSE(FromPem("not a pem").ok());
  auto ec = FromPem(kEcPem);
  ASSERT_FALSE(ec.ok());
  EXPECT_NE(std::string(ec.status().message()).find("not Ed25519"), std::string::npos);
  // Must fail without prompting for a passphrase.
  EXPECT_FALSE(FromPem(kEncryptedPem).ok());
}

TEST(Ed25519KeyTest, SaveAndLoadPrivateFile) {
  testing::TempDir dir;
  const std::string path = dir.Join("ca.pem");
  Ed25519Key key = Ed25519Key::Generate();
  ASSERT_TRUE(key.SavePrivateFile(path).ok());
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  // Exclusive: never overwrites a key.
  EXPECT_FALSE(Ed25519Key::Generate().SavePrivateFile(path).ok());
  auto loaded = Ed25519Key::LoadPrivateFile(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->PublicRaw(), key.PublicRaw());
}

TEST(Ed25519KeyTest, LoadRefusesGroupOrOtherReadableFile) {
  testing::TempDir dir;
  const std::string path = dir.Join("ca.pem");
  ASSERT_TRUE(Ed25519Key::Generate().SavePrivateFile(path).ok());
  for (mode_t mode : {0640, 0604, 0660, 0610}) {
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    auto loaded = Ed25519Key::LoadPrivateFile(path);
    EXPECT_EQ(loaded.status().code(), absl::StatusCode::kPermissionDenied) << mode;
  }
  ASSERT_EQ(::chmod(path.c_str(), 0400), 0);
  EXPECT_TRUE(Ed25519Key::LoadPrivateFile(path).ok());
}

TEST(Ed25519KeyTest, LoadRefusesMissingSymlinkAndGarbage) {
  testing::TempDir dir;
  EXPECT_EQ(Ed25519Key::LoadPrivateFile(dir.Join("missing")).status().code(),
            absl::StatusCode::kNotFound);
  const std::string real = dir.Join("ca.pem");
  ASSERT_TRUE(Ed25519Key::Generate().SavePrivateFile(real).ok());
  const std::string link = dir.Join("link.pem");
  ASSERT_EQ(::symlink(real.c_str(), link.c_str()), 0);
  EXPECT_FALSE(Ed25519Key::LoadPrivateFile(link).ok());
  const std::string garbage = dir.Join("garbage.pem");
  ASSERT_TRUE(testing::WriteWholeFile(garbage, "hello", 0600).ok());
  EXPECT_EQ(Ed25519Key::LoadPrivateFile(garbage).status().code(),
            absl::StatusCode::kInvalidArgument);
  const std::string big = dir.Join("big.pem");
  ASSERT_TRUE(testing::WriteWholeFile(big, std::string(5000, 'A'), 0600).ok());
  EXPECT_FALSE(Ed25519Key::LoadPrivateFile(big).ok());
  EXPECT_FALSE(Ed25519Key::LoadPrivateFile(dir.path()).ok());  // a directory
}

TEST(Ed25519KeyTest, AuthorizedKeyLineRoundTrips) {
  Ed25519Key key = testkeys::FixedSubject();
  std::string line = key.AuthorizedKeyLine("bob@example");
  EXPECT_EQ(line.substr(0, 12), "ssh-ed25519 ");
  auto parsed = ParsePublicKeyLine(line);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->type, "ssh-ed25519");
  EXPECT_EQ(parsed->blob, key.PublicBlob());
  EXPECT_EQ(parsed->comment, "bob@example");
  EXPECT_EQ(key.AuthorizedKeyLine(""), line.substr(0, line.find(" bob@")));
}

TEST(Ed25519KeyTest, ParsePublicKeyLineAcceptsVariants) {
  Ed25519Key key = testkeys::FixedSubject();
  const std::string b64 = Base64Encode(key.PublicBlob());
  for (const std::string& line :
       {"ssh-ed25519 " + b64, "ssh-ed25519 " + b64 + "\n", "ssh-ed25519\t" + b64 + " a b c\r\n",
        "  ssh-ed25519   " + b64 + "   spaced comment  "}) {
    auto parsed = ParsePublicKeyLine(line);
    ASSERT_TRUE(parsed.ok()) << line << ": " << parsed.status();
    EXPECT_EQ(parsed->blob, key.PublicBlob());
  }
  EXPECT_EQ(ParsePublicKeyLine("ssh-ed25519\t" + b64 + " a b c\r\n")->comment, "a b c");
  EXPECT_EQ(ParsePublicKeyLine("  ssh-ed25519   " + b64 + "   spaced comment  ")->comment,
            "spaced comment");
  auto blob = ParsePublicKeyLine(key.PublicBlob());  // wire blob input
  ASSERT_TRUE(blob.ok()) << blob.status();
  EXPECT_EQ(blob->blob, key.PublicBlob());
  EXPECT_EQ(blob->comment, "");
}

TEST(Ed25519KeyTest, ParsePublicKeyLineRefusesOtherTypes) {
  auto rsa = ParsePublicKeyLine("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 me");
  ASSERT_FALSE(rsa.ok());
  EXPECT_NE(std::string(rsa.status().message()).find("\"ssh-rsa\""), std::string::npos);
  EXPECT_NE(std::string(rsa.status().message()).find("only ssh-ed25519"), std::string::npos);
  auto cert = ParsePublicKeyLine("ssh-ed25519-cert-v01@openssh.com AAAA");
  ASSERT_FALSE(cert.ok());
  EXPECT_NE(std::string(cert.status().message()).find("certificate"), std::string::npos);
  // Outer type says ed25519, blob says something else.
  std::string rsa_blob = WireWriter().String("ssh-rsa").String(std::string(32, 'x')).Take();
  EXPECT_FALSE(ParsePublicKeyLine("ssh-ed25519 " + Base64Encode(rsa_blob)).ok());
}

TEST(Ed25519KeyTest, ParsePublicKeyLineRefusesMalformed) {
  Ed25519Key key = testkeys::FixedSubject();
  const std::string blob = key.PublicBlob();
  EXPECT_FALSE(ParsePublicKeyLine("").ok());
  EXPECT_FALSE(ParsePublicKeyLine("   \n").ok());
  EXPECT_FALSE(ParsePublicKeyLine("ssh-ed25519").ok());
  EXPECT_FALSE(ParsePublicKeyLine("ssh-ed25519 !!!notbase64!!!").ok());
  EXPECT_FALSE(ParsePublicKeyLine("ssh-ed25519 " + Base64Encode(blob + "x")).ok());  // trailing
  EXPECT_FALSE(ParsePublicKeyLine("ssh-ed25519 " + Base64Encode(blob.substr(0, blob.size() - 1)))
                   .ok());  // 31-byte key
  std::string long_key = WireWriter().String("ssh-ed25519").String(std::string(33, 'k')).Take();
  EXPECT_FALSE(ParsePublicKeyLine("ssh-ed25519 " + Base64Encode(long_key)).ok());
  EXPECT_FALSE(ParsePublicKeyLine(key.AuthorizedKeyLine("a") + "\nssh-ed25519 x").ok());
  EXPECT_FALSE(ParsePublicKeyLine(key.AuthorizedKeyLine(std::string(9000, 'c'))).ok());
  EXPECT_FALSE(ParsePublicKeyLine(blob + "x").ok());                  // wire blob, trailing
  EXPECT_FALSE(ParsePublicKeyLine(blob.substr(0, 20)).ok());          // wire blob, truncated
  EXPECT_FALSE(ParsePublicKeyLine(std::string("\0\0\0\0", 4)).ok());  // empty type
}

TEST(Ed25519KeyTest, FingerprintFormat) {
  Ed25519Key key = testkeys::FixedCa();
  std::string fp = Fingerprint(key.PublicBlob());
  EXPECT_EQ(fp.substr(0, 7), "SHA256:");
  EXPECT_EQ(fp.size(), 7u + 43);  // 32 bytes -> 43 unpadded base64 chars
  EXPECT_EQ(fp.find('='), std::string::npos);
  std::string expected = Base64Encode(Sha256(key.PublicBlob())).substr(0, 43);
  EXPECT_EQ(fp.substr(7), expected);
  EXPECT_NE(fp, Fingerprint(testkeys::FixedSubject().PublicBlob()));
}

// Decodes the OpenSSH private key container and checks every field.
TEST(Ed25519KeyTest, OpenSshPrivateKeyLayout) {
  auto key = FromPem(kRfc8032Pem);
  ASSERT_TRUE(key.ok());
  SecretBytes text = key->OpenSshPrivateKey("bob@portcullis");
  std::string_view t = text.Reveal();
  const std::string_view begin = "-----BEGIN OPENSSH PRIVATE KEY-----\n";
  const std::string_view end = "-----END OPENSSH PRIVATE KEY-----\n";
  ASSERT_EQ(t.substr(0, begin.size()), begin);
  ASSERT_EQ(t.substr(t.size() - end.size()), end);
  std::string body;
  std::string_view lines = t.substr(begin.size(), t.size() - begin.size() - end.size());
  while (!lines.empty()) {
    size_t nl = lines.find('\n');
    ASSERT_NE(nl, std::string_view::npos);
    EXPECT_LE(nl, 70u);
    body += lines.substr(0, nl);
    lines.remove_prefix(nl + 1);
  }
  auto decoded = Base64Decode(body);
  ASSERT_TRUE(decoded.ok());
  BoundedReader r(*decoded);
  EXPECT_EQ(*r.Bytes(15), std::string_view("openssh-key-v1\0", 15));
  EXPECT_EQ(*r.String(), "none");
  EXPECT_EQ(*r.String(), "none");
  EXPECT_EQ(*r.String(), "");
  EXPECT_EQ(*r.U32(), 1u);
  EXPECT_EQ(*r.String(), key->PublicBlob());
  auto priv = r.String();
  ASSERT_TRUE(priv.ok());
  EXPECT_TRUE(r.Finish().ok());
  EXPECT_EQ(priv->size() % 8, 0u);
  BoundedReader p(*priv);
  EXPECT_EQ(*p.U32(), *p.U32());  // the two checkints match
  EXPECT_EQ(*p.String(), "ssh-ed25519");
  EXPECT_EQ(*p.String(), key->PublicRaw());
  auto sk = p.String();
  ASSERT_TRUE(sk.ok());
  EXPECT_EQ(HexEncode(*sk), "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60" +
                                std::string(kRfc8032PublicHex));
  EXPECT_EQ(*p.String(), "bob@portcullis");
  for (uint8_t expect = 1; p.remaining() > 0; ++expect) EXPECT_EQ(*p.U8(), expect);
}

}  // namespace
}  // namespace portcullis::ca
