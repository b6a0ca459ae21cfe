// VNC authentication's DES against libvncserver's own implementation
// (rfbEncryptBytes, what its servers check a viewer's response with), and
// the private-context rule: DES is fetched from our own OSSL_LIB_CTX with
// the legacy provider, never from the default context.
#include "broker/common/vnc_des.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>
#include <filesystem>
#include <string>

// libvncserver's C header (it declares rfbEncryptBytes without extern "C").
extern "C" {
#include <rfb/rfbproto.h>
}

namespace portcullis {
namespace {

// What libvncserver computes for `password` and `challenge`.
VncChallenge Reference(const std::string& password, const VncChallenge& challenge) {
  VncChallenge out = challenge;
  std::string pw = password;  // rfbEncryptBytes takes a mutable NUL-terminated string
  rfbEncryptBytes(out.data(), pw.data());
  return out;
}

TEST(VncDesTest, LegacyProviderModuleIsInstalled) {
  // Debian 12's libssl3 ships it; without it VNC tickets cannot work.
  EXPECT_TRUE(std::filesystem::exists("/usr/lib/x86_64-linux-gnu/ossl-modules/legacy.so") ||
              std::filesystem::exists("/usr/lib/aarch64-linux-gnu/ossl-modules/legacy.so"));
  ASSERT_TRUE(VncDesAvailable().ok()) << VncDesAvailable();
}

TEST(VncDesTest, MatchesLibvncserverForRealPasswords) {
  ASSERT_TRUE(VncDesAvailable().ok());
  VncChallenge fixed{};
  for (size_t i = 0; i < fixed.size(); ++i) fixed[i] = static_cast<uint8_t>(i * 17 + 3);
  // (Not the empty password: its all-zero key is a DES weak key, which
  // libvncserver refuses; tickets never are.)
  for (const std::string pw : {"hmi-pass", "K7Q2MX4P", "a", "secret12", "\x7f\x01zZ9"}) {
    auto mine = VncAuthResponse(pw, fixed);
    ASSERT_TRUE(mine.ok()) << mine.status();
    EXPECT_EQ(*mine, Reference(pw, fixed)) << "password of length " << pw.size();
    EXPECT_NE(*mine, fixed);
  }
  for (int round = 0; round < 200; ++round) {
    VncChallenge c{};
    uint8_t pwbytes[8];
    ASSERT_EQ(RAND_bytes(c.data(), static_cast<int>(c.size())), 1);
    ASSERT_EQ(RAND_bytes(pwbytes, sizeof pwbytes), 1);
    std::string pw;
    for (uint8_t b : pwbytes) pw.push_back(static_cast<char>('!' + b % 94));  // printable
    auto mine = VncAuthResponse(pw, c);
    ASSERT_TRUE(mine.ok());
    ASSERT_EQ(*mine, Reference(pw, c)) << "round " << round;
  }
}

TEST(VncDesTest, OnlyTheFirstEightCharactersCount) {
  VncChallenge c{};
  c.fill(0x5a);
  auto eight = VncAuthResponse("hmi-pass", c);
  auto longer = VncAuthResponse("hmi-password-long", c);
  auto other = VncAuthResponse("hmi-pasS", c);
  ASSERT_TRUE(eight.ok() && longer.ok() && other.ok());
  EXPECT_EQ(*eight, *longer);
  EXPECT_NE(*eight, *other);
  EXPECT_EQ(*longer, Reference("hmi-password-long", c));
}

TEST(VncDesTest, KeyBytesAreBitReversed) {
  auto k = VncDesKey("\x01\x80\x0f" "ab");
  EXPECT_EQ(k[0], 0x80);
  EXPECT_EQ(k[1], 0x01);
  EXPECT_EQ(k[2], 0xf0);
  EXPECT_EQ(k[3], 0x86);  // 'a' = 0x61 = 01100001 -> 10000110
  EXPECT_EQ(k[4], 0x46);  // 'b' = 0x62 = 01100010 -> 01000110
  EXPECT_EQ(k[5], 0);     // padded with NULs
  EXPECT_EQ(k[7], 0);
}

TEST(VncDesTest, TheDefaultContextNeverGetsDes) {
  ASSERT_TRUE(VncAuthResponse("hmi-pass", VncChallenge{}).ok());
  // After we used DES, the process's default context still has none.
  EVP_CIPHER* des = EVP_CIPHER_fetch(nullptr, "DES-ECB", nullptr);
  EXPECT_EQ(des, nullptr) << "DES-ECB reachable from the default OpenSSL context";
  EVP_CIPHER_free(des);
}

}  // namespace
}  // namespace portcullis
