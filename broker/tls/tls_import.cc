#include "broker/tls/tls_import.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include "broker/common/absl_fmt.h"
#include "broker/common/files.h"
#include "broker/common/status_macros.h"
#include "broker/common/time_format.h"

namespace portcullis::tls {
namespace {

constexpr int64_t kWarnRemainingValiditySeconds = 30 * 86400;
constexpr size_t kMaxBundleBytes = 1 << 20;

struct X509StoreDeleter {
  void operator()(X509_STORE* p) const { X509_STORE_free(p); }
};
struct X509StoreCtxDeleter {
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
};
// A stack of borrowed certificates: frees the stack, not the certificates.
struct X509StackDeleter {
  void operator()(STACK_OF(X509)* p) const { sk_X509_free(p); }
};

std::string UtcText(int64_t unix_seconds) { return FormatUtc(FromUnix(unix_seconds)); }

bool IsIpLiteral(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

bool Covers(X509* cert, const std::string& name) {
  if (IsIpLiteral(name)) return X509_check_ip_asc(cert, name.c_str(), 0) == 1;
  return X509_check_host(cert, name.data(), name.size(), 0, nullptr) == 1;
}

absl::Status CheckValidity(const CertificateSummary& leaf, int64_t now) {
  if (leaf.not_before_unix == 0 || leaf.not_after_unix == 0) {
    return absl::InvalidArgumentError("--cert: the validity dates cannot be read");
  }
  if (now < leaf.not_before_unix) {
    return absl::FailedPreconditionError(
        fmt::format("--cert: the certificate is not valid yet (valid from {})",
                    UtcText(leaf.not_before_unix)));
  }
  if (leaf.not_after_unix <= now) {
    return absl::FailedPreconditionError(fmt::format(
        "--cert: the certificate has expired (valid until {})", UtcText(leaf.not_after_unix)));
  }
  if (leaf.not_after_unix - now < kMinRemainingValiditySeconds) {
    return absl::FailedPreconditionError(fmt::format(
        "--cert: the certificate expires within a day ({}); import one valid for longer",
        UtcText(leaf.not_after_unix)));
  }
  return absl::OkStatus();
}

absl::Status CheckUsage(X509* leaf) {
  const uint32_t flags = X509_get_extension_flags(leaf);
  if (flags & EXFLAG_INVALID) {
    return absl::InvalidArgumentError("--cert: the certificate's extensions are malformed");
  }
  if (flags & EXFLAG_CA) {
    return absl::InvalidArgumentError(
        "--cert: this is a CA certificate (basicConstraints CA:TRUE), not a server certificate");
  }
  if ((flags & EXFLAG_KUSAGE) && !(X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE)) {
    return absl::InvalidArgumentError(
        "--cert: its key usage does not allow digitalSignature, which TLS server "
        "authentication needs");
  }
  if ((flags & EXFLAG_XKUSAGE) &&
      !(X509_get_extended_key_usage(leaf) & (XKU_SSL_SERVER | XKU_ANYEKU))) {
    return absl::InvalidArgumentError(
        "--cert: its extended key usage does not include TLS server authentication "
        "(serverAuth)");
  }
  return absl::OkStatus();
}

// Verifies `leaf` through `chain` at `now`; on success returns the path
// above the leaf (issuer first).
absl::StatusOr<std::vector<X509*>> VerifyChain(X509* leaf, const std::vector<X509*>& chain,
                                               int64_t now) {
  std::unique_ptr<X509_STORE, X509StoreDeleter> store(X509_STORE_new());
  std::unique_ptr<STACK_OF(X509), X509StackDeleter> untrusted(sk_X509_new_null());
  std::unique_ptr<X509_STORE_CTX, X509StoreCtxDeleter> ctx(X509_STORE_CTX_new());
  if (!store || !untrusted || !ctx) return absl::InternalError("out of memory");

  std::vector<X509*> anchors;
  for (X509* c : chain) {
    if (X509_self_signed(c, /*verify_signature=*/1) == 1) anchors.push_back(c);
  }
  const bool partial = anchors.empty();
  if (partial) {
    // No root given: the certificates no other chain certificate issued
    // are the anchors.
    for (X509* c : chain) {
      bool issued_by_chain = false;
      for (X509* other : chain) {
        if (other != c && X509_check_issued(other, c) == X509_V_OK) issued_by_chain = true;
      }
      if (!issued_by_chain) anchors.push_back(c);
    }
  }
  for (X509* c : chain) {
    if (!sk_X509_push(untrusted.get(), c)) return absl::InternalError("out of memory");
  }
  for (X509* a : anchors) {
    if (X509_STORE_add_cert(store.get(), a) != 1) return absl::InternalError("out of memory");
  }
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf, untrusted.get()) != 1) {
    return absl::InternalError("cannot set up the chain verification");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(now));
  X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
  if (partial) X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  if (X509_verify_cert(ctx.get()) != 1) {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    X509* at = X509_STORE_CTX_get_current_cert(ctx.get());
    return absl::FailedPreconditionError(fmt::format(
        "--chain does not verify the certificate: {} (at depth {}{})",
        X509_verify_cert_error_string(err), X509_STORE_CTX_get_error_depth(ctx.get()),
        at ? ", " + Summarise(at).subject : std::string()));
  }
  STACK_OF(X509)* built = X509_STORE_CTX_get0_chain(ctx.get());
  std::vector<X509*> path;
  for (int i = 1; i < sk_X509_num(built); ++i) path.push_back(sk_X509_value(built, i));
  for (X509* c : chain) {
    bool on_path = false;
    for (X509* p : path) on_path = on_path || X509_cmp(c, p) == 0;
    if (!on_path) {
      return absl::FailedPreconditionError(fmt::format(
          "--chain holds a certificate that is not on the certificate's path: {}",
          Summarise(c).subject));
    }
  }
  return path;
}

absl::Status FsyncDir(const std::string& file_path) {
  const std::string dir = std::filesystem::path(file_path).parent_path().string();
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return absl::InternalError(fmt::format("cannot open {}: {}", dir, std::strerror(errno)));
  }
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) {
    return absl::InternalError(fmt::format("cannot fsync {}: {}", dir, std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status ErrnoError(std::string_view what, const std::string& path) {
  return absl::InternalError(fmt::format("{} {}: {}", what, path, std::strerror(errno)));
}

// Writes `data` to `path` as WriteFileAtomic does (temporary file 0600,
// fsync, rename, then the directory fsynced), but owned by the directory's
// owner when run as root, so a broker running as its own user can read
// what `sudo portcullisd tls import` wrote.
absl::Status WritePrivateFile(const std::string& path, std::string_view data) {
  const std::string dir = std::filesystem::path(path).parent_path().string();
  struct stat dir_st {};
  if (::stat(dir.c_str(), &dir_st) != 0) return ErrnoError("cannot stat", dir);
  const std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  ::unlink(tmp.c_str());  // left by a crashed run with the same PID
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError("cannot create", tmp);
  absl::Status st;
  if (::geteuid() == 0 && (dir_st.st_uid != 0 || dir_st.st_gid != 0) &&
      ::fchown(fd, dir_st.st_uid, dir_st.st_gid) != 0) {
    st = ErrnoError("cannot chown", tmp);
  }
  for (size_t off = 0; st.ok() && off < data.size();) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) st = ErrnoError("cannot write", tmp);
    if (n > 0) off += static_cast<size_t>(n);
  }
  if (st.ok() && ::fsync(fd) != 0) st = ErrnoError("cannot fsync", tmp);
  ::close(fd);
  if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) st = ErrnoError("cannot rename to", path);
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  return FsyncDir(path);
}

}  // namespace

absl::StatusOr<ValidatedIdentity> ValidateServerIdentity(const ImportRequest& req,
                                                         TimePoint now_tp) {
  const int64_t now = ToUnix(now_tp);
  PC_ASSIGN_OR_RETURN(std::vector<X509Ptr> certs, ParsePemCertificates(req.cert_pem, "--cert"));
  PC_ASSIGN_OR_RETURN(EvpPkeyPtr key, ParsePrivateKeyPem(req.key_pem, "--key"));
  std::vector<X509Ptr> chain_owned;
  for (size_t i = 1; i < certs.size(); ++i) chain_owned.push_back(std::move(certs[i]));
  X509* leaf = certs[0].get();
  if (!req.chain_pem.empty()) {
    PC_ASSIGN_OR_RETURN(std::vector<X509Ptr> more,
                        ParsePemCertificates(req.chain_pem, "--chain"));
    for (auto& c : more) chain_owned.push_back(std::move(c));
  }
  if (chain_owned.size() > kMaxPemCertificates) {
    return absl::InvalidArgumentError(
        fmt::format("more than {} chain certificates", kMaxPemCertificates));
  }

  ValidatedIdentity out;
  auto key_type = CheckServerKeyType(key.get());
  if (!key_type.ok()) {
    return absl::InvalidArgumentError(fmt::format("--key: {}", key_type.status().message()));
  }
  out.key_type = *key_type;
  EVP_PKEY* cert_key = X509_get0_pubkey(leaf);
  if (cert_key == nullptr || EVP_PKEY_eq(cert_key, key.get()) != 1) {
    return absl::InvalidArgumentError(
        "--key does not match --cert (the certificate's public key is not this key's)");
  }
  PC_RETURN_IF_ERROR(CheckUsage(leaf));
  out.leaf = Summarise(leaf);
  PC_RETURN_IF_ERROR(CheckValidity(out.leaf, now));
  if (out.leaf.sans.empty()) {
    return absl::InvalidArgumentError(
        "--cert: the certificate has no subjectAltName (DNS or IP); TLS clients check the "
        "broker's name against it only, so reissue it with the broker's names");
  }

  std::vector<X509*> path;
  if (!chain_owned.empty()) {
    std::vector<X509*> chain;
    for (auto& c : chain_owned) chain.push_back(c.get());
    PC_ASSIGN_OR_RETURN(path, VerifyChain(leaf, chain, now));
  } else if (X509_self_signed(leaf, 1) != 1) {
    out.warnings.push_back(fmt::format(
        "no --chain given: clients must trust the certificate's issuer ({}) directly",
        out.leaf.issuer));
  }
  for (X509* c : path) out.chain.push_back(Summarise(c));

  for (const std::string& name : req.expected_names) {
    if (name.empty() || name == "0.0.0.0" || name == "::") continue;
    if (!Covers(leaf, name)) {
      out.warnings.push_back(fmt::format(
          "the certificate does not cover {}; clients that connect by that name will refuse it",
          name));
    }
  }
  if (out.leaf.not_after_unix - now < kWarnRemainingValiditySeconds) {
    out.warnings.push_back(
        fmt::format("the certificate expires soon ({})", UtcText(out.leaf.not_after_unix)));
  }

  out.bundle = PrivateKeyPem(key.get());
  if (out.bundle.Reveal().empty()) return absl::InternalError("cannot encode the private key");
  out.bundle.Append(CertificatePem(leaf));
  for (X509* c : path) out.bundle.Append(CertificatePem(c));
  return out;
}

absl::StatusOr<PreviousIdentity> InstallImportedIdentity(const InstallPaths& paths,
                                                         const ValidatedIdentity& identity) {
  PreviousIdentity previous;
  if (PathExists(paths.imported)) {
    auto text = ReadFileBounded(paths.imported, kMaxBundleBytes);
    if (!text.ok()) return text.status();
    previous.existed = true;
    previous.bundle = KeyPemText(std::move(*text));
    PC_RETURN_IF_ERROR(WritePrivateFile(paths.backup, previous.bundle.Reveal()));
  }
  PC_RETURN_IF_ERROR(WritePrivateFile(paths.imported, identity.bundle.Reveal()));
  return previous;
}

absl::Status RollBackInstall(const InstallPaths& paths, const PreviousIdentity& previous) {
  if (previous.existed) {
    return WritePrivateFile(paths.imported, previous.bundle.Reveal());
  }
  if (::unlink(paths.imported.c_str()) != 0 && errno != ENOENT) {
    return absl::InternalError(
        fmt::format("cannot remove {}: {}", paths.imported, std::strerror(errno)));
  }
  return FsyncDir(paths.imported);
}

}  // namespace portcullis::tls
