// The broker's client side of the RFB handshake with a VeNCrypt target
// (vencrypt.h) over a memory channel: what it writes for each step, the
// subtype it picks, and each refusal (no VeNCrypt, anonymous TLS only, an
// old RFB version, a target that refuses, a wrong password, oversized
// lengths); the certificate pin format.
#include "agentless/vnc/vencrypt.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "broker/common/encoding.h"
#include "broker/common/vnc_des.h"

namespace portcullis::vnc {
namespace {

class MemoryChannel final : public ByteChannel {
 public:
  explicit MemoryChannel(std::string in) : in_(std::move(in)) {}
  absl::Status ReadExact(void* buf, size_t n) override {
    if (n > in_.size() - pos_) return absl::UnavailableError("end of input");
    std::memcpy(buf, in_.data() + pos_, n);
    pos_ += n;
    return absl::OkStatus();
  }
  absl::Status WriteAll(std::string_view b) override {
    out_.append(b);
    return absl::OkStatus();
  }
  const std::string& out() const { return out_; }
  size_t left() const { return in_.size() - pos_; }

 private:
  std::string in_;
  size_t pos_ = 0;
  std::string out_;
};

std::string U32(uint32_t v) {
  std::string s;
  for (int sh = 24; sh >= 0; sh -= 8) s.push_back(static_cast<char>((v >> sh) & 0xff));
  return s;
}

// A TigerVNC-like server's side up to the subtype acknowledgement.
std::string Negotiation(std::string version, std::string types, std::string subtypes,
                        char accept = 1) {
  std::string s = version;
  s += static_cast<char>(types.size());
  s += types;
  s += std::string("\x00\x02", 2);
  s += '\0';
  s += static_cast<char>(subtypes.size() / 4);
  s += subtypes;
  s += accept;
  return s;
}

const std::string kX509Both = U32(258) + U32(260) + U32(261);

TEST(VeNCryptTest, PicksX509VncWithAPasswordAndSaysSoOnTheWire) {
  MemoryChannel ch(Negotiation("RFB 003.008\n", "\x02\x13", kX509Both));
  auto st = NegotiateVeNCrypt(ch, true);
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(*st, kVeNCryptX509Vnc);
  EXPECT_EQ(ch.out(), std::string("RFB 003.008\n") + "\x13" + std::string("\x00\x02", 2) + U32(261));
  EXPECT_EQ(ch.left(), 0u);
}

TEST(VeNCryptTest, PicksX509NoneWithoutAPassword) {
  MemoryChannel ch(Negotiation("RFB 003.008\n", "\x13", kX509Both));
  auto st = NegotiateVeNCrypt(ch, false);
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(*st, kVeNCryptX509None);
}

TEST(VeNCryptTest, ATargetWithoutVeNCryptIsRefusedNotDowngraded) {
  MemoryChannel ch(Negotiation("RFB 003.008\n", "\x02\x01", kX509Both));
  auto st = NegotiateVeNCrypt(ch, true);
  ASSERT_EQ(st.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.status().message().find("no VeNCrypt"), std::string::npos);
  // It chose nothing: only the version went out.
  EXPECT_EQ(ch.out(), "RFB 003.008\n");
}

TEST(VeNCryptTest, AnonymousTlsOnlyIsRefused) {
  MemoryChannel ch(Negotiation("RFB 003.008\n", "\x13", U32(257) + U32(258)));
  auto st = NegotiateVeNCrypt(ch, true);
  ASSERT_EQ(st.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.status().message().find("TLSNone, TLSVnc"), std::string::npos);
  EXPECT_NE(st.status().message().find("cannot be pinned"), std::string::npos);
}

TEST(VeNCryptTest, OlderRfbAndNotRfbAreRefused) {
  MemoryChannel old(Negotiation("RFB 003.007\n", "\x13", kX509Both));
  EXPECT_EQ(NegotiateVeNCrypt(old, true).status().code(), absl::StatusCode::kFailedPrecondition);
  MemoryChannel junk("HTTP/1.1 400");
  EXPECT_EQ(NegotiateVeNCrypt(junk, true).status().code(), absl::StatusCode::kUnavailable);
  // A later version (RealVNC 4.x, Apple 3.889) is answered with 3.8.
  MemoryChannel apple(Negotiation("RFB 003.889\n", "\x13", kX509Both));
  EXPECT_TRUE(NegotiateVeNCrypt(apple, true).ok());
}

TEST(VeNCryptTest, RefusalsByTheTargetAreUnavailableWithItsReason) {
  MemoryChannel refused(std::string("RFB 003.008\n") + '\0' + U32(9) + "too many\x01");
  auto st = NegotiateVeNCrypt(refused, true);
  ASSERT_EQ(st.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(st.status().message().find("too many?"), std::string::npos);  // printable only
  MemoryChannel huge(std::string("RFB 003.008\n") + '\0' + U32(1u << 30));
  EXPECT_EQ(NegotiateVeNCrypt(huge, true).status().code(), absl::StatusCode::kUnavailable);
  MemoryChannel nack(Negotiation("RFB 003.008\n", "\x13", kX509Both, 0));
  EXPECT_EQ(NegotiateVeNCrypt(nack, true).status().code(), absl::StatusCode::kUnavailable);
  MemoryChannel truncated(Negotiation("RFB 003.008\n", "\x13", kX509Both).substr(0, 20));
  EXPECT_EQ(NegotiateVeNCrypt(truncated, true).status().code(), absl::StatusCode::kUnavailable);
}

std::string ServerInit(uint32_t name_len, std::string name) {
  std::string s = std::string("\x05\x00\x04\x00", 4);  // 1280x1024
  s += std::string("\x20\x18\x00\x01\x00\xff\x00\xff\x00\xff\x10\x08\x00\x00\x00\x00", 16);
  s += U32(name_len);
  s += name;
  return s;
}

TEST(VeNCryptTest, InsideTlsAnswersTheChallengeAndReadsServerInit) {
  std::string challenge(16, '\0');
  for (int i = 0; i < 16; ++i) challenge[i] = static_cast<char>(i * 7);
  MemoryChannel ch(challenge + U32(0) + ServerInit(5, "hmi-7"));
  auto pw = SecretBytes::FromString("hmi-pass");
  ASSERT_TRUE(pw.ok());
  auto si = FinishHandshake(ch, kVeNCryptX509Vnc, &*pw);
  ASSERT_TRUE(si.ok()) << si.status();
  EXPECT_EQ(si->width, 1280);
  EXPECT_EQ(si->height, 1024);
  EXPECT_EQ(si->name, "hmi-7");
  EXPECT_EQ(si->format.bits_per_pixel, 32);
  VncChallenge c;
  std::memcpy(c.data(), challenge.data(), 16);
  auto want = VncAuthResponse("hmi-pass", c);
  ASSERT_TRUE(want.ok());
  // The DES response, then ClientInit(shared); never the password itself.
  EXPECT_EQ(ch.out(), std::string(reinterpret_cast<const char*>(want->data()), 16) + "\x01");
  EXPECT_EQ(ch.out().find("hmi-pass"), std::string::npos);
}

TEST(VeNCryptTest, AWrongPasswordIsUnauthenticated) {
  MemoryChannel ch(std::string(16, 'c') + U32(1) + U32(6) + "failed");
  auto pw = SecretBytes::FromString("wrong");
  ASSERT_TRUE(pw.ok());
  EXPECT_EQ(FinishHandshake(ch, kVeNCryptX509Vnc, &*pw).status().code(),
            absl::StatusCode::kUnauthenticated);
  MemoryChannel closed(std::string(16, 'c'));
  EXPECT_EQ(FinishHandshake(closed, kVeNCryptX509Vnc, &*pw).status().code(),
            absl::StatusCode::kUnauthenticated);
  MemoryChannel none(std::string(16, 'c'));
  EXPECT_EQ(FinishHandshake(none, kVeNCryptX509Vnc, nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(VeNCryptTest, X509NoneReadsTheResultAndBoundsTheName) {
  MemoryChannel ok(U32(0) + ServerInit(0, ""));
  EXPECT_TRUE(FinishHandshake(ok, kVeNCryptX509None, nullptr).ok());
  MemoryChannel huge(U32(0) + ServerInit(1u << 31, ""));
  EXPECT_EQ(FinishHandshake(huge, kVeNCryptX509None, nullptr).status().code(),
            absl::StatusCode::kUnavailable);
  MemoryChannel refused(U32(1) + U32(2) + "no");
  EXPECT_EQ(FinishHandshake(refused, kVeNCryptX509None, nullptr).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST(VeNCryptTest, TheCertificatePinIsTheSha256OfItsDer) {
  // sha256("der bytes")
  EXPECT_EQ(CertificatePin("der bytes"),
            "x509-sha256 " + HexEncode(Sha256("der bytes")));
  EXPECT_EQ(CertificatePin("der bytes").size(), 12u + 64u);
}

}  // namespace
}  // namespace portcullis::vnc
