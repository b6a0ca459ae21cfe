#pragma once
// Importing the API's server certificate from the plant's PKI
// (`portcullisd tls import`): validation of the certificate, its key and
// its chain before anything is touched, and the atomic install of the
// result as one file, tls/imported.pem (0600: the private key, then the
// certificate, then the chain in path order), which the API server then
// serves instead of the broker's own tls/server.pem (server_identity.h).
//
// One file, so key and certificate are replaced together by one rename: a
// crash leaves either the old or the new identity, never a mismatched pair.
// The broker's own tls/server.pem and tls/server.key are never modified.
//
// Thread-safe (no shared state). Time is an argument, so tests are
// deterministic.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker/common/clock.h"
#include "broker/common/secret.h"
#include "broker/tls/x509_util.h"

namespace portcullis::tls {

// A certificate must stay valid at least this long after its import.
inline constexpr int64_t kMinRemainingValiditySeconds = 86400;

struct ImportRequest {
  std::string_view cert_pem;   // the server certificate; more certificates after it join the chain
  std::string_view key_pem;    // its private key, unencrypted PEM
  std::string_view chain_pem;  // intermediates (and optionally the root); empty = none
  // Names clients will use (the config's listen.grpc host and
  // tls.server_names): one the certificate does not cover is a warning.
  std::vector<std::string> expected_names;
};

struct ValidatedIdentity {
  CertificateSummary leaf;
  std::vector<CertificateSummary> chain;  // path order: the leaf's issuer first
  std::string key_type;                   // "ECDSA P-256", "RSA 3072"
  // What InstallImportedIdentity writes: key, leaf, chain (PEM).
  KeyPemText bundle;
  // Things that are allowed but worth saying (no chain given, a name not
  // covered by the SAN, expiry within 30 days).
  std::vector<std::string> warnings;
};

// Checks, in order, and refuses (InvalidArgument or FailedPrecondition with
// a message naming the file and the reason) unless: every input parses; the
// key is unencrypted, ECDSA P-256/384/521 or RSA >= 2048, and matches the
// certificate; the certificate is not a CA, is valid at `now` and for at
// least kMinRemainingValiditySeconds more; it has a DNS or IP
// subjectAltName; its key usage (if present) allows digitalSignature and its
// extended key usage (if present) TLS server authentication; and, if a
// chain is given, X509_verify_cert builds a path from the certificate
// through the chain at `now` for the TLS server purpose, with every
// certificate of the chain on that path (self-signed chain certificates are
// the trust anchors; with none, the top of the chain is, as a partial
// chain).
[[nodiscard]] absl::StatusOr<ValidatedIdentity> ValidateServerIdentity(const ImportRequest& req,
                                                                       TimePoint now);

struct InstallPaths {
  std::string imported;  // tls/imported.pem
  std::string backup;    // tls/imported.pem.previous
};

// What was there before an install, for RollBackInstall.
struct PreviousIdentity {
  bool existed = false;
  KeyPemText bundle;
};

// Writes `identity.bundle` to paths.imported atomically (temp file 0600,
// fsync, rename, fsync of the directory). An earlier imported.pem is first
// copied to paths.backup (0600, replacing an older backup); without one,
// the broker's own server.pem/server.key stay the fallback. Run as root,
// the files get the owner and group of their directory (the broker's
// user). On error nothing the broker reads has changed.
[[nodiscard]] absl::StatusOr<PreviousIdentity> InstallImportedIdentity(
    const InstallPaths& paths, const ValidatedIdentity& identity);

// Puts back what InstallImportedIdentity replaced (or removes the new file
// if there was none).
[[nodiscard]] absl::Status RollBackInstall(const InstallPaths& paths,
                                           const PreviousIdentity& previous);

}  // namespace portcullis::tls
