// The session registry's max_session watchdog, kill and user-disable paths,
// driven by a FakeClock through Tick() (no real sleeping).

#include "broker/session/session_registry.h"

#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace portcullis::session {
namespace {

class FakeSession final : public LiveSession {
 public:
  void RequestEnd(EndReason reason, std::string notice) override {
    std::lock_guard<std::mutex> lock(mu);
    ends.emplace_back(reason, std::move(notice));
  }
  void Notify(std::string line) override {
    std::lock_guard<std::mutex> lock(mu);
    notices.push_back(std::move(line));
  }
  uint64_t BytesUp() const override { return 11; }
  uint64_t BytesDown() const override { return 22; }

  std::mutex mu;
  std::vector<std::pair<EndReason, std::string>> ends;
  std::vector<std::string> notices;
};

SessionInfo Info(const std::string& user, std::optional<TimePoint> deadline) {
  SessionInfo info;
  info.user = user;
  info.login = "root";
  info.target = "plc-01";
  info.protocol = "ssh";
  info.source = "127.0.0.1:40000";
  info.role = "ops";
  info.deadline = deadline;
  return info;
}

class SessionRegistryTest : public ::testing::Test {
 protected:
  FakeClock clock_{1'800'000'000};
  SessionRegistry registry_{&clock_};
};

TEST_F(SessionRegistryTest, MaxSessionWarnsOnceAMinuteBeforeThenEndsOnce) {
  FakeSession s;
  auto reg = registry_.Register(Info("bob", clock_.Now() + std::chrono::minutes(5)), &s);
  registry_.Tick();
  EXPECT_TRUE(s.notices.empty());
  EXPECT_TRUE(s.ends.empty());

  clock_.Advance(std::chrono::minutes(3) + std::chrono::seconds(59));  // 61 s left
  registry_.Tick();
  EXPECT_TRUE(s.notices.empty());

  clock_.Advance(std::chrono::seconds(1));  // 60 s left: the notice
  registry_.Tick();
  ASSERT_EQ(s.notices.size(), 1u);
  EXPECT_NE(s.notices[0].find("this session ends at"), std::string::npos) << s.notices[0];
  EXPECT_NE(s.notices[0].find("max_session"), std::string::npos);
  EXPECT_EQ(s.notices[0].find('\n'), std::string::npos);  // one line
  registry_.Tick();
  clock_.Advance(std::chrono::seconds(30));
  registry_.Tick();
  EXPECT_EQ(s.notices.size(), 1u) << "the notice is sent once";
  EXPECT_TRUE(s.ends.empty());

  clock_.Advance(std::chrono::seconds(30));  // the deadline itself
  registry_.Tick();
  ASSERT_EQ(s.ends.size(), 1u);
  EXPECT_EQ(s.ends[0].first, EndReason::kMaxSession);
  registry_.Tick();
  clock_.Advance(std::chrono::hours(1));
  registry_.Tick();
  EXPECT_EQ(s.ends.size(), 1u) << "the end is asked once";
  // Still listed until the session unregisters (it is ending).
  EXPECT_EQ(registry_.Count(), 1u);
}

TEST_F(SessionRegistryTest, AClockThatJumpsPastTheDeadlineEndsWithoutANotice) {
  FakeSession s;
  auto reg = registry_.Register(Info("bob", clock_.Now() + std::chrono::minutes(5)), &s);
  clock_.Advance(std::chrono::minutes(10));
  registry_.Tick();
  EXPECT_TRUE(s.notices.empty());
  ASSERT_EQ(s.ends.size(), 1u);
  EXPECT_EQ(s.ends[0].first, EndReason::kMaxSession);
}

TEST_F(SessionRegistryTest, NoDeadlineNeverEnds) {
  FakeSession s;
  auto reg = registry_.Register(Info("bob", std::nullopt), &s);
  for (int i = 0; i < 10; ++i) {
    clock_.Advance(std::chrono::hours(24 * 30));
    registry_.Tick();
  }
  EXPECT_TRUE(s.notices.empty());
  EXPECT_TRUE(s.ends.empty());
}

TEST_F(SessionRegistryTest, AKilledSessionIsNotEndedAgainByItsDeadline) {
  FakeSession s;
  auto reg = registry_.Register(Info("bob", clock_.Now() + std::chrono::minutes(1)), &s);
  ASSERT_TRUE(registry_.Kill(reg.id(), "killed by alice").ok());
  clock_.Advance(std::chrono::minutes(2));
  registry_.Tick();
  ASSERT_EQ(s.ends.size(), 1u);
  EXPECT_EQ(s.ends[0].first, EndReason::kKilled);
  EXPECT_EQ(s.ends[0].second, "killed by alice");
}

TEST_F(SessionRegistryTest, ReRegisteringKeepsTheIdAndTheNewDeadlineCounts) {
  // A menu session registers without a target, then again once one is
  // chosen (with the role's deadline).
  FakeSession s;
  auto reg = registry_.Register(Info("bob", std::nullopt), &s);
  const std::string id = reg.id();
  SessionInfo chosen = Info("bob", clock_.Now() + std::chrono::seconds(90));
  chosen.id = id;
  reg = {};
  reg = registry_.Register(chosen, &s);
  EXPECT_EQ(reg.id(), id);
  EXPECT_EQ(registry_.Count(), 1u);
  clock_.Advance(std::chrono::seconds(90));
  registry_.Tick();
  ASSERT_EQ(s.ends.size(), 1u);
  EXPECT_EQ(s.ends[0].first, EndReason::kMaxSession);
}

TEST_F(SessionRegistryTest, KillOfAnUnknownOrEndedSessionIsNotFound) {
  EXPECT_EQ(registry_.Kill("000000000000", "x").code(), absl::StatusCode::kNotFound);
  FakeSession s;
  std::string id;
  {
    auto reg = registry_.Register(Info("bob", std::nullopt), &s);
    id = reg.id();
    EXPECT_TRUE(registry_.Get(id).has_value());
  }
  EXPECT_FALSE(registry_.Get(id).has_value());
  EXPECT_EQ(registry_.Kill(id, "x").code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(s.ends.empty());
}

TEST_F(SessionRegistryTest, UserDisableEndsOnlyThatUsersSessions) {
  FakeSession bob1, bob2, eve;
  auto r1 = registry_.Register(Info("bob", std::nullopt), &bob1);
  auto r2 = registry_.Register(Info("bob", std::nullopt), &bob2);
  auto r3 = registry_.Register(Info("eve", std::nullopt), &eve);
  EXPECT_EQ(registry_.EndUserSessions("bob", EndReason::kUserDisabled, "disabled"), 2);
  ASSERT_EQ(bob1.ends.size(), 1u);
  ASSERT_EQ(bob2.ends.size(), 1u);
  EXPECT_EQ(bob1.ends[0].first, EndReason::kUserDisabled);
  EXPECT_TRUE(eve.ends.empty());
  const auto list = registry_.List();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].bytes_up, 11u);
  EXPECT_EQ(list[0].bytes_down, 22u);
}

TEST_F(SessionRegistryTest, IdsAreUniqueAndTwelveHexDigits) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    std::string id = registry_.NewId();
    ASSERT_EQ(id.size(), 12u);
    ASSERT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 1000u);
}

}  // namespace
}  // namespace portcullis::session
