#pragma once
// OpenSSH public key lines as users bring them (`portcullis keys add`, the
// SSH listener's public key login): splitting a line into its fields, and
// parsing it with a structural check of the wire blob for every type the
// broker accepts from users. Pure functions; thread-safe.
//
// The broker's own keys and login certificates are Ed25519 only
// (ed25519_key.h ParsePublicKeyLine); users may also register ECDSA and RSA
// keys, since many clients have no Ed25519 key.

#include <string_view>

#include "absl/status/statusor.h"
#include "auth/ca/ed25519_key.h"

namespace portcullis::ca {

// Bounds on untrusted input.
inline constexpr size_t kMaxPublicKeyLineBytes = 8192;
inline constexpr size_t kMaxPublicKeyCommentBytes = 1024;
// RSA moduli the broker accepts from users, in bits.
inline constexpr size_t kMinRsaBits = 2048;
inline constexpr size_t kMaxRsaBits = 16384;

// The fields of "TYPE BASE64 [comment]"; views into the parsed line.
struct PublicKeyLineFields {
  std::string_view type;
  std::string_view data;  // base64, not yet decoded
  std::string_view comment;
};

// Splits one OpenSSH public key line (an optional final "\n" or "\r\n"; no
// other control characters than tab; no authorized_keys options).
// InvalidArgument for an empty or oversized line, or control characters.
// Does not check the type or decode the data.
[[nodiscard]] absl::StatusOr<PublicKeyLineFields> SplitPublicKeyLine(std::string_view line);

// Parses a user's public key line. Accepts ssh-ed25519,
// ecdsa-sha2-nistp256/384/521 (the point must be on the curve) and ssh-rsa
// with a 2048..16384-bit modulus. Refuses, with a message naming the type,
// certificates, ssh-dss, security-key (sk-*) keys and anything else. The
// blob must name the same type as the line and carry no trailing bytes.
// The comment is kept (at most kMaxPublicKeyCommentBytes, valid UTF-8).
[[nodiscard]] absl::StatusOr<SshPublicKey> ParseUserPublicKeyLine(std::string_view line);

// The structural check ParseUserPublicKeyLine applies to the decoded blob;
// returns the key type named inside it.
[[nodiscard]] absl::StatusOr<std::string> CheckUserPublicKeyBlob(std::string_view blob);

}  // namespace portcullis::ca
