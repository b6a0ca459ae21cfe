#include "broker/common/terminal.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <cerrno>
#include <cstdio>
#include <iostream>

namespace portcullis {
namespace {

absl::StatusOr<SecretBytes> ReadLineFd(int fd) {
  std::string line;
  char c;
  while (true) {
    ssize_t n = ::read(fd, &c, 1);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (n == 0 || c == '\n') break;
    if (line.size() >= SecretBytes::kMaxSize) {
      OPENSSL_cleanse(line.data(), line.size());
      return absl::InvalidArgumentError("input line too long");
    }
    line.push_back(c);
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return SecretBytes::Take(line);
}

}  // namespace

absl::StatusOr<SecretBytes> ReadSecretFromTerminal(std::string_view prompt) {
  int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return absl::FailedPreconditionError("no terminal to read a password from: use --password-stdin");
  }
  (void)!::write(fd, prompt.data(), prompt.size());
  termios old{};
  bool restore = ::tcgetattr(fd, &old) == 0;
  if (restore) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    ::tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  auto s = ReadLineFd(fd);
  if (restore) ::tcsetattr(fd, TCSAFLUSH, &old);
  ::close(fd);
  return s;
}

absl::StatusOr<SecretBytes> ReadSecretFromStdin() { return ReadLineFd(STDIN_FILENO); }

absl::StatusOr<SecretBytes> ReadNewSecret(bool from_stdin) {
  if (from_stdin) return ReadSecretFromStdin();
  auto a = ReadSecretFromTerminal("New password: ");
  if (!a.ok()) return a.status();
  auto b = ReadSecretFromTerminal("Repeat password: ");
  if (!b.ok()) return b.status();
  if (!a->Equals(*b)) return absl::InvalidArgumentError("passwords do not match");
  return a;
}

absl::StatusOr<std::string> ReadLineFromTerminal(std::string_view prompt) {
  int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) return absl::FailedPreconditionError("no terminal: pass the value as a flag");
  (void)!::write(fd, prompt.data(), prompt.size());
  auto s = ReadLineFd(fd);
  ::close(fd);
  if (!s.ok()) return s.status();
  return std::string(s->Reveal());
}

}  // namespace portcullis
