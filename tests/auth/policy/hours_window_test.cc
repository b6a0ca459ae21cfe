#include "auth/policy/hours_window.h"

#include <gtest/gtest.h>

#include "broker/common/time_format.h"

namespace portcullis::policy {
namespace {

// Instants are written with explicit UTC offsets so the expectations do not
// depend on the code under test's time zone handling.
TimePoint At(const char* rfc3339) {
  auto t = ParseUtc(rfc3339);
  EXPECT_TRUE(t.ok()) << rfc3339;
  return t.ok() ? *t : TimePoint{};
}

struct ContainsCase {
  const char* window;
  const char* at;
  bool inside;
  const char* why;
};

TEST(PolicyHoursWindowTest, ContainsTable) {
  const ContainsCase cases[] = {
      // Plain weekday window (2026-03-27 is a Friday, CET = UTC+1).
      {"Mon-Fri 07:00-18:00 Europe/Paris", "2026-03-27T07:00:00+01:00", true, "start inclusive"},
      {"Mon-Fri 07:00-18:00 Europe/Paris", "2026-03-27T06:59:59+01:00", false, "before start"},
      {"Mon-Fri 07:00-18:00 Europe/Paris", "2026-03-27T17:59:59+01:00", true, "just before end"},
      {"Mon-Fri 07:00-18:00 Europe/Paris", "2026-03-27T18:00:00+01:00", false, "end exclusive"},
      {"Mon-Fri 07:00-18:00 Europe/Paris", "2026-03-28T10:00:00+01:00", false, "Saturday"},
      // DST starts 2026-03-29 (Sun) 02:00 CET -> 03:00 CEST. Monday 30th is UTC+2:
      // a fixed +1 offset would get these wrong.
      {"Mon-Fri 07:00-18:00 Europe/Paris", "2026-03-30T05:30:00Z", true, "07:30 CEST"},
      {"Mon-Fri 07:00-18:00 Europe/Paris", "2026-03-30T04:59:00Z", false, "06:59 CEST"},
      {"Mon-Fri 07:00-18:00 Europe/Paris", "2026-03-30T16:30:00Z", false, "18:30 CEST"},
      {"Mon-Fri 07:00-18:00 Europe/Paris", "2026-03-30T15:59:00Z", true, "17:59 CEST"},
      {"Mon-Fri 07:00-18:00 Europe/Paris", "2026-03-27T06:30:00Z", true, "07:30 CET"},
      {"Mon-Fri 07:00-18:00 Europe/Paris", "2026-03-27T17:30:00Z", false, "18:30 CET"},
      // A window spanning the spring-forward gap on the Sunday itself.
      {"Sun 01:00-04:00 Europe/Paris", "2026-03-29T00:30:00Z", true, "01:30 CET"},
      {"Sun 01:00-04:00 Europe/Paris", "2026-03-29T01:30:00Z", true, "03:30 CEST"},
      {"Sun 01:00-04:00 Europe/Paris", "2026-03-29T02:00:00Z", false, "04:00 CEST"},
      {"Sun 01:00-04:00 Europe/Paris", "2026-03-28T23:59:00Z", false, "00:59 CET"},
      // DST ends 2026-10-25 (Sun) 03:00 CEST -> 02:00 CET.
      {"Mon-Fri 07:00-18:00 Europe/Paris", "2026-10-23T05:30:00Z", true, "Fri 07:30 CEST"},
      {"Mon-Fri 07:00-18:00 Europe/Paris", "2026-10-23T16:30:00Z", false, "Fri 18:30 CEST"},
      {"Mon-Fri 07:00-18:00 Europe/Paris", "2026-10-26T06:30:00Z", true, "Mon 07:30 CET"},
      {"Mon-Fri 07:00-18:00 Europe/Paris", "2026-10-26T05:30:00Z", false, "Mon 06:30 CET"},
      {"Mon-Fri 07:00-18:00 Europe/Paris", "2026-10-26T16:30:00Z", true, "Mon 17:30 CET"},
      // The repeated hour 02:00-03:00 happens twice; both are inside.
      {"Sun 02:00-03:00 Europe/Paris", "2026-10-25T00:30:00Z", true, "02:30 CEST"},
      {"Sun 02:00-03:00 Europe/Paris", "2026-10-25T01:30:00Z", true, "02:30 CET"},
      {"Sun 02:00-03:00 Europe/Paris", "2026-10-25T02:00:00Z", false, "03:00 CET"},
      {"Sun 02:00-03:00 Europe/Paris", "2026-10-24T23:59:00Z", false, "01:59 CEST"},
      // Overnight: starts Sunday 22:00, ends Monday 06:00 (2026-01-04 is a Sunday, EST).
      {"Sun 22:00-06:00 America/New_York", "2026-01-04T22:30:00-05:00", true, "Sun 22:30"},
      {"Sun 22:00-06:00 America/New_York", "2026-01-05T05:59:00-05:00", true, "Mon 05:59"},
      {"Sun 22:00-06:00 America/New_York", "2026-01-05T06:00:00-05:00", false, "Mon 06:00"},
      {"Sun 22:00-06:00 America/New_York", "2026-01-04T21:59:00-05:00", false, "Sun 21:59"},
      {"Sun 22:00-06:00 America/New_York", "2026-01-04T03:00:00-05:00", false,
       "Sun early morning belongs to a Saturday start"},
      {"Sun 22:00-06:00 America/New_York", "2026-01-05T22:30:00-05:00", false, "Mon 22:30"},
      {"Sun 22:00-06:00 America/New_York", "2026-01-05T03:30:00Z", true, "Sun 22:30 as UTC"},
      // Day lists and wrapping ranges.
      {"Mon,Wed,Sat 08:00-12:00 UTC", "2026-01-05T09:00:00Z", true, "Mon"},
      {"Mon,Wed,Sat 08:00-12:00 UTC", "2026-01-06T09:00:00Z", false, "Tue"},
      {"Mon,Wed,Sat 08:00-12:00 UTC", "2026-01-07T09:00:00Z", true, "Wed"},
      {"Mon,Wed,Sat 08:00-12:00 UTC", "2026-01-10T09:00:00Z", true, "Sat"},
      {"Mon,Wed,Sat 08:00-12:00 UTC", "2026-01-10T12:00:00Z", false, "Sat noon"},
      {"Fri-Mon 09:00-17:00 UTC", "2026-01-09T10:00:00Z", true, "Fri"},
      {"Fri-Mon 09:00-17:00 UTC", "2026-01-10T10:00:00Z", true, "Sat"},
      {"Fri-Mon 09:00-17:00 UTC", "2026-01-11T10:00:00Z", true, "Sun"},
      {"Fri-Mon 09:00-17:00 UTC", "2026-01-12T10:00:00Z", true, "Mon"},
      {"Fri-Mon 09:00-17:00 UTC", "2026-01-13T10:00:00Z", false, "Tue"},
      {"Fri-Mon 09:00-17:00 UTC", "2026-01-08T10:00:00Z", false, "Thu"},
      // Whole days.
      {"Mon-Sun 00:00-24:00 UTC", "2026-01-07T00:00:00Z", true, "midnight"},
      {"Mon-Sun 00:00-24:00 UTC", "2026-01-07T23:59:59Z", true, "last second"},
      {"Sat 00:00-24:00 UTC", "2026-01-09T23:59:59Z", false, "Fri last second"},
      {"Sat 00:00-24:00 UTC", "2026-01-10T00:00:00Z", true, "Sat midnight"},
      {"Sat 00:00-24:00 UTC", "2026-01-11T00:00:00Z", false, "Sun midnight"},
  };
  for (const auto& c : cases) {
    auto w = ParseHoursWindow(c.window);
    ASSERT_TRUE(w.ok()) << c.window << ": " << w.status();
    EXPECT_EQ(w->Contains(At(c.at)), c.inside) << c.window << " at " << c.at << " (" << c.why
                                               << ")";
  }
}

TEST(PolicyHoursWindowTest, CanonicalText) {
  struct Case {
    const char* in;
    const char* text;
  };
  const Case cases[] = {
      {"Mon-Fri 07:00-18:00 Europe/Paris", "Mon-Fri 07:00-18:00 Europe/Paris"},
      {"mon-FRI   07:00-18:00\tEurope/Paris", "Mon-Fri 07:00-18:00 Europe/Paris"},
      {"Mon,Wed,Sat 08:00-12:00 UTC", "Mon,Wed,Sat 08:00-12:00 UTC"},
      {"Sun 22:00-06:00 America/New_York", "Sun 22:00-06:00 America/New_York"},
  };
  for (const auto& c : cases) {
    auto w = ParseHoursWindow(c.in);
    ASSERT_TRUE(w.ok()) << c.in << ": " << w.status();
    EXPECT_EQ(w->text, c.text);
    auto again = ParseHoursWindow(w->text);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *w);
  }
  auto w = ParseHoursWindow("Mon-Fri 07:00-18:00 Europe/Paris");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->days, 0b0011111);
  EXPECT_EQ(w->start_minute, 7 * 60);
  EXPECT_EQ(w->end_minute, 18 * 60);
}

TEST(PolicyHoursWindowTest, BadSyntaxTable) {
  struct Case {
    const char* in;
    const char* error_part;
  };
  const Case cases[] = {
      {"Mun-Fri 07:00-18:00 UTC", "bad day name 'Mun'"},
      {"Monday 07:00-18:00 UTC", "bad day name 'Monday'"},
      {"Mon-Fri-Sat 07:00-18:00 UTC", "bad day range"},
      {"Mon,,Fri 07:00-18:00 UTC", "empty day"},
      {"Mon-Fri 7:00-18:00 UTC", "bad time '7:00'"},
      {"Mon-Fri 07:60-18:00 UTC", "bad time '07:60'"},
      {"Mon-Fri 25:00-18:00 UTC", "bad time '25:00'"},
      {"Mon-Fri 24:00-06:00 UTC", "bad time '24:00'"},
      {"Mon-Fri 07:00-24:01 UTC", "bad time '24:01'"},
      {"Mon-Fri 07:00 UTC", "bad time range"},
      {"Mon-Fri 07:00-07:00 UTC", "empty time range"},
      {"Mon-Fri 07:00-18:00", "want DAYS HH:MM-HH:MM ZONE"},
      {"Mon-Fri 07:00-18:00 Europe/Paris extra", "want DAYS HH:MM-HH:MM ZONE"},
      {"", "want DAYS HH:MM-HH:MM ZONE"},
      {"Mon-Fri 07:00-18:00 Europe/Pariss", "unknown time zone 'Europe/Pariss'"},
      {"Mon-Fri 07:00-18:00 localtime", "unknown time zone 'localtime'"},
      {"Mon-Fri 07:00-18:00 ../../etc/passwd", "unknown time zone"},
      {"Mon-Fri 07:00-18:00 /usr/share/zoneinfo/UTC", "unknown time zone"},
      {"Mon-Fri 07:00-18:00 Europe", "unknown time zone 'Europe'"},
  };
  for (const auto& c : cases) {
    auto w = ParseHoursWindow(c.in);
    ASSERT_FALSE(w.ok()) << c.in;
    EXPECT_NE(std::string(w.status().message()).find(c.error_part), std::string::npos)
        << c.in << " -> " << w.status();
  }
  EXPECT_FALSE(ParseHoursWindow(std::string(200, 'M')).ok());
}

}  // namespace
}  // namespace portcullis::policy
