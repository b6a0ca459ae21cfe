#pragma once
// Reading secrets from people: a terminal without echo, or one line of
// standard input (--password-stdin). Not thread-safe (uses the process's
// terminal and stdin).

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "broker/common/secret.h"

namespace portcullis {

// Prompts on /dev/tty and reads a line with echo off. Fails if there is no
// terminal.
[[nodiscard]] absl::StatusOr<SecretBytes> ReadSecretFromTerminal(std::string_view prompt);
// Reads one line from stdin (without the trailing newline / CR).
[[nodiscard]] absl::StatusOr<SecretBytes> ReadSecretFromStdin();
// A new password: one line of stdin when `from_stdin`, otherwise prompted
// twice on the terminal ("New password: " / "Repeat password: "), which
// must match.
[[nodiscard]] absl::StatusOr<SecretBytes> ReadNewSecret(bool from_stdin);
// Prompts on /dev/tty and reads a line with echo on (e.g. a TOTP code).
[[nodiscard]] absl::StatusOr<std::string> ReadLineFromTerminal(std::string_view prompt);

}  // namespace portcullis
