#pragma once
// Connects the broker to a target sshd for one session: TCP + key exchange
// with the target's crypto profile, host key check against the pin, then the
// login the target's auth mode asks for:
// - certificate: public-key authentication with a fresh Ed25519 key and a
//   certificate from the broker's target CA (principal = the login). The key
//   lives only in memory and only for this session.
// - password: the vaulted password by "password", else "keyboard-interactive"
//   (every prompt that asks for a password gets it; at most
//   kMaxKbdintRounds rounds).
// - key: public-key authentication with the vaulted private key.
// A vaulted secret is fetched only after the host key checked out, right
// before authenticating, and wiped when ConnectTarget returns.
//
// Blocking; called on the session's thread. Thread-compatible.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "agentless/common/connect_abort.h"
#include "agentless/ssh/libssh_handles.h"
#include "auth/ca/ssh_ca.h"
#include "broker/common/secret.h"

namespace portcullis::ssh {

struct TargetEndpoint {
  std::string name;
  std::string address;  // HOST:PORT or [V6]:PORT
  std::string login;
  std::string crypto_profile = "modern";
  std::string pinned_host_key;  // "TYPE BASE64"; empty = trust on first use
  std::chrono::seconds timeout{15};
  // Cuts the connection short from another thread (shutdown); may be null.
  // Must outlive the ConnectTarget() call.
  agentless::ConnectAbort* abort = nullptr;
  // Called once the target's host key checked out against the pin (or, with
  // no pin, `first_use`), before any credential is sent: trust on first use
  // pins here, so that a failed first login still pins, and no secret ever
  // goes to a host whose key was not accepted. An error ends the attempt.
  std::function<absl::Status(const std::string& host_key, bool first_use)> accept_host_key;
};

struct TargetConnection {
  // Authenticated, blocking mode. End it with CloseTargetSession().
  SshSessionPtr session;
  std::string host_key;       // "TYPE BASE64" the target presented
  bool first_use = false;     // no pin existed: the caller must pin host_key
  ca::IssuedCertificate cert; // what the broker logged in with
};

// Mints the certificate for the ephemeral key's public blob.
using CertificateMinter =
    std::function<absl::StatusOr<ca::IssuedCertificate>(const std::string& public_blob)>;
// Returns the vaulted password or private key text for the endpoint's login.
using SecretFetcher = std::function<absl::StatusOr<SecretBytes>()>;

enum class TargetAuthMode { kCertificate, kPassword, kKey };

// How the broker logs in: `mint` is used for kCertificate, `fetch_secret`
// for kPassword and kKey. Both must stay valid for the ConnectTarget call.
struct TargetCredential {
  TargetAuthMode mode = TargetAuthMode::kCertificate;
  CertificateMinter mint;
  SecretFetcher fetch_secret;
};

// Keyboard-interactive rounds answered before the login is given up.
inline constexpr int kMaxKbdintRounds = 4;

// Errors say what failed, in words fit for the user's terminal:
// Unavailable ("cannot reach rtu-01 (127.0.0.1:2022): Connection refused"),
// FailedPrecondition for a changed host key ("host key of rtu-01 changed"),
// PermissionDenied when the target refuses the certificate, Cancelled if
// `ep.abort` fired, Internal else.
// A vaulted (password or key) login that fails is Unauthenticated, and its
// message is the reason for the audit log, not for the user ("no secret
// vaulted for admin", "target refused the vaulted password", "target offers
// none of: password, keyboard-interactive"); it never quotes the secret.
// Ends a session ConnectTarget() made: if it is still connected, flushes
// what is queued (up to `flush`) and sends SSH_MSG_DISCONNECT; then frees
// it. Its socket is closed exactly once: libssh closes a socket it was
// handed on an error (also one during the flush) and in ssh_free(), but
// leaves it open after ssh_disconnect(), so this closes it then, if it is
// still open.
void CloseTargetSession(SshSessionPtr& session, int flush_ms);

[[nodiscard]] absl::StatusOr<TargetConnection> ConnectTarget(const TargetEndpoint& ep,
                                                             const TargetCredential& cred);

// "TYPE BASE64" of a libssh public key.
[[nodiscard]] absl::StatusOr<std::string> PublicKeyLine(ssh_key key);

}  // namespace portcullis::ssh
