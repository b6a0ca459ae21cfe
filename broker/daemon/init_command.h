#pragma once
// `portcullisd init`: creates a broker's config (if missing) and data
// directory: SQLite store, secrets key, SSH user CA, TLS material, and the
// first admin with a TOTP seed. Refuses to run twice on one data directory.

#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "broker/common/clock.h"
#include "broker/common/secret.h"

namespace portcullis::daemon {

struct InitOptions {
  std::string config_path;
  std::string admin;
};

// Writes what the operator needs (otpauth URI, QR code, CA line, next
// steps) to `out`.
[[nodiscard]] absl::Status RunInit(const InitOptions& opts, const SecretBytes& admin_password,
                                   const Clock* clock, std::ostream& out);

}  // namespace portcullis::daemon
