#include "agentless/common/connect_abort.h"

#include <fcntl.h>

#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace portcullis::agentless {

void UniqueFd::Reset() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

ConnectAbort::ConnectAbort() : wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

ConnectAbort::~ConnectAbort() {
  if (wake_fd_ >= 0) close(wake_fd_);
  if (registered_ >= 0) close(registered_);
}

void ConnectAbort::Abort() {
  std::lock_guard<std::mutex> lock(mu_);
  if (aborted_) return;
  aborted_ = true;
  if (registered_ >= 0) shutdown(registered_, SHUT_RDWR);
  const uint64_t one = 1;
  if (wake_fd_ >= 0) (void)!write(wake_fd_, &one, sizeof one);
}

bool ConnectAbort::aborted() const {
  std::lock_guard<std::mutex> lock(mu_);
  return aborted_;
}

void ConnectAbort::Register(int fd) {
  std::lock_guard<std::mutex> lock(mu_);
  if (registered_ >= 0) close(registered_);
  // A duplicate: the protocol library may close `fd` on an error before the
  // owner unregisters, and its number may then be reused by another thread;
  // shutting our duplicate down still reaches the same socket, never
  // another one.
  registered_ = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
  if (aborted_ && registered_ >= 0) shutdown(registered_, SHUT_RDWR);
}

void ConnectAbort::Unregister() {
  std::lock_guard<std::mutex> lock(mu_);
  if (registered_ >= 0) close(registered_);
  registered_ = -1;
}

namespace {

struct AddrInfoFree {
  void operator()(addrinfo* a) const { freeaddrinfo(a); }
};

// One non-blocking connect attempt, waiting until `deadline`. The socket on
// success; -1 with `error` set otherwise.
int ConnectOne(const addrinfo* ai, std::chrono::steady_clock::time_point deadline,
               const ConnectAbort* abort, std::string* error, bool* cancelled) {
  int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                  ai->ai_protocol);
  if (fd < 0) {
    *error = strerror(errno);
    return -1;
  }
  if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
    *error = strerror(errno);
    close(fd);
    return -1;
  }
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      *error = "timed out";
      close(fd);
      return -1;
    }
    pollfd fds[2] = {{fd, POLLOUT, 0}, {abort ? abort->wake_fd() : -1, POLLIN, 0}};
    int rc = poll(fds, 2, static_cast<int>(left.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) {
      *error = strerror(errno);
      close(fd);
      return -1;
    }
    if (fds[1].revents != 0 || (abort != nullptr && abort->aborted())) {
      *cancelled = true;
      close(fd);
      return -1;
    }
    if (fds[0].revents == 0) continue;
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      *error = strerror(err);
      close(fd);
      return -1;
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
  }
}

}  // namespace

absl::StatusOr<int> TcpConnect(const std::string& host, uint16_t port,
                               std::chrono::milliseconds timeout, const ConnectAbort* abort) {
  if (abort != nullptr && abort->aborted()) return absl::CancelledError("connect aborted");
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* raw = nullptr;
  const std::string service = std::to_string(port);
  const int gai = getaddrinfo(host.c_str(), service.c_str(), &hints, &raw);
  if (gai != 0) return absl::UnavailableError(gai_strerror(gai));
  std::unique_ptr<addrinfo, AddrInfoFree> list(raw);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string error = "no address";
  for (const addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
    bool cancelled = false;
    int fd = ConnectOne(ai, deadline, abort, &error, &cancelled);
    if (cancelled) return absl::CancelledError("connect aborted");
    if (fd >= 0) return fd;
  }
  if (error == "timed out")
    error = fmt::format("timed out after {} s",
                        std::chrono::duration_cast<std::chrono::seconds>(timeout).count());
  return absl::UnavailableError(error);
}

}  // namespace portcullis::agentless
