#pragma once
// The shared shape of a live session, whatever the protocol (SSH now; VNC,
// RDP and TCP tunnels later): what the registry shows about it and how other
// threads ask it to end. A session belongs to one thread; these calls only
// post to it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "broker/common/clock.h"

namespace portcullis::session {

// Why a session ended; the name goes into the audit log and the recording.
enum class EndReason {
  kClientClosed,
  kTargetClosed,
  kKilled,
  kUserDisabled,
  kMaxSession,
  kShutdown,
  kRecordingFailed,
  kError,
};
std::string_view EndReasonName(EndReason reason);

// What the registry knows about a session. Plain value; set at start.
struct SessionInfo {
  std::string id;        // registry-assigned ("" when registering)
  std::string user;      // Portcullis user
  std::string login;     // account on the target
  std::string target;    // target name
  std::string protocol;  // "ssh", "vnc", "rdp", "tcp"
  std::string source;    // client address "IP:PORT"
  std::string role;      // the role whose allow rule admitted the session
  TimePoint started{};
  std::optional<TimePoint> deadline;  // from the role's max_session
};

// Implemented by each protocol's session object. All methods are
// thread-safe and return at once.
class LiveSession {
 public:
  virtual ~LiveSession() = default;
  // Ends the session as soon as its owning thread notices (within 1 s):
  // both the user's and the target's connection close. `notice` is shown
  // to the user first where the protocol allows it (one line, no newline).
  virtual void RequestEnd(EndReason reason, std::string notice) = 0;
  // Shows a one-line notice to the user where the protocol allows it.
  virtual void Notify(std::string line) = 0;
  // Payload bytes relayed so far, user->target and target->user.
  virtual uint64_t BytesUp() const = 0;
  virtual uint64_t BytesDown() const = 0;
};

}  // namespace portcullis::session
