#pragma once
// Parses the SSH user name a client sends to the broker's SSH listener:
// "USER", "USER:TARGET" or "USER:LOGIN@TARGET". OpenSSH splits
// `ssh -p 2222 bob:maint@rtu-01@broker` at the LAST '@', so the server
// receives "bob:maint@rtu-01". Because scp and sftp split "USER:TARGET@HOST:PATH"
// at the first ':', '+' may stand for the ':' ("bob+rtu-01", "bob+maint@rtu-01").
// Pure function, thread-safe.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace portcullis::ssh {

struct SshAddress {
  std::string user;    // Portcullis user: [a-z][a-z0-9._-]{0,31}
  std::string login;   // account on the target; empty = the role's default
  std::string target;  // target name; empty = show the menu of targets
};

inline constexpr size_t kMaxSshUserLength = 256;

// Errors (InvalidArgument) say what is wrong and echo the input only in
// sanitized form (printable ASCII, truncated).
[[nodiscard]] absl::StatusOr<SshAddress> ParseSshAddress(std::string_view ssh_user);

}  // namespace portcullis::ssh
