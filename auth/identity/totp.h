#pragma once
// TOTP second factor (RFC 6238, HMAC-SHA1), computed by liboath. Thread-safe:
// liboath is initialised once (std::call_once) and the functions share no
// other state. Time is passed in, so callers use an injected Clock. Seeds and
// codes never appear in a returned status.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker/common/clock.h"
#include "broker/common/secret.h"

namespace portcullis::auth {

// digits: 6..8. step_seconds: 1..3600. window: 0..10 steps either side.
struct TotpParams {
  unsigned digits = 6;
  unsigned step_seconds = 30;
  unsigned window = 1;  // ±steps accepted
};

// A fresh 20-byte (160-bit, RFC 4226 recommended) seed.
SecretBytes GenerateTotpSeed();

// otpauth://totp/ISSUER:ACCOUNT?secret=BASE32&issuer=ISSUER&algorithm=SHA1
//   &digits=D&period=P
// Issuer and account are percent-encoded (everything but RFC 3986
// unreserved characters); the secret is unpadded base32. The URI contains
// the seed: treat it as a secret (show it once, never log it).
std::string OtpauthUri(std::string_view issuer, std::string_view account, const SecretBytes& seed,
                       const TotpParams& p = {});

// The code at `now`. InvalidArgument for an empty seed, bad params or a time
// before the epoch.
[[nodiscard]] absl::StatusOr<std::string> TotpCodeAt(const SecretBytes& seed, TimePoint now,
                                                     const TotpParams& p = {});

// The code for time-step counter `counter` (TotpCodeAt computes T =
// floor(unix/step) and calls this). Lets tests reach times a TimePoint cannot
// represent (it ends in 2262). InvalidArgument for a negative counter.
[[nodiscard]] absl::StatusOr<std::string> TotpCodeForCounter(const SecretBytes& seed,
                                                             int64_t counter,
                                                             const TotpParams& p = {});

// Verifies `code` at `now`, accepting counters in [T-window, T+window], where
// T = floor(unix/step). `last_used_counter` is the highest counter accepted
// before for this user (-1 if none). Returns the matched counter (the
// highest, should several match), which the caller stores as the new
// last_used_counter. Every candidate is computed and compared in constant
// time. Errors:
//   InvalidArgument  - code is not exactly `digits` ASCII digits (or bad params/seed);
//   PermissionDenied - no counter in the window matches;
//   FailedPrecondition("verification code already used") - the matching
//                      counter is <= last_used_counter (replay).
[[nodiscard]] absl::StatusOr<int64_t> VerifyTotp(const SecretBytes& seed, std::string_view code,
                                                 TimePoint now, int64_t last_used_counter,
                                                 const TotpParams& p = {});

}  // namespace portcullis::auth
