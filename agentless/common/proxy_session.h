#pragma once
// ProxySession: the protocol-neutral half of a live session, shared by every
// access path (SSH now; VNC, RDP and TCP next). It holds the narrow services
// a session may use (SessionServices: never the broker or its store), the
// mailbox other threads post to, the byte counters, the registry listing
// and the session's audit rows (session.start, session.end, and any other
// event with the session's actor, source and id).
//
// Threading: a session belongs to one thread (its owner); the LiveSession
// methods may be called from any thread and only post to the mailbox,
// which the owner polls. Everything else is owner-thread only. The
// services must outlive the session.

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "agentless/common/mailbox.h"
#include "broker/audit/audit_event.h"
#include "broker/common/clock.h"
#include "broker/session/admission.h"
#include "broker/session/live_session.h"
#include "broker/session/recorder.h"
#include "broker/session/session_registry.h"

namespace portcullis::agentless {

// What a protocol's session may use. Plain pointers, all non-null, owned
// by the daemon.
struct SessionServices {
  session::Admitter* admitter = nullptr;
  session::SessionRegistry* sessions = nullptr;
  session::RecorderFactory* recorders = nullptr;
  audit::AuditWriter* audit = nullptr;
  const Clock* clock = nullptr;
};

class ProxySession : public session::LiveSession {
 public:
  ProxySession(const ProxySession&) = delete;
  ProxySession& operator=(const ProxySession&) = delete;

  // session::LiveSession: post to the owner thread.
  void RequestEnd(session::EndReason reason, std::string notice) override;
  void Notify(std::string line) override;
  uint64_t BytesUp() const override { return bytes_up_.load(std::memory_order_relaxed); }
  uint64_t BytesDown() const override { return bytes_down_.load(std::memory_order_relaxed); }

  // The registry id ("" until AssignId()).
  const std::string& id() const { return id_; }
  const std::string& source() const { return source_; }
  const std::string& protocol() const { return protocol_; }

 protected:
  // `protocol` as the registry and the audit log name it ("ssh", "vnc", ...);
  // `source` the client's address.
  ProxySession(const SessionServices& services, std::string protocol, std::string source);
  ~ProxySession() override;

  const SessionServices& services() const { return services_; }
  Mailbox& mailbox() { return mailbox_; }
  const Clock& clock() const { return *services_.clock; }

  void AddBytesUp(uint64_t n) { bytes_up_.fetch_add(n, std::memory_order_relaxed); }
  void AddBytesDown(uint64_t n) { bytes_down_.fetch_add(n, std::memory_order_relaxed); }

  // When the session began (the listener handed it its connection).
  TimePoint started() const { return started_; }
  // A fresh id from the registry (once the user is authenticated).
  void AssignId();
  // The Portcullis user the audit rows name as actor (once authenticated).
  void SetActor(std::string user) { actor_ = std::move(user); }
  const std::string& actor() const { return actor_; }

  // One audit row: actor, source and details["session"] = id. A row that
  // cannot be stored ends the session (no audit, no access): the end is
  // posted with reason error and false returned.
  bool Audit(std::string type, std::string subject, std::string outcome, nlohmann::json details);

  // Lists the session (again, keeping its id, when the target changes: a
  // menu choice). `deadline` from the role's max_session.
  struct Listing {
    std::string user, login, target, role;
    std::optional<TimePoint> deadline;
  };
  void Register(Listing listing);
  void Unregister() { registration_ = {}; }

  // session.end: reason, bytes both ways, duration, plus `extra`.
  bool AuditEnd(const std::string& subject, session::EndReason reason,
                nlohmann::json extra = nlohmann::json::object());

 private:
  const SessionServices services_;
  const std::string protocol_;
  const std::string source_;
  std::string id_;
  std::string actor_;
  TimePoint started_{};
  Mailbox mailbox_;
  session::SessionRegistry::Registration registration_;
  std::atomic<uint64_t> bytes_up_{0}, bytes_down_{0};
};

}  // namespace portcullis::agentless
