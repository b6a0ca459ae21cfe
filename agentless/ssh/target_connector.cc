#include "agentless/ssh/target_connector.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>

#include <unistd.h>

#include "agentless/ssh/ssh_settings.h"
#include "broker/common/absl_fmt.h"
#include "broker/common/encoding.h"
#include "broker/config/config.h"

namespace portcullis::ssh {
namespace {

absl::Status SetOpt(ssh_session s, ssh_options_e opt, const void* value, const char* what) {
  if (ssh_options_set(s, opt, value) != SSH_OK)
    return absl::InternalError(fmt::format("target connection: cannot set {}: {}", what,
                                           ssh_get_error(s)));
  return absl::OkStatus();
}

// Public key algorithms the broker signs with for a vaulted key.
constexpr char kVaultedKeyTypes[] =
    "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,rsa-sha2-512,"
    "rsa-sha2-256";

// libssh asks for a key's passphrase through this; the vault holds none.
int RefusePassphrase(const char*, char*, size_t, int, int, void*) { return -1; }

// A wiped copy of `secret` with a trailing NUL, for libssh's char* APIs.
SecretBytes NulTerminated(const SecretBytes& secret) {
  SecretBytes z;
  z.Resize(secret.size() + 1);
  if (!secret.empty()) std::memcpy(z.data(), secret.data(), secret.size());
  return z;
}

const char* CStr(const SecretBytes& z) { return reinterpret_cast<const char*>(z.data()); }

bool IsPasswordPrompt(const char* prompt) {
  if (prompt == nullptr) return false;
  std::string p(prompt);
  std::transform(p.begin(), p.end(), p.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return p.find("password") != std::string::npos || p.find("passcode") != std::string::npos;
}

absl::Status Refused(std::string reason) { return absl::UnauthenticatedError(std::move(reason)); }

// The target dropped or broke the connection during authentication.
absl::Status AuthError(ssh_session s) {
  return Refused(fmt::format("login to the target failed: {}", ssh_get_error(s)));
}

absl::StatusOr<SecretBytes> FetchSecret(const TargetCredential& cred) {
  if (!cred.fetch_secret) return Refused("no secret source");
  auto secret = cred.fetch_secret();
  if (!secret.ok()) return Refused(std::string(secret.status().message()));
  if (secret->empty()) return Refused("the vaulted secret is empty");
  return secret;
}

// Answers keyboard-interactive rounds with the password. OK on success.
absl::Status KbdintLogin(ssh_session s, const SecretBytes& z) {
  int rc = ssh_userauth_kbdint(s, nullptr, nullptr);
  for (int round = 0; rc == SSH_AUTH_INFO; ++round) {
    if (round >= kMaxKbdintRounds) {
      return Refused(fmt::format(
          "target kept asking (more than {} keyboard-interactive rounds)", kMaxKbdintRounds));
    }
    const int n = ssh_userauth_kbdint_getnprompts(s);
    for (int i = 0; i < n; ++i) {
      char echo = 0;
      const char* prompt = ssh_userauth_kbdint_getprompt(s, static_cast<unsigned int>(i), &echo);
      if (!IsPasswordPrompt(prompt)) {
        return Refused("target asked a keyboard-interactive question that is not a password "
                       "prompt");
      }
      if (ssh_userauth_kbdint_setanswer(s, static_cast<unsigned int>(i), CStr(z)) < 0)
        return AuthError(s);
    }
    rc = ssh_userauth_kbdint(s, nullptr, nullptr);
  }
  if (rc == SSH_AUTH_SUCCESS) return absl::OkStatus();
  if (rc == SSH_AUTH_ERROR) return AuthError(s);
  return Refused("target refused the vaulted password");
}

absl::Status PasswordLogin(ssh_session s, int methods, const TargetCredential& cred) {
  const bool password = (methods & SSH_AUTH_METHOD_PASSWORD) != 0;
  const bool kbdint = (methods & SSH_AUTH_METHOD_INTERACTIVE) != 0;
  if (!password && !kbdint) return Refused("target offers none of: password, keyboard-interactive");
  auto secret = FetchSecret(cred);
  if (!secret.ok()) return secret.status();
  const SecretBytes z = NulTerminated(*secret);
  secret->Clear();
  if (password) {
    const int rc = ssh_userauth_password(s, nullptr, CStr(z));
    if (rc == SSH_AUTH_SUCCESS) return absl::OkStatus();
    if (rc == SSH_AUTH_ERROR) return AuthError(s);
    // A refusal that still offers keyboard-interactive gets that try too.
    if (!kbdint || (ssh_userauth_list(s, nullptr) & SSH_AUTH_METHOD_INTERACTIVE) == 0)
      return Refused("target refused the vaulted password");
  }
  return KbdintLogin(s, z);
}

absl::Status KeyLogin(ssh_session s, int methods, const TargetCredential& cred) {
  if ((methods & SSH_AUTH_METHOD_PUBLICKEY) == 0) return Refused("target offers none of: publickey");
  auto secret = FetchSecret(cred);
  if (!secret.ok()) return secret.status();
  ssh_key raw = nullptr;
  {
    const SecretBytes z = NulTerminated(*secret);
    secret->Clear();
    if (ssh_pki_import_privkey_base64(CStr(z), nullptr, RefusePassphrase, nullptr, &raw) !=
            SSH_OK ||
        raw == nullptr) {
      if (raw != nullptr) ssh_key_free(raw);
      return Refused("the vaulted key does not load");
    }
  }
  SshKeyPtr key(raw);
  const int rc = ssh_userauth_publickey(s, nullptr, key.get());
  if (rc == SSH_AUTH_SUCCESS) return absl::OkStatus();
  if (rc == SSH_AUTH_ERROR) return AuthError(s);
  return Refused("target refused the vaulted key");
}

absl::Status VaultedLogin(ssh_session s, const TargetCredential& cred) {
  // "none" first: it asks for the service and learns the methods offered.
  const int rc = ssh_userauth_none(s, nullptr);
  if (rc == SSH_AUTH_SUCCESS) return absl::OkStatus();
  if (rc == SSH_AUTH_ERROR) return AuthError(s);
  const int methods = ssh_userauth_list(s, nullptr);
  return cred.mode == TargetAuthMode::kKey ? KeyLogin(s, methods, cred)
                                           : PasswordLogin(s, methods, cred);
}

}  // namespace

absl::StatusOr<std::string> PublicKeyLine(ssh_key key) {
  char* b64 = nullptr;
  if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK || b64 == nullptr)
    return absl::InternalError("cannot export the target's host key");
  std::string line = fmt::format("{} {}", ssh_key_type_to_char(ssh_key_type(key)), b64);
  ssh_string_free_char(b64);
  return line;
}

absl::StatusOr<TargetConnection> ConnectTarget(const TargetEndpoint& ep,
                                               const TargetCredential& cred) {
  EnsureLibsshInitialised();
  auto addr = config::ParseListenAddress(ep.address);
  if (!addr.ok())
    return absl::InternalError(fmt::format("target {} has a bad address", ep.name));
  SshSessionPtr s(ssh_new());
  if (!s) return absl::InternalError("out of memory");
  const AlgorithmSet algs = TargetAlgorithms(ep.crypto_profile);
  const unsigned int port = addr->port;
  const long timeout = static_cast<long>(ep.timeout.count());
  const int no = 0;
  const int yes = 1;
  const std::string& host = addr->host;
  for (auto st : {SetOpt(s.get(), SSH_OPTIONS_HOST, host.c_str(), "host"),
                  SetOpt(s.get(), SSH_OPTIONS_PORT, &port, "port"),
                  SetOpt(s.get(), SSH_OPTIONS_USER, ep.login.c_str(), "login"),
                  SetOpt(s.get(), SSH_OPTIONS_TIMEOUT, &timeout, "timeout"),
                  SetOpt(s.get(), SSH_OPTIONS_PROCESS_CONFIG, &no, "config"),
                  SetOpt(s.get(), SSH_OPTIONS_NODELAY, &yes, "nodelay"),
                  SetOpt(s.get(), SSH_OPTIONS_KNOWNHOSTS, "/dev/null", "known_hosts"),
                  SetOpt(s.get(), SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null", "known_hosts"),
                  SetOpt(s.get(), SSH_OPTIONS_KEY_EXCHANGE, algs.kex.c_str(), "kex"),
                  SetOpt(s.get(), SSH_OPTIONS_HOSTKEYS, algs.host_keys.c_str(), "host keys"),
                  SetOpt(s.get(), SSH_OPTIONS_CIPHERS_C_S, algs.ciphers.c_str(), "ciphers"),
                  SetOpt(s.get(), SSH_OPTIONS_CIPHERS_S_C, algs.ciphers.c_str(), "ciphers"),
                  SetOpt(s.get(), SSH_OPTIONS_HMAC_C_S, algs.macs.c_str(), "macs"),
                  SetOpt(s.get(), SSH_OPTIONS_HMAC_S_C, algs.macs.c_str(), "macs"),
                  SetOpt(s.get(), SSH_OPTIONS_PUBLICKEY_ACCEPTED_TYPES,
                         cred.mode == TargetAuthMode::kKey
                             ? kVaultedKeyTypes
                             : "ssh-ed25519-cert-v01@openssh.com,ssh-ed25519",
                         "key types")}) {
    if (!st.ok()) return st;
  }
  // Our own TCP connect, so that a shutdown can abort it and the handshake
  // after it. From ssh_connect() on, libssh owns the socket: it closes it
  // on an error and in ssh_free() (see CloseTargetSession).
  struct Unregister {
    agentless::ConnectAbort* a;
    ~Unregister() {
      if (a != nullptr) a->Unregister();
    }
  } unregister{ep.abort};
  if (ep.abort != nullptr) {
    auto fd = agentless::TcpConnect(host, static_cast<uint16_t>(port),
                                    std::chrono::duration_cast<std::chrono::milliseconds>(
                                        ep.timeout),
                                    ep.abort);
    if (fd.status().code() == absl::StatusCode::kCancelled)
      return absl::CancelledError(fmt::format("the connection to {} was aborted", ep.name));
    if (!fd.ok())
      return absl::UnavailableError(fmt::format("cannot reach {} ({}): {}", ep.name, ep.address,
                                                fd.status().message()));
    socket_t sock = *fd;
    if (ssh_options_set(s.get(), SSH_OPTIONS_FD, &sock) != SSH_OK) {
      close(sock);
      return absl::InternalError("cannot hand the target connection to libssh");
    }
    ep.abort->Register(sock);
  }
  if (ssh_connect(s.get()) != SSH_OK) {
    if (ep.abort != nullptr && ep.abort->aborted())
      return absl::CancelledError(fmt::format("the connection to {} was aborted", ep.name));
    return absl::UnavailableError(
        fmt::format("cannot reach {} ({}): {}", ep.name, ep.address, ssh_get_error(s.get())));
  }
  TargetConnection out;
  {
    ssh_key raw = nullptr;
    if (ssh_get_server_publickey(s.get(), &raw) != SSH_OK)
      return absl::InternalError(fmt::format("{}: no host key", ep.name));
    SshKeyPtr host_key(raw);
    auto line = PublicKeyLine(host_key.get());
    if (!line.ok()) return line.status();
    out.host_key = *line;
  }
  if (ep.pinned_host_key.empty()) {
    out.first_use = true;
  } else if (ep.pinned_host_key != out.host_key) {
    return absl::FailedPreconditionError(fmt::format(
        "host key of {} changed (pinned {}..., presented {}...); the session is refused until "
        "an administrator re-pins it",
        ep.name, ep.pinned_host_key.substr(0, 24), out.host_key.substr(0, 24)));
  }
  if (ep.accept_host_key) {
    if (auto st = ep.accept_host_key(out.host_key, out.first_use); !st.ok()) return st;
  }

  if (cred.mode != TargetAuthMode::kCertificate) {
    if (auto st = VaultedLogin(s.get(), cred); !st.ok()) return st;
    out.session = std::move(s);
    return out;
  }

  // A fresh key for this session only, certified for this login.
  ssh_key raw_key = nullptr;
  if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &raw_key) != SSH_OK)
    return absl::InternalError("cannot generate the session key");
  SshKeyPtr key(raw_key);
  const std::string blob = KeyBlob(key.get());
  if (blob.empty()) return absl::InternalError("cannot export the session key");
  if (!cred.mint) return absl::InternalError("no certificate source");
  auto cert = cred.mint(blob);
  if (!cert.ok()) return cert.status();
  ssh_key raw_cert = nullptr;
  const std::string b64 = Base64Encode(cert->blob);
  if (ssh_pki_import_cert_base64(b64.c_str(), SSH_KEYTYPE_ED25519_CERT01, &raw_cert) != SSH_OK)
    return absl::InternalError("cannot load the session certificate");
  SshKeyPtr cert_key(raw_cert);
  if (ssh_pki_copy_cert_to_privkey(cert_key.get(), key.get()) != SSH_OK)
    return absl::InternalError("cannot attach the session certificate");
  // RFC 4252: ask for the service first; ssh_userauth_none also learns methods.
  int rc = ssh_userauth_publickey(s.get(), nullptr, key.get());
  if (rc != SSH_AUTH_SUCCESS) {
    return absl::PermissionDeniedError(fmt::format(
        "{} refused the broker's certificate for login '{}' (does it trust the Portcullis CA "
        "and allow that account?)",
        ep.name, ep.login));
  }
  out.session = std::move(s);
  out.cert = std::move(*cert);
  return out;
}

void CloseTargetSession(SshSessionPtr& session, int flush_ms) {
  if (!session) return;
  if (ssh_is_connected(session.get())) {
    ssh_blocking_flush(session.get(), flush_ms);  // ssh_disconnect does not flush
    // Only now: a flush that fails on the socket (the target went away)
    // closes it inside libssh, and its number may already belong to another
    // thread. ssh_disconnect() itself never closes it, even on a write error.
    const socket_t fd = ssh_get_fd(session.get());
    ssh_disconnect(session.get());
    if (fd != SSH_INVALID_SOCKET) close(fd);
  }
  session.reset();
}

}  // namespace portcullis::ssh
