#pragma once
// SecretBytes: owning container for key material, passwords, TOTP seeds and
// tokens. Non-copyable (use Clone() deliberately), wiped with OPENSSL_cleanse
// on destruction and on move-from, compared in constant time. Deliberately
// has no operator<< and no implicit string conversion so it cannot reach a
// log line by accident. Not thread-safe; owned by one thread at a time.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace portcullis {

class SecretBytes {
 public:
  // Upper bound on any secret Portcullis handles (passwords, seeds, keys,
  // vaulted target private keys: an RSA 8192 key file is ~6.5 KiB).
  static constexpr size_t kMaxSize = 16 * 1024;

  SecretBytes() = default;
  // Copies `data` into a new secret. Fails if larger than kMaxSize.
  static absl::StatusOr<SecretBytes> FromString(std::string_view data);
  // A secret of `n` cryptographically random bytes.
  static SecretBytes Random(size_t n);
  // Takes ownership of `s`'s bytes and wipes `s`. Truncates past kMaxSize
  // is not done: returns an error instead.
  static absl::StatusOr<SecretBytes> Take(std::string& s);

  ~SecretBytes();
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;

  SecretBytes Clone() const;

  const uint8_t* data() const { return bytes_.data(); }
  uint8_t* data() { return bytes_.data(); }
  size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }
  // Explicit, greppable access for the few places that must pass the bytes
  // to a C API expecting chars.
  std::string_view Reveal() const {
    return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()};
  }
  void Resize(size_t n);
  void Clear();

  // Constant-time equality (length leak only).
  bool Equals(const SecretBytes& other) const;

 private:
  std::vector<uint8_t> bytes_;
};

// Constant-time comparison of two byte strings of possibly different length.
// Always touches max(a.size(), b.size()) bytes.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace portcullis
