#pragma once
// Role YAML (`portcullis roles apply -f role.yaml`) to Role values and back.
//
//   kind: role
//   name: vendor-acme
//   allow:
//     targets: {site: plant-a, vendor: acme}
//     logins: [maint]
//     protocols: [ssh, vnc, rdp]
//     tunnels: ["10.20.0.5:502"]
//     file_transfer: download
//     hours: "Mon-Fri 07:00-18:00 Europe/Paris"    # or a list of windows
//   options: {max_session: 2h, require_approval: true, record_input: false}
//   deny:
//     targets: {zone: safety}
//
// Validity rules: `kind: role`, `name` ([a-z0-9][a-z0-9._-]{0,62}, not the
// reserved "admin") and `allow` are required; allow.targets and
// allow.protocols must be non-empty; allow.logins must be non-empty when the
// protocols include ssh or rdp; tunnels need ssh or tcp among the protocols;
// `hours`, when present, must name at least one window; `deny` is optional
// but, when present, must have a non-empty `targets` selector (use
// {"*": "*"} for every target). Unknown keys, duplicate keys, duplicate list
// entries and wrong node types are errors. options.max_session is a duration
// ("2h", "90m", "1h30m") of at most 7 days; booleans are true/false.
//
// Pure functions, thread-safe, never throw (yaml-cpp exceptions are caught).

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "auth/policy/role.h"

namespace portcullis::policy {

inline constexpr size_t kMaxRoleYamlBytes = 256 * 1024;

// Parses one or more YAML documents (separated by ---), each `kind: role`;
// empty documents are skipped, but at least one role is required.
// All-or-nothing: any error -> no roles. Errors are InvalidArgument and name
// the file, the 1-based line and the field path, e.g.
//   "vendor-acme.yaml:9: allow.hours: unknown time zone 'Europe/Pariss'"
// Duplicate role names across documents are an error. Input larger than
// kMaxRoleYamlBytes is refused.
[[nodiscard]] absl::StatusOr<std::vector<Role>> ParseRolesYaml(std::string_view yaml,
                                                               std::string_view filename);

// Serialises back to canonical YAML; for any Role that ParseRolesYaml can
// produce, ParseRolesYaml(RoleToYaml(r)) yields exactly {r}.
std::string RoleToYaml(const Role& role);

}  // namespace portcullis::policy
