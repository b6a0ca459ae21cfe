#pragma once
// Ed25519 keys for the Portcullis SSH CA: generation, PKCS#8 storage, SSH wire
// and OpenSSH text encodings, and signing (OpenSSL EVP; no primitives of our
// own). Also parsers for OpenSSH public key lines and fingerprints.
//
// Ed25519Key owns one EVP_PKEY. It is movable, not copyable; a moved-from key
// is empty and must not be used. Const methods are thread-safe (OpenSSL 3
// allows concurrent use of one EVP_PKEY with a context per call).

#include <openssl/evp.h>

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker/common/openssl_handles.h"
#include "broker/common/secret.h"

namespace portcullis::ca {

inline constexpr std::string_view kSshEd25519 = "ssh-ed25519";
inline constexpr size_t kEd25519PublicSize = 32;
inline constexpr size_t kEd25519SignatureSize = 64;

class Ed25519Key {
 public:
  // A fresh key from the OpenSSL CSPRNG (aborts if OpenSSL cannot make one).
  static Ed25519Key Generate();
  // A PKCS#8 PEM private key ("-----BEGIN PRIVATE KEY-----"). Encrypted PEMs
  // and other key types are refused; the error never contains key bytes.
  [[nodiscard]] static absl::StatusOr<Ed25519Key> FromPrivatePem(const SecretBytes& pem);
  // Reads a PKCS#8 PEM file. Refuses anything but a regular file, and files
  // with any group/other permission bits (like ssh's "UNPROTECTED PRIVATE KEY").
  [[nodiscard]] static absl::StatusOr<Ed25519Key> LoadPrivateFile(const std::string& path);

  Ed25519Key(Ed25519Key&&) noexcept = default;
  Ed25519Key& operator=(Ed25519Key&&) noexcept = default;
  Ed25519Key(const Ed25519Key&) = delete;
  Ed25519Key& operator=(const Ed25519Key&) = delete;

  // Writes PrivatePem() with mode 0600; fails if `path` already exists.
  [[nodiscard]] absl::Status SavePrivateFile(const std::string& path) const;
  // PKCS#8 PEM of the private key.
  SecretBytes PrivatePem() const;
  // The raw 32-byte public key.
  std::string PublicRaw() const;
  // SSH wire blob: string "ssh-ed25519" || string raw32.
  std::string PublicBlob() const;
  // "ssh-ed25519 AAAA... comment" (no trailing newline; no comment if empty).
  std::string AuthorizedKeyLine(std::string_view comment) const;
  // Unencrypted OpenSSH private key ("-----BEGIN OPENSSH PRIVATE KEY-----",
  // openssh-key-v1, cipher none, kdf none), as written by `ssh-keygen -N ""`;
  // loadable by `ssh -i` and `ssh-keygen -y -f`. Ends with a newline.
  SecretBytes OpenSshPrivateKey(std::string_view comment) const;
  // Raw 64-byte Ed25519 signature of `data` (pure Ed25519, RFC 8032).
  [[nodiscard]] absl::StatusOr<std::string> Sign(std::string_view data) const;

  // Borrowed; valid while this key lives.
  EVP_PKEY* pkey() const { return pkey_.get(); }

 private:
  explicit Ed25519Key(EvpPkeyPtr pkey) : pkey_(std::move(pkey)) {}
  EvpPkeyPtr pkey_;
};

// An OpenSSH public key. `blob` is the SSH wire encoding.
struct SshPublicKey {
  std::string type;
  std::string blob;
  std::string comment;
};

// Parses an OpenSSH public key line ("ssh-ed25519 AAAA... [comment]", one
// line, optional trailing newline, no authorized_keys options) or, if the
// input starts with a NUL byte, an SSH wire blob. Only ssh-ed25519 is
// accepted for now. Bounded (8 KiB); trailing bytes in the blob are refused.
[[nodiscard]] absl::StatusOr<SshPublicKey> ParsePublicKeyLine(std::string_view line);

// Parses an ssh-ed25519 wire blob and returns the raw 32-byte key.
[[nodiscard]] absl::StatusOr<std::string> Ed25519RawFromBlob(std::string_view blob);

// Verifies a raw 64-byte Ed25519 `signature` of `data` under the raw 32-byte
// public key. OK iff valid.
[[nodiscard]] absl::Status VerifyEd25519(std::string_view public_raw, std::string_view data,
                                         std::string_view signature);

// SHA256 fingerprint as ssh-keygen prints it: "SHA256:" + unpadded base64 of
// sha256(blob).
std::string Fingerprint(std::string_view blob);

}  // namespace portcullis::ca
