// The audit log end to end: every login, decision and admin change is a
// row; the chain recomputes from `audit ls --json` alone as documented in
// broker/audit/audit_log.h; tampering with the database behind a stopped
// broker is reported by `audit verify` (exit 3) with the first bad row.

#include <gmock/gmock.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "broker/common/encoding.h"
#include "tests/integration/broker_fixture.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kRoleYaml[] = R"(kind: role
name: operators
allow:
  targets: {site: plant-a}
  logins: [op]
  protocols: [ssh]
)";

class AuditTest : public BrokerTest {
 protected:
  // Admin logged in; then one of each: failed login, role, user, target,
  // allowed and denied policy check, target removal.
  void StartAndDoOneOfEach() {
    ASSERT_NO_FATAL_FAILURE(StartBrokerAndLoginAdmin());
    CommandResult bad = broker().Login(broker().Home("mallory"), "alice", "not-the-password-1",
                                       TotpCode(broker().admin_totp_secret(), 1));
    ASSERT_EQ(bad.exit_code, 1) << Describe(bad);
    const std::string role = broker().Join("operators.yaml");
    ASSERT_TRUE(WriteWholeFile(role, kRoleYaml).ok());
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"roles", "apply", "-f", role},
             {"targets", "add", "hmi-1", "--address", "10.0.0.1:22", "--protocol", "ssh",
              "--label", "site=plant-a"},
             {"targets", "add", "hmi-2", "--address", "10.0.0.2:22", "--protocol", "ssh"},
             {"targets", "rm", "hmi-2"}}) {
      CommandResult r = Admin(args);
      ASSERT_EQ(r.exit_code, 0) << args[0] << "\n" << Describe(r);
    }
    ASSERT_TRUE(broker().AddUser("carol", "carol-operator-pw-1", {"operators"}).ok());
    CommandResult allow = Admin({"policy", "check", "--user", "carol", "--target", "hmi-1"});
    ASSERT_EQ(allow.exit_code, 0) << Describe(allow);
    CommandResult deny =
        Admin({"policy", "check", "--user", "carol", "--target", "hmi-1", "--login", "root"});
    ASSERT_EQ(deny.exit_code, 3) << Describe(deny);
  }

  nlohmann::json AuditJson() {
    CommandResult r = Admin({"audit", "ls", "--json"});
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_TRUE(j.is_array()) << r.out;
    return j.is_array() ? j : nlohmann::json::array();
  }

  // seq of the first event with this type and outcome; 0 if none.
  int64_t SeqOf(const nlohmann::json& events, const std::string& type,
                const std::string& outcome) {
    for (const auto& e : events) {
      if (e["type"] == type && e["outcome"] == outcome) return e["seq"].get<int64_t>();
    }
    return 0;
  }

  CommandResult Sql(const std::string& sql) {
    return RunCommand({"sqlite3", broker().db_path(), sql});
  }

  void ExpectVerifyOk() {
    CommandResult v = Admin({"audit", "verify"});
    EXPECT_EQ(v.exit_code, 0) << Describe(v);
    EXPECT_THAT(v.out, HasSubstr("chain intact"));
  }

  // Stops the broker, runs `sql` on its database, starts it again.
  void TamperWhileStopped(const std::string& sql) {
    auto stop = broker().Stop();
    ASSERT_TRUE(stop.ok()) << stop;
    CommandResult r = Sql(sql);
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
    ASSERT_EQ(r.err, "");
    auto start = broker().Start();
    ASSERT_TRUE(start.ok()) << start;
  }
};

int Count(const nlohmann::json& events, const std::string& type, const std::string& outcome,
          const std::string& subject = "") {
  int n = 0;
  for (const auto& e : events) {
    n += e["type"] == type && e["outcome"] == outcome &&
         (subject.empty() || e["subject"] == subject);
  }
  return n;
}

TEST_F(AuditTest, EveryActionIsAnEventAndTheChainRecomputes) {
  ASSERT_NO_FATAL_FAILURE(StartAndDoOneOfEach());
  nlohmann::json events = AuditJson();
  ASSERT_FALSE(events.empty());
  const std::string dump = events.dump(1);

  EXPECT_EQ(Count(events, "broker.init", "success"), 1) << dump;
  EXPECT_EQ(Count(events, "broker.start", "success"), 1) << dump;
  EXPECT_EQ(Count(events, "auth.login", "success", "alice"), 1) << dump;
  EXPECT_EQ(Count(events, "auth.login", "failure", "alice"), 1) << dump;
  EXPECT_EQ(Count(events, "admin.user_add", "success", "alice"), 1) << dump;  // by init
  EXPECT_EQ(Count(events, "admin.user_add", "success", "carol"), 1) << dump;
  EXPECT_EQ(Count(events, "admin.role_apply", "success", "operators"), 1) << dump;
  EXPECT_EQ(Count(events, "admin.target_add", "success", "hmi-1"), 1) << dump;
  EXPECT_EQ(Count(events, "admin.target_add", "success", "hmi-2"), 1) << dump;
  EXPECT_EQ(Count(events, "admin.target_remove", "success", "hmi-2"), 1) << dump;
  EXPECT_EQ(Count(events, "policy.check", "allow", "carol->hmi-1"), 1) << dump;
  EXPECT_EQ(Count(events, "policy.check", "deny", "carol->hmi-1"), 1) << dump;
  for (const auto& e : events) {
    if (e["type"].get<std::string>().rfind("admin.", 0) == 0 && e["actor"] != "system") {
      EXPECT_EQ(e["actor"], "alice") << e.dump();
      EXPECT_THAT(e["source"].get<std::string>(), HasSubstr("127.0.0.1")) << e.dump();
    }
  }

  // The chain, recomputed from the listing as a reviewer would.
  std::string prev(64, '0');
  int64_t expected_seq = 1;
  for (const auto& e : events) {
    EXPECT_EQ(e["seq"].get<int64_t>(), expected_seq++) << e.dump();
    EXPECT_EQ(e["prev_hash"], prev) << e.dump();
    nlohmann::json canonical = {{"actor", e["actor"]},     {"details", e["details"]},
                                {"outcome", e["outcome"]}, {"seq", e["seq"]},
                                {"source", e["source"]},   {"subject", e["subject"]},
                                {"time", e["time"]},       {"type", e["type"]}};
    std::string hash = HexEncode(Sha256(prev + "\n" + canonical.dump()));
    EXPECT_EQ(e["hash"], hash) << e.dump();
    prev = e["hash"].get<std::string>();
  }
  ExpectVerifyOk();
}

TEST_F(AuditTest, ConcurrentClientsKeepTheChainLinear) {
  ASSERT_NO_FATAL_FAILURE(StartAndDoOneOfEach());
  constexpr int kThreads = 6, kPerThread = 3;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        CommandResult r = Admin({"policy", "check", "--user", "carol", "--target", "hmi-1"});
        if (r.exit_code != 0) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  nlohmann::json events = AuditJson();
  EXPECT_EQ(Count(events, "policy.check", "allow", "carol->hmi-1"), 1 + kThreads * kPerThread);
  ExpectVerifyOk();
}

TEST_F(AuditTest, TriggersRefuseEditsEvenWithFileAccess) {
  ASSERT_NO_FATAL_FAILURE(StartAndDoOneOfEach());
  auto stop = broker().Stop();
  ASSERT_TRUE(stop.ok()) << stop;
  CommandResult edit = Sql("UPDATE audit_log SET outcome = 'success' WHERE seq = 2;");
  EXPECT_NE(edit.exit_code, 0);
  EXPECT_THAT(edit.err, HasSubstr("append-only"));
  CommandResult del = Sql("DELETE FROM audit_log WHERE seq = 2;");
  EXPECT_NE(del.exit_code, 0);
  EXPECT_THAT(del.err, HasSubstr("append-only"));
  auto start = broker().Start();
  ASSERT_TRUE(start.ok()) << start;
  ExpectVerifyOk();
}

TEST_F(AuditTest, EditedRowIsNamed) {
  ASSERT_NO_FATAL_FAILURE(StartAndDoOneOfEach());
  ExpectVerifyOk();
  const int64_t seq = SeqOf(AuditJson(), "auth.login", "failure");
  ASSERT_GT(seq, 1);
  ASSERT_NO_FATAL_FAILURE(TamperWhileStopped(
      fmt::format("DROP TRIGGER audit_log_no_update; "
                  "UPDATE audit_log SET outcome = 'success' WHERE seq = {};",
                  seq)));
  CommandResult v = Admin({"audit", "verify"});
  EXPECT_EQ(v.exit_code, 3) << Describe(v);
  EXPECT_EQ(v.out, fmt::format("BROKEN at event {}: row {}: hash mismatch (row edited)\n", seq, seq));
}

TEST_F(AuditTest, DeletedMiddleRowIsNamed) {
  ASSERT_NO_FATAL_FAILURE(StartAndDoOneOfEach());
  ExpectVerifyOk();
  const int64_t seq = SeqOf(AuditJson(), "policy.check", "deny");
  ASSERT_GT(seq, 1);
  ASSERT_NO_FATAL_FAILURE(TamperWhileStopped(fmt::format(
      "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = {};", seq)));
  CommandResult v = Admin({"audit", "verify"});
  EXPECT_EQ(v.exit_code, 3) << Describe(v);
  EXPECT_THAT(v.out, StartsWith(fmt::format("BROKEN at event {}: row {}: sequence gap", seq, seq)));
}

TEST_F(AuditTest, DeletedTailRowsStayDetectedAfterRestartAndNewEvents) {
  ASSERT_NO_FATAL_FAILURE(StartAndDoOneOfEach());
  ExpectVerifyOk();
  const int64_t last = AuditJson().back()["seq"].get<int64_t>();
  // The broker.stop row and the two before it disappear; restarting appends
  // broker.start, which must not re-seal the shortened chain.
  ASSERT_NO_FATAL_FAILURE(TamperWhileStopped(
      fmt::format("DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq >= {};",
                  last - 1)));
  CommandResult v = Admin({"audit", "verify"});
  EXPECT_EQ(v.exit_code, 3) << Describe(v);
  EXPECT_THAT(v.out, HasSubstr("BROKEN at event"));
  EXPECT_THAT(v.out, HasSubstr(fmt::format("anchor says {}", last + 1)));
  // More events later do not hide it either.
  for (int i = 0; i < 5; ++i) {
    CommandResult c = Admin({"policy", "check", "--user", "carol", "--target", "hmi-1"});
    ASSERT_EQ(c.exit_code, 0) << Describe(c);
  }
  v = Admin({"audit", "verify"});
  EXPECT_EQ(v.exit_code, 3) << Describe(v);
  EXPECT_THAT(v.out, HasSubstr(fmt::format("BROKEN at event {}: chain head mismatch", last + 1)));
}

}  // namespace
}  // namespace portcullis::testing
