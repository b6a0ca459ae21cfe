#include "auth/ca/ssh_public_key.h"

#include <gtest/gtest.h>

#include "broker/common/bounded_reader.h"
#include "broker/common/encoding.h"
#include "tests/auth/ca/test_keys.h"

namespace portcullis::ca {
namespace {

// Made with `ssh-keygen -t TYPE -b BITS -C test-TYPE-BITS`; the fingerprints
// are what `ssh-keygen -lf` printed for them.
struct Vector {
  std::string_view line;
  std::string_view type;
  std::string_view fingerprint;
};
constexpr Vector kEcdsa256{
    "ecdsa-sha2-nistp256 "
    "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBN//6QgFxYk2IuX87VirQREHblrjies20Y8IVp4p"
    "4KCVoQkEkTjBBVzGeXWKu4gi44wL1Cz7H/rPec9v9m121tQ= test-ecdsa-256",
    "ecdsa-sha2-nistp256", "SHA256:8Ke+Wo1iYh8i6bEZeL6VUkUqyrRHUVpxmPdmMG7vSJs"};
constexpr Vector kEcdsa384{
    "ecdsa-sha2-nistp384 "
    "AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBPRpXvzRee7eEpQKbvE3/mRaDfX5Ndv9ohNE9H0Q"
    "TEFvh9/T9woBSlKkJWu8yDpqpvAgZMcXxkXsjMF2Tkd/RsJea+qfQezvM9D/td5NzyiVbbfZLt3e6TsEdg+8rn/ovA== "
    "test-ecdsa-384",
    "ecdsa-sha2-nistp384", "SHA256:A0ZUD2WCeKM4whTAbUT0n6nCBxxWxp6q1Xfy4xIYuto"};
constexpr Vector kEcdsa521{
    "ecdsa-sha2-nistp521 "
    "AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAE4iBr1oLemK5ONQihFgpRNDZ9g4y9bMxnUu5GM"
    "kZEr2u6lvP22VO+koNZUaeKHC4obNv1SbwHu7lxWzrFtif8GIQDa/a/JGVI/IYaF2PiXxxWfWfHhHsfmaT7RU87YpTj+"
    "+EFUPc6EtTTjjvpTEDD+f5xoXyNggi0F+5cL3DNiEIPeoQ== test-ecdsa-521",
    "ecdsa-sha2-nistp521", "SHA256:vsxgJVTt+WnyN4WrHJBx8fJ8GakFqTx/i/igZjhkODI"};
constexpr Vector kRsa2048{
    "ssh-rsa "
    "AAAAB3NzaC1yc2EAAAADAQABAAABAQDVop1IHyMl+wbCovrwKemJI2se2loGQ6ZnPM0MFSRXUxUSgbwHNHMp7OCU8V3U"
    "3YAY+IhDf73gx//DPXqk+5cBNkGx8a8/FFSoeg9BknTosAsWj4ikWxmRgywiSn/1AT9PR1ka8tcY4A9XQ4c97LqRex/j"
    "nGDr+rBImMmuTN0NHEE7P2CbVIE7zU0eOWokk3eo970mYTAnsv3Ju6nEqMDzu9cSMvz4A3NdgbXLmJbOspl3X3+Ga3hP"
    "E4qooC7E6uuqXKf2RrOkc2/HkeRYI+YjeC23zwpWA+p5paacB7ezPov5VncNF53fNyV94UZ5Yf7tdjceUECmTNTzRapN"
    "+XAn test-rsa-2048",
    "ssh-rsa", "SHA256:uQFeJXxuN3as82SA4jl9+u+0vKmXUBh46hvxKWgAze4"};
constexpr std::string_view kRsa1024 =
    "ssh-rsa "
    "AAAAB3NzaC1yc2EAAAADAQABAAAAgQDHjTZ6b8pTF5XPzbFKXL1j5wB+2LnaBfq1nWBFsSkSu14/1+nZJoz7P+ORzxlR"
    "c9Nw6tJLMAXe/EHb97jpb98ZzpXdO1lD6NZkbSmgVtBIjSEB+Pa49QX3FyVE2fp6s9CPli+BDYKxnofBZx0KGMF+Yn6N"
    "Ytu8TNO1Pemk04lxBQ== test-rsa-1024";
constexpr std::string_view kDsa =
    "ssh-dss "
    "AAAAB3NzaC1kc3MAAACBANSOiwGxp8wG3m+vVSHcjyWtpyycKdl/497WuxnC2oawFsuhx+wpdSpaEI6Xwc/K1pVvHZOd"
    "cKwxdw+KDSFBcnnbJLCotBmpmccXn39OWKxwuE+HNGdqHbnN8T1cXfVYByyf+I6grJXbsljyUHjyyszCswfVbmKBKSXc"
    "2yhbZCjtAAAAFQCv184skmdCKIYgi1gA+w5KOIEl1QAAAIBbdCcHiPli9EQfGP7GcVMdwonFbJ/0zKP6PXP/qY0dDWS/"
    "Jdk0F05GrMykmAE+3Mhyj+tsj8RquowYfufN3yNbAw/2kr2r+t0Zp/x+6RJQ4tecd1t7ty2fpKywz/OEavPncIQTGgM/"
    "0noWBGrBAuAjR9WqYun/+ypYd4ndGCosEgAAAIBRG5vP5Zw4pYm/rz0G4GcGWuq/QSBqWgYlHRpuofAu1XCqBwLQ3+TO"
    "91ij4QUIusg9adS4+iMazFP+bO04ecYw7y3i5RSgYdmUOFmL+shpYzdRBpZDOw0dBQBhwVWeCvxvhFeq41OyJSt+HiOP"
    "B4oTUPiPbW5swN1+v2+aln7Gng== test-dsa-1024";

std::string Message(const absl::Status& st) { return std::string(st.message()); }

std::string BlobOf(std::string_view line) {
  auto f = SplitPublicKeyLine(line);
  EXPECT_TRUE(f.ok());
  auto blob = Base64Decode(f->data);
  EXPECT_TRUE(blob.ok());
  return *blob;
}

std::string Line(std::string_view type, std::string_view blob) {
  return std::string(type) + " " + Base64Encode(blob);
}

TEST(SshPublicKeyTest, AcceptsEcdsaAndRsaWithSshKeygenFingerprints) {
  for (const Vector& v : {kEcdsa256, kEcdsa384, kEcdsa521, kRsa2048}) {
    auto key = ParseUserPublicKeyLine(v.line);
    ASSERT_TRUE(key.ok()) << v.type << ": " << key.status();
    EXPECT_EQ(key->type, v.type);
    EXPECT_EQ(Fingerprint(key->blob), v.fingerprint);
    EXPECT_EQ(key->comment.substr(0, 5), "test-");
    auto inner = CheckUserPublicKeyBlob(key->blob);
    ASSERT_TRUE(inner.ok()) << inner.status();
    EXPECT_EQ(*inner, v.type);
  }
}

TEST(SshPublicKeyTest, AcceptsEd25519LikeParsePublicKeyLine) {
  Ed25519Key key = testkeys::FixedSubject();
  auto parsed = ParseUserPublicKeyLine(key.AuthorizedKeyLine("bob@laptop") + "\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->type, "ssh-ed25519");
  EXPECT_EQ(parsed->blob, key.PublicBlob());
  EXPECT_EQ(parsed->comment, "bob@laptop");
  EXPECT_EQ(ParseUserPublicKeyLine(key.AuthorizedKeyLine(""))->comment, "");
}

TEST(SshPublicKeyTest, RefusesOtherTypesWithClearMessages) {
  auto dsa = ParseUserPublicKeyLine(kDsa);
  ASSERT_FALSE(dsa.ok());
  EXPECT_EQ(Message(dsa.status()), "DSA (ssh-dss) keys are refused: they are insecure");

  auto rsa = ParseUserPublicKeyLine(kRsa1024);
  ASSERT_FALSE(rsa.ok());
  EXPECT_EQ(Message(rsa.status()),
            "RSA key of 1024 bits refused: at least 2048 bits (ssh-keygen -t ed25519 is better)");

  auto cert = ParseUserPublicKeyLine("ssh-ed25519-cert-v01@openssh.com AAAA x");
  ASSERT_FALSE(cert.ok());
  EXPECT_NE(Message(cert.status()).find("got a certificate"), std::string::npos);

  auto sk = ParseUserPublicKeyLine("sk-ssh-ed25519@openssh.com AAAA x");
  ASSERT_FALSE(sk.ok());
  EXPECT_NE(Message(sk.status()).find("security-key type \"sk-ssh-ed25519@openssh.com\""),
            std::string::npos);

  auto other = ParseUserPublicKeyLine("x-\x1b[31m AAAA");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(Message(other.status()), "public key line contains control characters");
  auto weird = ParseUserPublicKeyLine("ssh-foo AAAA");
  ASSERT_FALSE(weird.ok());
  EXPECT_NE(Message(weird.status()).find("unsupported public key type \"ssh-foo\""),
            std::string::npos);
}

TEST(SshPublicKeyTest, RefusesTypeMismatchBetweenLineAndBlob) {
  auto st = ParseUserPublicKeyLine(Line("ssh-rsa", BlobOf(kEcdsa256.line)));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(Message(st.status()),
            "public key line says \"ssh-rsa\" but the key is ecdsa-sha2-nistp256");
  EXPECT_FALSE(ParseUserPublicKeyLine(Line("ecdsa-sha2-nistp384", BlobOf(kEcdsa256.line))).ok());
  EXPECT_FALSE(
      ParseUserPublicKeyLine(Line("ssh-ed25519", BlobOf(kRsa2048.line))).ok());
}

TEST(SshPublicKeyTest, RefusesMalformedEcdsaBlobs) {
  const std::string blob = BlobOf(kEcdsa256.line);
  BoundedReader r(blob);
  (void)r.String().value();
  (void)r.String().value();
  std::string point(r.String().value());

  auto with = [](std::string_view curve, std::string_view q) {
    return Line("ecdsa-sha2-nistp256",
                WireWriter().String("ecdsa-sha2-nistp256").String(curve).String(q).Take());
  };
  ASSERT_TRUE(ParseUserPublicKeyLine(with("nistp256", point)).ok());
  EXPECT_FALSE(ParseUserPublicKeyLine(with("nistp384", point)).ok());  // wrong curve name
  std::string off_curve = point;
  off_curve.back() ^= 1;
  auto st = ParseUserPublicKeyLine(with("nistp256", off_curve));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(Message(st.status()), "malformed ecdsa-sha2-nistp256 key: the point is not on the curve");
  std::string compressed = point;
  compressed[0] = '\x02';
  EXPECT_FALSE(ParseUserPublicKeyLine(with("nistp256", compressed)).ok());
  EXPECT_FALSE(ParseUserPublicKeyLine(with("nistp256", point.substr(0, 64))).ok());
  EXPECT_FALSE(ParseUserPublicKeyLine(Line("ecdsa-sha2-nistp256", blob + "x")).ok());  // trailing
  EXPECT_FALSE(ParseUserPublicKeyLine(Line("ecdsa-sha2-nistp256", blob.substr(0, 50))).ok());
}

TEST(SshPublicKeyTest, RefusesMalformedRsaBlobs) {
  const std::string blob = BlobOf(kRsa2048.line);
  BoundedReader r(blob);
  (void)r.String().value();
  std::string e(r.String().value());
  std::string n(r.String(4096).value());
  auto with = [](std::string_view e, std::string_view n) {
    return Line("ssh-rsa", WireWriter().String("ssh-rsa").String(e).String(n).Take());
  };
  ASSERT_TRUE(ParseUserPublicKeyLine(with(e, n)).ok());
  EXPECT_FALSE(ParseUserPublicKeyLine(with("", n)).ok());              // e = 0
  EXPECT_FALSE(ParseUserPublicKeyLine(with("\x02", n)).ok());          // even exponent
  EXPECT_FALSE(ParseUserPublicKeyLine(with("\x01", n)).ok());          // e = 1
  EXPECT_FALSE(ParseUserPublicKeyLine(with("\x80\x01", n)).ok());      // negative
  EXPECT_FALSE(ParseUserPublicKeyLine(with(std::string("\0\x03", 2), n)).ok());  // needless 0
  EXPECT_FALSE(ParseUserPublicKeyLine(with(e, n.substr(1))).ok());     // n without its 0x00: negative
  std::string huge = std::string(1, '\0') + std::string(kMaxRsaBits / 8 + 1, '\xff');
  EXPECT_FALSE(ParseUserPublicKeyLine(with(e, huge)).ok());
  EXPECT_FALSE(ParseUserPublicKeyLine(Line("ssh-rsa", blob + "x")).ok());  // trailing
  EXPECT_FALSE(ParseUserPublicKeyLine(Line("ssh-rsa", blob.substr(0, 30))).ok());
}

TEST(SshPublicKeyTest, RefusesMalformedLines) {
  EXPECT_FALSE(ParseUserPublicKeyLine("").ok());
  EXPECT_FALSE(ParseUserPublicKeyLine(" \t\n").ok());
  EXPECT_FALSE(ParseUserPublicKeyLine("ssh-rsa").ok());
  EXPECT_FALSE(ParseUserPublicKeyLine("ssh-rsa !!!").ok());
  EXPECT_FALSE(ParseUserPublicKeyLine(std::string(kRsa2048.line) + "\n" +
                                      std::string(kEcdsa256.line)).ok());
  EXPECT_FALSE(ParseUserPublicKeyLine(std::string(kEcdsa256.line) + " " +
                                      std::string(kMaxPublicKeyCommentBytes, 'c')).ok());
  EXPECT_FALSE(ParseUserPublicKeyLine(std::string(kEcdsa256.line) + " \xff\xfe").ok());
  EXPECT_FALSE(ParseUserPublicKeyLine(std::string(kMaxPublicKeyLineBytes + 1, 'a')).ok());
  // authorized_keys options are not part of a public key line.
  EXPECT_FALSE(ParseUserPublicKeyLine("no-pty " + std::string(kEcdsa256.line)).ok());
}

TEST(SshPublicKeyTest, SplitKeepsCommentSpacesInside) {
  auto f = SplitPublicKeyLine("  ssh-rsa\tAAAA  a  b \r\n");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->type, "ssh-rsa");
  EXPECT_EQ(f->data, "AAAA");
  EXPECT_EQ(f->comment, "a  b");
}

}  // namespace
}  // namespace portcullis::ca
