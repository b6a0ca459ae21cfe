// Admitter against fakes: each denial reason, the one policy.decision
// schema, the credential and host-key steps, and failing closed when the
// audit log cannot be written. The policy engine is the real one.
#include "broker/session/admission.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <set>

#include "auth/policy/role_parser.h"
#include "broker/audit/event_catalogue.h"
#include "broker/common/time_format.h"

namespace portcullis::session {
namespace {

using ::testing::HasSubstr;

constexpr char kRoles[] = R"(kind: role
name: vendor
allow:
  targets: {site: plant-a}
  logins: [maint]
  protocols: [ssh, vnc]
  tunnels: ["127.0.0.1:502"]
  hours: "Mon-Fri 07:00-18:00 UTC"
deny:
  targets: {zone: safety}
---
kind: role
name: approver-needed
allow:
  targets: {site: plant-b}
  logins: [eng]
  protocols: [ssh]
options: {require_approval: true}
)";

class FakeTargets final : public TargetDirectory {
 public:
  void Add(AccessTarget t) { targets_[t.name] = std::move(t); }
  absl::StatusOr<AccessTarget> Get(std::string_view name) override {
    if (fail_) return absl::InternalError("store down");
    auto it = targets_.find(std::string(name));
    if (it == targets_.end()) return absl::NotFoundError("no such target");
    return it->second;
  }
  absl::StatusOr<std::vector<AccessTarget>> List() override {
    std::vector<AccessTarget> out;
    for (auto& [n, t] : targets_) out.push_back(t);
    return out;
  }
  absl::Status PinHostKey(std::string_view name, std::string_view key) override {
    auto it = targets_.find(std::string(name));
    if (it == targets_.end()) return absl::NotFoundError("gone");
    if (!it->second.host_key.empty() && it->second.host_key != key)
      return absl::FailedPreconditionError("another host key is pinned");
    it->second.host_key = std::string(key);
    return absl::OkStatus();
  }
  bool fail_ = false;
  std::map<std::string, AccessTarget> targets_;
};

class FakeAuthority final : public Authority {
 public:
  FakeAuthority() {
    auto parsed = policy::ParseRolesYaml(kRoles, "admission_test.yaml");
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    if (parsed.ok())
      for (auto& r : *parsed) roles_.emplace(r.name, std::move(r));
  }
  policy::Decision Decide(const policy::AccessRequest& req) override {
    return policy::Decide(roles_, req);
  }
  bool CanSee(const std::vector<std::string>& names, const policy::TargetInfo& t) override {
    return policy::CanSeeTarget(roles_, names, t);
  }
  absl::StatusOr<ca::IssuedCertificate> IssueTargetCertificate(
      const ca::TargetCertRequest& req) override {
    last_cert_request = req;
    ca::IssuedCertificate c;
    c.serial = 42;
    c.key_id = "kid";
    c.valid_before = 99;
    return c;
  }
  std::string SshUserCaLine() const override { return ""; }
  absl::StatusOr<ca::IssuedCertificate> IssueLoginCertificate(const ca::LoginBinding&,
                                                              std::string_view,
                                                              std::chrono::seconds) override {
    return absl::UnimplementedError("");
  }
  absl::Status VerifyLoginCertificate(std::string_view, std::string_view) override {
    return absl::UnimplementedError("");
  }
  absl::StatusOr<std::string> SignRecordingSeal(std::string_view) override {
    return absl::UnimplementedError("");
  }
  std::string RecordingPublicKey() const override { return ""; }
  absl::StatusOr<VaultedSecret> OpenTargetSecret(std::string_view target,
                                                 std::string_view login) override {
    opened.emplace_back(target, login);
    auto it = passwords.find(std::string(target) + "/" + std::string(login));
    if (it == passwords.end()) return absl::NotFoundError("no secret vaulted");
    VaultedSecret v;
    v.kind = SecretKind::kPassword;
    auto bytes = SecretBytes::FromString(it->second);
    if (!bytes.ok()) return bytes.status();
    v.secret = std::move(*bytes);
    return v;
  }
  ca::TargetCertRequest last_cert_request;
  // "target/login" -> password; and each (target, login) asked for.
  std::map<std::string, std::string> passwords;
  std::vector<std::pair<std::string, std::string>> opened;

 private:
  std::map<std::string, policy::Role> roles_;
};

class FakeAudit final : public audit::AuditWriter {
 public:
  absl::StatusOr<int64_t> Append(const audit::AuditEvent& e) override {
    if (fail) return absl::InternalError("disk full");
    // The same check AuditLog::Append makes.
    if (absl::Status st = audit::ValidateEvent(e); !st.ok()) {
      ADD_FAILURE() << st;
      return st;
    }
    events.push_back(e);
    return static_cast<int64_t>(events.size());
  }
  std::vector<audit::AuditEvent> OfType(std::string_view type) const {
    std::vector<audit::AuditEvent> out;
    for (const auto& e : events)
      if (e.type == type) out.push_back(e);
    return out;
  }
  bool fail = false;
  std::vector<audit::AuditEvent> events;
};

class FakeRecorders final : public RecorderFactory {
 public:
  absl::StatusOr<std::unique_ptr<TerminalRecorder>> OpenTerminal(const RecordingInfo&) override {
    return absl::UnimplementedError("");
  }
  absl::Status Ready() override { return ready; }
  absl::Status ready = absl::OkStatus();
};

// Monday 2026-03-30 10:00 UTC, inside the vendor's hours.
constexpr int64_t kMonday10 = 1774864800;

class AdmissionTest : public ::testing::Test {
 protected:
  AdmissionTest() : clock_(kMonday10) {
    targets_.Add({"rtu-01", "127.0.0.1:2022", "ssh", {{"site", "plant-a"}}, "", "modern"});
    targets_.Add({"sis-01", "127.0.0.1:2023", "ssh", {{"site", "plant-a"}, {"zone", "safety"}},
                  "", "modern"});
    targets_.Add({"hmi-01", "127.0.0.1:5901", "vnc", {{"site", "plant-a"}}, "", "modern"});
    targets_.Add({"plc-b", "127.0.0.1:2024", "ssh", {{"site", "plant-b"}}, "", "modern"});
    targets_.Add({"far-01", "127.0.0.1:2025", "ssh", {{"site", "plant-z"}}, "", "modern"});
    AdmissionServices s;
    s.targets = &targets_;
    s.authority = &authority_;
    s.audit = &audit_;
    s.recorders = &recorders_;
    s.clock = &clock_;
    admitter_ = std::make_unique<Admitter>(s);
  }
  AdmissionRequest Req(std::string target, std::string login = "",
                       std::vector<std::string> roles = {"vendor"}) {
    AdmissionRequest r;
    r.user = "bob";
    r.roles = std::move(roles);
    r.source = "127.0.0.1:5555";
    r.session_id = "s-1";
    r.target = std::move(target);
    r.login = std::move(login);
    return r;
  }
  // The only policy.decision row so far.
  nlohmann::json OnlyDecision() {
    auto rows = audit_.OfType("policy.decision");
    EXPECT_EQ(rows.size(), 1u);
    return rows.empty() ? nlohmann::json() : rows.back().details;
  }

  FakeTargets targets_;
  FakeAuthority authority_;
  FakeAudit audit_;
  FakeRecorders recorders_;
  FakeClock clock_;
  std::unique_ptr<Admitter> admitter_;
};

TEST_F(AdmissionTest, AllowedReturnsTheTargetAndTheDecisionWithTheDefaultLogin) {
  auto a = admitter_->Admit(Req("rtu-01"));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->target.address, "127.0.0.1:2022");
  EXPECT_EQ(a->login(), "maint");
  EXPECT_EQ(a->decision.role, "vendor");
  auto rows = audit_.OfType("policy.decision");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].outcome, "allowed");
  EXPECT_EQ(rows[0].actor, "bob");
  EXPECT_EQ(rows[0].subject, "rtu-01");
  EXPECT_EQ(rows[0].source, "127.0.0.1:5555");
  EXPECT_EQ(rows[0].details["request"], "target");
  EXPECT_EQ(rows[0].details["login"], "maint");
  EXPECT_EQ(rows[0].details["protocol"], "ssh");
  EXPECT_EQ(rows[0].details["rule"], "allow");
  EXPECT_EQ(rows[0].details["session"], "s-1");
}

TEST_F(AdmissionTest, AMissingTargetAndAnotherProtocolsTargetGetTheSameAnswer) {
  auto missing = admitter_->Admit(Req("nope-01"));
  auto vnc = admitter_->Admit(Req("hmi-01"));
  ASSERT_FALSE(missing.ok());
  ASSERT_FALSE(vnc.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(missing.status().message(), "portcullis: access to nope-01 denied by policy");
  EXPECT_EQ(vnc.status().message(), "portcullis: access to hmi-01 denied by policy");
  auto rows = audit_.OfType("policy.decision");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].details["reason"], "no such target");
  EXPECT_EQ(rows[1].details["reason"], "target does not speak ssh");
  EXPECT_EQ(rows[1].details["rule"], "default-deny");
}

TEST_F(AdmissionTest, VncIsAdmittedWithoutALoginAndOpensThePasswordVaultedWithout) {
  targets_.targets_["hmi-01"].auth = "password";
  authority_.passwords["hmi-01/"] = "hmi-pass";
  AdmissionRequest r = Req("hmi-01");
  r.protocol = policy::Protocol::kVnc;
  auto a = admitter_->Admit(r);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->target.protocol, "vnc");
  EXPECT_TRUE(a->decision.allowed);
  EXPECT_EQ(a->decision.role, "vendor");
  auto d = OnlyDecision();
  EXPECT_EQ(d["protocol"], "vnc");
  EXPECT_EQ(d["rule"], "allow");
  // The role lists logins (for ssh), but VNC has none: the vaulted password
  // is the one stored without a login.
  auto secret = admitter_->OpenSecret(r, *a);
  ASSERT_TRUE(secret.ok()) << secret.status();
  EXPECT_EQ(secret->Reveal(), "hmi-pass");
  ASSERT_EQ(authority_.opened.size(), 1u);
  EXPECT_EQ(authority_.opened[0], std::make_pair(std::string("hmi-01"), std::string("")));

  // Outside the hours a vnc request is denied like an ssh one.
  clock_.SetUnix(kMonday10 + 12 * 3600);
  auto late = admitter_->Admit(r);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(late.status().message(), HasSubstr("denied by policy: no role allows this: vendor: outside hours"));
}

TEST_F(AdmissionTest, AnInvisibleTargetDoesNotSayWhy) {
  auto a = admitter_->Admit(Req("far-01"));
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().message(), "portcullis: access to far-01 denied by policy");
  EXPECT_EQ(OnlyDecision()["rule"], "default-deny");
}

TEST_F(AdmissionTest, AForbiddenLoginIsDeniedWithTheReason) {
  auto a = admitter_->Admit(Req("rtu-01", "root"));
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(a.status().message(), HasSubstr("access to root@rtu-01 denied by policy: "));
  EXPECT_EQ(OnlyDecision()["login"], "root");
}

TEST_F(AdmissionTest, ADenyRuleWins) {
  auto a = admitter_->Admit(Req("sis-01"));
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(OnlyDecision()["rule"], "deny");
}

TEST_F(AdmissionTest, OutsideTheHoursIsDenied) {
  clock_.SetUnix(kMonday10 + 10 * 3600);  // 20:00 UTC
  auto a = admitter_->Admit(Req("rtu-01"));
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(a.status().message(), HasSubstr("outside hours"));
  clock_.SetUnix(kMonday10);
  EXPECT_TRUE(admitter_->Admit(Req("rtu-01")).ok());
}

TEST_F(AdmissionTest, RequireApprovalKeepsRefusing) {
  auto a = admitter_->Admit(Req("plc-b", "", {"approver-needed"}));
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(a.status().message(), HasSubstr("requires an approval"));
  EXPECT_EQ(OnlyDecision()["rule"], "approval-required");
}

TEST_F(AdmissionTest, NoRolesMeansDefaultDeny) {
  auto a = admitter_->Admit(Req("rtu-01", "", {}));
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(OnlyDecision()["rule"], "default-deny");
}

TEST_F(AdmissionTest, ARecorderThatCannotWriteRefusesAfterTheDecision) {
  recorders_.ready = absl::ResourceExhaustedError("disk full");
  auto a = admitter_->Admit(Req("rtu-01"));
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(a.status().message(), HasSubstr("recordings cannot be written"));
  auto refused = audit_.OfType("session.refused");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_THAT(refused[0].details["reason"].get<std::string>(), HasSubstr("disk full"));
}

TEST_F(AdmissionTest, NoRecorderRefuses) {
  AdmissionServices s{&targets_, &authority_, &audit_, nullptr, &clock_};
  Admitter without(s);
  auto a = without.Admit(Req("rtu-01"));
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(AdmissionTest, AStoreErrorDeniesLikeAMissingTarget) {
  targets_.fail_ = true;
  auto a = admitter_->Admit(Req("rtu-01"));
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().message(), "portcullis: access to rtu-01 denied by policy");
}

TEST_F(AdmissionTest, AnAuditLogThatCannotBeWrittenRefuses) {
  audit_.fail = true;
  auto a = admitter_->Admit(Req("rtu-01"));
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(a.status().message(), HasSubstr("audit log is unavailable"));
}

TEST_F(AdmissionTest, TheCertificateIsForTheAdmittedLoginAndAudited) {
  auto a = admitter_->Admit(Req("rtu-01"));
  ASSERT_TRUE(a.ok());
  auto cert = admitter_->IssueCertificate(Req("rtu-01"), *a, "blob", true);
  ASSERT_TRUE(cert.ok()) << cert.status();
  EXPECT_EQ(authority_.last_cert_request.login, "maint");
  EXPECT_EQ(authority_.last_cert_request.user, "bob");
  EXPECT_EQ(authority_.last_cert_request.session_id, "s-1");
  EXPECT_TRUE(authority_.last_cert_request.permit_port_forwarding);
  auto rows = audit_.OfType("ca.cert_issued");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].details["serial"], 42);
  EXPECT_EQ(rows[0].details["principal"], "maint");
  // No audit row, no certificate.
  audit_.fail = true;
  EXPECT_FALSE(admitter_->IssueCertificate(Req("rtu-01"), *a, "blob", false).ok());
}

TEST_F(AdmissionTest, FirstUsePinsAndALaterDifferentKeyIsRefused) {
  auto a = admitter_->Admit(Req("rtu-01"));
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(admitter_->AcceptHostKey(Req("rtu-01"), *a, "ssh-ed25519 AAAA1", true).ok());
  EXPECT_EQ(targets_.targets_["rtu-01"].host_key, "ssh-ed25519 AAAA1");
  EXPECT_EQ(audit_.OfType("target.host_key_pinned").size(), 1u);
  // A second session raced the first and saw another key on first use.
  auto st = admitter_->AcceptHostKey(Req("rtu-01"), *a, "ssh-ed25519 BBBB2", true);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.message(), "portcullis: host key of rtu-01 changed; the session is refused");
  EXPECT_EQ(audit_.OfType("target.host_key_mismatch").size(), 1u);
  // A key that matched the pin needs nothing.
  EXPECT_TRUE(admitter_->AcceptHostKey(Req("rtu-01"), *a, "ssh-ed25519 AAAA1", false).ok());
}

TEST_F(AdmissionTest, AFailedConnectionIsAuditedAndToldInOneLine) {
  auto a = admitter_->Admit(Req("rtu-01"));
  ASSERT_TRUE(a.ok());
  std::string line = admitter_->ConnectFailed(
      Req("rtu-01"), *a, absl::UnavailableError("cannot reach rtu-01 (127.0.0.1:2022)"));
  EXPECT_EQ(line, "portcullis: cannot reach rtu-01 (127.0.0.1:2022)");
  EXPECT_EQ(audit_.OfType("session.target_failed").size(), 1u);
  admitter_->ConnectFailed(Req("rtu-01"), *a,
                           absl::FailedPreconditionError("host key of rtu-01 changed"));
  EXPECT_EQ(audit_.OfType("target.host_key_mismatch").size(), 1u);
}

TEST_F(AdmissionTest, TunnelsAreDecidedPerDestinationInTheOneSchema) {
  auto a = admitter_->Admit(Req("rtu-01"));
  ASSERT_TRUE(a.ok());
  audit_.events.clear();
  EXPECT_TRUE(admitter_->DecideTunnel(Req("rtu-01"), *a, "127.0.0.1:502").allowed);
  EXPECT_FALSE(admitter_->DecideTunnel(Req("rtu-01"), *a, "127.0.0.1:22").allowed);
  auto rows = audit_.OfType("policy.decision");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].details["request"], "tunnel");
  EXPECT_EQ(rows[0].details["destination"], "127.0.0.1:502");
  EXPECT_EQ(rows[0].details["protocol"], "tcp");
  EXPECT_EQ(rows[1].outcome, "denied");
  audit_.fail = true;
  EXPECT_FALSE(admitter_->DecideTunnel(Req("rtu-01"), *a, "127.0.0.1:502").allowed);
}

TEST_F(AdmissionTest, VisibleTargetsAreThoseOfTheProtocolTheRolesMaySee) {
  auto ssh = admitter_->VisibleTargets({"vendor"}, policy::Protocol::kSsh);
  ASSERT_TRUE(ssh.ok());
  EXPECT_EQ(*ssh, (std::vector<std::string>{"rtu-01"}));
  auto vnc = admitter_->VisibleTargets({"vendor"}, policy::Protocol::kVnc);
  ASSERT_TRUE(vnc.ok());
  EXPECT_EQ(*vnc, (std::vector<std::string>{"hmi-01"}));
}

TEST_F(AdmissionTest, EveryPolicyDecisionRowHasTheSameKeys) {
  (void)admitter_->Admit(Req("rtu-01"));
  (void)admitter_->Admit(Req("nope"));
  (void)admitter_->Admit(Req("rtu-01", "root"));
  auto a = admitter_->Admit(Req("rtu-01"));
  ASSERT_TRUE(a.ok());
  (void)admitter_->DecideTunnel(Req("rtu-01"), *a, "127.0.0.1:502");
  policy::Decision refused;
  refused.role = "vendor";
  refused.rule = "file_transfer";
  refused.reason = "role vendor file_transfer: none";
  ASSERT_TRUE(admitter_
                  ->AuditDecision(Req("rtu-01", "maint"), "rtu-01", RequestKind::kTransfer,
                                  refused, {{"direction", "upload"}, {"path", "/tmp/x"}})
                  .ok());
  const std::set<std::string> base = {"request", "login", "protocol", "role",
                                      "rule",    "reason", "session"};
  const std::set<std::string> extras = {"destination", "direction", "path", "command", "writes"};
  auto rows = audit_.OfType("policy.decision");
  ASSERT_EQ(rows.size(), 6u);
  for (const auto& r : rows) {
    for (const auto& k : base) EXPECT_TRUE(r.details.contains(k)) << k << " " << r.details;
    for (auto& [k, v] : r.details.items())
      EXPECT_TRUE(base.count(k) || extras.count(k)) << k << " " << r.details;
  }
}

}  // namespace
}  // namespace portcullis::session
