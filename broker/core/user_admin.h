#pragma once
// User administration shared by `portcullisd init` and the UserService:
// validated creation with an Argon2id password hash and a fresh, sealed TOTP
// seed, each change audited. Thread-safe (stateless over the Broker).

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "broker/common/secret.h"
#include "broker/core/broker.h"

namespace portcullis::core {

struct Actor {
  std::string name;    // who asks ("system" at init)
  std::string source;  // client address
};

// Appends a successful change made by `actor` to the audit log.
[[nodiscard]] absl::Status AuditSuccess(Broker& b, const Actor& actor, std::string type,
                                        std::string subject,
                                        nlohmann::json details = nlohmann::json::object());

struct NewUser {
  store::UserRecord record;
  std::string otpauth_uri;  // shown once
};

// User names: [a-z][a-z0-9._-]{0,31}; no ':' or '@' (they delimit SSH
// addressing).
[[nodiscard]] absl::Status ValidateUserName(std::string_view name);
// Every role must exist in the role store or be the built-in `admin`.
[[nodiscard]] absl::Status ValidateRoleNames(Broker& b, const std::vector<std::string>& roles);

[[nodiscard]] absl::StatusOr<NewUser> CreateUser(Broker& b, std::string_view name,
                                                 const SecretBytes& password,
                                                 const std::vector<std::string>& roles,
                                                 const Actor& actor);
// New password and TOTP seed for `name`, and a new login generation (the
// user's earlier tokens and login certificates stop working; the caller ends
// live sessions). Clears the user's lockout. Audited as admin.user_reset
// with `details`. Returns the otpauth URI.
[[nodiscard]] absl::StatusOr<std::string> ResetUser(Broker& b, std::string_view name,
                                                    const SecretBytes& password,
                                                    const Actor& actor,
                                                    const std::function<nlohmann::json()>& details);
// Issues a new TOTP seed (the old one stops working) and a new login
// generation: the user's tokens and login certificates, obtained with the
// old factor, stop working (the caller ends live sessions from `details`).
// Audited as admin.totp_reset with `details` and the generation. Returns
// the otpauth URI.
[[nodiscard]] absl::StatusOr<std::string> ResetTotp(Broker& b, std::string_view name,
                                                    const Actor& actor,
                                                    const std::function<nlohmann::json()>& details);

}  // namespace portcullis::core
