// The audit chain's canonical form and hash (definition in audit_log.h).

#include <string>

#include "broker/audit/audit_log.h"
#include "broker/common/encoding.h"

namespace portcullis::audit {

std::string CanonicalAuditJson(int64_t seq, std::string_view time, const AuditEvent& e) {
  nlohmann::json row = nlohmann::json::object();
  row["seq"] = seq;
  row["time"] = std::string(time);
  row["type"] = e.type;
  row["actor"] = e.actor;
  row["subject"] = e.subject;
  row["outcome"] = e.outcome;
  row["source"] = e.source;
  row["details"] = e.details;
  // Same output as dump() for valid UTF-8; never throws on invalid input.
  return row.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string AuditChainHash(std::string_view prev_hash_hex, std::string_view canonical_json) {
  std::string input;
  input.reserve(prev_hash_hex.size() + 1 + canonical_json.size());
  input.append(prev_hash_hex);
  input.push_back('\n');
  input.append(canonical_json);
  return HexEncode(Sha256(input));
}

}  // namespace portcullis::audit
