#pragma once
// ConnectAbort and TcpConnect: a protocol's connection to its target that
// another thread can cut short, so that a broker shutting down (or a kill)
// never waits for a target that does not answer.
//
// The session thread connects with TcpConnect(..., &abort) and, while the
// protocol's own handshake runs on the socket, keeps it registered with
// Register(); any thread may call Abort(): a connect in progress returns
// Cancelled, and a registered socket is shut down (its reads and writes
// fail at once; the owner still closes it). Thread-safe.

#include <chrono>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "agentless/common/unique_fd.h"

namespace portcullis::agentless {

class ConnectAbort {
 public:
  ConnectAbort();
  ~ConnectAbort();
  ConnectAbort(const ConnectAbort&) = delete;
  ConnectAbort& operator=(const ConnectAbort&) = delete;

  // Cuts the connection short (idempotent).
  void Abort();
  bool aborted() const;
  // Shuts `fd`'s socket down at Abort() until Unregister(); at once if
  // already aborted. Keeps its own duplicate of `fd`, so `fd` may be closed
  // (by its owner or a library) at any time.
  void Register(int fd);
  void Unregister();
  // Readable once Abort() was called (an eventfd); for poll().
  int wake_fd() const { return wake_fd_; }

 private:
  mutable std::mutex mu_;
  bool aborted_ = false;
  int registered_ = -1;
  int wake_fd_ = -1;
};

// A TCP connection to `host`:`port` (numeric or resolvable), trying each
// address in turn until `timeout` has passed. Unavailable with the reason
// ("Connection refused", "timed out after 15 s"), Cancelled if `abort`
// (may be null) fired. The socket is non-blocking (as libssh's own sockets
// are), close-on-exec, TCP_NODELAY; the caller owns it.
[[nodiscard]] absl::StatusOr<int> TcpConnect(const std::string& host, uint16_t port,
                                             std::chrono::milliseconds timeout,
                                             const ConnectAbort* abort);

}  // namespace portcullis::agentless
