#pragma once
// The credential vault for targets that cannot take the broker's
// certificates: one secret (a password or an SSH private key) per target and
// login, sealed at rest with the broker's SecretBox and bound to its row, so
// a sealed value copied to another target, login or kind does not open.
//
// Sealing (SetTargetSecret) is what `targets set-secret` does for an admin;
// opening (OpenTargetSecret) is for the Authority only, which hands the
// secret to the protocol code at connect time. Nothing here logs, and no
// error quotes a secret. Thread-safe (the repo and the box are).

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "auth/identity/secret_box.h"
#include "broker/common/secret.h"
#include "broker/session/vaulted_secret.h"
#include "broker/store/target_repo.h"

namespace portcullis::core {

using session::SecretKind;

std::string_view SecretKindName(SecretKind kind);  // "password" | "key"
// InvalidArgument for anything else.
[[nodiscard]] absl::StatusOr<SecretKind> ParseSecretKind(std::string_view name);

// An opened vaulted secret: what the Authority returns at connect time.
// Move-only (SecretBytes); the secret is wiped when this is destroyed.
using session::VaultedSecret;

// The SecretBox associated data of a (target, login, kind) row.
std::string TargetSecretAad(std::string_view target, std::string_view login, SecretKind kind);

// Checks a secret before it is sealed. A password: not empty, no NUL byte.
// A key: a private key libssh reads (OpenSSH or PEM; Ed25519, ECDSA, RSA)
// without a passphrase. InvalidArgument saying what is wrong, never quoting
// the secret.
[[nodiscard]] absl::Status ValidateTargetSecret(SecretKind kind, const SecretBytes& secret);

// The auth mode ("password" | "key") a secret of `kind` is for.
std::string_view AuthModeFor(SecretKind kind);

struct SetTargetSecretRequest {
  std::string target;
  std::string login;   // "" = no login (VNC)
  std::string domain;  // RDP; "" otherwise
  SecretKind kind = SecretKind::kPassword;
  std::string set_by;  // the admin
  int64_t now = 0;     // unix seconds
};

// Validates, seals and stores (replacing any previous secret of that
// login). NotFound for an unknown target; FailedPrecondition for a
// certificate target ("target X uses certificates ...") or a secret of the
// wrong kind for the target's auth mode; InvalidArgument for a bad secret.
// Nothing is stored on failure.
[[nodiscard]] absl::Status SetTargetSecret(store::TargetRepo& targets, const auth::SecretBox& box,
                                           const SetTargetSecretRequest& req,
                                           const SecretBytes& secret);

// Opens the secret of (target, login). NotFound("no secret vaulted for
// LOGIN") if there is none; DataLoss if it does not open (tampered, moved
// from another row, wrong key).
[[nodiscard]] absl::StatusOr<VaultedSecret> OpenTargetSecret(store::TargetRepo& targets,
                                                             const auth::SecretBox& box,
                                                             std::string_view target,
                                                             std::string_view login);

}  // namespace portcullis::core
