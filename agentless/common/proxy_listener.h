#pragma once
// ProxyListener: the front door every protocol shares (SSH now; VNC, RDP and
// TCP next). It binds a TCP address, accepts connections, refuses beyond
// `max_connections` live or `max_unauthenticated` not yet authenticated, and
// runs each connection on a thread it owns and joins (none is detached).
// A reaper aborts connections that have not authenticated within
// `auth_timeout`, however slowly they trickle bytes, and joins the threads
// of connections that ended.
//
// The protocol supplies a factory that turns an accepted socket into a
// ListenedConnection; the factory runs on the connection's own thread, so a
// slow protocol set-up never holds the accept loop up.
//
// Stop() stops accepting, asks every live connection to end (Shutdown():
// reason shutdown, also a connection still connecting to its target) and
// joins every thread. Thread-safe: Start/Stop from one controlling thread.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "agentless/common/unique_fd.h"
#include "broker/common/clock.h"

namespace portcullis::agentless {

// One accepted connection, as the listener drives it.
class ListenedConnection {
 public:
  virtual ~ListenedConnection() = default;
  // The whole connection, on its own thread; returns when it is over. It
  // calls `authenticated` (given to the factory) once, on that thread, when
  // its user has authenticated.
  virtual void Run() = 0;
  // Any thread, before authentication: the pre-auth deadline passed or the
  // listener is stopping. Must make Run() return soon (e.g. shutdown(2) of
  // the client socket).
  virtual void AbortUnauthenticated() = 0;
  // Any thread: the listener is stopping. Ends the session with reason
  // shutdown (its notice shown, its recording sealed), cutting short a
  // connection to the target in progress.
  virtual void Shutdown() = 0;
};

struct ListenerOptions {
  std::string name;         // for logs: "ssh", "vnc", ...
  std::string host;         // bind address ("0.0.0.0", "::", "127.0.0.1")
  uint16_t port = 0;        // 0 = an ephemeral port (tests); see port()
  int max_connections = 4096;
  int max_unauthenticated = 256;
  std::chrono::seconds auth_timeout{60};
  // How often the reaper looks at pre-auth deadlines (tests shorten it).
  std::chrono::milliseconds reap_interval{1000};
};

class ProxyListener {
 public:
  // Creates the connection for an accepted socket (TCP_NODELAY, close-on-
  // exec, blocking). `source` is "IP:PORT" ("[IP]:PORT" for IPv6). Returns
  // null to drop the connection (the socket is then closed). `authenticated`
  // must be called by the connection as described above.
  using Factory = std::function<std::unique_ptr<ListenedConnection>(
      UniqueFd socket, const std::string& source, std::function<void()> authenticated)>;

  ProxyListener(ListenerOptions options, const Clock* clock, Factory factory);
  ~ProxyListener();  // Stop()
  ProxyListener(const ProxyListener&) = delete;
  ProxyListener& operator=(const ProxyListener&) = delete;

  // Binds and starts accepting. Unavailable if the address cannot be bound.
  [[nodiscard]] absl::Status Start();
  // See above. Returns once every connection thread has been joined.
  void Stop();
  // The bound port (after Start()).
  uint16_t port() const { return port_; }
  // Live connections, and those not yet authenticated (tests, metrics).
  int live() const;
  int unauthenticated() const;

 private:
  struct Slot {
    std::thread thread;
    std::unique_ptr<ListenedConnection> conn;  // set on the slot's thread, under mu_
    TimePoint deadline{};
    bool authenticated = false;
    bool aborted = false;
    bool done = false;
  };
  void AcceptLoop();
  void ReaperLoop();
  void Serve(Slot* slot, UniqueFd fd, std::string source);
  void JoinFinished(std::unique_lock<std::mutex>& lock);

  const ListenerOptions options_;
  const Clock* const clock_;
  const Factory factory_;
  UniqueFd listen_fd_;
  UniqueFd stop_fd_;  // eventfd: readable once Stop() began
  uint16_t port_ = 0;
  std::thread acceptor_, reaper_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;
  bool stopping_ = false;
  int live_ = 0;
  int unauthenticated_ = 0;
  std::list<Slot> slots_;  // stable addresses; a slot is erased once joined
};

// "IP:PORT" / "[IP]:PORT" of a socket address.
std::string FormatPeer(const void* sockaddr_storage_ptr);

}  // namespace portcullis::agentless
