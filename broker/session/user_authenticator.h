#pragma once
// UserAuthenticator: how a protocol listener authenticates the people who
// connect to it (password + TOTP, a registered key + TOTP, a login
// certificate), without the user store behind it. core::Authenticator is
// the implementation; it enforces lockout, refuses replayed codes and
// audits every attempt. Every failure is the same UNAUTHENTICATED
// "invalid credentials". Implementations are thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker/common/secret.h"

namespace portcullis::session {

// Who an authenticated person is, as every access path sees them.
struct Identity {
  std::string user;
  std::vector<std::string> roles;
  bool admin = false;
  // The user row and login generation this identity was established for;
  // login certificates and tokens issued for it carry both.
  int64_t user_id = 0;
  int64_t login_generation = 0;
};

class UserAuthenticator {
 public:
  virtual ~UserAuthenticator() = default;
  // `channel` names the entry point for the audit log ("grpc", "ssh", ...).
  [[nodiscard]] virtual absl::StatusOr<Identity> PasswordAndTotp(std::string_view user,
                                                                 const SecretBytes& password,
                                                                 std::string_view totp_code,
                                                                 std::string_view source,
                                                                 std::string_view channel) = 0;
  // The second step once the caller verified a public key the user
  // registered: account checks + TOTP.
  [[nodiscard]] virtual absl::StatusOr<Identity> KeyAndTotp(std::string_view user,
                                                            std::string_view key_fingerprint,
                                                            std::string_view totp_code,
                                                            std::string_view source,
                                                            std::string_view channel) = 0;
  // A login certificate whose signature, validity and principal the caller
  // verified, with the binding read from it: account checks, and the binding
  // must be the user's current one.
  [[nodiscard]] virtual absl::StatusOr<Identity> LoginCertificate(
      std::string_view user, int64_t user_id, int64_t generation, uint64_t serial,
      std::string_view source, std::string_view channel) = 0;
  // True iff `user` exists, is enabled and (user_id, generation) is its
  // current binding (answers a key probe; counts nothing).
  virtual bool LoginBindingIsCurrent(std::string_view user, int64_t user_id, int64_t generation,
                                     std::string_view source, std::string_view channel,
                                     bool audit) = 0;
  // Counts and audits a failure the caller detected. Always UNAUTHENTICATED.
  virtual absl::Status RecordFailure(std::string_view user, std::string_view reason,
                                     std::string_view source, std::string_view channel) = 0;
};

}  // namespace portcullis::session
