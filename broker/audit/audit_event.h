#pragma once
// AuditEvent and AuditWriter: what protocol code and services hand to the
// audit log, without the store behind it. AuditLog (audit_log.h) is the
// implementation; tests use fakes. Every event must match its entry in the
// event catalogue (event_catalogue.h): its type, outcome and detail keys.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"

namespace portcullis::audit {

struct AuditEvent {
  std::string type;     // a type of the catalogue, e.g. "auth.login", "policy.decision"
  std::string actor;    // user name or "system"
  std::string subject;  // target, user, role, serial...
  std::string outcome;  // one of the type's outcomes: "success", "failure", "denied"...
  std::string source;   // client address, e.g. "ipv4:127.0.0.1:53122"; may be empty
  nlohmann::json details = nlohmann::json::object();  // the type's keys only; NEVER secrets
};

// Appends events to the hash-chained audit log. Implementations are
// thread-safe.
class AuditWriter {
 public:
  virtual ~AuditWriter() = default;
  // The event's seq once it is durable; an error if it could not be stored
  // (the caller must then refuse what it was about to allow).
  [[nodiscard]] virtual absl::StatusOr<int64_t> Append(const AuditEvent& e) = 0;
};

}  // namespace portcullis::audit
