#pragma once
// The audit event catalogue: every event type Portcullis writes, with its
// allowed outcomes and the schema of its details. This is the one
// definition. AuditLog::Append refuses any event that does not match it,
// and the operator guide's event table is checked against it by a test
// (tests/broker/audit/event_catalogue_doc_test.cc).
//
// The catalogue is a static, immutable table: thread-safe, no allocation
// after the first call. Validation is a binary search on the type and a
// linear scan of at most a few dozen keys; no regex, no copies.

#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "broker/audit/audit_event.h"

namespace portcullis::audit {

// The JSON type of a top-level details value.
enum class JsonType {
  kString,
  kInteger,      // signed or unsigned; never floating point
  kBoolean,
  kStringArray,  // an array whose elements are all strings (may be empty)
  kObject,       // an object whose values are all strings (e.g. labels)
};
std::string_view JsonTypeName(JsonType t);  // "string", "integer", ...

struct DetailKey {
  std::string_view name;
  JsonType type;
  bool required;
};

struct EventSpec {
  std::string_view type;     // e.g. "auth.login"
  std::string_view actor;    // who appears as the actor (for the guide)
  std::string_view subject;  // what the subject names (for the guide)
  std::vector<std::string_view> outcomes;  // the allowed outcome values
  std::vector<DetailKey> details;          // every allowed key
  std::string_view description;            // one line
};

// Every event type, sorted by type. The reference stays valid for the
// life of the process.
const std::vector<EventSpec>& EventCatalogue();

// The spec of `type`, or nullptr if the product does not write it.
const EventSpec* FindEventSpec(std::string_view type);

// What AuditLog::Append does with an event that fails ValidateEvent: refuse
// it with the InvalidArgument status (the caller then fails closed: the
// session or request it was about is refused or ended), or, when the
// environment sets PORTCULLIS_AUDIT_STRICT=1 (the test suite does, for
// every broker it starts), abort at once so that no test passes while the
// code writes an off-catalogue event. Both log the refusal first. Read once.
bool AbortOnCatalogueViolation();

// OK if `e` matches the catalogue: a known type, an allowed outcome,
// details an object holding only keys of that type, every required key,
// each value of its declared JSON type. Otherwise InvalidArgument naming
// the type and the offending key or outcome, never a value (values can hold
// user input). The `K_hex` keys AuditLog adds itself are not accepted
// here: callers never set them.
[[nodiscard]] absl::Status ValidateEvent(const AuditEvent& e);

}  // namespace portcullis::audit
