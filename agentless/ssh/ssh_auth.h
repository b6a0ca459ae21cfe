#pragma once
// The authentication step of the broker's SSH listener, as an explicit state
// machine over libssh's message API (libssh has no keyboard-interactive
// server callback). Accepted:
//  * keyboard-interactive "Password:" + "Verification code:" (TOTP);
//  * a public key registered with `portcullis keys add`, then
//    keyboard-interactive "Verification code:" (partial success);
//  * a login certificate from `portcullis login` (signed by the login CA,
//    principal = the user, unexpired): no prompt.
// Plain "password" auth is refused (it cannot carry the second factor).
// The SSH user name is parsed as USER[:[LOGIN@]TARGET] (ssh_address.h).
//
// Blocking; runs on the connection's thread. Every attempt is audited by
// the Authenticator. Thread-compatible.

#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "agentless/ssh/libssh_handles.h"
#include "agentless/ssh/ssh_address.h"
#include "broker/session/authority.h"
#include "broker/session/user_authenticator.h"

namespace portcullis::ssh {

struct SshAuthServices {
  session::UserAuthenticator* authenticator = nullptr;
  // Verifies login certificates (the login CA's public half).
  session::Authority* authority = nullptr;
  // True iff `public_blob` (SSH wire blob) is registered for `user`.
  std::function<bool(const std::string& user, const std::string& public_blob)> has_key;
};

struct SshAuthResult {
  session::Identity identity;
  SshAddress address;
  std::string method;  // "keyboard-interactive", "publickey", "login-certificate"
};

inline constexpr int kMaxAuthAttempts = 6;

// Runs until the client is authenticated, gives up, disconnects or times
// out (the session's SSH_OPTIONS_TIMEOUT). Unauthenticated on failure.
[[nodiscard]] absl::StatusOr<SshAuthResult> AuthenticateClient(ssh_session session,
                                                               const SshAuthServices& services,
                                                               const std::string& source);

}  // namespace portcullis::ssh
