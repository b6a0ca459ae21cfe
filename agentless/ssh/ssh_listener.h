#pragma once
// SshListener: the broker's SSH front door (port 2222 by default), on the
// shared listener skeleton (agentless/common/proxy_listener.h): it accepts
// TCP connections, refuses beyond max_sessions / max_unauthenticated, runs
// each connection (SshConnection) on a thread it owns and joins, and closes
// connections that have not authenticated within auth_timeout.
//
// Thread-safe: Start/Stop from the daemon's main thread. The services must
// outlive the listener.

#include <memory>
#include <mutex>

#include "absl/status/status.h"
#include "agentless/common/proxy_listener.h"
#include "agentless/ssh/libssh_handles.h"
#include "agentless/ssh/ssh_services.h"

namespace portcullis::ssh {

class SshListener {
 public:
  explicit SshListener(SshServices services);
  ~SshListener();  // Stop()

  // Binds settings.host:port and starts accepting.
  [[nodiscard]] absl::Status Start();
  // Stops accepting, ends every session (with a notice, reason shutdown,
  // recordings sealed) and joins every connection thread.
  void Stop();
  uint16_t port() const { return listener_ ? listener_->port() : 0; }

 private:
  std::unique_ptr<agentless::ListenedConnection> Accept(agentless::UniqueFd fd,
                                                        const std::string& source,
                                                        std::function<void()> authenticated);

  const SshServices services_;
  SshBindPtr bind_;        // keys and algorithms; the skeleton owns the socket
  std::mutex accept_mu_;   // ssh_bind_accept_fd reads the bind: one at a time
  std::unique_ptr<agentless::ProxyListener> listener_;
};

}  // namespace portcullis::ssh
