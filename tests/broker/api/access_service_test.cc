// AccessService (connection tickets) and the VNC side of TargetService,
// against the real services over loopback TCP: tickets only after
// admission, bound to the caller's address; the ticket redeems through the
// broker's TicketRedeemer with the decision's grants; vnc targets' auth
// modes, vault rules and the weak-crypto listing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "broker/common/vnc_des.h"
#include "tests/broker/api/api_harness.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kRoles[] = R"(kind: role
name: hmi-ops
allow:
  targets: {site: plant-a}
  logins: [maint]
  protocols: [ssh, vnc]
options: {view_only: true, clipboard: from_target}
---
kind: role
name: gated
allow:
  targets: {site: plant-c}
  protocols: [vnc]
options: {require_approval: true}
)";

class AccessServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(h_.ok()) << h_.env().init_status();
    ASSERT_TRUE(h_.tcp_channel() != nullptr);
    admin_ = h_.Token("alice");
    access_ = v1::AccessService::NewStub(h_.tcp_channel());
    targets_ = v1::TargetService::NewStub(h_.tcp_channel());
    auto roles = v1::RoleService::NewStub(h_.tcp_channel());
    v1::ApplyRolesRequest rr;
    rr.set_yaml(kRoles);
    rr.set_filename("roles.yaml");
    v1::ApplyRolesResponse rresp;
    grpc::Status st = roles->ApplyRoles(ApiHarness::Ctx(admin_).get(), rr, &rresp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    ASSERT_NO_FATAL_FAILURE(h_.AddUser("bob", {"hmi-ops", "gated"}));
    ASSERT_NO_FATAL_FAILURE(h_.AddUser("carol"));
    ASSERT_TRUE(AddTarget("hmi-07", "127.0.0.1:5907", v1::PROTOCOL_VNC, "plant-a").ok());
    ASSERT_TRUE(AddTarget("hmi-09", "127.0.0.1:5909", v1::PROTOCOL_VNC, "plant-b").ok());
    ASSERT_TRUE(AddTarget("hmi-gated", "127.0.0.1:5910", v1::PROTOCOL_VNC, "plant-c").ok());
    ASSERT_TRUE(AddTarget("rtu-01", "127.0.0.1:2022", v1::PROTOCOL_SSH, "plant-a").ok());
  }

  grpc::Status AddTarget(const std::string& name, const std::string& address, v1::Protocol p,
                         const std::string& site, v1::TargetAuth auth = v1::TARGET_AUTH_UNSPECIFIED,
                         v1::AddTargetResponse* out = nullptr) {
    v1::AddTargetRequest req;
    req.set_name(name);
    req.set_address(address);
    req.set_protocol(p);
    req.set_auth(auth);
    auto* l = req.add_labels();
    l->set_key("site");
    l->set_value(site);
    v1::AddTargetResponse resp;
    return targets_->AddTarget(ApiHarness::Ctx(admin_).get(), req, out ? out : &resp);
  }
  grpc::Status Access(const std::string& token, const std::string& target, v1::AccessResponse* out,
                      const std::string& login = "") {
    v1::AccessRequest req;
    req.set_target(target);
    req.set_login(login);
    return access_->Access(ApiHarness::Ctx(token).get(), req, out);
  }
  grpc::Status SetSecret(const std::string& target, const std::string& secret,
                         v1::SetTargetSecretResponse* out, const std::string& login = "",
                         v1::SecretKind kind = v1::SECRET_KIND_PASSWORD) {
    v1::SetTargetSecretRequest req;
    req.set_name(target);
    req.set_login(login);
    req.set_kind(kind);
    req.set_secret(secret);
    return targets_->SetTargetSecret(ApiHarness::Ctx(admin_).get(), req, out);
  }

  ApiHarness h_;
  std::string admin_;
  std::unique_ptr<v1::AccessService::Stub> access_;
  std::unique_ptr<v1::TargetService::Stub> targets_;
};

TEST_F(AccessServiceTest, BobGetsAVncTicketThatRedeemsOnceWithTheDecision) {
  v1::AccessResponse resp;
  grpc::Status st = Access(h_.Token("bob"), "hmi-07", &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp.ticket().size(), 8u);
  EXPECT_EQ(resp.ticket_id().rfind("t-", 0), 0u);
  EXPECT_EQ(resp.target(), "hmi-07");
  EXPECT_EQ(resp.protocol(), v1::PROTOCOL_VNC);
  EXPECT_EQ(resp.login(), "");
  EXPECT_EQ(resp.source(), "127.0.0.1");
  EXPECT_EQ(resp.ttl_seconds(), 120);
  EXPECT_EQ(resp.expires_at().seconds(), h_.env().clock().NowUnix() + 120);
  EXPECT_EQ(resp.listen_host(), "0.0.0.0");
  EXPECT_EQ(resp.listen_port(), 5900u);

  // Admission ran (policy.decision), and the ticket is audited by id only.
  auto decisions = h_.Audit("policy.decision");
  ASSERT_FALSE(decisions.empty());
  EXPECT_EQ(decisions.back().event.subject, "hmi-07");
  EXPECT_EQ(decisions.back().event.outcome, "allowed");
  auto issued = h_.Audit("ticket.issued");
  ASSERT_EQ(issued.size(), 1u);
  EXPECT_EQ(issued[0].event.actor, "bob");
  EXPECT_EQ(issued[0].event.details.dump().find(resp.ticket()), std::string::npos);
  EXPECT_THAT(issued[0].event.details.dump(), HasSubstr(resp.ticket_id()));

  // A viewer from 127.0.0.1 answering a challenge with the ticket.
  VncChallenge c{};
  c.fill(0x42);
  auto answer = VncAuthResponse(resp.ticket(), c);
  ASSERT_TRUE(answer.ok());
  session::TicketRedeemer& redeemer = h_.broker().ticket_redeemer();
  auto wrong_src = redeemer.RedeemVncAuth("127.0.0.2", c, *answer);
  EXPECT_FALSE(wrong_src.ok());
  // That voided it (it was seen elsewhere); a fresh one redeems.
  ASSERT_TRUE(Access(h_.Token("bob"), "hmi-07", &resp).ok());
  answer = VncAuthResponse(resp.ticket(), c);
  auto g = redeemer.RedeemVncAuth("127.0.0.1", c, *answer);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->user, "bob");
  EXPECT_EQ(g->target, "hmi-07");
  EXPECT_EQ(g->source, "127.0.0.1");
  EXPECT_TRUE(g->decision.allowed);
  EXPECT_EQ(g->decision.role, "hmi-ops");
  EXPECT_TRUE(g->decision.view_only);
  EXPECT_EQ(g->decision.clipboard, policy::Clipboard::kFromTarget);
  EXPECT_FALSE(redeemer.RedeemVncAuth("127.0.0.1", c, *answer).ok()) << "usable once";
  auto refused = h_.Audit("ticket.refused");
  ASSERT_EQ(refused.size(), 2u);
  EXPECT_THAT(refused[0].event.details.dump(), HasSubstr("wrong source"));
  EXPECT_THAT(refused[1].event.details.dump(), HasSubstr("reused"));
}

TEST_F(AccessServiceTest, NoTicketForATargetTheUserMayNotReach) {
  const std::string bob = h_.Token("bob");
  v1::AccessResponse resp;
  grpc::Status hidden = Access(bob, "hmi-09", &resp);
  grpc::Status missing = Access(bob, "nope-01", &resp);
  grpc::Status ungranted = Access(h_.Token("carol"), "hmi-07", &resp);
  for (const auto& [st, name] : std::vector<std::pair<grpc::Status, std::string>>{
           {hidden, "hmi-09"}, {missing, "nope-01"}, {ungranted, "hmi-07"}}) {
    EXPECT_EQ(st.error_code(), grpc::PERMISSION_DENIED) << name;
    EXPECT_EQ(st.error_message(), "portcullis: access to " + name + " denied by policy");
  }
  grpc::Status gated = Access(bob, "hmi-gated", &resp);
  EXPECT_EQ(gated.error_code(), grpc::PERMISSION_DENIED);
  EXPECT_THAT(gated.error_message(), HasSubstr("requires an approval"));
  EXPECT_TRUE(resp.ticket().empty());
  EXPECT_TRUE(h_.Audit("ticket.issued").empty());
  EXPECT_EQ(h_.broker().tickets().Pending(), 0u);
  EXPECT_GE(h_.Audit("policy.decision").size(), 4u);
}

TEST_F(AccessServiceTest, SshTargetsLoginsAndCallersWithoutAnAddressAreRefused) {
  const std::string bob = h_.Token("bob");
  v1::AccessResponse resp;
  grpc::Status ssh = Access(bob, "rtu-01", &resp);
  EXPECT_EQ(ssh.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(ssh.error_message(),
            "portcullis: rtu-01 is an ssh target: `portcullis access` is for vnc targets; "
            "connect with ssh through the broker");
  grpc::Status login = Access(bob, "hmi-07", &resp, "maint");
  EXPECT_EQ(login.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_THAT(login.error_message(), HasSubstr("VNC has no login"));
  EXPECT_EQ(Access("", "hmi-07", &resp).error_code(), grpc::UNAUTHENTICATED);
  // In-process: no address to bind the ticket to.
  auto inproc = v1::AccessService::NewStub(h_.channel());
  v1::AccessRequest req;
  req.set_target("hmi-07");
  grpc::Status st = inproc->Access(ApiHarness::Ctx(bob).get(), req, &resp);
  EXPECT_EQ(st.error_code(), grpc::FAILED_PRECONDITION);
  EXPECT_EQ(h_.broker().tickets().Pending(), 0u);
}

TEST_F(AccessServiceTest, VncTargetsAuthModesAndVault) {
  v1::AddTargetResponse added;
  ASSERT_TRUE(AddTarget("hmi-open", "127.0.0.1:5911", v1::PROTOCOL_VNC, "plant-a",
                        v1::TARGET_AUTH_NONE, &added)
                  .ok());
  EXPECT_EQ(added.target().auth(), v1::TARGET_AUTH_NONE);
  EXPECT_THAT(added.target().weak_crypto(), HasSubstr("None"));
  EXPECT_EQ(AddTarget("hmi-x", "127.0.0.1:5912", v1::PROTOCOL_VNC, "plant-a",
                      v1::TARGET_AUTH_CERTIFICATE)
                .error_code(),
            grpc::INVALID_ARGUMENT);
  EXPECT_EQ(
      AddTarget("hmi-x", "127.0.0.1:5912", v1::PROTOCOL_VNC, "plant-a", v1::TARGET_AUTH_KEY)
          .error_code(),
      grpc::INVALID_ARGUMENT);
  EXPECT_EQ(
      AddTarget("rtu-x", "127.0.0.1:2030", v1::PROTOCOL_SSH, "plant-a", v1::TARGET_AUTH_NONE)
          .error_code(),
      grpc::INVALID_ARGUMENT);

  // The default for vnc is password (VncAuth); the password goes under no login.
  v1::GetTargetRequest gr;
  gr.set_name("hmi-07");
  v1::GetTargetResponse got;
  ASSERT_TRUE(targets_->GetTarget(ApiHarness::Ctx(admin_).get(), gr, &got).ok());
  EXPECT_EQ(got.target().auth(), v1::TARGET_AUTH_PASSWORD);
  v1::SetTargetSecretResponse set;
  EXPECT_EQ(SetSecret("hmi-07", "hmi-pass", &set, "maint").error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(SetSecret("hmi-07", "not a key", &set, "", v1::SECRET_KIND_KEY).error_code(),
            grpc::INVALID_ARGUMENT);
  EXPECT_EQ(SetSecret("hmi-open", "hmi-pass", &set).error_code(), grpc::FAILED_PRECONDITION);
  grpc::Status ok = SetSecret("hmi-07", "hmi-pass", &set);
  ASSERT_TRUE(ok.ok()) << ok.error_message();
  EXPECT_EQ(set.secret().login(), "");
  EXPECT_TRUE(set.warning().empty());
  ok = SetSecret("hmi-09", "hmi-password-too-long", &set);
  ASSERT_TRUE(ok.ok()) << ok.error_message();
  EXPECT_THAT(set.warning(), HasSubstr("8 characters"));
  EXPECT_EQ(set.warning().find("hmi-password"), std::string::npos);

  // Admission opens that password for the VNC leg.
  session::AdmissionRequest ar;
  ar.user = "bob";
  ar.roles = {"hmi-ops"};
  ar.source = "127.0.0.1:1";
  ar.target = "hmi-07";
  ar.protocol = policy::Protocol::kVnc;
  auto a = h_.broker().admitter().Admit(ar);
  ASSERT_TRUE(a.ok()) << a.status();
  auto pw = h_.broker().admitter().OpenSecret(ar, *a);
  ASSERT_TRUE(pw.ok()) << pw.status();
  EXPECT_EQ(pw->Reveal(), "hmi-pass");

  // --weak-crypto: the vnc targets, with why; not the ssh one.
  v1::ListTargetsRequest lr;
  lr.set_weak_crypto(true);
  v1::ListTargetsResponse list;
  ASSERT_TRUE(targets_->ListTargets(ApiHarness::Ctx(admin_).get(), lr, &list).ok());
  std::map<std::string, std::string> weak;
  for (const auto& t : list.targets()) weak[t.name()] = t.weak_crypto();
  EXPECT_EQ(weak.count("rtu-01"), 0u);
  EXPECT_THAT(weak["hmi-07"], HasSubstr("VncAuth"));
  EXPECT_THAT(weak["hmi-open"], HasSubstr("without authentication"));
  EXPECT_EQ(weak.size(), 4u);  // hmi-07, hmi-09, hmi-gated, hmi-open
}

// A vnc target's crypto: legacy (in the clear, weak) unless modern is asked
// for (VeNCrypt, its certificate pinned); --host-key then takes the
// certificate's SHA-256 fingerprint in OpenSSL's form, and nothing else.
TEST_F(AccessServiceTest, VncTargetsCryptoProfileAndCertificatePin) {
  auto add = [&](const std::string& name, v1::Protocol p, v1::CryptoProfile crypto,
                 const std::string& host_key, v1::AddTargetResponse* out) {
    v1::AddTargetRequest req;
    req.set_name(name);
    req.set_address("127.0.0.1:5920");
    req.set_protocol(p);
    req.set_crypto(crypto);
    req.set_host_key(host_key);
    auto* l = req.add_labels();
    l->set_key("site");
    l->set_value("plant-a");
    return targets_->AddTarget(ApiHarness::Ctx(admin_).get(), req, out);
  };
  const std::string hex = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
  std::string colons;
  for (size_t i = 0; i < hex.size(); i += 2) colons += (i ? ":" : "") + hex.substr(i, 2);
  v1::AddTargetResponse out;
  ASSERT_TRUE(add("hmi-tls", v1::PROTOCOL_VNC, v1::CRYPTO_PROFILE_MODERN,
                  "sha256 Fingerprint=" + colons, &out)
                  .ok());
  EXPECT_EQ(out.target().crypto(), v1::CRYPTO_PROFILE_MODERN);
  EXPECT_EQ(out.target().host_key(), "x509-sha256 " + hex);
  EXPECT_TRUE(out.target().weak_crypto().empty());
  ASSERT_TRUE(add("hmi-tofu", v1::PROTOCOL_VNC, v1::CRYPTO_PROFILE_MODERN, "", &out).ok());
  EXPECT_TRUE(out.target().host_key().empty());
  ASSERT_TRUE(add("hmi-plain", v1::PROTOCOL_VNC, v1::CRYPTO_PROFILE_UNSPECIFIED, "", &out).ok());
  EXPECT_EQ(out.target().crypto(), v1::CRYPTO_PROFILE_LEGACY);
  EXPECT_THAT(out.target().weak_crypto(), HasSubstr("--crypto modern"));
  ASSERT_TRUE(add("hmi-plain2", v1::PROTOCOL_VNC, v1::CRYPTO_PROFILE_LEGACY, "", &out).ok());
  EXPECT_EQ(out.target().crypto(), v1::CRYPTO_PROFILE_LEGACY);
  // A pin needs TLS; an SSH host key is not a certificate pin; neither is
  // a short fingerprint.
  EXPECT_EQ(add("hmi-x", v1::PROTOCOL_VNC, v1::CRYPTO_PROFILE_UNSPECIFIED, hex, &out).error_code(),
            grpc::INVALID_ARGUMENT);
  EXPECT_EQ(add("hmi-x", v1::PROTOCOL_VNC, v1::CRYPTO_PROFILE_MODERN,
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICY2DMglhABwb+oTXxijpm1EH3LOalKocIqS6UbkgrMT",
                &out)
                .error_code(),
            grpc::INVALID_ARGUMENT);
  EXPECT_EQ(add("hmi-x", v1::PROTOCOL_VNC, v1::CRYPTO_PROFILE_MODERN, hex.substr(4), &out)
                .error_code(),
            grpc::INVALID_ARGUMENT);
  // An ssh target stays modern by default and takes no certificate pin.
  ASSERT_TRUE(add("rtu-x", v1::PROTOCOL_SSH, v1::CRYPTO_PROFILE_UNSPECIFIED, "", &out).ok());
  EXPECT_EQ(out.target().crypto(), v1::CRYPTO_PROFILE_MODERN);
  EXPECT_EQ(add("rtu-y", v1::PROTOCOL_SSH, v1::CRYPTO_PROFILE_MODERN, hex, &out).error_code(),
            grpc::INVALID_ARGUMENT);
  EXPECT_EQ(add("plc-x", v1::PROTOCOL_TCP, v1::CRYPTO_PROFILE_LEGACY, "", &out).error_code(),
            grpc::INVALID_ARGUMENT);
  // --weak-crypto lists the vnc targets in the clear, not the modern ones.
  v1::ListTargetsRequest lr;
  lr.set_weak_crypto(true);
  v1::ListTargetsResponse list;
  ASSERT_TRUE(targets_->ListTargets(ApiHarness::Ctx(admin_).get(), lr, &list).ok());
  std::set<std::string> weak;
  for (const auto& t : list.targets()) weak.insert(t.name());
  EXPECT_EQ(weak.count("hmi-tls"), 0u);
  EXPECT_EQ(weak.count("hmi-tofu"), 0u);
  EXPECT_EQ(weak.count("hmi-plain"), 1u);
  EXPECT_EQ(weak.count("hmi-plain2"), 1u);
}

}  // namespace
}  // namespace portcullis::testing
