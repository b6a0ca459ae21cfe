#include "auth/identity/totp.h"

#include <liboath/oath.h>
#include <openssl/crypto.h>

#include <array>
#include <cstdlib>
#include <mutex>

#include <fmt/format.h>

#include "broker/common/encoding.h"
#include "broker/common/status_macros.h"

namespace portcullis::auth {
namespace {

constexpr size_t kSeedBytes = 20;
constexpr unsigned kMinDigits = 6;
constexpr unsigned kMaxDigits = 8;
constexpr unsigned kMaxStepSeconds = 3600;
constexpr unsigned kMaxWindow = 10;

void EnsureOathInitialised() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Without a working liboath no code can be computed or checked; that is
    // a broken host, not bad input.
    if (oath_init() != OATH_OK) std::abort();
  });
}

absl::Status CheckParams(const SecretBytes& seed, const TotpParams& p) {
  if (seed.empty()) return absl::InvalidArgumentError("TOTP seed is empty");
  if (p.digits < kMinDigits || p.digits > kMaxDigits) {
    return absl::InvalidArgumentError(
        fmt::format("TOTP digits must be {}..{}", kMinDigits, kMaxDigits));
  }
  if (p.step_seconds < 1 || p.step_seconds > kMaxStepSeconds) {
    return absl::InvalidArgumentError(
        fmt::format("TOTP step must be 1..{} seconds", kMaxStepSeconds));
  }
  if (p.window > kMaxWindow) {
    return absl::InvalidArgumentError(fmt::format("TOTP window must be 0..{}", kMaxWindow));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> CounterAt(TimePoint now, unsigned step) {
  int64_t unix = ToUnix(now);
  if (unix < 0) return absl::InvalidArgumentError("TOTP time is before the Unix epoch");
  return unix / static_cast<int64_t>(step);
}

// Code buffer: up to 8 digits + NUL, wiped on destruction.
struct CodeBuffer {
  std::array<char, kMaxDigits + 1> chars{};
  ~CodeBuffer() { OPENSSL_cleanse(chars.data(), chars.size()); }
};

absl::Status HotpInto(const SecretBytes& seed, uint64_t counter, unsigned digits,
                      CodeBuffer* out) {
  EnsureOathInitialised();
  int rc = oath_hotp_generate(reinterpret_cast<const char*>(seed.data()), seed.size(), counter,
                              digits, /*add_checksum=*/false, OATH_HOTP_DYNAMIC_TRUNCATION,
                              out->chars.data());
  if (rc != OATH_OK) {
    return absl::InternalError(fmt::format("liboath: {}", oath_strerror(rc)));
  }
  return absl::OkStatus();
}

bool IsDigits(std::string_view s, unsigned n) {
  if (s.size() != n) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string PercentEncode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                      (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

}  // namespace

SecretBytes GenerateTotpSeed() { return SecretBytes::Random(kSeedBytes); }

std::string OtpauthUri(std::string_view issuer, std::string_view account, const SecretBytes& seed,
                       const TotpParams& p) {
  std::string enc_issuer = PercentEncode(issuer);
  std::string secret = Base32Encode(seed.Reveal());
  std::string uri = fmt::format(
      "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={}&period={}", enc_issuer,
      PercentEncode(account), secret, enc_issuer, p.digits, p.step_seconds);
  OPENSSL_cleanse(secret.data(), secret.size());
  return uri;
}

absl::StatusOr<std::string> TotpCodeAt(const SecretBytes& seed, TimePoint now,
                                       const TotpParams& p) {
  PC_RETURN_IF_ERROR(CheckParams(seed, p));
  PC_ASSIGN_OR_RETURN(int64_t counter, CounterAt(now, p.step_seconds));
  return TotpCodeForCounter(seed, counter, p);
}

absl::StatusOr<std::string> TotpCodeForCounter(const SecretBytes& seed, int64_t counter,
                                               const TotpParams& p) {
  PC_RETURN_IF_ERROR(CheckParams(seed, p));
  if (counter < 0) return absl::InvalidArgumentError("TOTP counter is negative");
  CodeBuffer code;
  PC_RETURN_IF_ERROR(HotpInto(seed, static_cast<uint64_t>(counter), p.digits, &code));
  return std::string(code.chars.data(), p.digits);
}

absl::StatusOr<int64_t> VerifyTotp(const SecretBytes& seed, std::string_view code, TimePoint now,
                                   int64_t last_used_counter, const TotpParams& p) {
  PC_RETURN_IF_ERROR(CheckParams(seed, p));
  if (!IsDigits(code, p.digits)) {
    return absl::InvalidArgumentError(
        fmt::format("verification code must be exactly {} digits", p.digits));
  }
  PC_ASSIGN_OR_RETURN(int64_t t, CounterAt(now, p.step_seconds));
  const int64_t window = static_cast<int64_t>(p.window);

  // Compute and compare every candidate; fold the result in without
  // branching on the comparison, so the time taken does not depend on which
  // counter (if any) matched.
  int64_t matched = -1;
  for (int64_t c = t - window; c <= t + window; ++c) {
    if (c < 0) continue;  // depends only on public time
    CodeBuffer candidate;
    PC_RETURN_IF_ERROR(HotpInto(seed, static_cast<uint64_t>(c), p.digits, &candidate));
    int differs = CRYPTO_memcmp(candidate.chars.data(), code.data(), p.digits);
    // mask is all ones when equal, zero otherwise.
    int64_t mask = -static_cast<int64_t>(differs == 0);
    matched = (matched & ~mask) | (c & mask);
  }
  if (matched < 0) return absl::PermissionDeniedError("invalid verification code");
  if (matched <= last_used_counter) {
    return absl::FailedPreconditionError("verification code already used");
  }
  return matched;
}

}  // namespace portcullis::auth
