#pragma once
// A weekly time window of a role, e.g. "Mon-Fri 07:00-18:00 Europe/Paris".
//
// Syntax: DAYS SP HH:MM-HH:MM SP ZONE, where
//   DAYS  is a comma list of day names (Mon..Sun) or ranges ("Mon-Fri",
//         wrapping ranges like "Fri-Mon" allowed);
//   times are 00:00..23:59, the end may be 24:00; an end before the start
//         means the window runs overnight into the next day, and DAYS names
//         the day the window STARTS ("Sun 22:00-06:00" = Sun 22:00 to Mon
//         06:00); start == end is refused;
//   ZONE  is an IANA time zone name, loaded from the system tz database.
// Times are wall-clock times in ZONE, so DST shifts are followed. The start
// is inclusive and the end exclusive, at minute resolution.
//
// Value type; Contains() is const and thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "broker/common/clock.h"

namespace portcullis::policy {

struct HoursWindow {
  std::string text;          // canonical text, e.g. "Mon-Fri 07:00-18:00 Europe/Paris"
  uint8_t days = 0;          // bit 0 = Monday ... bit 6 = Sunday (start days)
  int start_minute = 0;      // minute of day, 0..1439
  int end_minute = 0;        // 1..1440; < start_minute means overnight
  absl::TimeZone zone;       // loaded from `text`'s zone name

  // True iff `t` lies inside the window.
  bool Contains(TimePoint t) const;
  bool operator==(const HoursWindow& o) const {
    return text == o.text && days == o.days && start_minute == o.start_minute &&
           end_minute == o.end_minute && zone == o.zone;
  }
};

// Parses the syntax above. Errors are one line and name the offending part,
// e.g. "unknown time zone 'Europe/Pariss'" or "bad day name 'Mun'".
[[nodiscard]] absl::StatusOr<HoursWindow> ParseHoursWindow(std::string_view text);

}  // namespace portcullis::policy
