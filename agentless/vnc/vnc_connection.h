#pragma once
// VncConnection: one viewer's connection to the broker, for its whole life,
// on one thread: RFB handshake with a connection ticket -> fresh policy
// decision (admission) -> the target leg (libvncclient handshake, vaulted
// VNC password) -> graphical recorder -> relay.
//
// The relay is a pass-through with parsing: viewer messages go through the
// bounded ClientMessageParser (an allow-list of message types; SetEncodings
// rewritten to the allowed encodings; key and pointer events recorded, or
// dropped for a view-only role; clipboard text dropped unless the role
// allows it); the target's bytes go to the viewer as they came, and the
// same bytes feed a ServerStream whose decoded framebuffer drives the
// recorder. Both directions are bounded queues: the target is not read
// while the viewer's queue is over its bound (or the recorder is behind).
//
// Threading: Run() owns both sockets and the recorder. The LiveSession and
// ListenedConnection methods may be called from any thread: they post to
// the owning thread through the mailbox or shut a socket down. The services
// must outlive the connection.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agentless/common/connect_abort.h"
#include "agentless/common/proxy_listener.h"
#include "agentless/common/proxy_session.h"
#include "agentless/common/unique_fd.h"
#include "agentless/vnc/vnc_services.h"
#include "broker/session/admission.h"
#include "broker/session/recorder.h"

namespace portcullis::vnc {

class TargetLeg;
struct RelayState;

// What the deciding role lets a VNC session do.
struct VncRoleOptions {
  bool view_only = false;  // drop the viewer's key, pointer and resize requests
  bool clipboard = false;  // forward the viewer's clipboard text (capped, audited):
                           // the role's clipboard is to_target or both
  bool clipboard_from_target = false;  // forward the target's clipboard text to the
                                       // viewer: from_target or both
};
VncRoleOptions RoleOptionsOf(const policy::Decision& d);

class VncConnection final : public agentless::ProxySession,
                            public agentless::ListenedConnection {
 public:
  VncConnection(const VncServices& services, agentless::UniqueFd viewer, std::string source,
                std::function<void()> authenticated);
  ~VncConnection() override;
  VncConnection(const VncConnection&) = delete;
  VncConnection& operator=(const VncConnection&) = delete;

  void Run() override;
  // Shuts the viewer socket down (pre-ticket timeout, shutdown).
  void AbortUnauthenticated() override;
  // Ends the session with reason shutdown, also while it still connects.
  void Shutdown() override;

 private:
  session::AdmissionRequest Request() const;
  // Admission, the secret, the target leg, the recorder. Sets denial_ on
  // any failure (the line for the viewer).
  void OpenTarget();
  void Relay();
  void Finish();
  void EndWith(session::EndReason reason, const std::string& why);

  const VncServices& vnc_;
  agentless::UniqueFd viewer_;
  std::function<void()> on_authenticated_;
  agentless::ConnectAbort viewer_abort_;
  agentless::ConnectAbort connect_abort_;

  session::TicketGrant grant_;
  std::optional<session::Admission> admission_;
  VncRoleOptions options_;
  std::unique_ptr<TargetLeg> target_;
  std::unique_ptr<session::GraphicalRecorder> recorder_;
  std::optional<std::string> denial_;
  session::EndReason end_reason_ = session::EndReason::kClientClosed;
  bool ending_ = false;
};

}  // namespace portcullis::vnc
