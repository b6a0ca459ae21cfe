#pragma once
// The files `portcullis login` writes for the SSH access path, in the CLI's
// home directory: an Ed25519 key made once and reused (id_ed25519, 0600, and
// id_ed25519.pub), the login certificate the broker signed for it
// (id_ed25519-cert.pub), the broker's host key (known_hosts) and an
// ssh_config with one Host stanza per ssh target plus `Host portcullis` for
// the menu, so that `ssh -F HOME/ssh_config TARGET` needs no prompt.
// Pure functions and file writes; single-threaded like the CLI.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace portcullis::cli {

struct SshFilePaths {
  std::string dir;  // absolute
  std::string key, public_key, certificate, known_hosts, ssh_config;
};
// The paths under `home` (made absolute).
SshFilePaths SshFilesIn(const std::string& home);

// Returns the public key line of the login key, creating the key pair (and
// the directory, 0700) if either file is missing or the public half is
// unreadable.
[[nodiscard]] absl::StatusOr<std::string> EnsureLoginKey(const SshFilePaths& paths);

// The host part of a --broker HOST:PORT ("[::1]:7443" -> "::1"). Refuses
// characters that cannot go into an ssh_config or known_hosts line.
[[nodiscard]] absl::StatusOr<std::string> BrokerHost(std::string_view broker);

// known_hosts text pinning `host_key_line` for [host]:port (and for plain
// `host` when port is 22).
std::string KnownHostsText(const std::string& host, uint32_t port,
                           const std::string& host_key_line);

struct SshConfigInput {
  std::string host;  // BrokerHost()
  uint32_t port = 0;
  std::string user;  // Portcullis user
  std::vector<std::string> targets;
};
// The ssh_config text. Paths are quoted, and '%' doubled where ssh_config
// expands tokens.
std::string SshConfigText(const SshConfigInput& in, const SshFilePaths& paths);

struct LoginCertificateInfo {
  uint64_t valid_before = 0;  // unix seconds
  std::vector<std::string> principals;
};
// Checks the certificate line the broker returned: a user certificate for
// the login key (`public_key_line`) naming `user`. Returns its validity.
[[nodiscard]] absl::StatusOr<LoginCertificateInfo> CheckLoginCertificate(
    const std::string& cert_line, const std::string& public_key_line, const std::string& user);

// Writes the certificate (0644), and, when the listener is enabled
// (port != 0), known_hosts and ssh_config (0644).
[[nodiscard]] absl::Status WriteSshFiles(const SshFilePaths& paths, const std::string& cert_line,
                                         const std::string& host_key_line,
                                         const SshConfigInput& config);

// Removes the certificate (on logout). Missing is fine.
void RemoveLoginCertificate(const SshFilePaths& paths);

}  // namespace portcullis::cli
