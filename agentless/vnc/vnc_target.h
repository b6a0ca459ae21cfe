#pragma once
// The broker's leg to the VNC target, on a socket the broker connected
// itself (TcpConnect: a timeout, and abortable from another thread), in
// one of two ways:
//  * in the clear (a legacy target): libvncclient's handshake and
//    authentication only (InitialiseRFBConnection; never rfbInitClient,
//    which would send its own SetPixelFormat, SetEncodings and update
//    request); bytes libvncclient already buffered are handed over;
//  * over VeNCrypt with X.509 (a modern target): the broker's own
//    handshake (vencrypt.h) and TLS client (tls_client.h). The target's
//    certificate is checked against the pin, or handed to
//    `accept_certificate` on first use, BEFORE the vaulted password is
//    used; a target that offers no VeNCrypt is refused, never downgraded.
// After the handshake the relay owns the connection and does its I/O
// through Read()/Write() (TLS or the socket).
//
// libvncclient logs through two process-wide function pointers; they are
// silenced once, process-wide (no line of theirs reaches the broker's log).
// Thread-compatible: one session thread per TargetLeg.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "agentless/common/connect_abort.h"
#include "agentless/vnc/vnc_handshake.h"
#include "broker/common/secret.h"

struct _rfbClient;

namespace portcullis::vnc {

enum class TargetAuth { kVncPassword, kNone };

class TlsClient;

struct TargetRequest {
  std::string address;  // HOST:PORT or [V6]:PORT
  TargetAuth auth = TargetAuth::kNone;
  bool tls = false;  // VeNCrypt X509Vnc / X509None
  // TLS: the pinned certificate ("x509-sha256 HEX"); "" = trust on first
  // use. `accept_certificate` gets the presented pin (and whether no pin
  // existed) after it matched, before any credential is sent; an error
  // from it ends the handshake and is returned as is.
  std::string pinned_certificate;
  std::function<absl::Status(const std::string& pin, bool first_use)> accept_certificate;
  const SecretBytes* password = nullptr;  // kVncPassword; read once, by the library
  std::chrono::milliseconds timeout{15000};  // connect, then the handshake
  const agentless::ConnectAbort* abort = nullptr;
};

class TargetLeg {
 public:
  ~TargetLeg();
  TargetLeg(const TargetLeg&) = delete;
  TargetLeg& operator=(const TargetLeg&) = delete;

  // Unavailable (unreachable, timed out, not RFB, no common security
  // type: e.g. a legacy target that insists on VeNCrypt, or a modern one
  // that offers none), Cancelled (aborted), Unauthenticated (the target
  // refused the vaulted password, or wants one and none is vaulted),
  // FailedPrecondition (TLS: the certificate differs from the pin).
  // Messages never hold the secret.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<TargetLeg>> Connect(
      const TargetRequest& req, agentless::ConnectAbort* abort);

  int fd() const;
  const ServerInitInfo& server_init() const { return si_; }
  // Bytes the target sent that libvncclient read past the handshake.
  std::string TakeBuffered();
  // "RFB 003.00N" the target speaks.
  std::string version() const;
  // "TLSv1.3" over VeNCrypt, "" in the clear.
  std::string tls_version() const;

  // The relay's non-blocking I/O, as read(2)/send(2): >0 bytes, 0 = closed,
  // -1 with errno (EAGAIN: nothing now). The socket is non-blocking.
  ssize_t Read(char* buf, size_t n);
  ssize_t Write(const char* buf, size_t n);
  // Bytes already decrypted (TLS): read them without waiting for poll.
  bool ReadPending() const;
  // The poll events for fd() given what the relay wants.
  short PollEvents(bool want_read, bool want_write) const;

 private:
  TargetLeg();
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<TargetLeg>> ConnectTls(
      const TargetRequest& req, int sock, agentless::ConnectAbort* abort);

  _rfbClient* client_ = nullptr;  // in the clear
  std::unique_ptr<TlsClient> tls_;  // over VeNCrypt
  int tls_fd_ = -1;                 // owned with tls_
  int major_ = 3, minor_ = 8;
  ServerInitInfo si_;
};

// Splits "HOST:PORT" / "[V6]:PORT". InvalidArgument if malformed.
[[nodiscard]] absl::Status SplitHostPort(const std::string& address, std::string* host,
                                         uint16_t* port);

}  // namespace portcullis::vnc
