// The CLI's replay pacing: event times, --speed, --skip-idle, --from, bytes
// split anywhere, a torn last line, and the time formats of --from.
#include "broker/cli/recording_player.h"

#include <gtest/gtest.h>

#include <vector>

namespace portcullis::cli {
namespace {

constexpr char kCast[] =
    R"({"version": 2, "width": 80, "height": 24, "timestamp": 1795424400})"
    "\n"
    "[0.500000, \"o\", \"a\"]\n"
    "[1.000000, \"i\", \"typed\"]\n"
    "[2.000000, \"o\", \"b\"]\n"
    "[2.000000, \"r\", \"100x40\"]\n"
    "[12.000000, \"o\", \"c\"]\n"
    "[12.250000, \"m\", \"end: client-closed\"]\n";

struct Replay {
  std::string out;
  std::vector<int64_t> sleeps;  // microseconds
  absl::Status status;
};

Replay Play(PlayOptions opts, std::string_view bytes, size_t split = 0) {
  Replay run;
  CastPlayer p(
      opts, [&](std::string_view s) { run.out.append(s); },
      [&](std::chrono::microseconds d) { run.sleeps.push_back(d.count()); });
  if (split == 0) {
    run.status = p.Feed(bytes);
  } else {
    for (size_t i = 0; i < bytes.size() && run.status.ok(); i += split) {
      run.status = p.Feed(bytes.substr(i, split));
    }
  }
  if (run.status.ok()) run.status = p.Finish();
  return run;
}

TEST(CastPlayerTest, PacesOutputByEventTimes) {
  Replay r = Play({}, kCast);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.out, "abc");  // input, resize and marker events are not written
  EXPECT_EQ(r.sleeps, (std::vector<int64_t>{500'000, 500'000, 1'000'000, 10'000'000, 250'000}));
}

TEST(CastPlayerTest, SpeedAndSkipIdle) {
  PlayOptions fast;
  fast.speed = 2;
  EXPECT_EQ(Play(fast, kCast).sleeps,
            (std::vector<int64_t>{250'000, 250'000, 500'000, 5'000'000, 125'000}));
  PlayOptions idle;
  idle.skip_idle = true;
  EXPECT_EQ(Play(idle, kCast).sleeps,
            (std::vector<int64_t>{500'000, 500'000, 1'000'000, 1'000'000, 250'000}));
}

TEST(CastPlayerTest, FromWritesWhatCameBeforeAtOnce) {
  PlayOptions from;
  from.from_micros = 10'000'000;
  Replay r = Play(from, kCast);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.out, "abc");
  EXPECT_EQ(r.sleeps, (std::vector<int64_t>{2'000'000, 250'000}));
}

TEST(CastPlayerTest, BytesSplitAnywhere) {
  for (size_t split : {1, 2, 7, 64}) {
    Replay r = Play({}, kCast, split);
    ASSERT_TRUE(r.status.ok()) << split << ": " << r.status;
    EXPECT_EQ(r.out, "abc") << split;
    EXPECT_EQ(r.sleeps.size(), 5u) << split;
  }
}

TEST(CastPlayerTest, ATornLastLineIsIgnored) {
  std::string cut = std::string(kCast) + "[13.0000";
  Replay r = Play({}, cut);
  EXPECT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.out, "abc");
}

TEST(CastPlayerTest, BadInputIsAnError) {
  EXPECT_FALSE(Play({}, "").status.ok());
  EXPECT_FALSE(Play({}, "not json\n").status.ok());
  const std::string header = std::string(kCast).substr(0, std::string(kCast).find('\n') + 1);
  Replay bad = Play({}, header + "[1.0, \"o\"]\n");
  EXPECT_FALSE(bad.status.ok());
  EXPECT_NE(std::string(bad.status.message()).find("line 2"), std::string::npos) << bad.status;
}

TEST(PlayOffsetTest, Formats) {
  EXPECT_EQ(*ParsePlayOffset("90"), 90'000'000);
  EXPECT_EQ(*ParsePlayOffset("1.5"), 1'500'000);
  EXPECT_EQ(*ParsePlayOffset("59:00"), 3'540'000'000);
  EXPECT_EQ(*ParsePlayOffset("1:02:03"), 3'723'000'000);
  EXPECT_EQ(*ParsePlayOffset("0:00:01.25"), 1'250'000);
  for (const char* bad : {"", ":", "1:", ":30", "1:60", "1:2:3:4", "-5", "1.2.3", "1.5:00", "ab",
                          "1 :00", "."}) {
    EXPECT_FALSE(ParsePlayOffset(bad).ok()) << bad;
  }
  EXPECT_EQ(FormatSessionTime(83'500'000), "00:01:23");
  EXPECT_EQ(FormatSessionTime(3'723'000'000), "01:02:03");
  EXPECT_EQ(FormatSessionTime(-1), "00:00:00");
}

}  // namespace
}  // namespace portcullis::cli
