#pragma once
// SshListener: the broker's SSH front door (port 2222 by default). Accepts
// TCP connections, refuses beyond ssh.max_sessions / ssh.max_unauthenticated,
// and runs each connection (SshConnection) on its own thread. A reaper
// closes connections that have not authenticated within ssh.auth_timeout,
// however slowly they trickle bytes.
//
// Thread-safe: Start/Stop from the daemon's main thread. The Broker and the
// RecorderFactory must outlive the listener.

#include <atomic>
#include <condition_variable>
#include <map>
#include <set>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/status/status.h"
#include "agentless/ssh/libssh_handles.h"
#include "agentless/ssh/ssh_auth.h"
#include "broker/core/broker.h"
#include "broker/session/recorder.h"

namespace portcullis::ssh {

class SshConnection;

class SshListener {
 public:
  SshListener(core::Broker* broker, SshAuthServices auth, session::RecorderFactory* recorders);
  ~SshListener();  // Stop()

  // Binds cfg.ssh and starts accepting. FailedPrecondition if the listener
  // is disabled (port 0).
  [[nodiscard]] absl::Status Start();
  // Stops accepting, ends every session (with a notice), waits for them.
  void Stop();
  uint16_t port() const { return port_; }

 private:
  void AcceptLoop();
  void ReaperLoop();
  void Serve(int fd, std::string source);

  core::Broker* const broker_;
  const SshAuthServices auth_;
  session::RecorderFactory* const recorders_;
  SshBindPtr bind_;
  uint16_t port_ = 0;
  int stop_pipe_[2] = {-1, -1};
  std::thread acceptor_, reaper_;

  std::mutex accept_mu_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  int live_ = 0;
  int unauthenticated_ = 0;
  std::map<SshConnection*, TimePoint> pending_;  // not yet authenticated, with deadline
  std::set<SshConnection*> conns_;               // every live connection
};

}  // namespace portcullis::ssh
