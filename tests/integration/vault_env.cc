#include "tests/integration/vault_env.h"

#include <fmt/format.h>

#include "tests/support/test_util.h"

namespace portcullis::testing {

const char* ServerName(TargetServer server) {
  return server == TargetServer::kSshd ? "sshd" : "dropbear";
}

const char* AuthName(VaultedAuth auth) { return auth == VaultedAuth::kKey ? "key" : "password"; }

absl::StatusOr<std::unique_ptr<VaultedServer>> VaultedServer::Start(TargetServer server,
                                                                    VaultedAuth auth) {
  std::unique_ptr<VaultedServer> out(new VaultedServer());
  absl::Status st;
  if (server == TargetServer::kSshd) {
    SshdOptions so;
    if (auth == VaultedAuth::kPassword) {
      so.extra_config = {"PasswordAuthentication yes", "PubkeyAuthentication no"};
    } else {
      so.extra_config = {"AuthorizedKeysFile .ssh/authorized_keys"};
    }
    so.extra_config.push_back("Subsystem sftp internal-sftp");
    out->sshd_ = std::make_unique<SshdFixture>(so);
    st = out->sshd_->Start();
  } else {
    DropbearOptions dopt;
    if (auth == VaultedAuth::kKey) dopt.extra_args = {"-s"};
    out->dropbear_ = std::make_unique<DropbearFixture>(dopt);
    st = out->dropbear_->Start();
  }
  if (!st.ok()) return st;
  return out;
}

int VaultedServer::port() const { return sshd_ ? sshd_->port() : dropbear_->port(); }

std::string VaultedServer::address() const { return fmt::format("127.0.0.1:{}", port()); }

std::string VaultedServer::log() const { return sshd_ ? sshd_->log() : dropbear_->log(); }

std::string VaultedServer::host_key() const {
  return KeyTypeAndBase64(sshd_ ? sshd_->host_key_pub() : dropbear_->host_key_pub());
}

absl::Status VaultedServer::RestartWithNewHostKey() {
  return sshd_ ? sshd_->RestartWithNewHostKey() : dropbear_->RestartWithNewHostKey();
}

absl::StatusOr<std::string> GenerateKeyPair(const std::string& path, const std::string& type,
                                            int bits) {
  std::vector<std::string> argv = {"ssh-keygen", "-q", "-t", type, "-N", "", "-C", "vaulted",
                                   "-f", path};
  if (bits > 0) {
    argv.push_back("-b");
    argv.push_back(std::to_string(bits));
  }
  CommandResult r = RunCommand(argv);
  if (r.exit_code != 0) return absl::InternalError(fmt::format("ssh-keygen failed: {}", r.err));
  return ReadWholeFile(path + ".pub");
}

std::string KeyTypeAndBase64(const std::string& line) {
  size_t sp = line.find(' ');
  if (sp == std::string::npos) return line;
  size_t end = line.find_first_of(" \n", sp + 1);
  return line.substr(0, end);
}

}  // namespace portcullis::testing
