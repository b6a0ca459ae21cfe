#pragma once
// RFC 3339 UTC timestamps and Go-style durations ("90s", "15m", "2h",
// "1h30m"), used by the config, the CLI and the audit log. Thread-safe.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "broker/common/clock.h"

namespace portcullis {

// "2026-11-23T09:00:00Z" (seconds precision) or with ".123456Z" when
// `micros` is true.
std::string FormatUtc(TimePoint t, bool micros = false);
// Accepts "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm)" and "YYYY-MM-DD" (midnight UTC).
[[nodiscard]] absl::StatusOr<TimePoint> ParseUtc(std::string_view text);
// "30s", "5m", "2h", "1h30m", "7d". Must be > 0 and <= 3650 days.
[[nodiscard]] absl::StatusOr<std::chrono::seconds> ParseDuration(std::string_view text);
std::string FormatDuration(std::chrono::seconds d);

}  // namespace portcullis
