#pragma once
// Small argument checks shared by the repositories. Internal to the store
// library. Messages never echo the value checked (it may be attacker-chosen
// or secret); they say which field is wrong.

#include <cstddef>
#include <string_view>

#include "absl/status/status.h"

namespace portcullis::store {

// Longest user, role, target, meta and counter name the store accepts.
inline constexpr size_t kMaxNameBytes = 256;
// Longest free-form text field (YAML, host keys, addresses, sealed blobs).
inline constexpr size_t kMaxTextBytes = 1 << 20;

// OK iff `value` is non-empty and at most kMaxNameBytes.
[[nodiscard]] absl::Status CheckName(std::string_view field, std::string_view value);
// OK iff `value` is at most `max_bytes`.
[[nodiscard]] absl::Status CheckSize(std::string_view field, std::string_view value,
                                     size_t max_bytes = kMaxTextBytes);

}  // namespace portcullis::store
