#include "auth/policy/role_parser.h"

#include <gtest/gtest.h>

#include <string>

namespace portcullis::policy {
namespace {

// The PRODUCT.md example, line for line.
constexpr char kVendorAcme[] = R"(kind: role
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

std::string Error(std::string_view yaml, std::string_view file = "vendor-acme.yaml") {
  auto roles = ParseRolesYaml(yaml, file);
  if (roles.ok()) return "(parsed ok)";
  EXPECT_EQ(roles.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(roles.status().message());
}

// Replaces the first occurrence of `from` in `s`.
std::string Sub(std::string s, std::string_view from, std::string_view to) {
  size_t pos = s.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  if (pos != std::string::npos) s.replace(pos, from.size(), to);
  return s;
}
std::string Edit(std::string_view from, std::string_view to) { return Sub(kVendorAcme, from, to); }

TEST(PolicyRoleParserTest, ProductExample) {
  auto roles = ParseRolesYaml(kVendorAcme, "vendor-acme.yaml");
  ASSERT_TRUE(roles.ok()) << roles.status();
  ASSERT_EQ(roles->size(), 1u);
  const Role& r = (*roles)[0];
  EXPECT_EQ(r.name, "vendor-acme");
  EXPECT_EQ(r.allow.targets, (LabelSelector{{"site", "plant-a"}, {"vendor", "acme"}}));
  EXPECT_EQ(r.allow.logins, std::vector<std::string>{"maint"});
  EXPECT_EQ(r.allow.protocols,
            (std::vector<Protocol>{Protocol::kSsh, Protocol::kVnc, Protocol::kRdp}));
  EXPECT_EQ(r.allow.tunnels, std::vector<std::string>{"10.20.0.5:502"});
  EXPECT_EQ(r.allow.file_transfer, FileTransfer::kDownload);
  ASSERT_EQ(r.allow.hours.size(), 1u);
  EXPECT_EQ(r.allow.hours[0].text, "Mon-Fri 07:00-18:00 Europe/Paris");
  EXPECT_EQ(r.options.max_session, std::chrono::hours(2));
  EXPECT_TRUE(r.options.require_approval);
  EXPECT_FALSE(r.options.record_input);
  ASSERT_TRUE(r.deny.has_value());
  EXPECT_EQ(r.deny->targets, (LabelSelector{{"zone", "safety"}}));
  EXPECT_TRUE(r.deny->logins.empty());
}

TEST(PolicyRoleParserTest, DefaultsAndVariants) {
  auto roles = ParseRolesYaml(R"(kind: role
name: viewer
allow:
  targets: {"*": "*"}
  protocols: [vnc]
---
kind: role
name: night-shift
allow:
  targets:
    site: "*"
  logins: [op, Administrator]
  protocols: [rdp, tcp]
  tunnels: ["[FD00::5]:4840", "PLC-1.local:102"]
  hours:
    - "Sun 22:00-06:00 America/New_York"
    - "sat 08:00-12:00 UTC"
options:
  max_session: 1h30m
---
)",
                              "two.yaml");
  ASSERT_TRUE(roles.ok()) << roles.status();
  ASSERT_EQ(roles->size(), 2u);
  const Role& viewer = (*roles)[0];
  EXPECT_EQ(viewer.allow.file_transfer, FileTransfer::kNone);
  EXPECT_TRUE(viewer.allow.logins.empty());
  EXPECT_TRUE(viewer.allow.hours.empty());
  EXPECT_EQ(viewer.options, RoleOptions{});
  EXPECT_FALSE(viewer.deny.has_value());
  const Role& night = (*roles)[1];
  EXPECT_EQ(night.allow.targets, (LabelSelector{{"site", "*"}}));
  EXPECT_EQ(night.allow.tunnels, (std::vector<std::string>{"[fd00::5]:4840", "plc-1.local:102"}));
  ASSERT_EQ(night.allow.hours.size(), 2u);
  EXPECT_EQ(night.allow.hours[1].text, "Sat 08:00-12:00 UTC");
  EXPECT_EQ(night.options.max_session, std::chrono::minutes(90));
}

struct BadCase {
  const char* name;
  std::string yaml;
  const char* want;  // expected prefix of the error message
};

TEST(PolicyRoleParserTest, BadInputTable) {
  const BadCase cases[] = {
      {"malformed YAML: unclosed flow sequence",
       Edit("protocols: [ssh, vnc, rdp]", "protocols: [ssh, vnc, rdp"),
       "vendor-acme.yaml:7: malformed YAML: "},
      {"malformed YAML: bad indentation", "kind: role\nname: x\n  allow: y\n",
       "vendor-acme.yaml:3: malformed YAML: "},
      {"malformed YAML: unquoted star alias", Edit("{zone: safety}", "{zone: *}"),
       "vendor-acme.yaml:15: malformed YAML: "},
      // yaml-cpp 0.7's LoadAll never returns on these (jbeder/yaml-cpp#1040).
      {"malformed YAML: lone comma", ",", "vendor-acme.yaml:1: malformed YAML: "},
      {"malformed YAML: comma after a flow map", "{kind: role},",
       "vendor-acme.yaml:1: malformed YAML: "},
      {"malformed YAML: comma in a later document", std::string(kVendorAcme) + "--- ,\n",
       "vendor-acme.yaml:16: malformed YAML: "},
      {"malformed YAML: anchored comma", "&a ,", "vendor-acme.yaml:1: malformed YAML: "},
      {"unknown top-level key", std::string(kVendorAcme) + "labels: {a: b}\n",
       "vendor-acme.yaml:16: labels: unknown field (expected one of: kind, name, allow, options, "
       "deny)"},
      {"unknown nested key", Edit("  protocols:", "  protocls:"),
       "vendor-acme.yaml:6: allow.protocls: unknown field (expected one of: targets, logins, "
       "protocols, tunnels, file_transfer, hours)"},
      {"unknown options key", Edit("  record_input: false", "  record_inputs: false"),
       "vendor-acme.yaml:13: options.record_inputs: unknown field (expected one of: max_session, "
       "require_approval, record_input, exec, view_only, clipboard)"},
      {"unknown deny key", Edit("  targets: {zone: safety}", "  target: {zone: safety}"),
       "vendor-acme.yaml:15: deny.target: unknown field (expected one of: targets, logins, "
       "protocols)"},
      {"duplicate key", Edit("  logins: [maint]", "  logins: [maint]\n  logins: [root]"),
       "vendor-acme.yaml:6: allow.logins: duplicate field (first at line 5)"},
      {"bad selector key", Edit("{site: plant-a, vendor: acme}", "{site: plant-a, \"ven dor\": acme}"),
       "vendor-acme.yaml:4: allow.targets.ven dor: bad label key"},
      {"bad selector value", Edit("{zone: safety}", "{zone: \"safe=ty\"}"),
       "vendor-acme.yaml:15: deny.targets.zone: bad label value 'safe=ty'"},
      {"star key with a value", Edit("{zone: safety}", "{\"*\": safety}"),
       "vendor-acme.yaml:15: deny.targets.*: the match-all selector is {\"*\": \"*\"}"},
      {"star key mixed", Edit("{zone: safety}", "{\"*\": \"*\", zone: safety}"),
       "vendor-acme.yaml:15: deny.targets: \"*\" must be the only key"},
      {"empty selector", Edit("{site: plant-a, vendor: acme}", "{}"),
       "vendor-acme.yaml:4: allow.targets: empty selector matches nothing"},
      {"bad time window syntax", Edit("Mon-Fri 07:00-18:00 Europe/Paris", "Mon-Fri 7-18 Europe/Paris"),
       "vendor-acme.yaml:9: allow.hours: bad time '7' (want HH:MM)"},
      {"bad day name", Edit("Mon-Fri 07:00", "Mon-Fry 07:00"),
       "vendor-acme.yaml:9: allow.hours: bad day name 'Fry'"},
      {"unknown zone", Edit("Europe/Paris", "Europe/Pariss"),
       "vendor-acme.yaml:9: allow.hours: unknown time zone 'Europe/Pariss'"},
      {"bad window in a list",
       Edit("  hours: \"Mon-Fri 07:00-18:00 Europe/Paris\"",
            "  hours:\n    - \"Mon 07:00-18:00 UTC\"\n    - \"Tue 07:00-18:00 Mars/Olympus\""),
       "vendor-acme.yaml:11: allow.hours[1]: unknown time zone 'Mars/Olympus'"},
      {"empty hours list", Edit("  hours: \"Mon-Fri 07:00-18:00 Europe/Paris\"", "  hours: []"),
       "vendor-acme.yaml:9: allow.hours: empty list"},
      {"bad duration", Edit("max_session: 2h", "max_session: 2 hours"),
       "vendor-acme.yaml:11: options.max_session: bad duration '2 hours'"},
      {"duration over 7 days", Edit("max_session: 2h", "max_session: 8d"),
       "vendor-acme.yaml:11: options.max_session: '8d' exceeds the 7 day limit"},
      {"bad boolean", Edit("require_approval: true", "require_approval: yes"),
       "vendor-acme.yaml:12: options.require_approval: expected true or false, got 'yes'"},
      {"reserved name admin", Edit("name: vendor-acme", "name: admin"),
       "vendor-acme.yaml:2: name: 'admin' is the reserved built-in role"},
      {"reserved name auditor", Edit("name: vendor-acme", "name: auditor"),
       "vendor-acme.yaml:2: name: 'auditor' is the reserved built-in reviewer role"},
      {"bad role name", Edit("name: vendor-acme", "name: Vendor_Acme!"),
       "vendor-acme.yaml:2: name: bad role name 'Vendor_Acme!'"},
      {"missing name", Edit("name: vendor-acme\n", ""), "vendor-acme.yaml:1: name: required"},
      {"missing kind", Edit("kind: role\n", ""), "vendor-acme.yaml:1: kind: required"},
      {"wrong kind", Edit("kind: role", "kind: user"),
       "vendor-acme.yaml:1: kind: expected 'role', got 'user'"},
      {"missing allow", "kind: role\nname: x\noptions: {record_input: true}\n",
       "vendor-acme.yaml:1: allow: required"},
      {"missing allow.targets", Edit("  targets: {site: plant-a, vendor: acme}", ""),
       "vendor-acme.yaml:3: allow.targets: required"},
      {"missing protocols", Edit("  protocols: [ssh, vnc, rdp]\n", ""),
       "vendor-acme.yaml:3: allow.protocols: required"},
      {"empty protocols", Edit("protocols: [ssh, vnc, rdp]", "protocols: []"),
       "vendor-acme.yaml:6: allow.protocols: empty list"},
      {"unknown protocol", Edit("protocols: [ssh, vnc, rdp]", "protocols: [ssh, telnet]"),
       "vendor-acme.yaml:6: allow.protocols[1]: unknown protocol 'telnet'"},
      {"duplicate protocol", Edit("protocols: [ssh, vnc, rdp]", "protocols: [ssh, vnc, ssh]"),
       "vendor-acme.yaml:6: allow.protocols[2]: duplicate protocol 'ssh'"},
      {"ssh without logins", Edit("  logins: [maint]\n", ""),
       "vendor-acme.yaml:3: allow.logins: required when protocols include ssh or rdp"},
      {"ssh with empty logins", Edit("logins: [maint]", "logins: []"),
       "vendor-acme.yaml:5: allow.logins: empty list"},
      {"bad login", Edit("logins: [maint]", "logins: [maint, \"-oProxyCommand=x\"]"),
       "vendor-acme.yaml:5: allow.logins[1]: bad login '-oProxyCommand=x'"},
      {"bad tunnel", Edit("10.20.0.5:502", "10.20.0.5:99999"),
       "vendor-acme.yaml:7: allow.tunnels[0]: bad tunnel '10.20.0.5:99999'"},
      {"duplicate tunnel after normalising",
       Edit("[\"10.20.0.5:502\"]", "[\"10.20.0.5:502\", \"10.20.0.5:0502\"]"),
       "vendor-acme.yaml:7: allow.tunnels[1]: duplicate tunnel '10.20.0.5:502'"},
      {"tunnels without ssh or tcp", Edit("protocols: [ssh, vnc, rdp]", "protocols: [vnc, rdp]"),
       "vendor-acme.yaml:7: allow.tunnels: tunnels need protocol ssh or tcp"},
      {"bad file_transfer", Edit("file_transfer: download", "file_transfer: read"),
       "vendor-acme.yaml:8: allow.file_transfer: unknown file_transfer 'read'"},
      {"wrong type: list for a map", Edit("{site: plant-a, vendor: acme}", "[plant-a, acme]"),
       "vendor-acme.yaml:4: allow.targets: expected a map, got a list"},
      {"wrong type: map for a list", Edit("logins: [maint]", "logins: {maint: yes}"),
       "vendor-acme.yaml:5: allow.logins: expected a list, got a map"},
      {"wrong type: scalar for a list", Edit("logins: [maint]", "logins: maint"),
       "vendor-acme.yaml:5: allow.logins: expected a list, got a scalar"},
      {"wrong type: list for allow", "kind: role\nname: x\nallow: [a, b]\n",
       "vendor-acme.yaml:3: allow: expected a map, got a list"},
      {"wrong type: map for a name", Edit("name: vendor-acme", "name: {first: vendor}"),
       "vendor-acme.yaml:2: name: expected a string, got a map"},
      {"wrong type: nested list item", Edit("logins: [maint]", "logins: [[maint]]"),
       "vendor-acme.yaml:5: allow.logins[0]: expected a string, got a list"},
      {"wrong type: null deny", Edit("  targets: {zone: safety}", ""),
       "vendor-acme.yaml:14: deny: expected a map, got null"},
      {"empty deny block", Edit("  targets: {zone: safety}", "  {}"),
       "vendor-acme.yaml:14: deny: empty deny block"},
      {"deny without targets", Edit("  targets: {zone: safety}", "  logins: [root]"),
       "vendor-acme.yaml:14: deny.targets: required"},
      {"document is a list", "- kind: role\n", "vendor-acme.yaml:1: a role document must be a map"},
      {"document is a scalar", "hello\n", "vendor-acme.yaml:1: a role document must be a map"},
      {"non-scalar key", Edit("kind: role", "? [kind]\n: role"),
       "vendor-acme.yaml:1: keys must be scalars, got a list"},
      {"empty input", "", "vendor-acme.yaml:1: no role documents"},
      {"only comments", "# nothing\n---\n", "vendor-acme.yaml:1: no role documents"},
      {"NUL byte", std::string("kind: role\nname: x\0y\n", 21), "vendor-acme.yaml:2: NUL byte"},
      {"duplicate names across documents", std::string(kVendorAcme) + "---\n" + kVendorAcme,
       "vendor-acme.yaml:18: name: duplicate role name 'vendor-acme' (first defined at line 2)"},
      {"error in second document has an absolute line",
       std::string(kVendorAcme) + "---\n" +
           Sub(Edit("name: vendor-acme", "name: other"), "Europe/Paris", "Europe/Pariss"),
       "vendor-acme.yaml:25: allow.hours: unknown time zone 'Europe/Pariss'"},
  };
  for (const auto& c : cases) {
    const std::string err = Error(c.yaml);
    EXPECT_EQ(err.rfind(c.want, 0), 0u) << c.name << "\n  got:  " << err << "\n  want: " << c.want;
  }
}

TEST(PolicyRoleParserTest, OversizedInputIsRefused) {
  std::string big(kVendorAcme);
  big += "# " + std::string(kMaxRoleYamlBytes, 'x') + "\n";
  EXPECT_EQ(Error(big).rfind("vendor-acme.yaml:1: role file too large", 0), 0u) << Error(big);
  // Just under the limit is fine.
  std::string ok(kVendorAcme);
  ok += "#";
  ok += std::string(kMaxRoleYamlBytes - ok.size() - 1, 'x');
  ok += "\n";
  ASSERT_EQ(ok.size(), kMaxRoleYamlBytes);
  EXPECT_TRUE(ParseRolesYaml(ok, "f.yaml").ok());
}

TEST(PolicyRoleParserTest, DeepNestingIsAnErrorNotACrash) {
  std::string deep = "kind: role\nname: x\nallow: " + std::string(100000, '[') + "\n";
  EXPECT_EQ(Error(deep).rfind("vendor-acme.yaml:", 0), 0u) << Error(deep);
}

TEST(PolicyRoleParserTest, AllOrNothing) {
  // The first document is valid, the second is not: nothing is returned.
  auto roles = ParseRolesYaml(std::string(kVendorAcme) + "---\nkind: role\nname: b\n", "f.yaml");
  ASSERT_FALSE(roles.ok());
  EXPECT_EQ(std::string(roles.status().message()), "f.yaml:17: allow: required");
}

TEST(PolicyRoleParserTest, FilenameIsSanitised) {
  const std::string err = Error("kind: nope\n", "evil\nname.yaml");
  EXPECT_EQ(err.find('\n'), std::string::npos) << err;
  EXPECT_EQ(err.rfind("evil?name.yaml:1: kind:", 0), 0u) << err;
}

TEST(PolicyRoleParserTest, RoundTrip) {
  const std::string inputs[] = {
      kVendorAcme,
      R"(kind: role
name: everything
allow:
  targets: {"*": "*"}
  logins: [op, Administrator, _svc]
  protocols: [ssh, rdp, vnc, tcp]
  tunnels: ["[FD00::5]:4840", "PLC-1.local:102", "10.0.0.1:502"]
  file_transfer: both
  hours: ["Sun 22:00-06:00 America/New_York", "fri-mon 00:00-24:00 UTC"]
options:
  max_session: 7d
  require_approval: false
  record_input: true
  exec: false
deny:
  targets: {zone: safety, "example.com/tier": "*"}
  logins: [root]
  protocols: [ssh, tcp]
)",
      R"(kind: role
name: "007"
allow:
  targets: {"null": "true", "1": "2", "-x": "_y"}
  protocols: [vnc]
options:
  max_session: 90s
)",
  };
  for (const std::string& in : inputs) {
    auto first = ParseRolesYaml(in, "in.yaml");
    ASSERT_TRUE(first.ok()) << first.status();
    ASSERT_EQ(first->size(), 1u);
    const std::string yaml = RoleToYaml((*first)[0]);
    auto second = ParseRolesYaml(yaml, "out.yaml");
    ASSERT_TRUE(second.ok()) << second.status() << "\n" << yaml;
    ASSERT_EQ(second->size(), 1u);
    EXPECT_EQ((*second)[0], (*first)[0]) << yaml;
    EXPECT_EQ(RoleToYaml((*second)[0]), yaml) << "canonical form is a fixed point";
  }
}

TEST(PolicyRoleParserTest, ExecOptionDefaultsToTrue) {
  auto roles = ParseRolesYaml(kVendorAcme, "f.yaml");
  ASSERT_TRUE(roles.ok()) << roles.status();
  EXPECT_TRUE((*roles)[0].options.exec);
  EXPECT_EQ(RoleToYaml((*roles)[0]).find("exec"), std::string::npos) << "the default is not written";

  auto off = ParseRolesYaml(
      "kind: role\nname: shell-only\nallow:\n  targets: {site: a}\n  logins: [op]\n"
      "  protocols: [ssh]\noptions: {exec: false}\n",
      "f.yaml");
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_FALSE((*off)[0].options.exec);
  EXPECT_NE(RoleToYaml((*off)[0]).find("  exec: false\n"), std::string::npos) << RoleToYaml((*off)[0]);

  auto bad = ParseRolesYaml(
      "kind: role\nname: x\nallow:\n  targets: {site: a}\n  protocols: [vnc]\noptions: {exec: no}\n",
      "f.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "f.yaml:6: options.exec: expected true or false, got 'no'");
}

TEST(PolicyRoleParserTest, GraphicalOptionsDefaultOffAndRoundTrip) {
  auto roles = ParseRolesYaml(kVendorAcme, "f.yaml");
  ASSERT_TRUE(roles.ok()) << roles.status();
  EXPECT_FALSE((*roles)[0].options.view_only);
  EXPECT_EQ((*roles)[0].options.clipboard, Clipboard::kNone);
  const std::string canonical = RoleToYaml((*roles)[0]);
  EXPECT_EQ(canonical.find("view_only"), std::string::npos) << "the default is not written";
  EXPECT_EQ(canonical.find("clipboard"), std::string::npos) << "the default is not written";

  for (const auto& [text, want] : std::vector<std::pair<std::string, Clipboard>>{
           {"none", Clipboard::kNone},
           {"to_target", Clipboard::kToTarget},
           {"from_target", Clipboard::kFromTarget},
           {"both", Clipboard::kBoth}}) {
    auto r = ParseRolesYaml("kind: role\nname: watch\nallow:\n  targets: {site: a}\n"
                            "  protocols: [vnc]\noptions: {view_only: true, clipboard: " +
                                text + "}\n",
                            "f.yaml");
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE((*r)[0].options.view_only);
    EXPECT_EQ((*r)[0].options.clipboard, want) << text;
    auto again = ParseRolesYaml(RoleToYaml((*r)[0]), "again.yaml");
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ((*again)[0], (*r)[0]) << RoleToYaml((*r)[0]);
  }

  auto bad_clip = ParseRolesYaml(
      "kind: role\nname: x\nallow:\n  targets: {site: a}\n  protocols: [vnc]\n"
      "options:\n  clipboard: sideways\n",
      "f.yaml");
  ASSERT_FALSE(bad_clip.ok());
  EXPECT_EQ(bad_clip.status().message(),
            "f.yaml:7: options.clipboard: unknown clipboard 'sideways' (expected one of: none, "
            "to_target, from_target, both)");
  auto bad_view = ParseRolesYaml(
      "kind: role\nname: x\nallow:\n  targets: {site: a}\n  protocols: [vnc]\n"
      "options:\n  view_only: maybe\n",
      "f.yaml");
  ASSERT_FALSE(bad_view.ok());
  EXPECT_EQ(bad_view.status().message(),
            "f.yaml:7: options.view_only: expected true or false, got 'maybe'");
}

TEST(PolicyRoleParserTest, CanonicalYamlShape) {
  auto roles = ParseRolesYaml(kVendorAcme, "f.yaml");
  ASSERT_TRUE(roles.ok());
  EXPECT_EQ(RoleToYaml((*roles)[0]), R"(kind: role
name: vendor-acme
allow:
  targets: {site: plant-a, vendor: acme}
  logins: [maint]
  protocols: [ssh, vnc, rdp]
  tunnels: ["10.20.0.5:502"]
  file_transfer: download
  hours: ["Mon-Fri 07:00-18:00 Europe/Paris"]
options:
  max_session: 2h
  require_approval: true
  record_input: false
deny:
  targets: {zone: safety}
)");
}

}  // namespace
}  // namespace portcullis::policy
