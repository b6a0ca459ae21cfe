#pragma once
// `portcullisd tls import`: replaces the API's server certificate with one
// from the plant's PKI. Everything is validated first
// (tls::ValidateServerIdentity); on any failure nothing changes. Then the
// identity is installed atomically as tls/imported.pem (the previous one
// kept as tls/imported.pem.previous; the broker's own server.pem/server.key
// are left as they are) and `tls.imported` is appended to the audit log
// (subject, issuer, SHA-256 fingerprint, validity; never key bytes). If the
// audit append fails the install is rolled back. The broker serves the new
// certificate from its next start.

#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "broker/common/clock.h"

namespace portcullis::daemon {

struct TlsImportOptions {
  std::string config_path;
  std::string cert_path;
  std::string key_path;
  std::string chain_path;  // empty = none
};

// Writes the summary, warnings and next steps to `out`.
[[nodiscard]] absl::Status RunTlsImport(const TlsImportOptions& opts, const Clock* clock,
                                        std::ostream& out);

}  // namespace portcullis::daemon
