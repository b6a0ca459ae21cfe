#pragma once
// SecretBox: AES-256-GCM (OpenSSL EVP) sealing of secrets at rest: TOTP
// seeds, vaulted RDP/VNC passwords. Sealed format:
//   0x01 (format version) || 12-byte random nonce || ciphertext || 16-byte tag
// The caller's `aad` (e.g. "totp-seed:alice") is authenticated, so a sealed
// value cannot be moved to another row or purpose.
//
// Immutable after construction and thread-safe (each call uses its own
// cipher context). Owns its 32-byte key (wiped on destruction); movable, not
// copyable. A moved-from box refuses to Seal/Open (FailedPrecondition).
// Random nonces: keep well under 2^32 seals per key.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker/common/secret.h"

namespace portcullis::auth {

class SecretBox {
 public:
  static constexpr size_t kKeySize = 32;
  static constexpr size_t kNonceSize = 12;
  static constexpr size_t kTagSize = 16;
  static constexpr unsigned char kFormatVersion = 0x01;
  // 1 + 12 + 16: the sealed form of an empty secret.
  static constexpr size_t kOverhead = 1 + kNonceSize + kTagSize;
  static constexpr size_t kMaxAadSize = 1024;

  // Creates a new key file: 32 random bytes, mode 0600. AlreadyExists if
  // `path` exists (never overwrites a key).
  [[nodiscard]] static absl::Status CreateKeyFile(const std::string& path);
  // Loads a key file. FailedPrecondition if the file is accessible by group
  // or others (any of mode 077) or is not a regular file; InvalidArgument if
  // it is not exactly 32 bytes; NotFound if missing. Never echoes contents.
  [[nodiscard]] static absl::StatusOr<SecretBox> LoadKeyFile(const std::string& path);
  // `key` must be 32 bytes (aborts otherwise: a caller bug).
  static SecretBox FromKey(SecretBytes key);

  SecretBox(SecretBox&&) noexcept = default;
  SecretBox& operator=(SecretBox&&) noexcept = default;
  SecretBox(const SecretBox&) = delete;
  SecretBox& operator=(const SecretBox&) = delete;

  // Seals `plaintext` (at most SecretBytes::kMaxSize bytes) bound to `aad`
  // (at most kMaxAadSize bytes).
  [[nodiscard]] absl::StatusOr<std::string> Seal(const SecretBytes& plaintext,
                                                 std::string_view aad) const;
  // Opens a sealed value. DataLoss("sealed secret failed authentication") on
  // any tampering, wrong key, wrong aad, truncation or bad version.
  [[nodiscard]] absl::StatusOr<SecretBytes> Open(std::string_view sealed,
                                                 std::string_view aad) const;

 private:
  explicit SecretBox(SecretBytes key) : key_(std::move(key)) {}
  SecretBytes key_;
};

}  // namespace portcullis::auth
