#include "agentless/vnc/tls_client.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include "broker/common/absl_fmt.h"

namespace portcullis::vnc {
namespace {

// The largest piece handed to one SSL_write: a retry after EAGAIN resends
// exactly this many bytes (OpenSSL wants the same length back).
constexpr size_t kMaxWrite = 16384;

int RemainingMs(Deadline deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::max<int64_t>(0, left.count()));
}

// Waits for `events` on `fd` until `deadline`. Unavailable on timeout.
absl::Status WaitFd(int fd, short events, Deadline deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int ms = RemainingMs(deadline);
    if (ms == 0) return absl::UnavailableError("the target timed out in the handshake");
    const int rc = poll(&p, 1, ms);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return absl::UnavailableError("poll failed");
    if (rc == 0) return absl::UnavailableError("the target timed out in the handshake");
    return absl::OkStatus();  // readable, writable, or hung up: the I/O call tells
  }
}

std::string OpenSslReason() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "the connection closed";
  const char* r = ERR_reason_error_string(e);
  return r != nullptr ? r : "TLS error";
}

}  // namespace

absl::Status SocketChannel::ReadExact(void* buf, size_t n) {
  auto* p = static_cast<char*>(buf);
  size_t got = 0;
  while (got < n) {
    const ssize_t r = recv(fd_, p + got, n - got, 0);
    if (r > 0) {
      got += static_cast<size_t>(r);
      continue;
    }
    if (r == 0) return absl::UnavailableError("the target closed the connection in the handshake");
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      return absl::UnavailableError("the connection to the target failed in the handshake");
    if (auto st = WaitFd(fd_, POLLIN, deadline_); !st.ok()) return st;
  }
  return absl::OkStatus();
}

absl::Status SocketChannel::WriteAll(std::string_view bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t w = send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (w > 0) {
      off += static_cast<size_t>(w);
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (auto st = WaitFd(fd_, POLLOUT, deadline_); !st.ok()) return st;
      continue;
    }
    return absl::UnavailableError("the connection to the target failed in the handshake");
  }
  return absl::OkStatus();
}

TlsClient::~TlsClient() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
}

absl::Status TlsClient::Handshake(int fd, Deadline deadline) {
  fd_ = fd;
  deadline_ = deadline;
  const int flags = fcntl(fd, F_GETFL);
  if (flags >= 0) (void)fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  ctx_ = SSL_CTX_new(TLS_client_method());
  if (ctx_ == nullptr) return absl::ResourceExhaustedError("cannot create a TLS context");
  SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
  // The pin, not a CA, is the trust anchor (see the header).
  SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
  SSL_CTX_set_mode(ctx_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_OFF);
  ssl_ = SSL_new(ctx_);
  if (ssl_ == nullptr || SSL_set_fd(ssl_, fd) != 1)
    return absl::ResourceExhaustedError("cannot create a TLS session");
  ERR_clear_error();
  for (;;) {
    const int rc = SSL_connect(ssl_);
    if (rc == 1) return absl::OkStatus();
    const int err = SSL_get_error(ssl_, rc);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      if (auto st = WaitFd(fd, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline); !st.ok())
        return st;
      continue;
    }
    return absl::UnavailableError(
        fmt::format("the TLS handshake with the target failed: {}", OpenSslReason()));
  }
}

std::string TlsClient::PeerCertificateDer() const {
  if (ssl_ == nullptr) return "";
  X509* cert = SSL_get1_peer_certificate(ssl_);
  if (cert == nullptr) return "";
  unsigned char* der = nullptr;
  const int n = i2d_X509(cert, &der);
  std::string out;
  if (n > 0) out.assign(reinterpret_cast<const char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  X509_free(cert);
  return out;
}

std::string TlsClient::version() const { return ssl_ != nullptr ? SSL_get_version(ssl_) : ""; }

absl::Status TlsClient::Wait(int ssl_error) {
  if (ssl_error == SSL_ERROR_WANT_READ) return WaitFd(fd_, POLLIN, deadline_);
  if (ssl_error == SSL_ERROR_WANT_WRITE) return WaitFd(fd_, POLLOUT, deadline_);
  if (ssl_error == SSL_ERROR_ZERO_RETURN)
    return absl::UnavailableError("the target closed the connection in the handshake");
  return absl::UnavailableError(fmt::format("TLS failed: {}", OpenSslReason()));
}

absl::Status TlsClient::ReadExact(void* buf, size_t n) {
  auto* p = static_cast<char*>(buf);
  size_t got = 0;
  while (got < n) {
    size_t r = 0;
    ERR_clear_error();
    const int rc = SSL_read_ex(ssl_, p + got, n - got, &r);
    if (rc == 1) {
      got += r;
      continue;
    }
    if (auto st = Wait(SSL_get_error(ssl_, rc)); !st.ok()) return st;
  }
  return absl::OkStatus();
}

absl::Status TlsClient::WriteAll(std::string_view bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    size_t w = 0;
    ERR_clear_error();
    const int rc = SSL_write_ex(ssl_, bytes.data() + off, bytes.size() - off, &w);
    if (rc == 1) {
      off += w;
      continue;
    }
    if (auto st = Wait(SSL_get_error(ssl_, rc)); !st.ok()) return st;
  }
  return absl::OkStatus();
}

ssize_t TlsClient::Read(char* buf, size_t n) {
  read_wants_write_ = false;
  size_t r = 0;
  ERR_clear_error();
  const int rc = SSL_read_ex(ssl_, buf, n, &r);
  if (rc == 1) return static_cast<ssize_t>(r);
  switch (SSL_get_error(ssl_, rc)) {
    case SSL_ERROR_WANT_WRITE:
      read_wants_write_ = true;
      [[fallthrough]];
    case SSL_ERROR_WANT_READ:
      errno = EAGAIN;
      return -1;
    case SSL_ERROR_ZERO_RETURN:
      return 0;
    case SSL_ERROR_SYSCALL:
      ERR_clear_error();
      if (errno == 0 || errno == ECONNRESET || errno == EPIPE) return 0;  // gone
      if (errno == EAGAIN || errno == EINTR) errno = EIO;
      return -1;
    default:
      ERR_clear_error();
      errno = EPROTO;
      return -1;
  }
}

ssize_t TlsClient::Write(const char* buf, size_t n) {
  write_wants_read_ = false;
  const size_t len = std::min(n, retry_len_ > 0 ? retry_len_ : kMaxWrite);
  size_t w = 0;
  ERR_clear_error();
  const int rc = SSL_write_ex(ssl_, buf, len, &w);
  if (rc == 1) {
    retry_len_ = 0;
    return static_cast<ssize_t>(w);
  }
  switch (SSL_get_error(ssl_, rc)) {
    case SSL_ERROR_WANT_READ:
      write_wants_read_ = true;
      [[fallthrough]];
    case SSL_ERROR_WANT_WRITE:
      retry_len_ = len;
      errno = EAGAIN;
      return -1;
    default:
      ERR_clear_error();
      errno = EPIPE;
      return -1;
  }
}

bool TlsClient::ReadPending() const { return ssl_ != nullptr && SSL_pending(ssl_) > 0; }

short TlsClient::PollEvents(bool want_read, bool want_write) const {
  short ev = 0;
  if (want_read || write_wants_read_) ev |= POLLIN;
  if (want_write || read_wants_write_) ev |= POLLOUT;
  return ev;
}

void TlsClient::Close() {
  if (ssl_ == nullptr) return;
  ERR_clear_error();
  (void)SSL_shutdown(ssl_);
  ERR_clear_error();
}

}  // namespace portcullis::vnc
