#include "tests/support/sshd_fixture.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include "tests/support/server_process.h"

namespace portcullis::testing {

SshdFixture::SshdFixture(SshdOptions options) : options_(std::move(options)), dir_("pc-sshd") {}

SshdFixture::~SshdFixture() { Stop(); }

bool SshdFixture::Available() {
  return ::geteuid() == 0 && ::access("/usr/sbin/sshd", X_OK) == 0 &&
         ::access("/usr/bin/ssh-keygen", X_OK) == 0;
}

absl::Status SshdFixture::SetTrustedUserCaKeys(std::string_view content) {
  return WriteWholeFile(dir_.Join("trusted_user_ca_keys"), content, 0644);
}

std::string SshdFixture::log() const {
  auto text = ReadWholeFile(dir_.Join("sshd.log"));
  return text.ok() ? *text : std::string();
}

std::string SshdFixture::host_key_path() const {
  return dir_.Join(fmt::format("host_{}_key", options_.host_key_type));
}

std::string SshdFixture::host_key_pub() const {
  auto text = ReadWholeFile(host_key_path() + ".pub");
  return text.ok() ? *text : std::string();
}

absl::Status SshdFixture::WriteConfig() {
  std::string cfg;
  for (const auto& line : options_.extra_config) cfg += line + "\n";
  cfg += fmt::format(
      "ListenAddress 127.0.0.1\n"
      "Port {port}\n"
      "HostKey {key}\n"
      "PidFile {dir}/sshd.pid\n"
      "TrustedUserCAKeys {dir}/trusted_user_ca_keys\n"
      "AuthorizedKeysFile none\n"
      "AuthorizedPrincipalsFile none\n"
      "PubkeyAuthentication yes\n"
      "PasswordAuthentication no\n"
      "KbdInteractiveAuthentication no\n"
      "HostbasedAuthentication no\n"
      "UsePAM no\n"
      "PermitRootLogin yes\n"
      "StrictModes no\n"
      "UseDNS no\n"
      "PrintMotd no\n"
      "PrintLastLog no\n"
      "LogLevel VERBOSE\n",
      fmt::arg("port", port_), fmt::arg("dir", dir_.path()), fmt::arg("key", host_key_path()));
  return WriteWholeFile(config_path(), cfg, 0644);
}

absl::Status SshdFixture::Start() {
  if (pid_ > 0) return absl::FailedPreconditionError("sshd already running");
  // sshd refuses to start without its privilege separation directory.
  if (::access("/run/sshd", F_OK) != 0 && ::mkdir("/run/sshd", 0755) != 0 && errno != EEXIST) {
    return absl::FailedPreconditionError(
        fmt::format("cannot create /run/sshd: {}", std::strerror(errno)));
  }
  const std::string host_key = host_key_path();
  if (::access(host_key.c_str(), F_OK) != 0) {
    CommandResult kg = RunCommand({"ssh-keygen", "-q", "-t", options_.host_key_type, "-N", "",
                                   "-C", "pc-test-host", "-f", host_key});
    if (kg.exit_code != 0) {
      return absl::InternalError(fmt::format("ssh-keygen failed: {}", kg.err));
    }
  }
  if (auto st = SetTrustedUserCaKeys(options_.trusted_user_ca_keys); !st.ok()) return st;

  absl::Status last = absl::InternalError("sshd did not start");
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = options_.port != 0 ? options_.port : PickFreePort();
    if (port_ == 0) return absl::InternalError("no free port");
    if (auto st = WriteConfig(); !st.ok()) return st;
    bool port_taken = false;
    last = SpawnAndWait(port_taken);
    if (last.ok() || !port_taken || options_.port != 0) return last;
  }
  return last;
}

absl::Status SshdFixture::SpawnAndWait(bool& port_taken) {
  auto pid = SpawnServer({options_.sshd_path, "-D", "-e", "-f", config_path()},
                         dir_.Join("sshd.log"));
  if (!pid.ok()) return pid.status();
  pid_ = *pid;
  // "Server listening on ..." is logged after listen(); then confirm with a
  // connection (sshd logs it as a closed pre-auth connection, harmlessly).
  const std::string listening = fmt::format("Server listening on 127.0.0.1 port {}", port_);
  bool exited = false;
  absl::Status st = WaitServerReady(
      pid_, "sshd",
      [&] { return log().find(listening) != std::string::npos && PortAccepts(port_); },
      [&] { return log(); }, std::chrono::seconds(10), &exited);
  port_taken = exited && log().find("Address already in use") != std::string::npos;
  return st;
}

void SshdFixture::Crash() { CrashServer(pid_); }

void SshdFixture::Stop() { StopServer(pid_); }

absl::Status SshdFixture::RestartWithNewHostKey() {
  Stop();
  for (const std::string& f : {host_key_path(), host_key_path() + ".pub"}) {
    if (::unlink(f.c_str()) != 0 && errno != ENOENT) {
      return absl::InternalError(fmt::format("cannot remove {}: {}", f, std::strerror(errno)));
    }
  }
  options_.port = port_;
  return Start();
}

}  // namespace portcullis::testing
