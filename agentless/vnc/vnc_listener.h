#pragma once
// VncListener: the broker's VNC front door (listen.vnc, port 5900 by
// default), on the shared listener skeleton (agentless/common/
// proxy_listener.h): it accepts viewers, refuses beyond max_sessions /
// max_unauthenticated, runs each connection (VncConnection) on a thread it
// owns and joins, and closes viewers that have not presented a valid ticket
// within auth_timeout.
//
// Thread-safe: Start/Stop from one controlling thread. The services must
// outlive the listener.

#include <memory>

#include "absl/status/status.h"
#include "agentless/common/proxy_listener.h"
#include "agentless/vnc/vnc_services.h"

namespace portcullis::vnc {

class VncListener {
 public:
  explicit VncListener(VncServices services);
  ~VncListener();  // Stop()
  VncListener(const VncListener&) = delete;
  VncListener& operator=(const VncListener&) = delete;

  // Binds settings.host:port and starts accepting.
  [[nodiscard]] absl::Status Start();
  // Stops accepting, ends every session (reason shutdown, recordings
  // closed) and joins every connection thread.
  void Stop();
  uint16_t port() const { return listener_ ? listener_->port() : 0; }
  int live() const { return listener_ ? listener_->live() : 0; }

 private:
  const VncServices services_;
  std::unique_ptr<agentless::ProxyListener> listener_;
};

}  // namespace portcullis::vnc
