#include "broker/core/target_vault.h"

#include <libssh/libssh.h>
#include <openssl/crypto.h>

#include <fmt/format.h>

#include <cstring>

#include "broker/common/bounded_reader.h"
#include "broker/common/encoding.h"
#include "broker/common/status_macros.h"

namespace portcullis::core {
namespace {

constexpr std::string_view kOpensshBegin = "-----BEGIN OPENSSH PRIVATE KEY-----";
constexpr std::string_view kOpensshMagic = std::string_view("openssh-key-v1\0", 15);

// libssh asks for a passphrase through this; the vault holds none.
int RefusePassphrase(const char*, char*, size_t, int, int, void*) { return -1; }

// True if an OpenSSH-format key names a cipher other than "none". Decodes
// only the first 64 base64 characters: magic, cipher name and KDF name, no
// key bytes.
bool OpensshKeyEncrypted(std::string_view text) {
  size_t begin = text.find(kOpensshBegin);
  if (begin == std::string_view::npos) return false;
  std::string b64;
  for (size_t i = begin + kOpensshBegin.size(); i < text.size() && b64.size() < 64; ++i) {
    const char c = text[i];
    if (c == '-') break;
    if (c != '\n' && c != '\r' && c != ' ' && c != '\t') b64.push_back(c);
  }
  b64.resize(b64.size() / 4 * 4);
  auto head = Base64Decode(b64);
  OPENSSL_cleanse(b64.data(), b64.size());
  if (!head.ok()) return false;
  bool encrypted = false;
  if (std::string_view(*head).substr(0, kOpensshMagic.size()) == kOpensshMagic) {
    BoundedReader r(std::string_view(*head).substr(kOpensshMagic.size()));
    auto cipher = r.String(64);
    encrypted = cipher.ok() && *cipher != "none";
  }
  OPENSSL_cleanse(head->data(), head->size());
  return encrypted;
}

bool PemKeyEncrypted(std::string_view text) {
  return text.find("-----BEGIN ENCRYPTED PRIVATE KEY-----") != std::string_view::npos ||
         text.find("Proc-Type: 4,ENCRYPTED") != std::string_view::npos;
}

absl::Status ValidateKey(const SecretBytes& secret) {
  const std::string_view text = secret.Reveal();
  if (text.find('\0') != std::string_view::npos)
    return absl::InvalidArgumentError("the key file is not a text private key");
  if (OpensshKeyEncrypted(text) || PemKeyEncrypted(text)) {
    return absl::InvalidArgumentError(
        "the key is encrypted (it has a passphrase); vault a key without one "
        "(ssh-keygen -p -N '' -f FILE on a copy)");
  }
  // libssh wants a NUL-terminated string: a wiped copy with one.
  SecretBytes z;
  z.Resize(secret.size() + 1);
  std::memcpy(z.data(), secret.data(), secret.size());
  ssh_key key = nullptr;
  const int rc = ssh_pki_import_privkey_base64(reinterpret_cast<const char*>(z.data()), nullptr,
                                               RefusePassphrase, nullptr, &key);
  if (rc != SSH_OK || key == nullptr) {
    if (key != nullptr) ssh_key_free(key);
    return absl::InvalidArgumentError(
        "the file is not a private key the broker can use (an unencrypted OpenSSH or PEM "
        "Ed25519, ECDSA or RSA key)");
  }
  const bool is_private = ssh_key_is_private(key) == 1;
  const auto type = ssh_key_type(key);
  ssh_key_free(key);
  if (!is_private) return absl::InvalidArgumentError("the file is not a private key");
  switch (type) {
    case SSH_KEYTYPE_ED25519:
    case SSH_KEYTYPE_RSA:
    case SSH_KEYTYPE_ECDSA_P256:
    case SSH_KEYTYPE_ECDSA_P384:
    case SSH_KEYTYPE_ECDSA_P521:
      return absl::OkStatus();
    default:
      return absl::InvalidArgumentError("the key type is not one of Ed25519, ECDSA or RSA");
  }
}

}  // namespace

std::string_view SecretKindName(SecretKind kind) {
  return kind == SecretKind::kKey ? "key" : "password";
}

absl::StatusOr<SecretKind> ParseSecretKind(std::string_view name) {
  if (name == "password") return SecretKind::kPassword;
  if (name == "key") return SecretKind::kKey;
  return absl::InvalidArgumentError("secret kind must be password or key");
}

std::string_view AuthModeFor(SecretKind kind) { return SecretKindName(kind); }

std::string TargetSecretAad(std::string_view target, std::string_view login, SecretKind kind) {
  std::string aad = "target-secret:";
  aad.append(target);
  aad.push_back('\0');
  aad.append(login);
  aad.push_back('\0');
  aad.append(SecretKindName(kind));
  return aad;
}

absl::Status ValidateTargetSecret(SecretKind kind, const SecretBytes& secret) {
  if (secret.empty()) {
    return absl::InvalidArgumentError(kind == SecretKind::kKey ? "the key file is empty"
                                                               : "the password is empty");
  }
  if (secret.size() > SecretBytes::kMaxSize) {
    return absl::InvalidArgumentError(
        fmt::format("the secret is larger than {} bytes", SecretBytes::kMaxSize));
  }
  if (kind == SecretKind::kKey) return ValidateKey(secret);
  if (secret.Reveal().find('\0') != std::string_view::npos)
    return absl::InvalidArgumentError("the password holds a NUL byte");
  return absl::OkStatus();
}

absl::Status SetTargetSecret(store::TargetRepo& targets, const auth::SecretBox& box,
                             const SetTargetSecretRequest& req, const SecretBytes& secret) {
  auto t = targets.Get(req.target);
  if (!t.ok()) {
    if (absl::IsNotFound(t.status()))
      return absl::NotFoundError(fmt::format("no target '{}'", req.target));
    return t.status();
  }
  if (t->auth == "certificate") {
    return absl::FailedPreconditionError(fmt::format(
        "target {} uses certificates (--auth certificate): the broker logs in with its CA and "
        "needs no secret; add the target with --auth password or --auth key to vault one",
        req.target));
  }
  if (t->auth == "none") {
    return absl::FailedPreconditionError(fmt::format(
        "target {} uses no authentication (--auth none): there is no secret to vault",
        req.target));
  }
  if (t->auth != AuthModeFor(req.kind)) {
    return absl::FailedPreconditionError(fmt::format(
        "target {} uses --auth {}: give {}", req.target, t->auth,
        t->auth == "key" ? "--key-file FILE" : "--password-stdin"));
  }
  PC_RETURN_IF_ERROR(ValidateTargetSecret(req.kind, secret));
  auto sealed = box.Seal(secret, TargetSecretAad(req.target, req.login, req.kind));
  if (!sealed.ok()) return sealed.status();
  store::TargetSecretRecord row;
  row.info.target = req.target;
  row.info.login = req.login;
  row.info.kind = std::string(SecretKindName(req.kind));
  row.info.domain = req.domain;
  row.info.set_at = req.now;
  row.info.set_by = req.set_by;
  row.sealed = std::move(*sealed);
  return targets.SetSecret(row);
}

absl::StatusOr<VaultedSecret> OpenTargetSecret(store::TargetRepo& targets,
                                               const auth::SecretBox& box,
                                               std::string_view target, std::string_view login) {
  auto row = targets.GetSealedSecret(target, login);
  if (!row.ok()) return row.status();
  PC_ASSIGN_OR_RETURN(SecretKind kind, ParseSecretKind(row->info.kind));
  auto secret = box.Open(row->sealed, TargetSecretAad(target, login, kind));
  if (!secret.ok()) {
    return absl::DataLossError(fmt::format("the vaulted secret for {} does not open", login));
  }
  VaultedSecret out;
  out.kind = kind;
  out.domain = row->info.domain;
  out.secret = std::move(*secret);
  return out;
}

}  // namespace portcullis::core
