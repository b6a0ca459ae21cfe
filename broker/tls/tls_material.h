#pragma once
// The broker's TLS material for the gRPC API: a private CA (ECDSA P-256,
// 10 years) created at `init`, and a server certificate it signs (825 days)
// with SANs for the configured names plus 127.0.0.1, ::1 and localhost.
// Private keys are written 0600. Thread-safe (no shared state).

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace portcullis::tls {

struct TlsPaths {
  std::string ca_cert, ca_key, server_cert, server_key;
};

// Creates all four files; fails if any already exists.
[[nodiscard]] absl::Status CreateTlsMaterial(const TlsPaths& paths,
                                             const std::vector<std::string>& server_names);

}  // namespace portcullis::tls
