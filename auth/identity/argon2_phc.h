#pragma once
// Strict parser for the Argon2id PHC string format produced by libargon2:
//   $argon2id$v=19$m=<kib>,t=<passes>,p=<lanes>$<salt b64>$<hash b64>
// (standard base64 alphabet, no padding). It only checks the shape and the
// cost parameters; the salt and tag are decoded by libargon2 itself when it
// verifies. Used by VerifyPassword to refuse stored hashes whose costs would
// make one verification take minutes or gigabytes (a corrupted or planted DB
// row). Pure functions, thread-safe.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"

namespace portcullis::auth {

// Upper bounds accepted from a stored hash (and for new hashes).
inline constexpr uint32_t kMaxArgon2MemoryKib = 1u << 20;  // 1 GiB
inline constexpr uint32_t kMaxArgon2TimeCost = 10;
inline constexpr uint32_t kMaxArgon2Parallelism = 16;
// Longest PHC string accepted (generous: 16-byte salt/32-byte tag is ~100).
inline constexpr size_t kMaxArgon2PhcLength = 256;

struct Argon2PhcHeader {
  uint32_t m_cost_kib = 0;
  uint32_t t_cost = 0;
  uint32_t parallelism = 0;
  size_t salt_b64_len = 0;
  size_t hash_b64_len = 0;
};

// Parses `encoded`. InvalidArgument if it is not an argon2id v=19 PHC string
// or if any cost exceeds the bounds above. Messages never echo the input.
[[nodiscard]] absl::StatusOr<Argon2PhcHeader> ParseArgon2idPhc(std::string_view encoded);

// InvalidArgument unless 1 <= t <= kMaxArgon2TimeCost,
// 1 <= p <= kMaxArgon2Parallelism and 8*p <= m <= kMaxArgon2MemoryKib.
[[nodiscard]] absl::Status CheckArgon2Costs(uint32_t m_cost_kib, uint32_t t_cost,
                                            uint32_t parallelism);

}  // namespace portcullis::auth
