#pragma once
// Password hashing and policy. Argon2id via libargon2, stored as a PHC
// string. All functions are thread-safe (no shared mutable state). Passwords
// arrive as SecretBytes and never appear in a returned status.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker/common/secret.h"

namespace portcullis::auth {

// Argon2id costs. Defaults follow the OWASP minimum (19 MiB, 2 passes, 1 lane).
struct Argon2Params {
  uint32_t t_cost = 2;
  uint32_t m_cost_kib = 19456;
  uint32_t parallelism = 1;
};

// Argon2id PHC-encoded hash ("$argon2id$v=19$m=...,t=...,p=...$salt$hash"),
// 16-byte random salt, 32-byte tag. InvalidArgument if `params` are outside
// the bounds of argon2_phc.h (t 1..10, p 1..16, m 8p..1 GiB).
[[nodiscard]] absl::StatusOr<std::string> HashPassword(const SecretBytes& password,
                                                       const Argon2Params& params = {});

// True iff `password` matches `encoded`. A malformed or non-argon2id
// `encoded`, or one whose costs exceed the bounds, returns false (never
// crashes, never runs an unbounded computation).
bool VerifyPassword(std::string_view encoded, const SecretBytes& password);

// Costs the same time as VerifyPassword against a real hash with default
// params. Call it for unknown users so timing does not reveal whether a user
// exists.
void BurnPasswordVerification(const SecretBytes& password);

// Policy for new passwords: 12..1024 bytes, valid UTF-8, not one character
// repeated. InvalidArgument otherwise; the message never contains the password.
[[nodiscard]] absl::Status CheckPasswordAcceptable(const SecretBytes& password);

}  // namespace portcullis::auth
