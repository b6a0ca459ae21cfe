#pragma once
// The broker's TLS client on a VNC target's socket (OpenSSL 3), and the
// blocking-with-deadline byte channels the target handshake reads through.
//
// Trust is the target's pinned certificate (trust on first use, or set by
// the operator), not a CA: HMIs carry self-signed certificates and no DNS
// name. The library's chain check is therefore off, and the caller MUST
// compare PeerCertificateDer() with the pin before sending any credential
// (vnc_target.cc does). TLS 1.2 or newer, OpenSSL's default ciphers at
// the system security level.
//
// After the handshake the socket is non-blocking and Read()/Write() follow
// read(2)/send(2): -1 with errno EAGAIN when nothing can be done now; then
// PollEvents() says what to wait for (a TLS read may need the socket to be
// writable, and a write readable). A write that returned EAGAIN must be
// retried with at least as many bytes (the relay's queue only grows).
// Thread-compatible: one session thread.

#include <chrono>
#include <string>
#include <string_view>

#include <sys/types.h>

#include "absl/status/status.h"
#include "agentless/common/connect_abort.h"
#include "agentless/vnc/vencrypt.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace portcullis::vnc {

using Deadline = std::chrono::steady_clock::time_point;

// The clear socket before TLS: reads and writes wait at most until
// `deadline`; Unavailable on timeout, EOF or error.
class SocketChannel final : public ByteChannel {
 public:
  SocketChannel(int fd, Deadline deadline) : fd_(fd), deadline_(deadline) {}
  absl::Status ReadExact(void* buf, size_t n) override;
  absl::Status WriteAll(std::string_view bytes) override;

 private:
  int fd_;
  Deadline deadline_;
};

class TlsClient final : public ByteChannel {
 public:
  TlsClient() = default;
  ~TlsClient() override;
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  // The TLS handshake on `fd` (made non-blocking; not owned), by
  // `deadline`. Unavailable with OpenSSL's reason (no secret is involved).
  [[nodiscard]] absl::Status Handshake(int fd, Deadline deadline);
  // DER of the certificate the target presented ("" if none).
  std::string PeerCertificateDer() const;
  std::string version() const;  // "TLSv1.3"

  // ByteChannel, for the rest of the handshake: blocking by `deadline`.
  void set_deadline(Deadline d) { deadline_ = d; }
  absl::Status ReadExact(void* buf, size_t n) override;
  absl::Status WriteAll(std::string_view bytes) override;

  // The relay's non-blocking I/O (see above).
  ssize_t Read(char* buf, size_t n);
  ssize_t Write(const char* buf, size_t n);
  bool ReadPending() const;
  short PollEvents(bool want_read, bool want_write) const;
  // A close_notify, best effort and without waiting.
  void Close();

 private:
  [[nodiscard]] absl::Status Wait(int ssl_error);

  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  Deadline deadline_{};
  bool read_wants_write_ = false;
  bool write_wants_read_ = false;
  size_t retry_len_ = 0;
};

}  // namespace portcullis::vnc
