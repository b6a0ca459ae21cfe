#pragma once
// What the vaulted-credential SSH tests share: a target server (a real
// OpenSSH sshd or Dropbear on 127.0.0.1) set up to log a throwaway local
// account in by password only or by authorized key only, and key pairs made
// with ssh-keygen. Not thread-safe. Test-only code; needs root.

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/support/dropbear_fixture.h"
#include "tests/support/sshd_fixture.h"

namespace portcullis::testing {

enum class TargetServer { kSshd, kDropbear };
enum class VaultedAuth { kPassword, kKey };

const char* ServerName(TargetServer server);  // "sshd" | "dropbear"
const char* AuthName(VaultedAuth auth);        // "password" | "key" (targets add --auth)

// One running target server. Password: sshd with PasswordAuthentication
// only; dropbear as it comes (publickey and password). Key: sshd with
// ~/.ssh/authorized_keys and no passwords; dropbear -s (no passwords). Both
// serve sftp. Stopped by PID on destruction.
class VaultedServer {
 public:
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<VaultedServer>> Start(TargetServer server,
                                                                            VaultedAuth auth);
  int port() const;
  std::string address() const;  // 127.0.0.1:PORT
  std::string log() const;
  // "TYPE BASE64" of the host key it presents now.
  std::string host_key() const;
  // Same port, a fresh host key.
  [[nodiscard]] absl::Status RestartWithNewHostKey();

 private:
  VaultedServer() = default;
  std::unique_ptr<SshdFixture> sshd_;
  std::unique_ptr<DropbearFixture> dropbear_;
};

// A new unencrypted key pair at `path` (+ ".pub") of ssh-keygen type `type`
// ("ed25519", "rsa", "ecdsa") and `bits` (0 = the default). Returns the
// public key line.
[[nodiscard]] absl::StatusOr<std::string> GenerateKeyPair(const std::string& path,
                                                          const std::string& type, int bits = 0);

// The first two fields ("TYPE BASE64") of a public key line.
std::string KeyTypeAndBase64(const std::string& line);

}  // namespace portcullis::testing
