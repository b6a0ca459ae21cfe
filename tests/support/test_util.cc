#include "tests/support/test_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

extern char** environ;

namespace portcullis::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;

void CloseFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

int PickFreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

TempDir::TempDir(std::string_view prefix) {
  std::string tmpl = fmt::format("/tmp/{}-XXXXXX", prefix);
  if (::mkdtemp(tmpl.data()) == nullptr) std::abort();  // test infrastructure broken
  path_ = tmpl;
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    if (!path_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(path_, ec);
    }
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

std::string TempDir::Join(std::string_view name) const { return fmt::format("{}/{}", path_, name); }

CommandResult RunCommand(const std::vector<std::string>& argv, std::string_view stdin_data,
                         std::chrono::milliseconds timeout,
                         const std::vector<std::string>& extra_env) {
  CommandResult result;
  if (argv.empty()) {
    result.err = "empty argv";
    return result;
  }
  ::signal(SIGPIPE, SIG_IGN);

  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0) {
    result.err = "pipe failed";
    return result;
  }
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]), ::close(in[1]);
    result.err = "pipe failed";
    return result;
  }
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(in[0]), ::close(in[1]), ::close(out[0]), ::close(out[1]);
    result.err = "pipe failed";
    return result;
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults, empty;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigemptyset(&empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e) env.push_back(*e);
  for (const auto& e : extra_env) env.push_back(const_cast<char*>(e.c_str()));
  env.push_back(nullptr);

  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, args[0], &actions, &attr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(in[0]), ::close(out[1]), ::close(err[1]);
  int fds[3] = {in[1], out[0], err[0]};
  if (rc != 0) {
    for (int& fd : fds) CloseFd(fd);
    result.err = fmt::format("cannot run {}: {}", argv[0], std::strerror(rc));
    return result;
  }
  for (int fd : fds) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);

  size_t written = 0;
  if (stdin_data.empty()) CloseFd(fds[0]);
  const auto deadline = SteadyClock::now() + timeout;
  while (fds[1] >= 0 || fds[2] >= 0) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      break;
    }
    pollfd p[3];
    int n = 0;
    int which[3];
    if (fds[0] >= 0) p[n] = {fds[0], POLLOUT, 0}, which[n++] = 0;
    if (fds[1] >= 0) p[n] = {fds[1], POLLIN, 0}, which[n++] = 1;
    if (fds[2] >= 0) p[n] = {fds[2], POLLIN, 0}, which[n++] = 2;
    int ready = ::poll(p, static_cast<nfds_t>(n), static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) break;
    for (int i = 0; i < n; ++i) {
      if (p[i].revents == 0) continue;
      int k = which[i];
      if (k == 0) {
        ssize_t w = ::write(fds[0], stdin_data.data() + written, stdin_data.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == stdin_data.size()) {
          CloseFd(fds[0]);
        }
        continue;
      }
      char buf[8192];
      ssize_t r = ::read(fds[k], buf, sizeof buf);
      if (r > 0) {
        (k == 1 ? result.out : result.err).append(buf, static_cast<size_t>(r));
      } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        CloseFd(fds[k]);
      }
    }
  }
  for (int& fd : fds) CloseFd(fd);

  int status = 0;
  if (result.timed_out) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  } else {
    // Output is closed; give the child the rest of the timeout to exit.
    for (;;) {
      pid_t w = ::waitpid(pid, &status, WNOHANG);
      if (w == pid || (w < 0 && errno != EINTR)) break;
      if (SteadyClock::now() >= deadline) {
        result.timed_out = true;
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        break;
      }
      ::usleep(5000);
    }
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.exit_code = 128 + WTERMSIG(status);
  }
  return result;
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(fmt::format("cannot open {}", path));
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

absl::Status WriteWholeFile(const std::string& path, std::string_view data, int mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    return absl::InternalError(fmt::format("cannot create {}: {}", path, std::strerror(errno)));
  ::fchmod(fd, static_cast<mode_t>(mode));
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return absl::InternalError(fmt::format("cannot write {}", path));
    }
    off += static_cast<size_t>(n);
  }
  ::close(fd);
  return absl::OkStatus();
}

std::string CurrentUserName() {
  struct passwd pw;
  struct passwd* found = nullptr;
  char buf[4096];
  if (::getpwuid_r(::getuid(), &pw, buf, sizeof buf, &found) != 0 || found == nullptr) return "";
  return found->pw_name;
}

int ConnectLoopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

long ProcStatusKib(int pid, std::string_view field) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  const std::string prefix = fmt::format("{}:", field);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) return std::atol(line.c_str() + prefix.size());
  }
  return -1;
}

}  // namespace portcullis::testing
