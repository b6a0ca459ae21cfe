// Seeds recognisable secrets through every failure path of the identity
// slice and checks that no returned status (nor anything written to stderr)
// contains them.
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "auth/identity/password.h"
#include "auth/identity/secret_box.h"
#include "auth/identity/totp.h"
#include "broker/common/encoding.h"
#include "broker/common/files.h"

namespace portcullis::auth {
namespace {

constexpr char kPassword[] = "SEEDED-SECRET-pw-7f3a9c";
constexpr char kSeed[] = "SEEDED-TOTP-seed-4b1e";  // 21 bytes

SecretBytes S(std::string_view s) { return *SecretBytes::FromString(s); }

class SecretLeakTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "pc_leak_XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    needles_ = {kPassword, kSeed, Base32Encode(kSeed), HexEncode(kSeed), Base64Encode(kSeed),
                Base64Encode(kPassword), HexEncode(kPassword)};
    ::testing::internal::CaptureStderr();
  }
  void TearDown() override {
    std::string err = ::testing::internal::GetCapturedStderr();
    ExpectClean(err, "stderr");
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void ExpectClean(const std::string& text, const std::string& where) {
    for (const auto& n : needles_) {
      EXPECT_EQ(text.find(n), std::string::npos) << where << " leaks a secret: " << text;
    }
  }
  void ExpectError(const absl::Status& st, const std::string& where) {
    EXPECT_FALSE(st.ok()) << where;
    ExpectClean(st.ToString(), where);
    ++checked_;
  }
  template <typename T>
  void ExpectError(const absl::StatusOr<T>& r, const std::string& where) {
    ExpectError(r.status(), where);
  }

  std::string dir_;
  std::vector<std::string> needles_;
  int checked_ = 0;
};

TEST_F(SecretLeakTest, PasswordPaths) {
  // Policy failures of passwords built around the seeded one.
  ExpectError(CheckPasswordAcceptable(S(std::string(kPassword).substr(0, 11))), "too short");
  std::string long_pw;
  while (long_pw.size() <= 1024) long_pw += kPassword;
  ExpectError(CheckPasswordAcceptable(S(long_pw)), "too long");
  ExpectError(CheckPasswordAcceptable(S(std::string(kPassword) + "\xff")), "bad utf8");
  // Hashing with refused params.
  ExpectError(HashPassword(S(kPassword), {.t_cost = 0}), "bad params");
  // Wrong password / malformed hashes give false without any message.
  auto h = HashPassword(S(kPassword), {.t_cost = 1, .m_cost_kib = 64, .parallelism = 1});
  ASSERT_TRUE(h.ok());
  ExpectClean(*h, "the hash itself");
  EXPECT_FALSE(VerifyPassword(*h, S("SEEDED-SECRET-pw-7f3a9d")));
  EXPECT_FALSE(VerifyPassword(kPassword, S(kPassword)));  // password stored in clear by mistake
  BurnPasswordVerification(S(kPassword));
  EXPECT_EQ(checked_, 4);
}

TEST_F(SecretLeakTest, TotpPaths) {
  SecretBytes seed = S(kSeed);
  const TimePoint now = FromUnix(1'795'424'400);
  auto code = TotpCodeAt(seed, now);
  ASSERT_TRUE(code.ok());
  needles_.push_back(*code);
  auto prev = TotpCodeAt(seed, now - std::chrono::seconds(60));
  ASSERT_TRUE(prev.ok());
  needles_.push_back(*prev);

  ExpectError(VerifyTotp(seed, *prev, now, -1), "out of window");
  auto ok = VerifyTotp(seed, *code, now, -1);
  ASSERT_TRUE(ok.ok());
  ExpectError(VerifyTotp(seed, *code, now, *ok), "replay");
  ExpectError(VerifyTotp(seed, *code + "1", now, -1), "too long code");
  ExpectError(VerifyTotp(seed, code->substr(0, 5) + "x", now, -1), "non-digit code");
  ExpectError(VerifyTotp(seed, *code, now, -1, {.digits = 12}), "bad params");
  ExpectError(TotpCodeAt(seed, FromUnix(-5)), "before epoch");
  EXPECT_EQ(checked_, 6);
}

TEST_F(SecretLeakTest, SecretBoxPaths) {
  // A key file holding the password text, wrong size and wrong mode.
  std::string key_path = dir_ + "/pw.key";
  ASSERT_TRUE(WriteFileAtomic(key_path, kPassword, 0600).ok());
  ExpectError(SecretBox::LoadKeyFile(key_path), "wrong size");
  std::string key32 = std::string(kPassword) + "-12345678";  // exactly 32 bytes
  ASSERT_EQ(key32.size(), 32u);
  std::string open_path = dir_ + "/open.key";
  ASSERT_TRUE(WriteFileAtomic(open_path, key32, 0644).ok());
  ExpectError(SecretBox::LoadKeyFile(open_path), "mode 0644");
  ASSERT_EQ(::chmod(open_path.c_str(), 0600), 0);
  auto box = SecretBox::LoadKeyFile(open_path);
  ASSERT_TRUE(box.ok());

  auto sealed = box->Seal(S(kSeed), "totp-seed:alice");
  ASSERT_TRUE(sealed.ok());
  ExpectClean(*sealed, "sealed blob");
  ExpectError(box->Open(*sealed, "totp-seed:bob"), "wrong aad");
  std::string tampered = *sealed;
  tampered[20] ^= 1;
  ExpectError(box->Open(tampered, "totp-seed:alice"), "tampered");
  // Bytes that contain the secrets in clear (e.g. a row written unsealed).
  ExpectError(box->Open(std::string("\x01") + kPassword + kSeed, "x"), "clear text row");
  ExpectError(box->Open(kSeed, "x"), "short clear text");
  SecretBox other = SecretBox::FromKey(S(std::string(32, 'z')));
  ExpectError(other.Open(*sealed, "totp-seed:alice"), "wrong key");
  EXPECT_EQ(checked_, 7);
}

}  // namespace
}  // namespace portcullis::auth
