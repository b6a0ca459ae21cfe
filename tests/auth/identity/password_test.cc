#include "auth/identity/password.h"

#include <argon2.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>

#include <gtest/gtest.h>

namespace portcullis::auth {
namespace {

// Cheap costs for functional tests; the defaults are exercised separately.
constexpr Argon2Params kFast{.t_cost = 1, .m_cost_kib = 64, .parallelism = 1};

SecretBytes S(std::string_view s) { return *SecretBytes::FromString(s); }

TEST(PasswordTest, HashHasPhcShapeWithRequestedParams) {
  auto h = HashPassword(S("correct horse battery"), kFast);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->rfind("$argon2id$v=19$m=64,t=1,p=1$", 0), 0u) << *h;
  // 16-byte salt = 22 base64 chars, 32-byte tag = 43.
  size_t salt_start = h->find('$', 16) + 1;
  size_t tag_start = h->find('$', salt_start) + 1;
  EXPECT_EQ(tag_start - salt_start - 1, 22u);
  EXPECT_EQ(h->size() - tag_start, 43u);
}

TEST(PasswordTest, DefaultParamsAreEncoded) {
  auto h = HashPassword(S("correct horse battery"));
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0), 0u) << *h;
  EXPECT_TRUE(VerifyPassword(*h, S("correct horse battery")));
}

TEST(PasswordTest, VerifyAcceptsRightAndRefusesWrong) {
  auto h = HashPassword(S("correct horse battery"), kFast);
  ASSERT_TRUE(h.ok());
  EXPECT_TRUE(VerifyPassword(*h, S("correct horse battery")));
  EXPECT_FALSE(VerifyPassword(*h, S("correct horse batterz")));
  EXPECT_FALSE(VerifyPassword(*h, S("correct horse battery ")));
  EXPECT_FALSE(VerifyPassword(*h, S("")));
}

// Known answers computed by an independent Argon2id implementation (Python
// `cryptography`), salt "portcullis-salt!".
TEST(PasswordTest, VerifiesHashesFromAnIndependentImplementation) {
  const char* kDefault =
      "$argon2id$v=19$m=19456,t=2,p=1$cG9ydGN1bGxpcy1zYWx0IQ$"
      "CN9z3UDrerhg7IJHDvuvrpQOPctaqTPB0YD8wiWyihA";
  const char* kTwoLanes =
      "$argon2id$v=19$m=64,t=1,p=2$cG9ydGN1bGxpcy1zYWx0IQ$"
      "Sp0auaJiOgdGrj7eqCulE8gnETbGn60odNwDa/832PA";
  EXPECT_TRUE(VerifyPassword(kDefault, S("correct horse battery staple")));
  EXPECT_TRUE(VerifyPassword(kTwoLanes, S("correct horse battery staple")));
  EXPECT_FALSE(VerifyPassword(kDefault, S("correct horse battery stapl")));
  EXPECT_FALSE(VerifyPassword(kTwoLanes, S("Correct horse battery staple")));
}

TEST(PasswordTest, SaltIsRandom) {
  auto a = HashPassword(S("same password here"), kFast);
  auto b = HashPassword(S("same password here"), kFast);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
}

TEST(PasswordTest, RefusesOutOfBoundsParams) {
  EXPECT_EQ(HashPassword(S("pw"), {.t_cost = 0, .m_cost_kib = 64, .parallelism = 1})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(HashPassword(S("pw"), {.t_cost = 11, .m_cost_kib = 64, .parallelism = 1}).ok());
  EXPECT_FALSE(
      HashPassword(S("pw"), {.t_cost = 1, .m_cost_kib = (1u << 20) + 1, .parallelism = 1}).ok());
  EXPECT_FALSE(HashPassword(S("pw"), {.t_cost = 1, .m_cost_kib = 64, .parallelism = 0}).ok());
}

TEST(PasswordTest, MalformedOrForeignHashesAreFalse) {
  auto good = HashPassword(S("correct horse battery"), kFast);
  ASSERT_TRUE(good.ok());
  const std::string& g = *good;
  std::string flipped_tag = g;
  flipped_tag.back() = flipped_tag.back() == 'A' ? 'Q' : 'A';
  for (std::string bad : {
           std::string(""),
           std::string("$argon2id$"),
           g.substr(0, g.size() - 1),
           g + "A",
           flipped_tag,
           std::string("$argon2i") + g.substr(9),  // variant swapped
           std::string("plaintext-password"),
           std::string("$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"),
           g.substr(0, 20) + std::string(1, '\0') + g.substr(21),
       }) {
    EXPECT_FALSE(VerifyPassword(bad, S("correct horse battery"))) << bad;
  }
}

TEST(PasswordTest, ExcessiveStoredCostsAreRefusedQuickly) {
  // A corrupted row asking for 4 TiB / 2^32 passes must not run.
  auto h = HashPassword(S("correct horse battery"), kFast);
  ASSERT_TRUE(h.ok());
  std::string tail = h->substr(h->find("$", 16));  // "$salt$tag"
  for (std::string params : {"m=4294967295,t=1,p=1", "m=64,t=4294967295,p=1",
                             "m=2097152,t=1,p=1", "m=64,t=1,p=255"}) {
    auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(VerifyPassword("$argon2id$v=19$" + params + tail, S("correct horse battery")));
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(100)) << params;
  }
}

TEST(PasswordTest, RealHashesWithCostsOverTheCapAreRefused) {
  // Correct hashes (made with libargon2 directly) that would verify if the
  // cap were missing; cheap enough to compute either way.
  struct Costs { uint32_t t, m, p; };
  for (Costs c : {Costs{11, 64, 1}, Costs{1, 136, 17}}) {
    const std::string pw = "correct horse battery";
    const std::string salt = "0123456789abcdef";
    std::string encoded(256, '\0');
    ASSERT_EQ(argon2id_hash_encoded(c.t, c.m, c.p, pw.data(), pw.size(), salt.data(), salt.size(),
                                    32, encoded.data(), encoded.size()),
              ARGON2_OK);
    encoded.resize(encoded.find('\0'));
    EXPECT_EQ(argon2id_verify(encoded.c_str(), pw.data(), pw.size()), ARGON2_OK);  // control
    EXPECT_FALSE(VerifyPassword(encoded, S(pw))) << encoded;
  }
}

std::chrono::nanoseconds Elapsed(const std::function<void()>& f) {
  auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                              start);
}

TEST(PasswordTest, BurnCostsAboutAsMuchAsARealVerification) {
  auto h = HashPassword(S("correct horse battery"));
  ASSERT_TRUE(h.ok());
  SecretBytes wrong = S("wrong password guess");
  // Interleaved best-of-5, so both see the same machine load; the bounds are
  // loose because only a gross difference matters: a no-op burn, or one with
  // cheaper params, is orders of magnitude faster.
  auto real = std::chrono::nanoseconds::max();
  auto burn = std::chrono::nanoseconds::max();
  for (int i = 0; i < 5; ++i) {
    real = std::min(real, Elapsed([&] { (void)VerifyPassword(*h, wrong); }));
    burn = std::min(burn, Elapsed([&] { BurnPasswordVerification(wrong); }));
  }
  EXPECT_GT(burn.count(), real.count() / 3) << burn.count() << " vs " << real.count();
  EXPECT_LT(burn.count(), real.count() * 3) << burn.count() << " vs " << real.count();
}

TEST(PasswordPolicyTest, AcceptsReasonablePasswords) {
  EXPECT_TRUE(CheckPasswordAcceptable(S("correct horse battery")).ok());
  EXPECT_TRUE(CheckPasswordAcceptable(S("123456789012")).ok());       // exactly 12
  EXPECT_TRUE(CheckPasswordAcceptable(S(std::string(1023, 'a') + "b")).ok());  // exactly 1024
  EXPECT_TRUE(CheckPasswordAcceptable(S("pässwörtchen-ÄÖÜ")).ok());
  EXPECT_TRUE(CheckPasswordAcceptable(S("abababababab")).ok());  // repeated pair is allowed
}

TEST(PasswordPolicyTest, RefusesTooShort) {
  auto st = CheckPasswordAcceptable(S("12345678901"));
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(CheckPasswordAcceptable(S("")).ok());
}

TEST(PasswordPolicyTest, RefusesTooLong) {
  EXPECT_EQ(CheckPasswordAcceptable(S(std::string(1024, 'a') + "b")).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PasswordPolicyTest, RefusesInvalidUtf8) {
  EXPECT_EQ(CheckPasswordAcceptable(S("valid-prefix\xff\xfe")).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(CheckPasswordAcceptable(S("overlong-\xc0\xaf-slash")).ok());
  EXPECT_FALSE(CheckPasswordAcceptable(S("surrogate-\xed\xa0\x80-xx")).ok());
}

TEST(PasswordPolicyTest, RefusesOneRepeatedCharacter) {
  EXPECT_EQ(CheckPasswordAcceptable(S("aaaaaaaaaaaaaaaa")).code(),
            absl::StatusCode::kInvalidArgument);
  // Multi-byte character repeated: "é" x 12.
  std::string e;
  for (int i = 0; i < 12; ++i) e += "\xc3\xa9";
  EXPECT_FALSE(CheckPasswordAcceptable(S(e)).ok());
  EXPECT_TRUE(CheckPasswordAcceptable(S(e + "x")).ok());
}

}  // namespace
}  // namespace portcullis::auth
