#pragma once
// Connects the broker to a target sshd for one session: TCP + key exchange
// with the target's crypto profile, host key check against the pin, then
// public-key authentication with a fresh Ed25519 key and a certificate from
// the broker's target CA (principal = the login). The key lives only in
// memory and only for this session.
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
};

struct TargetConnection {
  // The TCP connection libssh runs on; libssh does not close it, so it must
  // outlive `session` (declared first: destroyed last).
  agentless::UniqueFd socket;
  SshSessionPtr session;      // authenticated, blocking mode
  std::string host_key;       // "TYPE BASE64" the target presented
  bool first_use = false;     // no pin existed: the caller must pin host_key
  ca::IssuedCertificate cert; // what the broker logged in with
};

// Mints the certificate for the ephemeral key's public blob.
using CertificateMinter =
    std::function<absl::StatusOr<ca::IssuedCertificate>(const std::string& public_blob)>;

// Errors say what failed, in words fit for the user's terminal:
// Unavailable ("cannot reach rtu-01 (127.0.0.1:2022): Connection refused"),
// FailedPrecondition for a changed host key ("host key of rtu-01 changed"),
// PermissionDenied when the target refuses the certificate, Cancelled if
// `ep.abort` fired, Internal else.
[[nodiscard]] absl::StatusOr<TargetConnection> ConnectTarget(const TargetEndpoint& ep,
                                                             const CertificateMinter& mint);

// "TYPE BASE64" of a libssh public key.
[[nodiscard]] absl::StatusOr<std::string> PublicKeyLine(ssh_key key);

}  // namespace portcullis::ssh
