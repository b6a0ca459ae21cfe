#include "broker/audit/audit_anchor.h"


#include <fmt/format.h>

#include "absl/status/status.h"

namespace portcullis::audit {
namespace {

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

absl::Status Malformed(std::string_view why) {
  return absl::InvalidArgumentError(fmt::format("malformed audit anchor: {}", why));
}

}  // namespace

std::string FormatAuditAnchor(const AuditAnchor& anchor) {
  return fmt::format("{} {}\n", anchor.seq, anchor.hash);
}

absl::StatusOr<AuditAnchor> ParseAuditAnchor(std::string_view text) {
  if (text.size() > kMaxAnchorFileBytes) return Malformed("too long");
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  const size_t space = text.find(' ');
  if (space == std::string_view::npos) return Malformed("want 'SEQ HASH'");
  const std::string_view seq_text = text.substr(0, space);
  const std::string_view hash = text.substr(space + 1);
  if (seq_text.empty() || seq_text.size() > 18 || seq_text[0] == '0') {
    return Malformed("bad sequence number");
  }
  int64_t seq = 0;
  for (char c : seq_text) {
    if (c < '0' || c > '9') return Malformed("bad sequence number");
    seq = seq * 10 + (c - '0');  // at most 18 digits: no overflow
  }
  if (hash.size() != 64) return Malformed("hash is not 64 hex digits");
  for (char c : hash) {
    if (!IsLowerHex(c)) return Malformed("hash is not 64 hex digits");
  }
  return AuditAnchor{seq, std::string(hash)};
}

}  // namespace portcullis::audit
