// Role policy end to end: bad role files are refused with file:line: field
// and nothing is half-applied; the PRODUCT.md tour (vendor-acme) decides
// as documented; a non-admin sees only what their roles reach.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/broker_fixture.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// The role from PRODUCT.md, verbatim.
constexpr char kVendorAcmeYaml[] = R"(kind: role
name: vendor-acme
allow:
  targets: {site: plant-a, vendor: acme}   # label selector; all keys must match
  logins: [maint]
  protocols: [ssh, vnc, rdp]
  tunnels: ["10.20.0.5:502"]               # TCP allow-list (Modbus, OPC UA, S7 ...)
  file_transfer: download                  # none | download | upload | both
  hours: "Mon-Fri 07:00-18:00 Europe/Paris"
options:
  max_session: 2h
  require_approval: true
  record_input: false
deny:
  targets: {zone: safety}                  # deny wins over allow
)";

constexpr char kBaseRoleYaml[] = R"(kind: role
name: base
allow:
  targets: {site: a}
  protocols: [vnc]
)";

constexpr char kBobPassword[] = "bob-vendor-pw-42-long";

class RolesTest : public BrokerTest {
 protected:
  // Writes `yaml` to <dir>/<file> and runs `roles apply -f` on it as `home`.
  CommandResult Apply(const std::string& file, const std::string& yaml,
                      const std::string& home = "") {
    std::string path = broker().Join(file);
    EXPECT_TRUE(WriteWholeFile(path, yaml).ok());
    return broker().Cli(home.empty() ? broker().AdminHome() : home, {"roles", "apply", "-f", path});
  }
  CommandResult Check(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"policy", "check", "--user", "bob"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Admin(args);
  }
};

TEST_F(RolesTest, RoleHeldByUsersCannotBeDeleted) {
  StartBrokerAndLoginAdmin();
  ASSERT_EQ(Apply("base.yaml", kBaseRoleYaml).exit_code, 0);
  ASSERT_TRUE(broker().AddUser("bob", kBobPassword, {"base"}).ok());
  CommandResult held = Admin({"roles", "rm", "base"});
  EXPECT_NE(held.exit_code, 0) << Describe(held);
  EXPECT_NE(held.err.find("role base is assigned to: bob"), std::string::npos) << Describe(held);
  EXPECT_EQ(Admin({"roles", "show", "base"}).exit_code, 0);
  ASSERT_EQ(Admin({"users", "set-roles", "bob"}).exit_code, 0);
  CommandResult freed = Admin({"roles", "rm", "base"});
  EXPECT_EQ(freed.exit_code, 0) << Describe(freed);
  EXPECT_NE(Admin({"roles", "show", "base"}).exit_code, 0);
}

TEST_F(RolesTest, BadRoleFilesNameFileLineAndFieldAndApplyNothing) {
  ASSERT_NO_FATAL_FAILURE(StartBrokerAndLoginAdmin());
  CommandResult base = Apply("base.yaml", kBaseRoleYaml);
  ASSERT_EQ(base.exit_code, 0) << Describe(base);
  const CommandResult ls_before = Admin({"roles", "ls"});
  const CommandResult show_before = Admin({"roles", "show", "base"});
  ASSERT_EQ(ls_before.out, "base\n");

  const std::string head = "kind: role\nname: x\nallow:\n";
  struct Case {
    const char* file;
    std::string yaml;
    const char* expected;  // prefix of the message after "portcullis: "
  } cases[] = {
      {"malformed.yaml", head + "  targets: {site: a\n  protocols: [ssh]\n",
       "malformed.yaml:5: malformed YAML"},
      {"unknown-key.yaml", head + "  targets: {site: a}\n  protocols: [vnc]\n  colour: red\n",
       "unknown-key.yaml:6: allow.colour: unknown field"},
      {"bad-selector.yaml", head + "  targets: {\"bad key!\": a}\n  protocols: [vnc]\n",
       "bad-selector.yaml:4: allow.targets.bad key!: bad label key"},
      {"selector-list.yaml", head + "  targets: [site, a]\n  protocols: [vnc]\n",
       "selector-list.yaml:4: allow.targets: expected a map"},
      {"bad-window.yaml",
       head + "  targets: {site: a}\n  protocols: [vnc]\n"
              "  hours: \"Mon-Fri 07:00-25:00 Europe/Paris\"\n",
       "bad-window.yaml:6: allow.hours: bad time '25:00'"},
      {"bad-zone.yaml",
       head + "  targets: {site: a}\n  protocols: [vnc]\n"
              "  hours: \"Mon-Fri 07:00-18:00 Europe/Pariss\"\n",
       "bad-zone.yaml:6: allow.hours: unknown time zone 'Europe/Pariss'"},
      {"no-protocols.yaml", head + "  targets: {site: a}\n  logins: [maint]\n",
       "no-protocols.yaml:3: allow.protocols: required"},
      {"empty-protocols.yaml", head + "  targets: {site: a}\n  protocols: []\n",
       "empty-protocols.yaml:5: allow.protocols: empty list"},
      {"reserved.yaml", "kind: role\nname: admin\nallow:\n  targets: {site: a}\n  protocols: [vnc]\n",
       "reserved.yaml:2: name: 'admin' is the reserved built-in role"},
      // One good role (an update of `base` and a new one) and then a bad one:
      // all or nothing.
      {"two-docs.yaml",
       "kind: role\nname: base\nallow:\n  targets: {site: b}\n  protocols: [vnc]\n---\n"
       "kind: role\nname: good-one\nallow:\n  targets: {site: a}\n  protocols: [vnc]\n---\n"
       "kind: role\nname: bad-one\nallow:\n  targets: {site: a}\n  protocols: [vnc]\n"
       "  hours: \"Mon-Fri 07:00-18:00 Mars/Olympus\"\n",
       "two-docs.yaml:18: allow.hours: unknown time zone 'Mars/Olympus'"},
  };
  for (const auto& c : cases) {
    CommandResult r = Apply(c.file, c.yaml);
    EXPECT_EQ(r.exit_code, 1) << c.file << "\n" << Describe(r);
    EXPECT_THAT(r.err, StartsWith(std::string("portcullis: ") + c.expected)) << c.file;
    EXPECT_EQ(r.out, "") << c.file;
  }
  EXPECT_EQ(Admin({"roles", "ls"}).out, ls_before.out);
  EXPECT_EQ(Admin({"roles", "show", "base"}).out, show_before.out);
  CommandResult audit = Admin({"audit", "ls", "--type", "admin.role"});
  EXPECT_THAT(audit.out, Not(HasSubstr("good-one")));
}

TEST_F(RolesTest, VendorAcmeTourDecidesAsDocumented) {
  ASSERT_NO_FATAL_FAILURE(StartBrokerAndLoginAdmin());
  CommandResult apply = Apply("vendor-acme.yaml", kVendorAcmeYaml);
  ASSERT_EQ(apply.exit_code, 0) << Describe(apply);
  EXPECT_EQ(apply.out, "role vendor-acme created\n");

  CommandResult add = Admin({"users", "add", "bob", "--role", "vendor-acme", "--password-stdin"},
                            std::string(kBobPassword) + "\n");
  ASSERT_EQ(add.exit_code, 0) << Describe(add);
  EXPECT_THAT(add.out, HasSubstr("otpauth://totp/Portcullis:bob?secret="));
  const std::string bob_secret = ExtractTotpSecret(add.out);

  for (const auto& args : std::vector<std::vector<std::string>>{
           {"rtu-01", "--address", "10.20.0.5:22", "--label", "site=plant-a", "--label",
            "vendor=acme"},
           {"plc-09", "--address", "10.30.0.9:22", "--label", "site=plant-b"},
           {"sis-01", "--address", "10.20.0.7:22", "--label", "site=plant-a", "--label",
            "vendor=acme", "--label", "zone=safety"}}) {
    std::vector<std::string> cmd = {"targets", "add", "--protocol", "ssh"};
    cmd.insert(cmd.end(), args.begin(), args.end());
    CommandResult r = Admin(cmd);
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
  }

  // Monday 2026-11-23 09:00Z = 10:00 Paris: inside the window.
  const std::vector<std::string> monday = {"--login", "maint", "--protocol", "ssh", "--at",
                                           "2026-11-23T09:00:00Z"};
  auto with = [](std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  CommandResult allow = Check(with({"--target", "rtu-01"}, monday));
  EXPECT_EQ(allow.exit_code, 0) << Describe(allow);
  EXPECT_THAT(allow.out, StartsWith("ALLOW"));
  EXPECT_THAT(allow.out, HasSubstr("role vendor-acme"));
  EXPECT_THAT(allow.out, HasSubstr("login: maint"));
  EXPECT_THAT(allow.out, HasSubstr("file_transfer: download"));
  EXPECT_THAT(allow.out, HasSubstr("max_session: 2h"));
  EXPECT_THAT(allow.out, HasSubstr("approval required"));

  CommandResult other_site = Check(with({"--target", "plc-09"}, monday));
  EXPECT_EQ(other_site.exit_code, 3) << Describe(other_site);
  EXPECT_THAT(other_site.out, StartsWith("DENY"));
  EXPECT_THAT(other_site.out, HasSubstr("do not match target plc-09"));

  CommandResult root = Check({"--target", "rtu-01", "--login", "root", "--protocol", "ssh",
                              "--at", "2026-11-23T09:00:00Z"});
  EXPECT_EQ(root.exit_code, 3) << Describe(root);
  EXPECT_THAT(root.out, HasSubstr("login root not allowed"));

  const std::string window = "outside hours Mon-Fri 07:00-18:00 Europe/Paris";
  // Sunday 10:00 Paris; Monday 20:00 Paris (19:00Z); Monday 18:30 Paris
  // (17:30Z, which would be inside the window if read as UTC).
  for (const char* at : {"2026-11-22T09:00:00Z", "2026-11-23T19:00:00Z", "2026-11-23T17:30:00Z"}) {
    CommandResult r = Check({"--target", "rtu-01", "--login", "maint", "--at", at});
    EXPECT_EQ(r.exit_code, 3) << at << "\n" << Describe(r);
    EXPECT_THAT(r.out, HasSubstr(window)) << at;
  }
  // Inside the window in Paris time, winter (UTC+1) and summer (UTC+2):
  // 07:30 and 17:59:59 Paris. 06:30Z and 05:30Z would be outside if read as UTC.
  for (const char* at : {"2026-11-23T06:30:00Z", "2026-11-23T16:59:59Z", "2026-06-15T05:30:00Z",
                         "2026-06-15T15:59:59Z"}) {
    CommandResult r = Check({"--target", "rtu-01", "--login", "maint", "--at", at});
    EXPECT_EQ(r.exit_code, 0) << at << "\n" << Describe(r);
  }
  // The window ends at 18:00 Paris, also in summer (16:00Z).
  CommandResult summer_end = Check({"--target", "rtu-01", "--login", "maint", "--at",
                                    "2026-06-15T16:00:00Z"});
  EXPECT_EQ(summer_end.exit_code, 3) << Describe(summer_end);

  CommandResult safety = Check(with({"--target", "sis-01"}, monday));
  EXPECT_EQ(safety.exit_code, 3) << Describe(safety);
  EXPECT_THAT(safety.out, HasSubstr("role vendor-acme deny: targets {zone=safety}"));

  // As bob: only rtu-01 is visible; the others do not exist for him.
  const std::string bob_home = broker().Home("bob");
  CommandResult login = broker().Login(bob_home, "bob", kBobPassword, TotpCode(bob_secret, 0));
  ASSERT_EQ(login.exit_code, 0) << Describe(login);
  CommandResult ls = broker().Cli(bob_home, {"targets", "ls"});
  ASSERT_EQ(ls.exit_code, 0) << Describe(ls);
  EXPECT_THAT(ls.out, HasSubstr("rtu-01"));
  EXPECT_THAT(ls.out, Not(HasSubstr("plc-09")));
  EXPECT_THAT(ls.out, Not(HasSubstr("sis-01")));
  CommandResult show_hidden = broker().Cli(bob_home, {"targets", "show", "plc-09"});
  CommandResult show_missing = broker().Cli(bob_home, {"targets", "show", "no-such-target"});
  EXPECT_EQ(show_hidden.exit_code, 1);
  EXPECT_EQ(show_hidden.err, "portcullis: no target 'plc-09'\n");
  EXPECT_EQ(show_missing.err, "portcullis: no target 'no-such-target'\n");
  EXPECT_EQ(show_hidden.out, "");
  CommandResult show_ok = broker().Cli(bob_home, {"targets", "show", "rtu-01"});
  EXPECT_EQ(show_ok.exit_code, 0) << Describe(show_ok);
  EXPECT_THAT(show_ok.out, HasSubstr("address:  10.20.0.5:22"));

  const std::string role_file = broker().Join("vendor-acme.yaml");
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"users", "ls"},
           {"roles", "apply", "-f", role_file},
           {"targets", "add", "evil", "--address", "10.0.0.1:22", "--protocol", "ssh"},
           {"audit", "ls"},
           {"policy", "check", "--user", "bob", "--target", "rtu-01"}}) {
    CommandResult r = broker().Cli(bob_home, args);
    EXPECT_EQ(r.exit_code, 1) << args[0] << " " << args[1] << "\n" << Describe(r);
    EXPECT_THAT(r.err, HasSubstr("admin role")) << args[0] << " " << args[1];
    EXPECT_EQ(r.out, "") << args[0] << " " << args[1];
  }
  // None of bob's attempts changed anything.
  CommandResult all = Admin({"targets", "ls"});
  EXPECT_THAT(all.out, Not(HasSubstr("evil")));
}

}  // namespace
}  // namespace portcullis::testing
