#pragma once
// The role model of the policy engine: what a role allows, denies and sets
// for the session, plus the value types it is built from (protocols, label
// selectors, tunnels, logins) and their validators.
//
// Plain value types; no shared state. All functions are pure and
// thread-safe. Roles are normally built by ParseRolesYaml (role_parser.h),
// which enforces every validity rule below; Decide (engine.h) still treats a
// hand-built Role defensively (deny by default).

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "auth/policy/hours_window.h"

namespace portcullis::policy {

enum class Protocol { kSsh, kRdp, kVnc, kTcp };
// "ssh", "rdp", "vnc", "tcp".
std::string_view ProtocolName(Protocol p);
// Exact lowercase names only.
[[nodiscard]] absl::StatusOr<Protocol> ParseProtocol(std::string_view s);

enum class FileTransfer { kNone, kDownload, kUpload, kBoth };
// "none", "download", "upload", "both".
std::string_view FileTransferName(FileTransfer f);
[[nodiscard]] absl::StatusOr<FileTransfer> ParseFileTransfer(std::string_view s);

// Clipboard text a graphical (VNC/RDP) session may carry: none, viewer to
// target, target to viewer, or both ways.
enum class Clipboard { kNone, kToTarget, kFromTarget, kBoth };
// "none", "to_target", "from_target", "both".
std::string_view ClipboardName(Clipboard c);
[[nodiscard]] absl::StatusOr<Clipboard> ParseClipboard(std::string_view s);

enum class TransferDirection { kDownload, kUpload };
std::string_view TransferDirectionName(TransferDirection d);
// True iff `granted` permits a transfer in `dir`.
bool TransferPermitted(FileTransfer granted, TransferDirection dir);

// A label selector: every key must be present on the target with an equal
// value; value "*" matches any value of that key; the special selector
// {"*": "*"} matches every target. An empty selector matches nothing.
using LabelSelector = std::map<std::string, std::string>;
inline constexpr std::string_view kMatchAll = "*";
bool SelectorMatches(const LabelSelector& sel,
                     const std::map<std::string, std::string>& labels);
// "{site=plant-a, vendor=acme}" (for reasons and messages).
std::string FormatSelector(const LabelSelector& sel);

// Validators for names that come from admins' YAML / CLI flags.
// Role names: [a-z0-9][a-z0-9._-]{0,62}.
bool IsValidRoleName(std::string_view s);
// Label keys and values: [A-Za-z0-9._/-]{1,63}. (A selector value may also be
// "*"; that is the selector's business, not the label's.)
bool IsValidLabelKey(std::string_view s);
bool IsValidLabelValue(std::string_view s);
// Logins: [A-Za-z_][A-Za-z0-9_.-]{0,63} (POSIX names plus Windows/RDP ones).
bool IsValidLogin(std::string_view s);

// The built-in administrator role. It cannot be defined in YAML and grants no
// access to targets.
inline constexpr std::string_view kAdminRole = "admin";
// The built-in reviewer role: may list, replay, export, verify and search
// every recording. Like admin, it cannot be defined in YAML and grants no
// access to targets.
inline constexpr std::string_view kAuditorRole = "auditor";

// Normalises a tunnel destination "HOST:PORT" or "[V6]:PORT": port 1..65535
// without leading zeros kept, hostname lowercased (RFC 1123 labels, not all
// numeric), IPv4 dotted quad, IPv6 in RFC 5952 form inside brackets.
// Returns e.g. "10.20.0.5:502", "[fd00::5]:4840", "plc-1.plant.local:102".
[[nodiscard]] absl::StatusOr<std::string> NormalizeTunnel(std::string_view s);

struct RoleAllow {
  LabelSelector targets;
  std::vector<std::string> logins;  // first = default login
  std::vector<Protocol> protocols;
  std::vector<std::string> tunnels;  // normalised (NormalizeTunnel)
  FileTransfer file_transfer = FileTransfer::kNone;
  std::vector<HoursWindow> hours;  // empty = any time; otherwise any matches
  bool operator==(const RoleAllow&) const = default;
};

// A deny entry matches when its target selector matches AND (logins empty or
// the login is listed, compared case-insensitively) AND (protocols empty or
// the protocol is listed). An entirely empty deny block is a parse error.
struct RoleDeny {
  LabelSelector targets;
  std::vector<std::string> logins;
  std::vector<Protocol> protocols;
  bool operator==(const RoleDeny&) const = default;
};

struct RoleOptions {
  std::chrono::seconds max_session{0};  // 0 = no limit; at most 7 days
  bool require_approval = false;
  bool record_input = false;
  // false: exec requests are refused (shells still allowed). The command
  // `scp -O` sends (scp -t|-f PATH) is governed by file_transfer instead.
  bool exec = true;
  // Graphical sessions (VNC/RDP): true drops the user's keyboard and pointer
  // input (they may only watch); `clipboard` says which way clipboard text
  // may go (default none).
  bool view_only = false;
  Clipboard clipboard = Clipboard::kNone;
  bool operator==(const RoleOptions&) const = default;
};
inline constexpr std::chrono::seconds kMaxSessionLimit{7 * 24 * 3600};

struct Role {
  std::string name;
  RoleAllow allow;
  RoleOptions options;
  std::optional<RoleDeny> deny;
  bool operator==(const Role&) const = default;
};

}  // namespace portcullis::policy
