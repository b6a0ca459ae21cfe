#pragma once
// The identity the API server presents: the certificate imported from the
// plant's PKI (tls/imported.pem, written by `portcullisd tls import`) when
// there is one, otherwise the broker's own tls/server.pem and
// tls/server.key from `init`, read as they are. Thread-safe (no shared
// state).

#include <string>

#include "absl/status/statusor.h"
#include "broker/tls/x509_util.h"

namespace portcullis::tls {

struct ServerIdentityPaths {
  std::string server_cert;  // tls/server.pem
  std::string server_key;   // tls/server.key
  std::string imported;     // tls/imported.pem
};

struct ServerIdentity {
  KeyPemText key_pem;          // for grpc::SslServerCredentialsOptions
  std::string cert_chain_pem;  // the certificate, then its chain
  bool imported = false;
  bool rsa = false;            // the key is RSA (the TLS 1.2 suites differ)
  CertificateSummary leaf;     // filled for an imported identity only
};

// FailedPrecondition if tls/imported.pem exists but is not a regular file
// with mode 0600 or stricter, or its key does not match its certificate;
// InvalidArgument if it does not parse; the read error otherwise.
[[nodiscard]] absl::StatusOr<ServerIdentity> LoadServerIdentity(const ServerIdentityPaths& paths);

}  // namespace portcullis::tls
