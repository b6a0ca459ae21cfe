#include "tests/support/dropbear_fixture.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include "tests/support/server_process.h"

namespace portcullis::testing {

DropbearFixture::DropbearFixture(DropbearOptions options)
    : options_(std::move(options)), dir_("pc-dropbear") {}

DropbearFixture::~DropbearFixture() { Stop(); }

bool DropbearFixture::Available() {
  return ::geteuid() == 0 && ::access("/usr/sbin/dropbear", X_OK) == 0 &&
         ::access("/usr/bin/dropbearkey", X_OK) == 0;
}

std::string DropbearFixture::log() const {
  auto text = ReadWholeFile(dir_.Join("dropbear.log"));
  return text.ok() ? *text : std::string();
}

std::string DropbearFixture::host_key_path() const {
  return dir_.Join(fmt::format("host_{}_key", options_.host_key_type));
}

std::string DropbearFixture::host_key_pub() const {
  // "Public key portion is:\nssh-ed25519 AAAA... user@host\nFingerprint: ..."
  CommandResult r = RunCommand({"dropbearkey", "-y", "-f", host_key_path()});
  if (r.exit_code != 0) return "";
  size_t from = 0;
  while (from < r.out.size()) {
    size_t nl = r.out.find('\n', from);
    std::string line = r.out.substr(from, nl == std::string::npos ? std::string::npos : nl - from);
    if (line.rfind("ssh-", 0) == 0 || line.rfind("ecdsa-", 0) == 0) return line;
    if (nl == std::string::npos) break;
    from = nl + 1;
  }
  return "";
}

absl::Status DropbearFixture::Start() {
  if (pid_ > 0) return absl::FailedPreconditionError("dropbear already running");
  const std::string key = host_key_path();
  if (::access(key.c_str(), F_OK) != 0) {
    CommandResult kg = RunCommand({"dropbearkey", "-t", options_.host_key_type, "-f", key});
    if (kg.exit_code != 0) return absl::InternalError(fmt::format("dropbearkey failed: {}", kg.err));
  }
  absl::Status last = absl::InternalError("dropbear did not start");
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = options_.port != 0 ? options_.port : PickFreePort();
    if (port_ == 0) return absl::InternalError("no free port");
    bool port_taken = false;
    last = SpawnAndWait(port_taken);
    if (last.ok() || !port_taken || options_.port != 0) return last;
  }
  return last;
}

absl::Status DropbearFixture::SpawnAndWait(bool& port_taken) {
  std::vector<std::string> argv = {options_.dropbear_path,
                                   "-F",
                                   "-E",
                                   "-p",
                                   fmt::format("127.0.0.1:{}", port_),
                                   "-r",
                                   host_key_path(),
                                   "-P",
                                   dir_.Join("dropbear.pid")};
  argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
  auto pid = SpawnServer(argv, dir_.Join("dropbear.log"));
  if (!pid.ok()) return pid.status();
  pid_ = *pid;
  // Dropbear logs no "listening" line: its PID is live and the port
  // answers (the probe is logged as a connection that ended before auth).
  bool exited = false;
  absl::Status st = WaitServerReady(
      pid_, "dropbear", [&] { return PortAccepts(port_); }, [&] { return log(); },
      std::chrono::seconds(10), &exited);
  port_taken = exited && log().find("Address already in use") != std::string::npos;
  return st;
}

void DropbearFixture::Stop() { StopServer(pid_); }

absl::Status DropbearFixture::RestartWithNewHostKey() {
  Stop();
  if (::unlink(host_key_path().c_str()) != 0 && errno != ENOENT) {
    return absl::InternalError(
        fmt::format("cannot remove {}: {}", host_key_path(), std::strerror(errno)));
  }
  options_.port = port_;
  return Start();
}

}  // namespace portcullis::testing
