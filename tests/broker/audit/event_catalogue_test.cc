#include "broker/audit/event_catalogue.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "broker/audit/audit_log.h"
#include "broker/common/clock.h"
#include "tests/broker/audit/sample_events.h"
#include "tests/broker/store/store_test_util.h"

namespace portcullis::audit {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

void ExpectRefused(const AuditEvent& e, const std::string& why) {
  absl::Status st = ValidateEvent(e);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  EXPECT_THAT(std::string(st.message()), HasSubstr(why));
}

TEST(EventCatalogueTest, SortedUniqueAndComplete) {
  std::set<std::string_view> seen;
  std::string_view prev;
  for (const EventSpec& s : EventCatalogue()) {
    EXPECT_LT(prev, s.type);
    prev = s.type;
    EXPECT_TRUE(seen.insert(s.type).second) << s.type;
    EXPECT_FALSE(s.outcomes.empty()) << s.type;
    EXPECT_FALSE(s.description.empty()) << s.type;
    EXPECT_EQ(s.description.find('|'), std::string_view::npos) << s.type;  // a table cell
    std::set<std::string_view> keys;
    for (const DetailKey& k : s.details) {
      EXPECT_TRUE(keys.insert(k.name).second) << s.type << " lists " << k.name << " twice";
      // AuditLog adds K_hex itself.
      EXPECT_FALSE(k.name.size() > 4 && k.name.substr(k.name.size() - 4) == "_hex") << k.name;
    }
    EXPECT_EQ(FindEventSpec(s.type), &s);
    EXPECT_TRUE(ValidateEvent(testing::SampleEvent(std::string(s.type))).ok()) << s.type;
  }
}

TEST(EventCatalogueTest, AcceptsOptionalKeysAndEveryOutcome) {
  AuditEvent e = testing::SampleEvent("auth.login");
  e.outcome = "failure";
  e.details["reason"] = "wrong password";
  e.details["counted"] = false;
  e.details["user_bytes"] = 70u;  // unsigned is an integer too
  EXPECT_TRUE(ValidateEvent(e).ok()) << ValidateEvent(e);
  e.details = nullptr;  // no details at all: only for types without required keys
  EXPECT_FALSE(ValidateEvent(e).ok());
  AuditEvent logout = testing::SampleEvent("auth.logout");
  logout.details = nullptr;
  EXPECT_TRUE(ValidateEvent(logout).ok());
}

TEST(EventCatalogueTest, RefusesUnknownType) {
  AuditEvent e = testing::SampleEvent("auth.login");
  e.type = "auth.logon";
  ExpectRefused(e, "auth.logon is not in the event catalogue");
  e.type = "";
  ExpectRefused(e, "not in the event catalogue");
  e.type = "AUTH.LOGIN";
  ExpectRefused(e, "not in the event catalogue");
}

TEST(EventCatalogueTest, RefusesOutcomeNotListed) {
  AuditEvent e = testing::SampleEvent("policy.decision");
  e.outcome = "allow";  // policy.check's word, not policy.decision's
  ExpectRefused(e, "policy.decision: outcome allow is not allowed");
  e.outcome = "";
  ExpectRefused(e, "outcome  is not allowed");
}

TEST(EventCatalogueTest, RefusesUnknownDetailKey) {
  AuditEvent e = testing::SampleEvent("tunnel.open");
  e.details["tunnel"] = "10.0.0.1:502";  // the key is "destination"
  ExpectRefused(e, "tunnel.open: unknown detail key tunnel");
  AuditEvent hex = testing::SampleEvent("file.transfer");
  hex.details["path_hex"] = "2f";  // only AuditLog writes these
  ExpectRefused(hex, "unknown detail key path_hex");
}

TEST(EventCatalogueTest, RefusesMissingRequiredKey) {
  AuditEvent e = testing::SampleEvent("session.end");
  e.details.erase("duration_seconds");
  ExpectRefused(e, "session.end: required detail duration_seconds is missing");
  AuditEvent none = testing::SampleEvent("auth.lockout");
  none.details = nlohmann::json::object();
  ExpectRefused(none, "auth.lockout: required detail");
}

TEST(EventCatalogueTest, RefusesWronglyTypedValue) {
  AuditEvent e = testing::SampleEvent("ca.cert_issued");
  e.details["valid_before"] = 1700000300;  // an RFC 3339 string, as for login certificates
  ExpectRefused(e, "ca.cert_issued: detail valid_before must be of type string");
  e = testing::SampleEvent("session.end");
  e.details["bytes_up"] = "12";
  ExpectRefused(e, "detail bytes_up must be of type integer");
  e.details["bytes_up"] = 1.5;
  ExpectRefused(e, "detail bytes_up must be of type integer");
  e = testing::SampleEvent("recording.hold");
  e.details["hold"] = 1;
  ExpectRefused(e, "detail hold must be of type boolean");
  e = testing::SampleEvent("admin.user_add");
  e.details["roles"] = nlohmann::json::array({"ops", 3});
  ExpectRefused(e, "detail roles must be of type string array");
  e.details["roles"] = "ops";
  ExpectRefused(e, "detail roles must be of type string array");
  e = testing::SampleEvent("admin.target_add");
  e.details["labels"] = {{"site", {{"nested", "x"}}}};
  ExpectRefused(e, "detail labels must be of type object");
}

TEST(EventCatalogueTest, RefusesDetailsThatAreNotAnObject) {
  AuditEvent e = testing::SampleEvent("auth.logout");
  e.details = nlohmann::json::array({1});
  ExpectRefused(e, "details must be a JSON object");
}

TEST(EventCatalogueTest, MessageNamesKeysNeverValues) {
  AuditEvent e = testing::SampleEvent("target.secret_set");
  e.details["password"] = "hunter2-secret";
  absl::Status st = ValidateEvent(e);
  EXPECT_THAT(std::string(st.message()), HasSubstr("unknown detail key password"));
  EXPECT_THAT(std::string(st.message()), Not(HasSubstr("hunter2")));
}

// AuditLog::Append applies the catalogue: a refused event leaves no row.
class AppendRefusalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    auto db = store::Database::Open(dir_.Join("p.db"), &clock_);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    log_ = std::make_unique<AuditLog>(db_.get(), &clock_, dir_.Join("audit.anchor"));
  }
  store::testing::TempDir dir_;
  FakeClock clock_{1'700'000'000};
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<AuditLog> log_;
};

TEST_F(AppendRefusalTest, ValidEventIsAppended) {
  EXPECT_TRUE(log_->Append(testing::SampleEvent("auth.logout")).ok());
}

TEST_F(AppendRefusalTest, OffCatalogueEventIsRefusedOrAborts) {
  AuditEvent bad = testing::SampleEvent("session.end");
  bad.details["bytes_sideways"] = 1;
  if (AbortOnCatalogueViolation()) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_DEATH((void)log_->Append(bad), "unknown detail key bytes_sideways");
  } else {
    EXPECT_EQ(log_->Append(bad).status().code(), absl::StatusCode::kInvalidArgument);
  }
  auto rows = log_->List({});
  ASSERT_TRUE(rows.ok());
  EXPECT_TRUE(rows->empty());
}

}  // namespace
}  // namespace portcullis::audit
