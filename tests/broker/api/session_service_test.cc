// SessionService and the session side of UserService (disable/delete end
// live sessions), against the real services and registry.
#include <gtest/gtest.h>

#include "tests/broker/api/api_harness.h"

namespace portcullis::testing {
namespace {

using session::EndReason;

class SessionServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(h_.ok()) << h_.env().init_status();
    ASSERT_NO_FATAL_FAILURE(h_.AddUser("bob"));
    ASSERT_NO_FATAL_FAILURE(h_.AddUser("carol"));
    auto& reg = h_.broker().sessions();
    session::SessionInfo bob{"", "bob", "maint", "rtu-01", "ssh", "10.0.0.7:50022", "vendor",
                             h_.env().clock().Now(), h_.env().clock().Now() + std::chrono::hours(2)};
    bob_reg_ = reg.Register(bob, &bob_session_);
    session::SessionInfo carol{"", "carol", "root", "hmi-02", "ssh", "10.0.0.8:40000", "ops",
                               h_.env().clock().Now() + std::chrono::seconds(5), std::nullopt};
    carol_reg_ = reg.Register(carol, &carol_session_);
    stub_ = v1::SessionService::NewStub(h_.channel());
    users_ = v1::UserService::NewStub(h_.channel());
  }

  std::vector<v1::Session> List(const std::string& token, grpc::StatusCode want = grpc::OK) {
    v1::ListSessionsResponse resp;
    grpc::Status st = stub_->ListSessions(ApiHarness::Ctx(token).get(), {}, &resp);
    EXPECT_EQ(st.error_code(), want) << st.error_message();
    return {resp.sessions().begin(), resp.sessions().end()};
  }
  grpc::Status Kill(const std::string& token, const std::string& id) {
    v1::KillSessionRequest req;
    req.set_id(id);
    v1::KillSessionResponse resp;
    return stub_->KillSession(ApiHarness::Ctx(token).get(), req, &resp);
  }

  ApiHarness h_;
  FakeSession bob_session_{1234, 56789};
  FakeSession carol_session_{1, 2};
  session::SessionRegistry::Registration bob_reg_, carol_reg_;
  std::unique_ptr<v1::SessionService::Stub> stub_;
  std::unique_ptr<v1::UserService::Stub> users_;
};

TEST_F(SessionServiceTest, AdminSeesEverySessionWithItsFields) {
  auto all = List(h_.Token("alice"));
  ASSERT_EQ(all.size(), 2u);
  const v1::Session& s = all[0];  // oldest first
  EXPECT_EQ(s.id(), bob_reg_.id());
  EXPECT_EQ(s.id().size(), 12u);
  EXPECT_EQ(s.user(), "bob");
  EXPECT_EQ(s.login(), "maint");
  EXPECT_EQ(s.target(), "rtu-01");
  EXPECT_EQ(s.protocol(), "ssh");
  EXPECT_EQ(s.source(), "10.0.0.7:50022");
  EXPECT_EQ(s.started_at().seconds(), h_.env().clock().NowUnix());
  EXPECT_EQ(s.bytes_up(), 1234u);
  EXPECT_EQ(s.bytes_down(), 56789u);
  ASSERT_TRUE(s.has_deadline());
  EXPECT_EQ(s.deadline().seconds(), h_.env().clock().NowUnix() + 7200);
  EXPECT_EQ(all[1].user(), "carol");
  EXPECT_FALSE(all[1].has_deadline());
}

TEST_F(SessionServiceTest, NonAdminSeesOnlyTheirOwn) {
  auto mine = List(h_.Token("bob"));
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0].user(), "bob");
  ASSERT_NO_FATAL_FAILURE(h_.AddUser("dave"));
  EXPECT_TRUE(List(h_.Token("dave")).empty());
  List("", grpc::UNAUTHENTICATED);
  List("forged-token", grpc::UNAUTHENTICATED);
}

TEST_F(SessionServiceTest, KillIsAdminOnlyAndEndsTheSessionThroughTheRegistry) {
  grpc::Status refused = Kill(h_.Token("bob"), bob_reg_.id());
  EXPECT_EQ(refused.error_code(), grpc::PERMISSION_DENIED);
  EXPECT_TRUE(bob_session_.ends().empty());

  grpc::Status st = Kill(h_.Token("alice"), bob_reg_.id());
  ASSERT_TRUE(st.ok()) << st.error_message();
  auto ends = bob_session_.ends();
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(ends[0].first, EndReason::kKilled);
  EXPECT_EQ(ends[0].second, "portcullis: session ended by administrator alice.");
  EXPECT_TRUE(carol_session_.ends().empty());

  auto rows = h_.Audit("session.kill");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].event.actor, "alice");
  EXPECT_EQ(rows[0].event.subject, bob_reg_.id());
  EXPECT_EQ(rows[0].event.outcome, "success");
  EXPECT_EQ(rows[0].event.details["user"], "bob");
  EXPECT_EQ(rows[0].event.details["target"], "rtu-01");
  EXPECT_EQ(rows[0].event.details["login"], "maint");
}

TEST_F(SessionServiceTest, KillUnknownIsNotFoundAndNotAudited) {
  const std::string admin = h_.Token("alice");
  for (const std::string& id : {std::string("0123456789ab"), std::string(""),
                                std::string(500, 'a'), std::string("\x1b[2J")}) {
    grpc::Status st = Kill(admin, id);
    EXPECT_EQ(st.error_code(), grpc::NOT_FOUND) << id;
    EXPECT_EQ(st.error_message().find('\x1b'), std::string::npos);
  }
  EXPECT_EQ(Kill(admin, "0123456789ab").error_message(), "no live session 0123456789ab");
  EXPECT_TRUE(h_.Audit("session.kill").empty());
  // A session that has ended is gone.
  const std::string id = carol_reg_.id();
  carol_reg_ = {};
  EXPECT_EQ(Kill(admin, id).error_code(), grpc::NOT_FOUND);
}

TEST_F(SessionServiceTest, DisablingAUserEndsTheirSessionsAtOnce) {
  v1::SetUserDisabledRequest req;
  req.set_name("bob");
  req.set_disabled(true);
  v1::SetUserDisabledResponse resp;
  grpc::Status st = users_->SetUserDisabled(ApiHarness::Ctx(h_.Token("alice")).get(), req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  auto ends = bob_session_.ends();
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(ends[0].first, EndReason::kUserDisabled);
  EXPECT_EQ(ends[0].second,
            "portcullis: your account was disabled by an administrator; closing.");
  EXPECT_TRUE(carol_session_.ends().empty());
  auto rows = h_.Audit("admin.user_disable");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].event.details["sessions_ended"], 1);

  // Enabling again ends nothing.
  req.set_disabled(false);
  st = users_->SetUserDisabled(ApiHarness::Ctx(h_.Token("alice")).get(), req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(bob_session_.ends().size(), 1u);
  EXPECT_EQ(h_.Audit("admin.user_enable")[0].event.details, nlohmann::json::object());
}

TEST_F(SessionServiceTest, DeletingAUserEndsTheirSessions) {
  v1::DeleteUserRequest req;
  req.set_name("carol");
  v1::DeleteUserResponse resp;
  grpc::Status st = users_->DeleteUser(ApiHarness::Ctx(h_.Token("alice")).get(), req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  auto ends = carol_session_.ends();
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(ends[0].first, EndReason::kUserDisabled);
  EXPECT_TRUE(bob_session_.ends().empty());
  EXPECT_EQ(h_.Audit("admin.user_delete")[0].event.details["sessions_ended"], 1);
}

TEST_F(SessionServiceTest, NonAdminCannotDisableOthers) {
  v1::SetUserDisabledRequest req;
  req.set_name("carol");
  req.set_disabled(true);
  v1::SetUserDisabledResponse resp;
  grpc::Status st = users_->SetUserDisabled(ApiHarness::Ctx(h_.Token("bob")).get(), req, &resp);
  EXPECT_EQ(st.error_code(), grpc::PERMISSION_DENIED);
  EXPECT_TRUE(carol_session_.ends().empty());
}

}  // namespace
}  // namespace portcullis::testing
