#include "broker/tls/server_identity.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "broker/common/files.h"
#include "broker/common/status_macros.h"

namespace portcullis::tls {
namespace {

constexpr size_t kMaxPemFileBytes = 64 * 1024;
constexpr size_t kMaxBundleBytes = 1 << 20;

absl::StatusOr<ServerIdentity> LoadImported(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return absl::InternalError(fmt::format("cannot stat {}: {}", path, std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(fmt::format("{} is not a regular file", path));
  }
  if ((st.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(fmt::format(
        "{} holds the API's private key but group or others can access it (chmod 0600 it)",
        path));
  }
  PC_ASSIGN_OR_RETURN(std::string text, ReadFileBounded(path, kMaxBundleBytes));
  KeyPemText bundle(std::move(text));
  PC_ASSIGN_OR_RETURN(std::vector<X509Ptr> certs, ParsePemCertificates(bundle.Reveal(), path));
  PC_ASSIGN_OR_RETURN(EvpPkeyPtr key, ParsePrivateKeyPem(bundle.Reveal(), path));
  EVP_PKEY* cert_key = X509_get0_pubkey(certs[0].get());
  if (cert_key == nullptr || EVP_PKEY_eq(cert_key, key.get()) != 1) {
    return absl::FailedPreconditionError(
        fmt::format("{}: the private key does not match the certificate", path));
  }
  ServerIdentity id;
  id.imported = true;
  id.rsa = IsRsaKey(key.get());
  id.key_pem = PrivateKeyPem(key.get());
  for (auto& c : certs) id.cert_chain_pem += CertificatePem(c.get());
  id.leaf = Summarise(certs[0].get());
  return id;
}

}  // namespace

absl::StatusOr<ServerIdentity> LoadServerIdentity(const ServerIdentityPaths& paths) {
  struct stat st {};
  if (::lstat(paths.imported.c_str(), &st) == 0) return LoadImported(paths.imported);
  if (errno != ENOENT) {
    return absl::InternalError(
        fmt::format("cannot stat {}: {}", paths.imported, std::strerror(errno)));
  }
  ServerIdentity id;
  PC_ASSIGN_OR_RETURN(id.cert_chain_pem, ReadFileBounded(paths.server_cert, kMaxPemFileBytes));
  PC_ASSIGN_OR_RETURN(std::string key, ReadFileBounded(paths.server_key, kMaxPemFileBytes));
  id.key_pem = KeyPemText(std::move(key));
  return id;
}

}  // namespace portcullis::tls
