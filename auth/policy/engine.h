#pragma once
// The policy decision: a pure function from (role table, user, roles,
// target, login, protocol, time, tunnel, transfer) to allow/deny with the
// deciding rule and a one-line reason for the audit log.
//
// Deny by default; deny beats allow:
//  1. The deny entries of ALL assigned roles are checked first; any match
//     denies (rule "deny"). Deny logins compare case-insensitively (Windows
//     logins are), and a deny protocol list matches the requested protocol or
//     the target's.
//  2. The requested protocol must be the target's, except kTcp with a tunnel
//     through an ssh target (ssh -L); otherwise "target speaks X".
//  3. Assigned roles are tried in name order; the first whose allow matches
//     everything decides (rule "allow") and its grants become the session's:
//     target selector; protocol (for an ssh -L tunnel: ssh, the carrier);
//     login (empty = the role's first login; vnc/tcp need none); hours at
//     req.at; the tunnel, if requested, listed in the role's tunnels
//     (normalised compare); the transfer, if requested, permitted by
//     file_transfer. If the login was defaulted, step 1 is repeated with the
//     effective login.
//  4. Otherwise "default-deny", with the reason each role did not match.
// Unknown role names grant nothing; the built-in `admin` role grants nothing
// on targets (admins administer, they don't get target access by it).
//
// Thread-safe: no state; the role table is only read during the call.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "auth/policy/role.h"
#include "broker/common/clock.h"

namespace portcullis::policy {

struct TargetInfo {
  std::string name;
  std::map<std::string, std::string> labels;
  Protocol protocol = Protocol::kSsh;
};

struct AccessRequest {
  std::string user;
  std::vector<std::string> role_names;  // roles assigned to the user
  TargetInfo target;
  std::string login;  // empty = the deciding role's first allowed login
  Protocol protocol = Protocol::kSsh;
  TimePoint at;
  std::optional<std::string> tunnel;          // "HOST:PORT" of ssh -L / tcp tunnel
  std::optional<TransferDirection> transfer;  // file transfer being attempted
};

inline constexpr std::string_view kRuleAllow = "allow";
inline constexpr std::string_view kRuleDeny = "deny";
inline constexpr std::string_view kRuleDefaultDeny = "default-deny";

struct Decision {
  bool allowed = false;
  std::string role;    // deciding role ("" for default deny)
  std::string rule;    // "allow", "deny" or "default-deny"
  std::string reason;  // one line, e.g.
  // "role vendor-acme allow: targets {site=plant-a, vendor=acme}, login maint, protocol ssh,
  //  hours Mon-Fri 07:00-18:00 Europe/Paris"
  // "role vendor-acme deny: targets {zone=safety}"
  // "no role allows this: vendor-acme: outside hours Mon-Fri 07:00-18:00 Europe/Paris; ops:
  //  login root not allowed"
  std::string login;  // effective login when allowed (default filled in)
  // Effective grants when allowed (from the deciding role):
  FileTransfer file_transfer = FileTransfer::kNone;
  std::vector<std::string> tunnels;
  std::chrono::seconds max_session{0};  // 0 = no limit
  bool require_approval = false;
  bool record_input = false;
  bool exec = true;  // false: exec requests refused (see RoleOptions::exec)
  bool view_only = false;                    // graphical: input dropped
  Clipboard clipboard = Clipboard::kNone;    // graphical: clipboard direction
};

// `roles` is the full role table keyed by role name.
Decision Decide(const std::map<std::string, Role>& roles, const AccessRequest& req);

// For `targets ls`: true iff some assigned role's allow.targets matches the
// target and no assigned role has a deny entry that denies every request to
// it (its selector matches, it lists no logins, and it lists no protocols or
// the target's protocol). Unknown roles and `admin` count for nothing.
bool CanSeeTarget(const std::map<std::string, Role>& roles,
                  const std::vector<std::string>& role_names, const TargetInfo& target);

}  // namespace portcullis::policy
