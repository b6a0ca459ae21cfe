#include "auth/identity/totp.h"

#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "broker/common/encoding.h"

namespace portcullis::auth {
namespace {

SecretBytes RfcSeed() { return *SecretBytes::FromString("12345678901234567890"); }

TEST(TotpTest, Rfc6238AppendixBSha1Vectors) {
  const TotpParams p{.digits = 8, .step_seconds = 30, .window = 1};
  // 20000000000 (year 2603) is past the end of TimePoint (int64 ns, 2262),
  // so that vector is checked at the counter level below.
  const std::pair<int64_t, const char*> vectors[] = {
      {59, "94287082"},         {1111111109, "07081804"}, {1111111111, "14050471"},
      {1234567890, "89005924"}, {2000000000, "69279037"},
  };
  for (const auto& [t, want] : vectors) {
    auto by_counter = TotpCodeForCounter(RfcSeed(), t / 30, p);
    ASSERT_TRUE(by_counter.ok());
    EXPECT_EQ(*by_counter, want) << "t=" << t;
    auto code = TotpCodeAt(RfcSeed(), FromUnix(t), p);
    ASSERT_TRUE(code.ok()) << code.status();
    EXPECT_EQ(*code, want) << "t=" << t;
    auto counter = VerifyTotp(RfcSeed(), want, FromUnix(t), -1, p);
    ASSERT_TRUE(counter.ok()) << counter.status() << " t=" << t;
    EXPECT_EQ(*counter, t / 30);
  }
  auto year_2603 = TotpCodeForCounter(RfcSeed(), int64_t{20000000000} / 30, p);
  ASSERT_TRUE(year_2603.ok());
  EXPECT_EQ(*year_2603, "65353130");
  EXPECT_FALSE(TotpCodeForCounter(RfcSeed(), -1, p).ok());
}

TEST(TotpTest, SixDigitCodeIsTheLowDigitsOfTheEightDigitOne) {
  auto six = TotpCodeAt(RfcSeed(), FromUnix(59));
  ASSERT_TRUE(six.ok());
  EXPECT_EQ(*six, "287082");
}

TEST(TotpTest, WindowEdges) {
  SecretBytes seed = *SecretBytes::FromString("window-edge-test-seed");
  const int64_t now = 1'700'000'015;  // mid-step
  const int64_t t = now / 30;
  for (int offset = -3; offset <= 3; ++offset) {
    auto code = TotpCodeAt(seed, FromUnix(now + offset * 30));
    ASSERT_TRUE(code.ok());
    auto got = VerifyTotp(seed, *code, FromUnix(now), -1);
    if (offset >= -1 && offset <= 1) {
      ASSERT_TRUE(got.ok()) << "offset " << offset << ": " << got.status();
      EXPECT_EQ(*got, t + offset);
    } else {
      EXPECT_EQ(got.status().code(), absl::StatusCode::kPermissionDenied) << "offset " << offset;
    }
  }
}

TEST(TotpTest, WindowZeroAcceptsOnlyTheCurrentStep) {
  SecretBytes seed = *SecretBytes::FromString("window-zero-test-seed");
  const TotpParams p{.digits = 6, .step_seconds = 30, .window = 0};
  const int64_t now = 1'700'000'015;
  auto cur = TotpCodeAt(seed, FromUnix(now), p);
  auto prev = TotpCodeAt(seed, FromUnix(now - 30), p);
  ASSERT_TRUE(cur.ok() && prev.ok());
  ASSERT_NE(*cur, *prev);
  EXPECT_TRUE(VerifyTotp(seed, *cur, FromUnix(now), -1, p).ok());
  EXPECT_EQ(VerifyTotp(seed, *prev, FromUnix(now), -1, p).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(TotpTest, StepBoundaryUsesFloor) {
  SecretBytes seed = RfcSeed();
  // 89 and 90 straddle the boundary between counters 2 and 3.
  auto a = TotpCodeAt(seed, FromUnix(89));
  auto b = TotpCodeAt(seed, FromUnix(90));
  auto c = TotpCodeAt(seed, FromUnix(60));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a, *c);
  EXPECT_NE(*a, *b);
}

TEST(TotpTest, ReplayIsRefused) {
  SecretBytes seed = *SecretBytes::FromString("replay-test-seed");
  const int64_t now = 1'700'000'015;
  auto code = TotpCodeAt(seed, FromUnix(now));
  ASSERT_TRUE(code.ok());
  auto first = VerifyTotp(seed, *code, FromUnix(now), -1);
  ASSERT_TRUE(first.ok()) << first.status();
  auto again = VerifyTotp(seed, *code, FromUnix(now), *first);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(again.status().message(), "verification code already used");
  // An older code still inside the window is a replay too once a newer one
  // was accepted.
  auto older = TotpCodeAt(seed, FromUnix(now - 30));
  ASSERT_TRUE(older.ok());
  EXPECT_EQ(VerifyTotp(seed, *older, FromUnix(now), *first).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // The next step's code is fresh.
  auto next = TotpCodeAt(seed, FromUnix(now + 30));
  ASSERT_TRUE(next.ok());
  auto later = VerifyTotp(seed, *next, FromUnix(now + 30), *first);
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_EQ(*later, *first + 1);
}

TEST(TotpTest, MalformedCodesAreInvalidArgument) {
  SecretBytes seed = GenerateTotpSeed();
  for (const char* bad : {"", "12345", "1234567", "12a456", " 123456", "123456 ", "１２３４５６",
                          "-12345", "+12345", "12345\n"}) {
    EXPECT_EQ(VerifyTotp(seed, bad, FromUnix(1'700'000'000), -1).status().code(),
              absl::StatusCode::kInvalidArgument)
        << "'" << bad << "'";
  }
  std::string with_nul("123\0" "56", 6);
  EXPECT_EQ(VerifyTotp(seed, with_nul, FromUnix(1'700'000'000), -1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(TotpTest, WrongCodeIsPermissionDenied) {
  SecretBytes seed = RfcSeed();
  // 287082 is the code for counter 1; at t=1e9 it is far out of the window.
  auto got = VerifyTotp(seed, "287082", FromUnix(1'000'000'000), -1);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kPermissionDenied);
}

TEST(TotpTest, BadParamsAndSeedAreRefused) {
  SecretBytes seed = GenerateTotpSeed();
  EXPECT_FALSE(TotpCodeAt(seed, FromUnix(100), {.digits = 5}).ok());
  EXPECT_FALSE(TotpCodeAt(seed, FromUnix(100), {.digits = 9}).ok());
  EXPECT_FALSE(TotpCodeAt(seed, FromUnix(100), {.step_seconds = 0}).ok());
  EXPECT_FALSE(VerifyTotp(seed, "123456", FromUnix(100), -1, {.window = 11}).ok());
  EXPECT_FALSE(TotpCodeAt(SecretBytes(), FromUnix(100)).ok());
  EXPECT_FALSE(TotpCodeAt(seed, FromUnix(-1)).ok());
}

TEST(TotpTest, NearEpochSkipsNegativeCounters) {
  SecretBytes seed = RfcSeed();
  auto code = TotpCodeAt(seed, FromUnix(5));
  ASSERT_TRUE(code.ok());
  auto got = VerifyTotp(seed, *code, FromUnix(5), -1);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, 0);
}

TEST(TotpTest, SeedsAreTwentyRandomBytes) {
  SecretBytes a = GenerateTotpSeed();
  SecretBytes b = GenerateTotpSeed();
  EXPECT_EQ(a.size(), 20u);
  EXPECT_FALSE(a.Equals(b));
}

// Splits "otpauth://totp/LABEL?k=v&k=v" into label and query parameters.
struct ParsedUri {
  std::string scheme_and_type;
  std::string label;
  std::map<std::string, std::string> query;
};
ParsedUri ParseUri(const std::string& uri) {
  ParsedUri out;
  size_t slash = uri.find('/', std::string("otpauth://").size());
  out.scheme_and_type = uri.substr(0, slash);
  size_t q = uri.find('?');
  out.label = uri.substr(slash + 1, q - slash - 1);
  std::string rest = uri.substr(q + 1);
  size_t pos = 0;
  while (pos <= rest.size()) {
    size_t amp = rest.find('&', pos);
    if (amp == std::string::npos) amp = rest.size();
    std::string kv = rest.substr(pos, amp - pos);
    size_t eq = kv.find('=');
    out.query[kv.substr(0, eq)] = kv.substr(eq + 1);
    pos = amp + 1;
  }
  return out;
}

TEST(TotpUriTest, HasTheRightParams) {
  SecretBytes seed = RfcSeed();
  std::string uri = OtpauthUri("ACME Plant", "alice@acme.example", seed);
  ParsedUri p = ParseUri(uri);
  EXPECT_EQ(p.scheme_and_type, "otpauth://totp");
  EXPECT_EQ(p.label, "ACME%20Plant:alice%40acme.example");
  EXPECT_EQ(p.query.size(), 5u) << uri;
  EXPECT_EQ(p.query["secret"], "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  EXPECT_EQ(p.query["issuer"], "ACME%20Plant");
  EXPECT_EQ(p.query["algorithm"], "SHA1");
  EXPECT_EQ(p.query["digits"], "6");
  EXPECT_EQ(p.query["period"], "30");
}

TEST(TotpUriTest, PercentEncodesReservedCharacters) {
  std::string uri = OtpauthUri("a:b&c?d/e", "x=y#z é", RfcSeed(), {.digits = 8, .step_seconds = 60});
  ParsedUri p = ParseUri(uri);
  EXPECT_EQ(p.label, "a%3Ab%26c%3Fd%2Fe:x%3Dy%23z%20%C3%A9");
  EXPECT_EQ(p.query["issuer"], "a%3Ab%26c%3Fd%2Fe");
  EXPECT_EQ(p.query["digits"], "8");
  EXPECT_EQ(p.query["period"], "60");
}

// Runs a shell command and returns its stdout with the trailing newline cut.
std::string RunCommand(const std::string& cmd) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  if (!pipe) return "";
  std::string out;
  char buf[256];
  while (fgets(buf, sizeof buf, pipe.get()) != nullptr) out += buf;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

TEST(TotpUriTest, OathtoolAgreesWithTheUriSecret) {
  if (RunCommand("command -v oathtool").empty()) GTEST_SKIP() << "oathtool not installed";
  SecretBytes seed = GenerateTotpSeed();
  ParsedUri p = ParseUri(OtpauthUri("Portcullis", "bob", seed));
  const std::string secret = p.query["secret"];
  ASSERT_EQ(secret, Base32Encode(seed.Reveal()));
  for (int64_t t : {int64_t{1'795'424'400} /* 2026-11-23 09:00:00 UTC */, int64_t{59},
                    int64_t{2'000'000'000}}) {
    for (unsigned digits : {6u, 8u}) {
      auto ours = TotpCodeAt(seed, FromUnix(t), {.digits = digits});
      ASSERT_TRUE(ours.ok());
      std::string theirs = RunCommand("oathtool --totp -d " + std::to_string(digits) + " -b " +
                                      secret + " --now @" + std::to_string(t) + " 2>/dev/null");
      EXPECT_EQ(*ours, theirs) << "t=" << t << " digits=" << digits;
    }
  }
  // And with the human-readable date form.
  auto ours = TotpCodeAt(seed, FromUnix(1'795'424'400));
  ASSERT_TRUE(ours.ok());
  EXPECT_EQ(*ours, RunCommand("oathtool --totp -b " + secret +
                              " --now '2026-11-23 09:00:00 UTC' 2>/dev/null"));
}

}  // namespace
}  // namespace portcullis::auth
