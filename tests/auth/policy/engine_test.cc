#include "auth/policy/engine.h"

#include <gtest/gtest.h>

#include "auth/policy/role_parser.h"
#include "broker/common/time_format.h"

namespace portcullis::policy {
namespace {

constexpr char kRoles[] = R"(kind: role
name: vendor-acme
allow:
  targets: {site: plant-a, vendor: acme}
  logins: [maint, service]
  protocols: [ssh, vnc, rdp]
  tunnels: ["10.20.0.5:502", "[fd00::5]:4840"]
  file_transfer: download
  hours: "Mon-Fri 07:00-18:00 Europe/Paris"
options: {max_session: 2h, require_approval: true, record_input: false}
deny:
  targets: {zone: safety}
---
kind: role
name: ops
allow:
  targets: {site: "*"}
  logins: [operator, Root2]
  protocols: [ssh, rdp, vnc, tcp]
  tunnels: ["plc-1.plant.local:102"]
  file_transfer: both
options: {max_session: 8h, record_input: true}
deny:
  targets: {"*": "*"}
  logins: [root, administrator]
---
kind: role
name: viewer
allow:
  targets: {"*": "*"}
  protocols: [vnc]
---
kind: role
name: uploader
allow:
  targets: {site: plant-b}
  logins: [eng]
  protocols: [ssh]
  file_transfer: upload
---
kind: role
name: no-ssh-to-hmi
allow:
  targets: {kind: hmi}
  protocols: [vnc]
deny:
  targets: {kind: hmi}
  protocols: [ssh]
---
kind: role
name: night
allow:
  targets: {site: plant-b}
  logins: [nightop]
  protocols: [ssh]
  hours: ["Sun 22:00-06:00 America/New_York", "Sat 08:00-12:00 UTC"]
---
kind: role
name: root-default
allow:
  targets: {site: plant-c}
  logins: [root, maint]
  protocols: [ssh]
---
kind: role
name: zz-deny-root-c
allow:
  targets: {site: plant-c}
  protocols: [vnc]
deny:
  targets: {site: plant-c}
  logins: [ROOT]
)";

std::map<std::string, Role> Table() {
  auto parsed = ParseRolesYaml(kRoles, "engine_test.yaml");
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  std::map<std::string, Role> table;
  if (parsed.ok()) {
    for (Role& r : *parsed) table.emplace(r.name, std::move(r));
  }
  return table;
}

TimePoint At(const char* rfc3339) {
  auto t = ParseUtc(rfc3339);
  EXPECT_TRUE(t.ok()) << rfc3339;
  return t.ok() ? *t : TimePoint{};
}

const TargetInfo kPlc{"plc-a", {{"site", "plant-a"}, {"vendor", "acme"}, {"kind", "plc"}},
                      Protocol::kSsh};
const TargetInfo kHmi{"hmi-a", {{"site", "plant-a"}, {"vendor", "acme"}, {"kind", "hmi"}},
                      Protocol::kVnc};
const TargetInfo kSis{"sis-a", {{"site", "plant-a"}, {"vendor", "acme"}, {"zone", "safety"}},
                      Protocol::kSsh};
const TargetInfo kEws{"ews-a", {{"site", "plant-a"}, {"vendor", "acme"}}, Protocol::kRdp};
const TargetInfo kOtherVendor{"plc-x", {{"site", "plant-a"}, {"vendor", "other"}}, Protocol::kSsh};
const TargetInfo kPlantB{"ews-b", {{"site", "plant-b"}}, Protocol::kSsh};
const TargetInfo kPlantC{"srv-c", {{"site", "plant-c"}}, Protocol::kSsh};
const TargetInfo kModbus{"modbus-a", {{"site", "plant-a"}}, Protocol::kTcp};
const TargetInfo kBare{"bare", {}, Protocol::kSsh};

// Monday 2026-03-30 10:00 in Paris (CEST) = 08:00Z.
constexpr char kMonMorning[] = "2026-03-30T10:00:00+02:00";
constexpr char kMonNight[] = "2026-03-30T22:00:00+02:00";
constexpr char kSaturday[] = "2026-03-28T10:00:00+01:00";

struct Row {
  const char* name;
  std::vector<std::string> roles;
  TargetInfo target;
  std::string login;
  Protocol protocol;
  const char* at;
  std::optional<std::string> tunnel;
  std::optional<TransferDirection> transfer;
  // Expectations.
  bool allowed;
  const char* rule;
  const char* role;
  const char* reason;  // exact
  const char* eff_login = "";
};

constexpr auto kSsh = Protocol::kSsh;
constexpr auto kVnc = Protocol::kVnc;
constexpr auto kRdp = Protocol::kRdp;
constexpr auto kTcp = Protocol::kTcp;
constexpr auto kDown = TransferDirection::kDownload;
constexpr auto kUp = TransferDirection::kUpload;
const std::optional<std::string> kNoTunnel;
const std::optional<TransferDirection> kNoXfer;

TEST(PolicyEngineTest, DecisionTable) {
  const auto table = Table();
  const Row rows[] = {
      // --- Basic allow, login defaulting, selectors.
      {"vendor ssh, default login", {"vendor-acme"}, kPlc, "", kSsh, kMonMorning, kNoTunnel,
       kNoXfer, true, "allow", "vendor-acme",
       "role vendor-acme allow: targets {site=plant-a, vendor=acme}, login maint, protocol ssh, "
       "hours Mon-Fri 07:00-18:00 Europe/Paris",
       "maint"},
      {"vendor ssh, second listed login", {"vendor-acme"}, kPlc, "service", kSsh, kMonMorning,
       kNoTunnel, kNoXfer, true, "allow", "vendor-acme",
       "role vendor-acme allow: targets {site=plant-a, vendor=acme}, login service, protocol ssh, "
       "hours Mon-Fri 07:00-18:00 Europe/Paris",
       "service"},
      {"wrong login", {"vendor-acme"}, kPlc, "root", kSsh, kMonMorning, kNoTunnel, kNoXfer, false,
       "default-deny", "", "no role allows this: vendor-acme: login root not allowed"},
      {"login case matters for allow", {"vendor-acme"}, kPlc, "Maint", kSsh, kMonMorning,
       kNoTunnel, kNoXfer, false, "default-deny", "",
       "no role allows this: vendor-acme: login Maint not allowed"},
      {"selector: wrong value", {"vendor-acme"}, kOtherVendor, "", kSsh, kMonMorning, kNoTunnel,
       kNoXfer, false, "default-deny", "",
       "no role allows this: vendor-acme: targets {site=plant-a, vendor=acme} do not match target "
       "plc-x"},
      {"selector: missing key", {"vendor-acme"}, kPlantB, "", kSsh, kMonMorning, kNoTunnel,
       kNoXfer, false, "default-deny", "",
       "no role allows this: vendor-acme: targets {site=plant-a, vendor=acme} do not match target "
       "ews-b"},
      {"selector: wildcard value", {"ops"}, kPlantB, "", kSsh, kMonNight, kNoTunnel, kNoXfer, true,
       "allow", "ops", "role ops allow: targets {site=*}, login operator, protocol ssh",
       "operator"},
      {"selector: wildcard needs the key", {"ops"}, kBare, "", kSsh, kMonNight, kNoTunnel, kNoXfer,
       false, "default-deny", "",
       "no role allows this: ops: targets {site=*} do not match target bare"},
      {"selector: match-all", {"viewer"}, kBare, "", kVnc, kMonNight, kNoTunnel, kNoXfer, false,
       "default-deny", "", "target bare speaks ssh (requested vnc)"},
      {"selector: match-all on vnc", {"viewer"}, kHmi, "", kVnc, kMonNight, kNoTunnel, kNoXfer,
       true, "allow", "viewer", "role viewer allow: targets {*=*}, protocol vnc"},
      {"vnc needs no login", {"vendor-acme"}, kHmi, "", kVnc, kMonMorning, kNoTunnel, kNoXfer,
       true, "allow", "vendor-acme",
       "role vendor-acme allow: targets {site=plant-a, vendor=acme}, login maint, protocol vnc, "
       "hours Mon-Fri 07:00-18:00 Europe/Paris",
       "maint"},
      {"vnc with a stray login", {"viewer"}, kHmi, "bob", kVnc, kMonNight, kNoTunnel, kNoXfer,
       false, "default-deny", "", "no role allows this: viewer: login bob not allowed"},
      // --- Protocols.
      {"protocol not allowed", {"uploader"}, TargetInfo{"rdp-b", {{"site", "plant-b"}}, kRdp}, "",
       kRdp, kMonMorning, kNoTunnel, kNoXfer, false, "default-deny", "",
       "no role allows this: uploader: protocol rdp not allowed"},
      {"rdp default login", {"vendor-acme"}, kEws, "", kRdp, kMonMorning, kNoTunnel, kNoXfer, true,
       "allow", "vendor-acme",
       "role vendor-acme allow: targets {site=plant-a, vendor=acme}, login maint, protocol rdp, "
       "hours Mon-Fri 07:00-18:00 Europe/Paris",
       "maint"},
      {"target speaks another protocol", {"vendor-acme"}, kEws, "", kSsh, kMonMorning, kNoTunnel,
       kNoXfer, false, "default-deny", "", "target ews-a speaks rdp (requested ssh)"},
      {"tcp target", {"ops"}, kModbus, "", kTcp, kMonNight, kNoTunnel, kNoXfer, true, "allow",
       "ops", "role ops allow: targets {site=*}, login operator, protocol tcp", "operator"},
      {"tcp target not in vendor protocols", {"vendor-acme"}, kModbus, "", kTcp, kMonMorning,
       kNoTunnel, kNoXfer, false, "default-deny", "",
       "no role allows this: vendor-acme: targets {site=plant-a, vendor=acme} do not match target "
       "modbus-a"},
      // --- Hours.
      {"outside hours", {"vendor-acme"}, kPlc, "", kSsh, kMonNight, kNoTunnel, kNoXfer, false,
       "default-deny", "",
       "no role allows this: vendor-acme: outside hours Mon-Fri 07:00-18:00 Europe/Paris"},
      {"weekend", {"vendor-acme"}, kPlc, "", kSsh, kSaturday, kNoTunnel, kNoXfer, false,
       "default-deny", "",
       "no role allows this: vendor-acme: outside hours Mon-Fri 07:00-18:00 Europe/Paris"},
      {"DST: 07:30 CEST is inside", {"vendor-acme"}, kPlc, "", kSsh, "2026-03-30T05:30:00Z",
       kNoTunnel, kNoXfer, true, "allow", "vendor-acme",
       "role vendor-acme allow: targets {site=plant-a, vendor=acme}, login maint, protocol ssh, "
       "hours Mon-Fri 07:00-18:00 Europe/Paris",
       "maint"},
      {"DST: 18:30 CEST is outside", {"vendor-acme"}, kPlc, "", kSsh, "2026-03-30T16:30:00Z",
       kNoTunnel, kNoXfer, false, "default-deny", "",
       "no role allows this: vendor-acme: outside hours Mon-Fri 07:00-18:00 Europe/Paris"},
      {"DST end: 06:30 CET is outside", {"vendor-acme"}, kPlc, "", kSsh, "2026-10-26T05:30:00Z",
       kNoTunnel, kNoXfer, false, "default-deny", "",
       "no role allows this: vendor-acme: outside hours Mon-Fri 07:00-18:00 Europe/Paris"},
      {"overnight window, Monday early", {"night"}, kPlantB, "", kSsh, "2026-01-05T05:00:00-05:00",
       kNoTunnel, kNoXfer, true, "allow", "night",
       "role night allow: targets {site=plant-b}, login nightop, protocol ssh, hours Sun "
       "22:00-06:00 America/New_York",
       "nightop"},
      {"second window of a list", {"night"}, kPlantB, "", kSsh, "2026-01-10T09:00:00Z", kNoTunnel,
       kNoXfer, true, "allow", "night",
       "role night allow: targets {site=plant-b}, login nightop, protocol ssh, hours Sat "
       "08:00-12:00 UTC",
       "nightop"},
      {"outside every window", {"night"}, kPlantB, "", kSsh, "2026-01-05T07:00:00-05:00",
       kNoTunnel, kNoXfer, false, "default-deny", "",
       "no role allows this: night: outside hours Sun 22:00-06:00 America/New_York or Sat "
       "08:00-12:00 UTC"},
      // --- Deny beats allow.
      {"deny in the same role", {"vendor-acme"}, kSis, "maint", kSsh, kMonMorning, kNoTunnel,
       kNoXfer, false, "deny", "vendor-acme", "role vendor-acme deny: targets {zone=safety}"},
      {"deny of one role beats allow of another", {"ops", "vendor-acme"}, kSis, "operator", kSsh,
       kMonNight, kNoTunnel, kNoXfer, false, "deny", "vendor-acme",
       "role vendor-acme deny: targets {zone=safety}"},
      {"deny on login, case-insensitive", {"ops"}, kPlantB, "Root", kSsh, kMonNight, kNoTunnel,
       kNoXfer, false, "deny", "ops", "role ops deny: targets {*=*}, login Root"},
      {"deny on login for rdp", {"ops", "vendor-acme"}, kEws, "ADMINISTRATOR", kRdp, kMonMorning,
       kNoTunnel, kNoXfer, false, "deny", "ops", "role ops deny: targets {*=*}, login ADMINISTRATOR"},
      {"deny login does not match a longer name", {"ops"}, kPlantB, "Root2", kSsh, kMonNight,
       kNoTunnel, kNoXfer, true, "allow", "ops",
       "role ops allow: targets {site=*}, login Root2, protocol ssh", "Root2"},
      {"deny on protocol", {"no-ssh-to-hmi", "vendor-acme"},
       TargetInfo{"hmi-ssh", {{"kind", "hmi"}, {"site", "plant-a"}, {"vendor", "acme"}}, kSsh},
       "maint", kSsh, kMonMorning, kNoTunnel, kNoXfer, false, "deny", "no-ssh-to-hmi",
       "role no-ssh-to-hmi deny: targets {kind=hmi}, protocol ssh"},
      {"deny on another protocol lets vnc through", {"no-ssh-to-hmi"}, kHmi, "", kVnc,
       kMonMorning, kNoTunnel, kNoXfer, true, "allow", "no-ssh-to-hmi",
       "role no-ssh-to-hmi allow: targets {kind=hmi}, protocol vnc"},
      {"deny applies to the defaulted login", {"root-default", "zz-deny-root-c"}, kPlantC, "", kSsh,
       kMonNight, kNoTunnel, kNoXfer, false, "deny", "zz-deny-root-c",
       "role zz-deny-root-c deny: targets {site=plant-c}, login root"},
      {"explicit other login passes that deny", {"root-default", "zz-deny-root-c"}, kPlantC,
       "maint", kSsh, kMonNight, kNoTunnel, kNoXfer, true, "allow", "root-default",
       "role root-default allow: targets {site=plant-c}, login maint, protocol ssh", "maint"},
      // --- Tunnels.
      {"tunnel listed (ssh -L)", {"vendor-acme"}, kPlc, "", kTcp, kMonMorning,
       std::string("10.20.0.5:502"), kNoXfer, true, "allow", "vendor-acme",
       "role vendor-acme allow: targets {site=plant-a, vendor=acme}, login maint, protocol tcp "
       "over ssh, hours Mon-Fri 07:00-18:00 Europe/Paris, tunnel 10.20.0.5:502",
       "maint"},
      {"tunnel listed, normalised compare", {"vendor-acme"}, kPlc, "maint", kSsh, kMonMorning,
       std::string("[FD00:0::5]:04840"), kNoXfer, true, "allow", "vendor-acme",
       "role vendor-acme allow: targets {site=plant-a, vendor=acme}, login maint, protocol ssh, "
       "hours Mon-Fri 07:00-18:00 Europe/Paris, tunnel [fd00::5]:4840",
       "maint"},
      {"tunnel not listed", {"vendor-acme"}, kPlc, "", kTcp, kMonMorning,
       std::string("10.20.0.6:502"), kNoXfer, false, "default-deny", "",
       "no role allows this: vendor-acme: tunnel 10.20.0.6:502 not allowed"},
      {"tunnel port not listed", {"vendor-acme"}, kPlc, "", kTcp, kMonMorning,
       std::string("10.20.0.5:503"), kNoXfer, false, "default-deny", "",
       "no role allows this: vendor-acme: tunnel 10.20.0.5:503 not allowed"},
      {"tunnel of a role without tunnels", {"uploader"}, kPlantB, "", kTcp, kMonMorning,
       std::string("10.20.0.5:502"), kNoXfer, false, "default-deny", "",
       "no role allows this: uploader: tunnel 10.20.0.5:502 not allowed"},
      {"malformed tunnel", {"vendor-acme"}, kPlc, "", kTcp, kMonMorning,
       std::string("10.20.0.5:502\nx"), kNoXfer, false, "default-deny", "",
       "bad tunnel '10.20.0.5:502?x': bad port (want HOST:PORT or [IPV6]:PORT)"},
      {"tcp tunnel through a non-ssh target", {"vendor-acme"}, kEws, "", kTcp, kMonMorning,
       std::string("10.20.0.5:502"), kNoXfer, false, "default-deny", "",
       "target ews-a speaks rdp (requested tcp)"},
      // --- File transfer: none / download / upload / both x direction.
      {"download with download", {"vendor-acme"}, kPlc, "", kSsh, kMonMorning, kNoTunnel, kDown,
       true, "allow", "vendor-acme",
       "role vendor-acme allow: targets {site=plant-a, vendor=acme}, login maint, protocol ssh, "
       "hours Mon-Fri 07:00-18:00 Europe/Paris, file transfer download",
       "maint"},
      {"upload with download", {"vendor-acme"}, kPlc, "", kSsh, kMonMorning, kNoTunnel, kUp,
       false, "default-deny", "",
       "no role allows this: vendor-acme: file transfer upload not allowed (role grants download)"},
      {"upload with upload", {"uploader"}, kPlantB, "", kSsh, kMonMorning, kNoTunnel, kUp, true,
       "allow", "uploader",
       "role uploader allow: targets {site=plant-b}, login eng, protocol ssh, file transfer upload",
       "eng"},
      {"download with upload", {"uploader"}, kPlantB, "", kSsh, kMonMorning, kNoTunnel, kDown,
       false, "default-deny", "",
       "no role allows this: uploader: file transfer download not allowed (role grants upload)"},
      {"download with both", {"ops"}, kPlantB, "", kSsh, kMonMorning, kNoTunnel, kDown, true,
       "allow", "ops",
       "role ops allow: targets {site=*}, login operator, protocol ssh, file transfer download",
       "operator"},
      {"upload with both", {"ops"}, kPlantB, "", kSsh, kMonMorning, kNoTunnel, kUp, true, "allow",
       "ops", "role ops allow: targets {site=*}, login operator, protocol ssh, file transfer upload",
       "operator"},
      {"download with none", {"night"}, kPlantB, "", kSsh, "2026-01-10T09:00:00Z", kNoTunnel,
       kDown, false, "default-deny", "",
       "no role allows this: night: file transfer download not allowed (role grants none)"},
      {"upload with none", {"night"}, kPlantB, "", kSsh, "2026-01-10T09:00:00Z", kNoTunnel, kUp,
       false, "default-deny", "",
       "no role allows this: night: file transfer upload not allowed (role grants none)"},
      // --- Several roles: the first matching role in name order decides.
      {"name order decides", {"uploader", "ops"}, kPlantB, "", kSsh, kMonMorning, kNoTunnel,
       kNoXfer, true, "allow", "ops", "role ops allow: targets {site=*}, login operator, protocol "
       "ssh", "operator"},
      {"later role matches when earlier does not", {"ops", "uploader"}, kPlantB, "eng", kSsh,
       kMonMorning, kNoTunnel, kNoXfer, true, "allow", "uploader",
       "role uploader allow: targets {site=plant-b}, login eng, protocol ssh", "eng"},
      {"per-role reasons", {"vendor-acme", "ops"}, kPlc, "nobody", kSsh, kMonMorning, kNoTunnel,
       kNoXfer, false, "default-deny", "",
       "no role allows this: ops: login nobody not allowed; vendor-acme: login nobody not "
       "allowed"},
      {"duplicate role names count once", {"ops", "ops"}, kPlantB, "x", kSsh, kMonMorning,
       kNoTunnel, kNoXfer, false, "default-deny", "",
       "no role allows this: ops: login x not allowed"},
      // --- Unknown roles, admin, no roles.
      {"unknown role grants nothing", {"ghost"}, kPlc, "maint", kSsh, kMonMorning, kNoTunnel,
       kNoXfer, false, "default-deny", "", "no role allows this: ghost: unknown role"},
      {"unknown role next to a real one", {"ghost", "vendor-acme"}, kPlc, "", kSsh, kMonMorning,
       kNoTunnel, kNoXfer, true, "allow", "vendor-acme",
       "role vendor-acme allow: targets {site=plant-a, vendor=acme}, login maint, protocol ssh, "
       "hours Mon-Fri 07:00-18:00 Europe/Paris",
       "maint"},
      {"admin grants nothing", {"admin"}, kPlc, "root", kSsh, kMonMorning, kNoTunnel, kNoXfer,
       false, "default-deny", "",
       "no role allows this: admin: built-in admin role grants no target access"},
      {"no roles", {}, kPlc, "", kSsh, kMonMorning, kNoTunnel, kNoXfer, false, "default-deny", "",
       "no role allows this: no roles assigned"},
      {"hostile login is printed safely", {"vendor-acme"}, kPlc, "a\nb\x1b[2J", kSsh, kMonMorning,
       kNoTunnel, kNoXfer, false, "default-deny", "",
       "no role allows this: vendor-acme: login a?b?[2J not allowed"},
  };
  for (const Row& row : rows) {
    AccessRequest req;
    req.user = "alice";
    req.role_names = row.roles;
    req.target = row.target;
    req.login = row.login;
    req.protocol = row.protocol;
    req.at = At(row.at);
    req.tunnel = row.tunnel;
    req.transfer = row.transfer;
    const Decision d = Decide(table, req);
    EXPECT_EQ(d.allowed, row.allowed) << row.name << ": " << d.reason;
    EXPECT_EQ(d.rule, row.rule) << row.name;
    EXPECT_EQ(d.role, row.role) << row.name;
    EXPECT_EQ(d.reason, row.reason) << row.name;
    EXPECT_EQ(d.login, row.eff_login) << row.name;
    EXPECT_EQ(d.reason.find('\n'), std::string::npos) << row.name;
    if (!d.allowed) {
      EXPECT_EQ(d.file_transfer, FileTransfer::kNone) << row.name;
      EXPECT_TRUE(d.tunnels.empty()) << row.name;
    }
  }
}

TEST(PolicyEngineTest, GrantsComeFromTheDecidingRole) {
  const auto table = Table();
  AccessRequest req;
  req.user = "alice";
  req.role_names = {"vendor-acme"};
  req.target = kPlc;
  req.protocol = Protocol::kSsh;
  req.at = At(kMonMorning);
  Decision d = Decide(table, req);
  ASSERT_TRUE(d.allowed) << d.reason;
  EXPECT_EQ(d.file_transfer, FileTransfer::kDownload);
  EXPECT_EQ(d.tunnels, (std::vector<std::string>{"10.20.0.5:502", "[fd00::5]:4840"}));
  EXPECT_EQ(d.max_session, std::chrono::hours(2));
  EXPECT_TRUE(d.require_approval);
  EXPECT_FALSE(d.record_input);

  req.role_names = {"ops", "vendor-acme"};  // ops comes first by name
  d = Decide(table, req);
  ASSERT_TRUE(d.allowed) << d.reason;
  EXPECT_EQ(d.role, "ops");
  EXPECT_EQ(d.login, "operator");
  EXPECT_EQ(d.file_transfer, FileTransfer::kBoth);
  EXPECT_EQ(d.tunnels, std::vector<std::string>{"plc-1.plant.local:102"});
  EXPECT_EQ(d.max_session, std::chrono::hours(8));
  EXPECT_FALSE(d.require_approval);
  EXPECT_TRUE(d.record_input);
  EXPECT_TRUE(d.exec) << "exec defaults to true";
}

TEST(PolicyEngineTest, ExecFalseIsTheDecidingRolesGrant) {
  auto roles = ParseRolesYaml(
      "kind: role\nname: shell-only\nallow:\n  targets: {site: plant-a}\n  logins: [maint]\n"
      "  protocols: [ssh]\n  file_transfer: download\noptions: {exec: false}\n",
      "t.yaml");
  ASSERT_TRUE(roles.ok()) << roles.status();
  std::map<std::string, Role> table;
  for (auto& r : *roles) table.emplace(r.name, r);
  AccessRequest req;
  req.user = "alice";
  req.role_names = {"shell-only"};
  req.target = kPlc;
  req.protocol = Protocol::kSsh;
  req.at = At(kMonMorning);
  Decision d = Decide(table, req);
  ASSERT_TRUE(d.allowed) << d.reason;
  EXPECT_FALSE(d.exec);
  EXPECT_EQ(d.file_transfer, FileTransfer::kDownload);
}

TEST(PolicyEngineTest, GraphicalOptionsAreTheDecidingRolesGrant) {
  auto roles = ParseRolesYaml(
      "kind: role\nname: hmi-watch\nallow:\n  targets: {kind: hmi}\n  protocols: [vnc]\n"
      "options: {view_only: true, clipboard: from_target}\n",
      "t.yaml");
  ASSERT_TRUE(roles.ok()) << roles.status();
  std::map<std::string, Role> table;
  for (auto& r : *roles) table.emplace(r.name, r);
  AccessRequest req;
  req.user = "alice";
  req.role_names = {"hmi-watch"};
  req.target = kHmi;
  req.protocol = Protocol::kVnc;
  req.at = At(kMonMorning);
  Decision d = Decide(table, req);
  ASSERT_TRUE(d.allowed) << d.reason;
  EXPECT_TRUE(d.view_only);
  EXPECT_EQ(d.clipboard, Clipboard::kFromTarget);
  EXPECT_EQ(d.login, "");
  const Decision none = Decide({}, req);
  EXPECT_FALSE(none.view_only);
  EXPECT_EQ(none.clipboard, Clipboard::kNone);
}

TEST(PolicyEngineTest, EmptyTableIsDefaultDeny) {
  AccessRequest req;
  req.role_names = {"vendor-acme"};
  req.target = kPlc;
  req.at = At(kMonMorning);
  const Decision d = Decide({}, req);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.rule, "default-deny");
  EXPECT_EQ(d.reason, "no role allows this: vendor-acme: unknown role");
}

TEST(PolicyEngineTest, AdminInTheTableStillGrantsNothing) {
  // Even if a role named admin sneaks into the table, it neither allows nor denies.
  auto table = Table();
  Role admin = table.at("ops");
  admin.name = "admin";
  admin.deny.reset();
  table.emplace("admin", admin);
  AccessRequest req;
  req.role_names = {"admin"};
  req.target = kPlantB;
  req.login = "operator";
  req.at = At(kMonMorning);
  EXPECT_FALSE(Decide(table, req).allowed);
}

TEST(PolicyEngineTest, HandBuiltRoleWithoutLoginsDeniesSsh) {
  Role r;
  r.name = "odd";
  r.allow.targets = {{"*", "*"}};
  r.allow.protocols = {Protocol::kSsh};
  AccessRequest req;
  req.role_names = {"odd"};
  req.target = kPlc;
  req.at = At(kMonMorning);
  const Decision d = Decide({{"odd", r}}, req);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, "no role allows this: odd: no login allowed for ssh");
}

TEST(PolicyEngineTest, CanSeeTargetTable) {
  const auto table = Table();
  struct Case {
    const char* name;
    std::vector<std::string> roles;
    TargetInfo target;
    bool visible;
  };
  const Case cases[] = {
      {"allowed target", {"vendor-acme"}, kPlc, true},
      {"visible regardless of hours", {"vendor-acme"}, kEws, true},
      {"other vendor", {"vendor-acme"}, kOtherVendor, false},
      {"denied by own role", {"vendor-acme"}, kSis, false},
      {"denied by another role", {"ops", "vendor-acme"}, kSis, false},
      {"login-only deny does not hide", {"ops"}, kPlantB, true},
      {"protocol deny hides that protocol's target", {"no-ssh-to-hmi", "vendor-acme"},
       TargetInfo{"hmi-ssh", {{"kind", "hmi"}, {"site", "plant-a"}, {"vendor", "acme"}}, kSsh},
       false},
      {"protocol deny keeps other protocols", {"no-ssh-to-hmi"}, kHmi, true},
      {"unknown role", {"ghost"}, kPlc, false},
      {"admin", {"admin"}, kPlc, false},
      {"no roles", {}, kPlc, false},
      {"match-all", {"viewer"}, kBare, true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(CanSeeTarget(table, c.roles, c.target), c.visible) << c.name;
  }
}

}  // namespace
}  // namespace portcullis::policy
