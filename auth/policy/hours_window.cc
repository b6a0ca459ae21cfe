#include "auth/policy/hours_window.h"

#include <fmt/format.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "broker/common/printable.h"

namespace portcullis::policy {
namespace {


constexpr std::array<std::string_view, 7> kDayNames = {"Mon", "Tue", "Wed", "Thu",
                                                       "Fri", "Sat", "Sun"};
constexpr size_t kMaxWindowText = 128;

absl::Status Bad(std::string msg) { return absl::InvalidArgumentError(std::move(msg)); }

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Index 0 (Mon) .. 6 (Sun), case-insensitive.
std::optional<int> DayIndex(std::string_view s) {
  if (s.size() != 3) return std::nullopt;
  for (int i = 0; i < 7; ++i) {
    const std::string_view name = kDayNames[static_cast<size_t>(i)];
    if (Lower(s[0]) == Lower(name[0]) && Lower(s[1]) == name[1] && Lower(s[2]) == name[2]) {
      return i;
    }
  }
  return std::nullopt;
}

int WeekdayIndex(absl::Weekday wd) {
  switch (wd) {
    case absl::Weekday::monday: return 0;
    case absl::Weekday::tuesday: return 1;
    case absl::Weekday::wednesday: return 2;
    case absl::Weekday::thursday: return 3;
    case absl::Weekday::friday: return 4;
    case absl::Weekday::saturday: return 5;
    case absl::Weekday::sunday: return 6;
  }
  return 0;  // unreachable
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

// Parses DAYS into a bitmask and returns the canonical spelling.
absl::StatusOr<std::pair<uint8_t, std::string>> ParseDays(std::string_view s) {
  uint8_t mask = 0;
  std::string canon;
  for (std::string_view item : Split(s, ',')) {
    if (item.empty()) return Bad(fmt::format("empty day in '{}'", Printable(s)));
    std::vector<std::string_view> ends = Split(item, '-');
    if (ends.size() > 2) return Bad(fmt::format("bad day range '{}'", Printable(item)));
    std::optional<int> first = DayIndex(ends[0]);
    if (!first) return Bad(fmt::format("bad day name '{}' (want Mon..Sun)", Printable(ends[0])));
    int last = *first;
    if (ends.size() == 2) {
      std::optional<int> l = DayIndex(ends[1]);
      if (!l) return Bad(fmt::format("bad day name '{}' (want Mon..Sun)", Printable(ends[1])));
      last = *l;
    }
    // Ranges wrap around the week: Fri-Mon = Fri, Sat, Sun, Mon.
    for (int d = *first;; d = (d + 1) % 7) {
      mask = static_cast<uint8_t>(mask | (1u << d));
      if (d == last) break;
    }
    if (!canon.empty()) canon += ',';
    canon += kDayNames[static_cast<size_t>(*first)];
    if (ends.size() == 2) {
      canon += '-';
      canon += kDayNames[static_cast<size_t>(last)];
    }
  }
  return std::make_pair(mask, canon);
}

// "HH:MM" -> minute of day; 24:00 only when `allow_24` (an end time).
absl::StatusOr<int> ParseClock(std::string_view s, bool allow_24) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (s.size() != 5 || s[2] != ':' || !digit(s[0]) || !digit(s[1]) || !digit(s[3]) ||
      !digit(s[4])) {
    return Bad(fmt::format("bad time '{}' (want HH:MM)", Printable(s)));
  }
  int h = (s[0] - '0') * 10 + (s[1] - '0');
  int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (m > 59 || h > 24 || (h == 24 && (m != 0 || !allow_24))) {
    return Bad(fmt::format("bad time '{}' (want 00:00..23:59{})", Printable(s),
                           allow_24 ? " or 24:00" : ""));
  }
  return h * 60 + m;
}

// IANA names only: letters, digits, '_', '+', '-', '/' (no "..", no absolute
// paths, no "localtime"), so the name cannot point outside the tz database.
bool PlausibleZoneName(std::string_view s) {
  if (s.empty() || s.size() > 64 || s == "localtime") return false;
  if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z'))) return false;
  char prev = 0;
  for (char c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '+' || c == '-' || c == '/';
    if (!ok || (c == '/' && prev == '/')) return false;
    prev = c;
  }
  return prev != '/';
}

// absl (cctz) caches every name it is asked to load, including names that
// fail, for the life of the process; so only names with a file in the tz
// database (where cctz looks: $TZDIR or /usr/share/zoneinfo) are passed on,
// which bounds that cache by the database.
bool ZoneFileExists(const std::string& name) {
  if (name == "UTC") return true;  // built into cctz
  const char* dir = std::getenv("TZDIR");
  std::filesystem::path path(dir != nullptr && *dir != '\0' ? dir : "/usr/share/zoneinfo");
  std::error_code ec;
  return std::filesystem::is_regular_file(path / name, ec);
}

std::string FormatClock(int minute) { return fmt::format("{:02}:{:02}", minute / 60, minute % 60); }

}  // namespace

absl::StatusOr<HoursWindow> ParseHoursWindow(std::string_view text) {
  if (text.size() > kMaxWindowText) {
    return Bad(fmt::format("time window too long ({} bytes, max {})", text.size(), kMaxWindowText));
  }
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    if (i > start) fields.push_back(text.substr(start, i - start));
  }
  if (fields.size() != 3) {
    return Bad(fmt::format(
        "bad time window '{}' (want DAYS HH:MM-HH:MM ZONE, e.g. 'Mon-Fri 07:00-18:00 Europe/Paris')",
        Printable(text)));
  }
  auto days = ParseDays(fields[0]);
  if (!days.ok()) return days.status();

  std::vector<std::string_view> times = Split(fields[1], '-');
  if (times.size() != 2) {
    return Bad(fmt::format("bad time range '{}' (want HH:MM-HH:MM)", Printable(fields[1])));
  }
  auto start = ParseClock(times[0], /*allow_24=*/false);
  if (!start.ok()) return start.status();
  auto end = ParseClock(times[1], /*allow_24=*/true);
  if (!end.ok()) return end.status();
  if (*start == *end) {
    return Bad(fmt::format("empty time range '{}' (start equals end)", Printable(fields[1])));
  }

  std::string zone_name(fields[2]);
  HoursWindow w;
  if (!PlausibleZoneName(zone_name) || !ZoneFileExists(zone_name) ||
      !absl::LoadTimeZone(zone_name, &w.zone)) {
    return Bad(fmt::format("unknown time zone '{}'", Printable(zone_name)));
  }
  w.days = days->first;
  w.start_minute = *start;
  w.end_minute = *end;
  w.text = fmt::format("{} {}-{} {}", days->second, FormatClock(*start), FormatClock(*end),
                       zone_name);
  return w;
}

bool HoursWindow::Contains(TimePoint t) const {
  if (days == 0 || start_minute == end_minute) return false;
  const absl::CivilMinute local = absl::ToCivilMinute(absl::FromChrono(t), zone);
  const int minute = local.hour() * 60 + local.minute();
  const int today = WeekdayIndex(absl::GetWeekday(local));
  const int yesterday = (today + 6) % 7;
  auto starts_on = [this](int day) { return (days >> day) & 1; };
  if (start_minute < end_minute) {
    return starts_on(today) && minute >= start_minute && minute < end_minute;
  }
  // Overnight: the part after the start belongs to today's window, the part
  // before the end to the window that started yesterday.
  if (starts_on(today) && minute >= start_minute) return true;
  return starts_on(yesterday) && minute < end_minute;
}

}  // namespace portcullis::policy
