#pragma once
// Validation of target definitions given by admins (names, addresses,
// labels, pinned host keys). Pure functions; thread-safe. Errors name the
// offending field.

#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace portcullis::core {

// [a-z0-9][a-z0-9._-]{0,62}; no ':' or '@' (they delimit SSH addressing).
[[nodiscard]] absl::Status ValidateTargetName(std::string_view name);
// HOST:PORT or [V6]:PORT with a port 1-65535; returns it normalised.
[[nodiscard]] absl::StatusOr<std::string> NormaliseTargetAddress(std::string_view address);
// Keys and values: [A-Za-z0-9._/-]{1,63}.
[[nodiscard]] absl::Status ValidateLabel(std::string_view key, std::string_view value);
// "TYPE BASE64 [comment]" of an SSH host key (ssh-ed25519, ecdsa-sha2-*,
// ssh-rsa) whose blob names the same type; returns "TYPE BASE64".
[[nodiscard]] absl::StatusOr<std::string> NormaliseHostKeyLine(std::string_view line);
// The pin of a VNC target's TLS certificate as an operator gives it:
// "x509-sha256 HEX", a bare 64-digit hex, or OpenSSL's
// "sha256 Fingerprint=AB:CD:..." / "AB:CD:..." (`openssl x509 -noout
// -fingerprint -sha256`); returns "x509-sha256 " + lowercase hex, the form
// the broker pins on first use.
[[nodiscard]] absl::StatusOr<std::string> NormaliseCertificatePin(std::string_view text);

}  // namespace portcullis::core
