#include "tests/support/sshd_fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>
#include <utility>

extern char** environ;

namespace portcullis::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;

bool PortAccepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// The PIDs of every live descendant of `root` (by the parent PID field of
// /proc/PID/stat).
std::vector<pid_t> Descendants(pid_t root) {
  std::vector<std::pair<pid_t, pid_t>> parent_of;  // (pid, ppid)
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    auto stat = ReadWholeFile(entry.path().string() + "/stat");
    if (!stat.ok()) continue;
    // "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses.
    size_t close = stat->rfind(')');
    if (close == std::string::npos) continue;
    int ppid = 0;
    char state = 0;
    if (std::sscanf(stat->c_str() + close + 1, " %c %d", &state, &ppid) != 2) continue;
    parent_of.emplace_back(static_cast<pid_t>(std::stoi(name)), static_cast<pid_t>(ppid));
  }
  std::vector<pid_t> out;
  std::vector<pid_t> frontier = {root};
  while (!frontier.empty()) {
    pid_t p = frontier.back();
    frontier.pop_back();
    for (const auto& [pid, ppid] : parent_of) {
      if (ppid == p) {
        out.push_back(pid);
        frontier.push_back(pid);
      }
    }
  }
  return out;
}

}  // namespace

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
  const std::string log_path = dir_.Join("sshd.log");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults, empty;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigemptyset(&empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  const std::string config = config_path();
  std::vector<std::string> argv = {options_.sshd_path, "-D", "-e", "-f", config};
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return absl::InternalError(fmt::format("cannot run {}: {}", argv[0], std::strerror(rc)));
  }
  pid_ = pid;

  // "Server listening on ..." is logged after listen(); then confirm with a
  // connection (sshd logs it as a closed pre-auth connection, harmlessly).
  const std::string listening = fmt::format("Server listening on 127.0.0.1 port {}", port_);
  const auto deadline = SteadyClock::now() + std::chrono::seconds(10);
  while (SteadyClock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      std::string text = log();
      port_taken = text.find("Address already in use") != std::string::npos;
      return absl::InternalError(fmt::format("sshd exited at startup:\n{}", text));
    }
    if (log().find(listening) != std::string::npos && PortAccepts(port_)) {
      return absl::OkStatus();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::string text = log();
  Stop();
  return absl::DeadlineExceededError(fmt::format("sshd did not start listening:\n{}", text));
}

void SshdFixture::Crash() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGSTOP);  // no new children while we look
  for (pid_t child : Descendants(pid_)) ::kill(child, SIGKILL);
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void SshdFixture::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  const auto deadline = SteadyClock::now() + std::chrono::seconds(5);
  int status = 0;
  for (;;) {
    pid_t w = ::waitpid(pid_, &status, WNOHANG);
    if (w == pid_ || (w < 0 && errno != EINTR)) break;
    if (SteadyClock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
}

}  // namespace portcullis::testing
