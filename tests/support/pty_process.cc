#include "tests/support/pty_process.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace portcullis::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::chrono::milliseconds Left(SteadyClock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
  return left.count() > 0 ? left : std::chrono::milliseconds(0);
}

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PtyProcess>> PtyProcess::Start(
    const std::vector<std::string>& argv, const std::vector<std::string>& extra_env, int cols,
    int rows) {
  if (argv.empty()) return absl::InvalidArgumentError("empty argv");
  ::signal(SIGPIPE, SIG_IGN);
  // Everything the child needs is built before fork (no allocation after).
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> env;
  for (const auto& e : extra_env) env.push_back(const_cast<char*>(e.c_str()));
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view var(*e);
    std::string_view name = var.substr(0, var.find('='));
    bool overridden = false;
    for (const auto& x : extra_env)
      overridden |= std::string_view(x).substr(0, x.find('=')) == name;
    if (!overridden) env.push_back(*e);
  }
  env.push_back(nullptr);

  winsize ws{};
  ws.ws_col = static_cast<unsigned short>(cols);
  ws.ws_row = static_cast<unsigned short>(rows);
  int master = -1;
  pid_t pid = ::forkpty(&master, nullptr, nullptr, &ws);
  if (pid < 0) return absl::InternalError(fmt::format("forkpty: {}", std::strerror(errno)));
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::execvpe(args[0], args.data(), env.data());
    static const char kMsg[] = "PtyProcess: exec failed\n";
    (void)!::write(2, kMsg, sizeof kMsg - 1);
    ::_exit(127);
  }
  ::fcntl(master, F_SETFD, FD_CLOEXEC);
  ::fcntl(master, F_SETFL, ::fcntl(master, F_GETFL) | O_NONBLOCK);
  return std::unique_ptr<PtyProcess>(new PtyProcess(pid, master));
}

PtyProcess::~PtyProcess() {
  if (pid_ > 0 && !exit_code_) {
    ::kill(pid_, SIGKILL);
    Reap(true);
  }
  if (master_ >= 0) ::close(master_);
}

bool PtyProcess::running() {
  Reap(false);
  return pid_ > 0 && !exit_code_;
}

void PtyProcess::Signal(int sig) {
  if (pid_ > 0 && !exit_code_) ::kill(pid_, sig);
}

void PtyProcess::Reap(bool block) {
  if (pid_ <= 0 || exit_code_) return;
  int status = 0;
  pid_t w;
  do {
    w = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (w < 0 && errno == EINTR);
  if (w == pid_) exit_code_ = DecodeStatus(status);
}

long PtyProcess::ReadSome(std::chrono::milliseconds timeout) {
  if (eof_) return -1;
  pollfd p{master_, POLLIN, 0};
  int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
  if (ready <= 0) return 0;
  long total = 0;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(master_, buf, sizeof buf);
    if (n > 0) {
      output_.append(buf, static_cast<size_t>(n));
      total += n;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return total;
    eof_ = true;  // EIO: the last holder of the terminal's slave side is gone
    return total > 0 ? total : -1;
  }
}

bool PtyProcess::ReadUntil(std::string_view pattern, std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  for (;;) {
    size_t at = output_.find(pattern, cursor_);
    if (at != std::string::npos) {
      cursor_ = at + pattern.size();
      return true;
    }
    if (eof_ || Left(deadline).count() == 0) return false;
    ReadSome(std::min(Left(deadline), std::chrono::milliseconds(100)));
  }
}

bool PtyProcess::Write(std::string_view bytes) {
  const auto deadline = SteadyClock::now() + std::chrono::seconds(10);
  while (!bytes.empty()) {
    ssize_t n = ::write(master_, bytes.data(), bytes.size());
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) return false;
    if (Left(deadline).count() == 0) return false;
    ReadSome(std::chrono::milliseconds(10));  // the program may wait for us to read
  }
  return true;
}

std::optional<int> PtyProcess::WaitExit(std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  while (!exit_code_) {
    Reap(false);
    if (exit_code_) break;
    if (Left(deadline).count() == 0) return std::nullopt;
    if (eof_) {
      ::usleep(10000);
    } else {
      ReadSome(std::min(Left(deadline), std::chrono::milliseconds(50)));
    }
  }
  while (ReadSome(std::chrono::milliseconds(0)) > 0) {
    // what the program wrote before it exited
  }
  return exit_code_;
}

}  // namespace portcullis::testing
