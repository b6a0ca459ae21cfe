#pragma once
// SshdFixture: a real OpenSSH sshd on 127.0.0.1 for integration tests, with
// its own temp dir, host key (ssh-keygen -t ed25519 or rsa), config and log. It
// trusts the user CA given in the options (TrustedUserCAKeys) and accepts
// nothing else: no authorized_keys, no passwords, no keyboard-interactive.
// Started with Start(), stopped by PID with Stop() (also on destruction).
// Not thread-safe. Needs root (sshd privilege separation); tests run as root.
//
// Also re-exports the generic helpers (PickFreePort, TempDir, RunCommand).

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "tests/support/test_util.h"

namespace portcullis::testing {

struct SshdOptions {
  // Content of the TrustedUserCAKeys file, e.g. a CA's ExportLine().
  std::string trusted_user_ca_keys;
  // Extra sshd_config lines, written BEFORE the defaults so they override
  // them (sshd keeps the first value it reads for most keywords). No "Match".
  std::vector<std::string> extra_config;
  std::string sshd_path = "/usr/sbin/sshd";  // sshd requires an absolute path
  // Listen on this port (0 = a free one; a fixed port is not retried).
  int port = 0;
  // The host key's type for ssh-keygen -t: "ed25519" or "rsa" (3072 bits).
  std::string host_key_type = "ed25519";
};

class SshdFixture {
 public:
  explicit SshdFixture(SshdOptions options = {});
  ~SshdFixture();
  SshdFixture(const SshdFixture&) = delete;
  SshdFixture& operator=(const SshdFixture&) = delete;

  // True if this machine can run the fixture (sshd and ssh-keygen present,
  // running as root).
  static bool Available();

  // Writes the host key and config, starts `sshd -D -e -f CONFIG` and waits
  // (up to 10 s) until it listens. Retries with another port if the port was
  // taken meanwhile. Errors include the sshd log.
  [[nodiscard]] absl::Status Start();
  // SIGTERM, then SIGKILL after 5 s; reaps the process. Idempotent.
  // Connections already open live on in sshd's per-connection children.
  void Stop();
  // SIGKILLs sshd and every process it forked (its live connections die
  // with it, as when the target goes down), found by parent PID in /proc.
  void Crash();
  // Stops sshd, replaces its host key with a fresh one and starts it again
  // on the same port (a target whose host key changed).
  [[nodiscard]] absl::Status RestartWithNewHostKey();

  // Replaces the TrustedUserCAKeys file; sshd reads it on every login.
  [[nodiscard]] absl::Status SetTrustedUserCaKeys(std::string_view content);

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& dir() const { return dir_.path(); }
  std::string config_path() const { return dir_.Join("sshd_config"); }
  // Everything sshd wrote to stderr so far (LogLevel VERBOSE).
  std::string log() const;
  // The host public key line ("ssh-ed25519 AAAA... comment").
  std::string host_key_pub() const;
  // Path of the host private key (host_<type>_key in dir()).
  std::string host_key_path() const;

 private:
  absl::Status WriteConfig();
  absl::Status SpawnAndWait(bool& port_taken);

  SshdOptions options_;
  TempDir dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace portcullis::testing
