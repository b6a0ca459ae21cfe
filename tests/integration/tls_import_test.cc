// `portcullisd tls import` end to end: certs/make-test-ca.sh builds an
// "enterprise" PKI with an intermediate CA, the import installs its server
// certificate, and the restarted broker serves it with its chain: `portcullis
// login --ca <enterprise CA>` works, `openssl s_client` sees the imported
// certificate, the broker's own CA no longer verifies the API, and the audit
// log holds `tls.imported` with a chain that still verifies.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/integration/broker_fixture.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class TlsImportTest : public BrokerTest {
 protected:
  // certs/make-test-ca.sh --out DIR ARGS...
  CommandResult MakeTestCa(const std::string& out, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {std::string(PC_SOURCE_DIR) + "/certs/make-test-ca.sh",
                                     "--out", out};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, "", std::chrono::seconds(60));
  }
  CommandResult Import(const std::string& pki, bool chain) {
    std::vector<std::string> argv = {DaemonPath(), "tls", "import", "--config",
                                     broker().config_path(), "--cert", pki + "/server.pem",
                                     "--key", pki + "/server.key"};
    if (chain) {
      argv.push_back("--chain");
      argv.push_back(pki + "/chain.pem");
    }
    return RunCommand(argv, "", std::chrono::seconds(60));
  }
  CommandResult LoginWithCa(const std::string& ca) {
    return broker().Cli(broker().AdminHome(),
                        {"login", "--broker", broker().address(), "--ca", ca, "--user",
                         kAdminName, "--totp", TotpCode(broker().admin_totp_secret()),
                         "--password-stdin"},
                        std::string(kAdminPassword) + "\n");
  }
};

TEST_F(TlsImportTest, BrokerServesTheImportedCertificateWithItsChain) {
  broker_ = std::make_unique<BrokerFixture>();
  ASSERT_TRUE(broker().Init().ok());
  const std::string pki = broker().Join("pki");
  CommandResult ca = MakeTestCa(pki, {"--intermediate"});
  ASSERT_EQ(ca.exit_code, 0) << Describe(ca);

  CommandResult imported = Import(pki, /*chain=*/true);
  ASSERT_EQ(imported.exit_code, 0) << Describe(imported);
  EXPECT_THAT(imported.out, HasSubstr("issuer:       CN=Example Plant Issuing CA 1,O=Example Plant"));
  EXPECT_THAT(imported.out, HasSubstr("chain:        CN=Example Plant Issuing CA 1"));
  EXPECT_THAT(imported.out + imported.err, Not(HasSubstr("PRIVATE KEY")));
  EXPECT_EQ(FileMode(broker().data_dir() + "/tls/imported.pem"), 0600);

  ASSERT_TRUE(broker().Start().ok()) << broker().Log();
  EXPECT_THAT(broker().Log(), HasSubstr("api: serving the imported certificate"));

  // The broker's own CA no longer verifies the API (refused before any
  // credential is sent).
  CommandResult own = LoginWithCa(broker().ca_pem_path());
  EXPECT_NE(own.exit_code, 0) << Describe(own);
  EXPECT_THAT(own.err, HasSubstr("cannot reach the broker")) << Describe(own);

  CommandResult login = LoginWithCa(pki + "/ca.pem");
  ASSERT_EQ(login.exit_code, 0) << Describe(login);

  // openssl sees the imported leaf and the intermediate, and verifies them
  // against the enterprise root alone.
  CommandResult s_client =
      RunCommand({"openssl", "s_client", "-connect", broker().address(), "-servername",
                  "localhost", "-CAfile", pki + "/ca.pem", "-verify_return_error",
                  "-alpn", "h2", "-showcerts"},
                 "", std::chrono::seconds(30));
  // s_client's exit status also reflects how the gRPC server closed the
  // connection after the handshake (a race); the handshake is what counts:
  // the chain it printed and its verification result.
  EXPECT_THAT(s_client.out, HasSubstr("s:O = Example Plant, CN = portcullisd")) << Describe(s_client);
  EXPECT_THAT(s_client.out, HasSubstr("i:O = Example Plant, CN = Example Plant Issuing CA 1"));
  EXPECT_THAT(s_client.out, HasSubstr("s:O = Example Plant, CN = Example Plant Issuing CA 1"));
  EXPECT_THAT(s_client.out, HasSubstr("Verify return code: 0 (ok)"));

  CommandResult ls = Admin({"audit", "ls", "--json"});
  ASSERT_EQ(ls.exit_code, 0) << Describe(ls);
  EXPECT_THAT(ls.out, HasSubstr("\"tls.imported\""));
  EXPECT_THAT(ls.out, HasSubstr("CN=portcullisd,O=Example Plant"));
  EXPECT_THAT(ls.out, Not(HasSubstr("PRIVATE")));
  CommandResult verify = Admin({"audit", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << Describe(verify);

  // The broker's own TLS CA is not handed out as the API's anchor any more.
  CommandResult exported = Admin({"ca", "export", "--tls"});
  EXPECT_NE(exported.exit_code, 0) << Describe(exported);
  EXPECT_THAT(exported.err, HasSubstr("imported from your PKI"));
}

TEST_F(TlsImportTest, RefusedImportChangesNothingAndTheBrokerKeepsItsOwnCertificate) {
  broker_ = std::make_unique<BrokerFixture>();
  ASSERT_TRUE(broker().Init().ok());
  const std::string pki = broker().Join("pki");
  CommandResult ca = MakeTestCa(pki, {"--san", "none"});
  ASSERT_EQ(ca.exit_code, 0) << Describe(ca);
  CommandResult imported = Import(pki, /*chain=*/false);
  EXPECT_EQ(imported.exit_code, 1) << Describe(imported);
  EXPECT_THAT(imported.err, HasSubstr("no subjectAltName"));
  EXPECT_EQ(FileMode(broker().data_dir() + "/tls/imported.pem"), -1);

  ASSERT_TRUE(broker().Start().ok()) << broker().Log();
  CommandResult login = broker().LoginAdmin();
  ASSERT_EQ(login.exit_code, 0) << Describe(login);
  CommandResult ls = Admin({"audit", "ls", "--json"});
  EXPECT_THAT(ls.out, Not(HasSubstr("tls.imported")));
}

}  // namespace
}  // namespace portcullis::testing
