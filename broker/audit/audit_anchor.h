#pragma once
// The audit chain's anchor file: one line "SEQ HASH\n" naming the chain head
// (seq >= 1 in decimal without leading zeros, hash 64 lowercase hex digits).
// Pure functions, thread-safe. The file is read back as untrusted input.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace portcullis::audit {

struct AuditAnchor {
  int64_t seq = 0;
  std::string hash;
};

inline constexpr size_t kMaxAnchorFileBytes = 128;

std::string FormatAuditAnchor(const AuditAnchor& anchor);
// InvalidArgument on anything but exactly the format above (the final
// newline is optional).
[[nodiscard]] absl::StatusOr<AuditAnchor> ParseAuditAnchor(std::string_view text);

}  // namespace portcullis::audit
