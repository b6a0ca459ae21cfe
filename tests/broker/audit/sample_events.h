#pragma once
// SampleEvent(type): an event of `type` that matches the event catalogue,
// for tests of the audit chain itself (hashing, listing, tampering). Its
// outcome is the type's first outcome, every required key is set, integers
// to `n`, strings to "v".

#include <string>

#include "broker/audit/audit_event.h"
#include "broker/audit/event_catalogue.h"

namespace portcullis::audit::testing {

inline AuditEvent SampleEvent(const std::string& type, int n = 0) {
  AuditEvent e;
  e.type = type;
  e.actor = "alice";
  e.subject = "plc-1";
  const EventSpec* spec = FindEventSpec(type);
  if (spec == nullptr) return e;  // the caller tests the refusal
  e.outcome = std::string(spec->outcomes.front());
  for (const DetailKey& k : spec->details) {
    if (!k.required) continue;
    const std::string name(k.name);
    switch (k.type) {
      case JsonType::kString: e.details[name] = "v"; break;
      case JsonType::kInteger: e.details[name] = n; break;
      case JsonType::kBoolean: e.details[name] = false; break;
      case JsonType::kStringArray: e.details[name] = nlohmann::json::array({"v"}); break;
      case JsonType::kObject: e.details[name] = nlohmann::json::object(); break;
    }
  }
  return e;
}

}  // namespace portcullis::audit::testing
