#include "auth/ca/ssh_ca.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "auth/ca/ssh_certificate.h"
#include "tests/auth/ca/test_keys.h"

namespace portcullis::ca {
namespace {

constexpr int64_t kNow = 1'700'000'000;

TargetCertRequest Request() {
  TargetCertRequest req;
  req.subject_public_blob = testkeys::FixedSubject().PublicBlob();
  req.user = "bob";
  req.session_id = "s-123";
  req.login = "maint";
  return req;
}

class SshCaTest : public ::testing::Test {
 protected:
  SshCertificateAuthority MakeCa(CaOptions options = {}) {
    return SshCertificateAuthority(testkeys::FixedCa(), &clock_, std::move(options),
                                   [this] { return ++serial_; });
  }
  ParsedCertificate Issue(const SshCertificateAuthority& ca, const TargetCertRequest& req) {
    auto issued = ca.IssueTargetCertificate(req);
    EXPECT_TRUE(issued.ok()) << issued.status();
    auto parsed = ParseCertificate(issued->blob);
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    return *parsed;
  }
  FakeClock clock_{kNow};
  uint64_t serial_ = 41;
};

TEST_F(SshCaTest, IssuesTheDocumentedCertificate) {
  auto ca = MakeCa();
  auto issued = ca.IssueTargetCertificate(Request());
  ASSERT_TRUE(issued.ok()) << issued.status();
  EXPECT_EQ(issued->serial, 42u);
  EXPECT_EQ(issued->key_id, "portcullis:bob:s-123");
  EXPECT_EQ(issued->valid_after, static_cast<uint64_t>(kNow - 30));
  EXPECT_EQ(issued->valid_before, static_cast<uint64_t>(kNow + 300));
  EXPECT_EQ(issued->line, CertificateLine(issued->blob, "portcullis:bob:s-123"));

  auto parsed = ParseCertificate(issued->blob);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const CertificateFields& f = parsed->fields;
  EXPECT_EQ(f.subject_public_blob, testkeys::FixedSubject().PublicBlob());
  EXPECT_EQ(f.type, kCertTypeUser);
  EXPECT_EQ(f.serial, 42u);
  EXPECT_EQ(f.key_id, "portcullis:bob:s-123");
  EXPECT_EQ(f.principals, std::vector<std::string>{"maint"});
  EXPECT_EQ(f.valid_after, static_cast<uint64_t>(kNow - 30));
  EXPECT_EQ(f.valid_before, static_cast<uint64_t>(kNow + 300));
  EXPECT_TRUE(f.critical_options.empty());
  EXPECT_EQ(f.extensions, std::set<std::string>{"permit-pty"});
  EXPECT_EQ(parsed->signature_key_blob, ca.PublicBlob());
  EXPECT_TRUE(VerifyUserCertificate(*parsed, ca.PublicBlob(), kNow, "maint").ok());
  EXPECT_FALSE(VerifyUserCertificate(*parsed, ca.PublicBlob(), kNow + 300, "maint").ok());
}

TEST_F(SshCaTest, ExtensionsFollowTheRequest) {
  auto ca = MakeCa();
  TargetCertRequest req = Request();
  req.permit_port_forwarding = true;
  EXPECT_EQ(Issue(ca, req).fields.extensions,
            (std::set<std::string>{"permit-port-forwarding", "permit-pty"}));
  req.permit_pty = false;
  EXPECT_EQ(Issue(ca, req).fields.extensions, std::set<std::string>{"permit-port-forwarding"});
  req.permit_port_forwarding = false;
  EXPECT_TRUE(Issue(ca, req).fields.extensions.empty());
}

TEST_F(SshCaTest, SourceAddressOnlyWhenConfigured) {
  CaOptions options;
  options.source_address = "192.0.2.7,10.0.0.0/8";
  auto ca = MakeCa(options);
  auto f = Issue(ca, Request()).fields;
  EXPECT_EQ(f.critical_options,
            (std::map<std::string, std::string>{{"source-address", "192.0.2.7,10.0.0.0/8"}}));
}

TEST_F(SshCaTest, TtlDefaultCustomAndMax) {
  CaOptions options;
  options.default_ttl = std::chrono::seconds(120);
  options.max_ttl = std::chrono::seconds(600);
  auto ca = MakeCa(options);
  TargetCertRequest req = Request();
  EXPECT_EQ(Issue(ca, req).fields.valid_before, static_cast<uint64_t>(kNow + 120));
  req.ttl = std::chrono::seconds(600);
  EXPECT_EQ(Issue(ca, req).fields.valid_before, static_cast<uint64_t>(kNow + 600));
  req.ttl = std::chrono::seconds(601);
  EXPECT_EQ(ca.IssueTargetCertificate(req).status().code(), absl::StatusCode::kInvalidArgument);
  req.ttl = std::chrono::seconds(-1);
  EXPECT_FALSE(ca.IssueTargetCertificate(req).ok());
}

TEST_F(SshCaTest, FollowsTheClock) {
  auto ca = MakeCa();
  clock_.SetUnix(kNow + 1000);
  EXPECT_EQ(Issue(ca, Request()).fields.valid_after, static_cast<uint64_t>(kNow + 1000 - 30));
}

TEST_F(SshCaTest, RefusesBadIdentifiers) {
  auto ca = MakeCa();
  auto refused = [&](auto mutate) {
    TargetCertRequest req = Request();
    mutate(req);
    return ca.IssueTargetCertificate(req).status().code() == absl::StatusCode::kInvalidArgument;
  };
  EXPECT_TRUE(refused([](auto& r) { r.user = ""; }));
  EXPECT_TRUE(refused([](auto& r) { r.user = "bob:admin"; }));
  EXPECT_TRUE(refused([](auto& r) { r.user = std::string(65, 'b'); }));
  EXPECT_TRUE(refused([](auto& r) { r.user = "bo b"; }));
  EXPECT_TRUE(refused([](auto& r) { r.user = "b\x7f"; }));
  EXPECT_TRUE(refused([](auto& r) { r.user = "b\xc3\xa9"; }));
  EXPECT_TRUE(refused([](auto& r) { r.session_id = "s:1"; }));
  EXPECT_TRUE(refused([](auto& r) { r.session_id = ""; }));
  EXPECT_TRUE(refused([](auto& r) { r.login = ""; }));
  EXPECT_TRUE(refused([](auto& r) { r.login = "root\n"; }));
  EXPECT_TRUE(refused([](auto& r) { r.login = "a:b"; }));
  EXPECT_TRUE(refused([](auto& r) { r.subject_public_blob = "junk"; }));
  EXPECT_FALSE(refused([](auto& r) { r.user = std::string(64, 'b'); }));
}

TEST_F(SshCaTest, RefusedRequestConsumesNoSerial) {
  auto ca = MakeCa();
  TargetCertRequest req = Request();
  req.subject_public_blob = "junk";
  EXPECT_FALSE(ca.IssueTargetCertificate(req).ok());
  EXPECT_EQ(serial_, 41u);
}

TEST_F(SshCaTest, RefusesBadOptions) {
  CaOptions options;
  options.source_address = "10.0.0.1; rm -rf";
  EXPECT_EQ(MakeCa(options).IssueTargetCertificate(Request()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  options.source_address = "10.0.0.1,,10.0.0.2";
  EXPECT_FALSE(MakeCa(options).IssueTargetCertificate(Request()).ok());
  options = CaOptions();
  options.default_ttl = std::chrono::seconds(700);
  EXPECT_EQ(MakeCa(options).IssueTargetCertificate(Request()).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(SshCaTest, RandomSerialsWithoutCallback) {
  SshCertificateAuthority ca(testkeys::FixedCa(), &clock_, CaOptions());
  std::set<uint64_t> seen;
  for (int i = 0; i < 20; ++i) {
    auto issued = ca.IssueTargetCertificate(Request());
    ASSERT_TRUE(issued.ok());
    EXPECT_NE(issued->serial, 0u);
    EXPECT_LT(issued->serial, 1ULL << 63);
    seen.insert(issued->serial);
  }
  EXPECT_EQ(seen.size(), 20u);
}

TEST_F(SshCaTest, ExportLine) {
  auto ca = MakeCa();
  auto parsed = ParsePublicKeyLine(ca.ExportLine());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->blob, testkeys::FixedCa().PublicBlob());
  EXPECT_EQ(parsed->comment, "portcullis-user-ca");
  EXPECT_EQ(ca.PublicBlob(), testkeys::FixedCa().PublicBlob());
}

TEST_F(SshCaTest, ConcurrentIssuanceGetsDistinctSerials) {
  uint64_t counter = 0;  // not atomic: the CA serializes calls to the callback
  SshCertificateAuthority ca(testkeys::FixedCa(), &clock_, CaOptions(), [&] { return ++counter; });
  std::vector<std::thread> threads;
  std::vector<std::vector<uint64_t>> serials(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        auto issued = ca.IssueTargetCertificate(Request());
        if (issued.ok()) serials[t].push_back(issued->serial);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<uint64_t> all;
  for (const auto& v : serials) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), 100u);
  EXPECT_EQ(*all.rbegin(), 100u);
}

}  // namespace
}  // namespace portcullis::ca
