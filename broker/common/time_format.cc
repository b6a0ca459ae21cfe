#include "broker/common/time_format.h"

#include "absl/status/status.h"
#include <fmt/format.h>
#include "absl/time/time.h"

namespace portcullis {

std::string FormatUtc(TimePoint t, bool micros) {
  absl::Time at = absl::FromChrono(t);
  return absl::FormatTime(micros ? "%Y-%m-%dT%H:%M:%E6SZ" : "%Y-%m-%dT%H:%M:%SZ", at,
                          absl::UTCTimeZone());
}

absl::StatusOr<TimePoint> ParseUtc(std::string_view text) {
  absl::Time t;
  std::string err;
  std::string s(text);
  if (s.size() == 10) {
    if (absl::ParseTime("%Y-%m-%d", s, absl::UTCTimeZone(), &t, &err)) {
      return absl::ToChronoTime(t);
    }
  } else if (absl::ParseTime(absl::RFC3339_full, s, absl::UTCTimeZone(), &t, &err)) {
    return absl::ToChronoTime(t);
  }
  return absl::InvalidArgumentError(
      fmt::format("bad timestamp '{}': want RFC 3339 like 2026-11-23T09:00:00Z", text));
}

absl::StatusOr<std::chrono::seconds> ParseDuration(std::string_view text) {
  if (text.empty() || text.size() > 32) {
    return absl::InvalidArgumentError(fmt::format("bad duration '{}'", text));
  }
  int64_t total = 0;
  size_t i = 0;
  bool any = false;
  while (i < text.size()) {
    int64_t n = 0;
    size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      n = n * 10 + (text[i] - '0');
      if (n > 1'000'000'000) break;
      ++i;
    }
    if (i == start || i >= text.size()) {
      return absl::InvalidArgumentError(
          fmt::format("bad duration '{}': want e.g. 30s, 15m, 2h, 1h30m, 7d", text));
    }
    int64_t unit;
    switch (text[i]) {
      case 's': unit = 1; break;
      case 'm': unit = 60; break;
      case 'h': unit = 3600; break;
      case 'd': unit = 86400; break;
      default:
        return absl::InvalidArgumentError(
            fmt::format("bad duration '{}': unit must be s, m, h or d", text));
    }
    ++i;
    total += n * unit;
    any = true;
    if (total > 3650LL * 86400) {
      return absl::InvalidArgumentError(fmt::format("duration '{}' too long", text));
    }
  }
  if (!any || total <= 0) {
    return absl::InvalidArgumentError(fmt::format("duration '{}' must be positive", text));
  }
  return std::chrono::seconds(total);
}

std::string FormatDuration(std::chrono::seconds d) {
  int64_t s = d.count();
  std::string out;
  if (s >= 3600) {
    out += fmt::format("{}h", s / 3600);
    s %= 3600;
  }
  if (s >= 60) {
    out += fmt::format("{}m", s / 60);
    s %= 60;
  }
  if (s > 0 || out.empty()) out += fmt::format("{}s", s);
  return out;
}

}  // namespace portcullis
