#include "auth/identity/argon2_phc.h"

#include <string>

#include <fmt/format.h>

#include "absl/status/status.h"

namespace portcullis::auth {
namespace {

// Cursor over the PHC string; every step either consumes exactly what it
// expects or reports failure. Never reads past the end.
class PhcCursor {
 public:
  explicit PhcCursor(std::string_view s) : s_(s) {}

  bool Literal(std::string_view lit) {
    if (s_.substr(pos_, lit.size()) != lit) return false;
    pos_ += lit.size();
    return true;
  }

  // Decimal uint32 without sign, without leading zeros (except "0").
  bool Number(uint32_t* out) {
    size_t start = pos_;
    uint64_t v = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      v = v * 10 + static_cast<uint64_t>(s_[pos_] - '0');
      if (v > UINT32_MAX) return false;
      ++pos_;
    }
    size_t len = pos_ - start;
    if (len == 0 || (len > 1 && s_[start] == '0')) return false;
    *out = static_cast<uint32_t>(v);
    return true;
  }

  // A run of unpadded standard-base64 characters; returns its length.
  size_t Base64Run() {
    size_t start = pos_;
    while (pos_ < s_.size() && IsBase64Char(s_[pos_])) ++pos_;
    return pos_ - start;
  }

  bool AtEnd() const { return pos_ == s_.size(); }

 private:
  static bool IsBase64Char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/';
  }
  std::string_view s_;
  size_t pos_ = 0;
};

// An unpadded base64 run of length n decodes to a whole number of bytes
// unless n % 4 == 1.
bool PlausibleBase64Length(size_t n, size_t min_bytes) {
  return n % 4 != 1 && n * 3 / 4 >= min_bytes;
}

absl::Status Malformed() {
  return absl::InvalidArgumentError("stored password hash is not a valid argon2id PHC string");
}

}  // namespace

absl::Status CheckArgon2Costs(uint32_t m_cost_kib, uint32_t t_cost, uint32_t parallelism) {
  if (t_cost < 1 || t_cost > kMaxArgon2TimeCost) {
    return absl::InvalidArgumentError(
        fmt::format("argon2 time cost {} outside 1..{}", t_cost, kMaxArgon2TimeCost));
  }
  if (parallelism < 1 || parallelism > kMaxArgon2Parallelism) {
    return absl::InvalidArgumentError(fmt::format("argon2 parallelism {} outside 1..{}",
                                                  parallelism, kMaxArgon2Parallelism));
  }
  if (m_cost_kib < 8 * parallelism || m_cost_kib > kMaxArgon2MemoryKib) {
    return absl::InvalidArgumentError(fmt::format("argon2 memory {} KiB outside {}..{} KiB",
                                                  m_cost_kib, 8 * parallelism,
                                                  kMaxArgon2MemoryKib));
  }
  return absl::OkStatus();
}

absl::StatusOr<Argon2PhcHeader> ParseArgon2idPhc(std::string_view encoded) {
  if (encoded.size() > kMaxArgon2PhcLength) return Malformed();
  PhcCursor c(encoded);
  Argon2PhcHeader h;
  uint32_t version = 0;
  if (!c.Literal("$argon2id$v=") || !c.Number(&version) || version != 19) return Malformed();
  if (!c.Literal("$m=") || !c.Number(&h.m_cost_kib)) return Malformed();
  if (!c.Literal(",t=") || !c.Number(&h.t_cost)) return Malformed();
  if (!c.Literal(",p=") || !c.Number(&h.parallelism)) return Malformed();
  if (!c.Literal("$")) return Malformed();
  h.salt_b64_len = c.Base64Run();
  if (!c.Literal("$")) return Malformed();
  h.hash_b64_len = c.Base64Run();
  if (!c.AtEnd()) return Malformed();
  // libargon2 minimums: 8-byte salt, 4-byte tag.
  if (!PlausibleBase64Length(h.salt_b64_len, 8) || !PlausibleBase64Length(h.hash_b64_len, 4)) {
    return Malformed();
  }
  absl::Status costs = CheckArgon2Costs(h.m_cost_kib, h.t_cost, h.parallelism);
  if (!costs.ok()) {
    return absl::InvalidArgumentError(
        "stored password hash refused: " + std::string(costs.message()));
  }
  return h;
}

}  // namespace portcullis::auth
