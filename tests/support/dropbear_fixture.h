#pragma once
// DropbearFixture: a real Dropbear SSH server (Debian's dropbear-bin) on
// 127.0.0.1 for integration tests, with its own temp dir, host key
// (dropbearkey) and log. It runs in the foreground
// (`dropbear -F -E -p 127.0.0.1:PORT -r KEY -P PIDFILE`) and authenticates
// local accounts the way Dropbear does: passwords against the shadow file
// (crypt, no PAM) and keys from ~/.ssh/authorized_keys. It runs
// /usr/lib/sftp-server for the sftp subsystem and `scp` from PATH.
// Started with Start(), stopped by PID with Stop() (also on destruction).
// Not thread-safe. Needs root (it switches to the account it logs in).

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "tests/support/test_util.h"

namespace portcullis::testing {

struct DropbearOptions {
  // dropbearkey -t: "ed25519", "ecdsa" or "rsa".
  std::string host_key_type = "ed25519";
  // Extra command-line flags, e.g. {"-s"} (no password logins).
  std::vector<std::string> extra_args;
  std::string dropbear_path = "/usr/sbin/dropbear";
  // Listen on this port (0 = a free one; a fixed port is not retried).
  int port = 0;
};

class DropbearFixture {
 public:
  explicit DropbearFixture(DropbearOptions options = {});
  ~DropbearFixture();
  DropbearFixture(const DropbearFixture&) = delete;
  DropbearFixture& operator=(const DropbearFixture&) = delete;

  // True if this machine can run the fixture (dropbear and dropbearkey
  // present, running as root).
  static bool Available();

  // Creates the host key if there is none, starts dropbear and waits (up to
  // 10 s) until it accepts connections. Retries with another port if the
  // port was taken meanwhile. Errors include the log.
  [[nodiscard]] absl::Status Start();
  // SIGTERM, then SIGKILL after 5 s; reaps. Idempotent. Connections already
  // open live on in dropbear's per-connection children.
  void Stop();
  // Stops dropbear, replaces its host key with a fresh one and starts it
  // again on the same port (a target whose host key changed).
  [[nodiscard]] absl::Status RestartWithNewHostKey();

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& dir() const { return dir_.path(); }
  // Everything dropbear wrote to stderr so far.
  std::string log() const;
  // The host public key line ("ssh-ed25519 AAAA... comment"), "" on error.
  std::string host_key_pub() const;
  std::string host_key_path() const;

 private:
  absl::Status SpawnAndWait(bool& port_taken);

  DropbearOptions options_;
  TempDir dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace portcullis::testing
