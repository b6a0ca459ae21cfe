#pragma once
// SessionRegistry: every live session of this broker, for `sessions ls`,
// `sessions kill`, `users disable` and the role's max_session deadline.
//
// Thread-safe (one mutex; sessions are called under it, which is safe because
// LiveSession calls only post to the session's thread and never block). The
// registry holds sessions weakly through their Registration: a session is
// listed from Register() until its Registration is destroyed. The clock must
// outlive the registry.

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "broker/common/clock.h"
#include "broker/session/live_session.h"

namespace portcullis::session {

struct SessionSnapshot {
  SessionInfo info;
  uint64_t bytes_up = 0;
  uint64_t bytes_down = 0;
};

class SessionRegistry {
 public:
  // How long before a max_session deadline the session gets its notice.
  static constexpr std::chrono::seconds kDeadlineNotice{60};

  explicit SessionRegistry(const Clock* clock);
  ~SessionRegistry();  // stops the watchdog; sessions must be gone or going
  SessionRegistry(const SessionRegistry&) = delete;
  SessionRegistry& operator=(const SessionRegistry&) = delete;

  // Unlists its session when destroyed. Movable.
  class Registration {
   public:
    Registration() = default;
    Registration(Registration&& o) noexcept : reg_(o.reg_), id_(std::move(o.id_)) { o.reg_ = nullptr; }
    Registration& operator=(Registration&& o) noexcept;
    ~Registration();
    const std::string& id() const { return id_; }

   private:
    friend class SessionRegistry;
    Registration(SessionRegistry* reg, std::string id) : reg_(reg), id_(std::move(id)) {}
    SessionRegistry* reg_ = nullptr;
    std::string id_;
  };

  // A fresh, unique, unguessable session id (12 hex digits).
  std::string NewId();
  // Lists `session` under info.id (NewId() if empty). `session` must stay
  // valid until the Registration is destroyed.
  Registration Register(SessionInfo info, LiveSession* session);

  std::vector<SessionSnapshot> List() const;  // sorted by start time
  std::optional<SessionSnapshot> Get(std::string_view id) const;
  size_t Count() const;

  // Asks the session to end. NotFound if no such live session.
  [[nodiscard]] absl::Status Kill(std::string_view id, std::string notice);
  // Ends every live session of `user`; returns how many were asked.
  int EndUserSessions(std::string_view user, EndReason reason, std::string notice);
  // Ends every live session (broker shutdown).
  void EndAll(EndReason reason, std::string notice);

  // Sends the one-minute notice and ends sessions past their deadline.
  // Called every second by the watchdog; public so tests can drive it with
  // a FakeClock.
  void Tick();
  // Starts the watchdog thread (idempotent).
  void StartWatchdog();

 private:
  struct Entry {
    SessionInfo info;
    LiveSession* session = nullptr;
    bool warned = false;
    bool ended = false;
  };
  void Unregister(const std::string& id);

  const Clock* clock_;
  mutable std::mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread watchdog_;
};

}  // namespace portcullis::session
