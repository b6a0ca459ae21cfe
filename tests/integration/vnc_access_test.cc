// `portcullis access` and VNC targets through the real CLI and daemon: the
// two lines a user gets, the refusals (not granted, ssh target, --login,
// listener off), the vault rules for vnc targets and `targets ls
// --weak-crypto`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>

#include "tests/integration/broker_fixture.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kBobPassword[] = "bob-Vnc-pw-3e8c-lathe";
constexpr char kRoles[] = R"(kind: role
name: hmi-ops
allow:
  targets: {site: plant-a}
  protocols: [vnc, ssh]
  logins: [maint]
options:
  view_only: true
  clipboard: none
)";

class VncAccessTest : public BrokerTest {
 protected:
  void SetUpBroker(int vnc_port) {
    BrokerOptions opts;
    opts.vnc_port = vnc_port;
    ASSERT_NO_FATAL_FAILURE(StartBrokerAndLoginAdmin(opts));
    const std::string role = broker().Join("roles.yaml");
    ASSERT_TRUE(WriteWholeFile(role, kRoles, 0600).ok());
    CommandResult applied = Admin({"roles", "apply", "-f", role});
    ASSERT_EQ(applied.exit_code, 0) << Describe(applied);
    auto secret = broker().AddUser("bob", kBobPassword, {"hmi-ops"});
    ASSERT_TRUE(secret.ok()) << secret.status();
    CommandResult login =
        broker().Login(broker().Home("bob"), "bob", kBobPassword, TotpCode(*secret, 0));
    ASSERT_EQ(login.exit_code, 0) << Describe(login);
  }
  CommandResult Bob(const std::vector<std::string>& args) {
    return broker().Cli(broker().Home("bob"), args);
  }
};

TEST_F(VncAccessTest, BobGetsATicketAndHowToUseIt) {
  const int vnc_port = PickFreePort();
  ASSERT_GT(vnc_port, 0);
  ASSERT_NO_FATAL_FAILURE(SetUpBroker(vnc_port));
  CommandResult add = Admin({"targets", "add", "hmi-07", "--address", "127.0.0.1:5907",
                             "--protocol", "vnc", "--label", "site=plant-a"});
  ASSERT_EQ(add.exit_code, 0) << Describe(add);
  EXPECT_THAT(add.out, HasSubstr("vnc, auth password"));
  EXPECT_THAT(add.err, HasSubstr("VncAuth"));
  ASSERT_EQ(Admin({"targets", "add", "hmi-09", "--address", "127.0.0.1:5909", "--protocol", "vnc",
                   "--label", "site=plant-b"})
                .exit_code,
            0);
  ASSERT_EQ(Admin({"targets", "add", "rtu-01", "--address", "127.0.0.1:2022", "--protocol", "ssh",
                   "--label", "site=plant-a"})
                .exit_code,
            0);

  CommandResult access = Bob({"access", "hmi-07"});
  ASSERT_EQ(access.exit_code, 0) << Describe(access);
  const std::regex want(
      "ticket  ([23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{8})  \\(valid 120 s, one connection, only "
      "from 127\\.0\\.0\\.1; VNC passwords carry 8 characters\\)\n"
      "vncviewer 127\\.0\\.0\\.1::" +
      std::to_string(vnc_port) + "      and enter the ticket as the VNC password\n");
  std::smatch m;
  ASSERT_TRUE(std::regex_match(access.out, m, want)) << Describe(access);
  const std::string ticket = m[1];

  // Each a clear refusal, no ticket.
  struct Refused {
    std::vector<std::string> args;
    std::string says;
  };
  for (const Refused& r : std::vector<Refused>{
           {{"access", "hmi-09"}, "portcullis: access to hmi-09 denied by policy"},
           {{"access", "nope-01"}, "portcullis: access to nope-01 denied by policy"},
           {{"access", "rtu-01"}, "rtu-01 is an ssh target"},
           {{"access", "hmi-07", "--login", "maint"}, "VNC has no login"},
       }) {
    CommandResult res = Bob(r.args);
    EXPECT_EQ(res.exit_code, 1) << Describe(res);
    EXPECT_THAT(res.err, HasSubstr(r.says)) << Describe(res);
    EXPECT_THAT(res.out, Not(HasSubstr("ticket  "))) << Describe(res);
  }

  CommandResult audit = Admin({"audit", "ls", "--json"});
  ASSERT_EQ(audit.exit_code, 0) << Describe(audit);
  EXPECT_THAT(audit.out, HasSubstr("ticket.issued"));
  EXPECT_THAT(audit.out, Not(HasSubstr(ticket)));
}

TEST_F(VncAccessTest, VncTargetsVaultAndWeakCryptoListing) {
  ASSERT_NO_FATAL_FAILURE(SetUpBroker(0));
  ASSERT_EQ(Admin({"targets", "add", "hmi-07", "--address", "127.0.0.1:5907", "--protocol", "vnc",
                   "--label", "site=plant-a"})
                .exit_code,
            0);
  ASSERT_EQ(Admin({"targets", "add", "hmi-open", "--address", "127.0.0.1:5908", "--protocol",
                   "vnc", "--auth", "none", "--label", "site=plant-a"})
                .exit_code,
            0);
  ASSERT_EQ(Admin({"targets", "add", "rtu-01", "--address", "127.0.0.1:2022", "--protocol", "ssh",
                   "--label", "site=plant-a"})
                .exit_code,
            0);
  CommandResult cert = Admin({"targets", "add", "hmi-x", "--address", "127.0.0.1:5912",
                              "--protocol", "vnc", "--auth", "certificate"});
  EXPECT_EQ(cert.exit_code, 1) << Describe(cert);
  EXPECT_THAT(cert.err, HasSubstr("vnc targets take --auth password"));

  CommandResult set = Admin({"targets", "set-secret", "hmi-07", "--password-stdin"}, "hmi-pass");
  ASSERT_EQ(set.exit_code, 0) << Describe(set);
  EXPECT_THAT(set.out, HasSubstr("secret for (no login) on hmi-07 set (password)"));
  EXPECT_THAT(set.err, Not(HasSubstr("warning")));
  CommandResult longer =
      Admin({"targets", "set-secret", "hmi-07", "--password-stdin"}, "hmi-password-long");
  ASSERT_EQ(longer.exit_code, 0) << Describe(longer);
  EXPECT_THAT(longer.err, HasSubstr("VNC passwords carry 8 characters"));
  EXPECT_THAT(longer.out + longer.err, Not(HasSubstr("hmi-password-long")));
  CommandResult with_login =
      Admin({"targets", "set-secret", "hmi-07", "--login", "op", "--password-stdin"}, "x");
  EXPECT_EQ(with_login.exit_code, 1);
  EXPECT_THAT(with_login.err, HasSubstr("has no login"));
  const std::string key = broker().Join("k");
  ASSERT_TRUE(WriteWholeFile(key, "-----BEGIN OPENSSH PRIVATE KEY-----\n", 0600).ok());
  CommandResult with_key = Admin({"targets", "set-secret", "hmi-07", "--key-file", key});
  EXPECT_EQ(with_key.exit_code, 1);
  EXPECT_THAT(with_key.err, HasSubstr("not a key"));
  CommandResult none = Admin({"targets", "set-secret", "hmi-open", "--password-stdin"}, "x");
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_THAT(none.err, HasSubstr("no authentication"));
  CommandResult show = Admin({"targets", "show", "hmi-07"});
  EXPECT_THAT(show.out, HasSubstr("secret for (no login): set "));

  CommandResult weak = Admin({"targets", "ls", "--weak-crypto"});
  ASSERT_EQ(weak.exit_code, 0) << Describe(weak);
  EXPECT_THAT(weak.out, HasSubstr("WHY"));
  EXPECT_THAT(weak.out, HasSubstr("VNC password (VncAuth)"));
  EXPECT_THAT(weak.out, HasSubstr("VNC without authentication (None)"));
  EXPECT_THAT(weak.out, Not(HasSubstr("rtu-01")));

  // The listener is off on this broker: no ticket.
  CommandResult off = Bob({"access", "hmi-07"});
  EXPECT_EQ(off.exit_code, 1) << Describe(off);
  EXPECT_THAT(off.err, HasSubstr("VNC listener is off"));
}

}  // namespace
}  // namespace portcullis::testing
