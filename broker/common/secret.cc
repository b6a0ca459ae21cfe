#include "broker/common/secret.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstdlib>

#include "absl/status/status.h"

namespace portcullis {

absl::StatusOr<SecretBytes> SecretBytes::FromString(std::string_view data) {
  if (data.size() > kMaxSize) {
    return absl::InvalidArgumentError("secret too long");
  }
  SecretBytes s;
  s.bytes_.assign(data.begin(), data.end());
  return s;
}

absl::StatusOr<SecretBytes> SecretBytes::Take(std::string& str) {
  auto s = FromString(str);
  if (!str.empty()) OPENSSL_cleanse(str.data(), str.size());
  str.clear();
  return s;
}

SecretBytes SecretBytes::Random(size_t n) {
  SecretBytes s;
  s.bytes_.resize(n);
  if (n > 0 && RAND_bytes(s.bytes_.data(), static_cast<int>(n)) != 1) {
    // A CSPRNG failure is a broken invariant of the host; never continue
    // with predictable key material.
    std::abort();
  }
  return s;
}

SecretBytes::~SecretBytes() { Clear(); }

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : bytes_(std::move(other.bytes_)) {
  other.bytes_.clear();
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    Clear();
    bytes_ = std::move(other.bytes_);
    other.bytes_.clear();
  }
  return *this;
}

SecretBytes SecretBytes::Clone() const {
  SecretBytes s;
  s.bytes_ = bytes_;
  return s;
}

void SecretBytes::Resize(size_t n) {
  if (n < bytes_.size()) OPENSSL_cleanse(bytes_.data() + n, bytes_.size() - n);
  // Grow through a fresh buffer so no unwiped copy is left behind.
  std::vector<uint8_t> next(n);
  std::copy_n(bytes_.begin(), std::min(n, bytes_.size()), next.begin());
  Clear();
  bytes_ = std::move(next);
}

void SecretBytes::Clear() {
  if (!bytes_.empty()) OPENSSL_cleanse(bytes_.data(), bytes_.size());
  bytes_.clear();
  bytes_.shrink_to_fit();
}

bool SecretBytes::Equals(const SecretBytes& other) const {
  return ConstantTimeEquals(Reveal(), other.Reveal());
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

}  // namespace portcullis
