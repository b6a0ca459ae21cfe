#pragma once
// The broker's leg to the VNC target, through libvncclient: only its
// handshake and authentication (InitialiseRFBConnection) on a socket the
// broker connected itself (TcpConnect: a timeout, and abortable from
// another thread, which libvncclient's own connect is not). libvncclient's
// rfbInitClient is never called: it would send its own SetPixelFormat,
// SetEncodings and update request. After the handshake the relay owns the
// socket; bytes libvncclient already buffered are handed over with it.
//
// libvncclient logs through two process-wide function pointers; they are
// silenced once, process-wide (no line of theirs reaches the broker's log).
// Thread-compatible: one session thread per TargetLeg.

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "agentless/common/connect_abort.h"
#include "agentless/vnc/vnc_handshake.h"
#include "broker/common/secret.h"

struct _rfbClient;

namespace portcullis::vnc {

enum class TargetAuth { kVncPassword, kNone };

struct TargetRequest {
  std::string address;  // HOST:PORT or [V6]:PORT
  TargetAuth auth = TargetAuth::kNone;
  const SecretBytes* password = nullptr;  // kVncPassword; read once, by the library
  std::chrono::milliseconds timeout{15000};  // connect, then the handshake
  const agentless::ConnectAbort* abort = nullptr;
};

class TargetLeg {
 public:
  ~TargetLeg();
  TargetLeg(const TargetLeg&) = delete;
  TargetLeg& operator=(const TargetLeg&) = delete;

  // Unavailable (unreachable, timed out, not RFB), Cancelled (aborted),
  // Unauthenticated (the target refused the vaulted password, or wants
  // one and none is vaulted), FailedPrecondition (no common security type:
  // e.g. the target insists on VeNCrypt). Messages never hold the secret.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<TargetLeg>> Connect(
      const TargetRequest& req, agentless::ConnectAbort* abort);

  int fd() const;
  const ServerInitInfo& server_init() const { return si_; }
  // Bytes the target sent that libvncclient read past the handshake.
  std::string TakeBuffered();
  // "RFB 003.00N" the target speaks.
  std::string version() const;

 private:
  TargetLeg() = default;
  _rfbClient* client_ = nullptr;
  ServerInitInfo si_;
};

// Splits "HOST:PORT" / "[V6]:PORT". InvalidArgument if malformed.
[[nodiscard]] absl::Status SplitHostPort(const std::string& address, std::string* host,
                                         uint16_t* port);

}  // namespace portcullis::vnc
