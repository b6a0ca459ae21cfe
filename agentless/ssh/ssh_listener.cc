#include "agentless/ssh/ssh_listener.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include "agentless/ssh/ssh_connection.h"
#include "agentless/ssh/ssh_settings.h"
#include "broker/common/absl_fmt.h"

namespace portcullis::ssh {

SshListener::SshListener(SshServices services) : services_(std::move(services)) {}

SshListener::~SshListener() { Stop(); }

absl::Status SshListener::Start() {
  EnsureLibsshInitialised();
  if (services_.host_key == nullptr) return absl::FailedPreconditionError("ssh: no host key");
  bind_.reset(ssh_bind_new());
  if (!bind_) return absl::InternalError("ssh: out of memory");
  ssh_key key = nullptr;
  SecretBytes pem = services_.host_key->OpenSshPrivateKey("portcullis-host");
  std::string text(pem.Reveal());
  int rc = ssh_pki_import_privkey_base64(text.c_str(), nullptr, nullptr, nullptr, &key);
  OPENSSL_cleanse(text.data(), text.size());
  if (rc != SSH_OK) return absl::InternalError("ssh: cannot load the host key");
  const AlgorithmSet algs = ListenerAlgorithms();
  const int no = 0;
  // The skeleton binds and accepts; the bind only carries the key and the
  // algorithms into each accepted session (ssh_bind_accept_fd).
  bool ok = ssh_bind_options_set(bind_.get(), SSH_BIND_OPTIONS_IMPORT_KEY, key) == SSH_OK &&
            ssh_bind_options_set(bind_.get(), SSH_BIND_OPTIONS_PROCESS_CONFIG, &no) == SSH_OK &&
            ssh_bind_options_set(bind_.get(), SSH_BIND_OPTIONS_KEY_EXCHANGE, algs.kex.c_str()) ==
                SSH_OK &&
            ssh_bind_options_set(bind_.get(), SSH_BIND_OPTIONS_CIPHERS_C_S,
                                 algs.ciphers.c_str()) == SSH_OK &&
            ssh_bind_options_set(bind_.get(), SSH_BIND_OPTIONS_CIPHERS_S_C,
                                 algs.ciphers.c_str()) == SSH_OK &&
            ssh_bind_options_set(bind_.get(), SSH_BIND_OPTIONS_HMAC_C_S, algs.macs.c_str()) ==
                SSH_OK &&
            ssh_bind_options_set(bind_.get(), SSH_BIND_OPTIONS_HMAC_S_C, algs.macs.c_str()) ==
                SSH_OK &&
            ssh_bind_options_set(bind_.get(), SSH_BIND_OPTIONS_HOSTKEY_ALGORITHMS,
                                 algs.host_keys.c_str()) == SSH_OK &&
            ssh_bind_options_set(bind_.get(), SSH_BIND_OPTIONS_BANNER, "Portcullis") == SSH_OK;
  if (!ok) {
    return absl::InternalError(
        fmt::format("ssh: cannot configure the listener: {}", ssh_get_error(bind_.get())));
  }
  const SshSettings& s = services_.settings;
  agentless::ListenerOptions opts;
  opts.name = "ssh";
  opts.host = s.host;
  opts.port = s.port;
  opts.max_connections = s.max_sessions;
  opts.max_unauthenticated = s.max_unauthenticated;
  opts.auth_timeout = s.auth_timeout;
  listener_ = std::make_unique<agentless::ProxyListener>(
      opts, services_.session.clock,
      [this](agentless::UniqueFd fd, const std::string& source, std::function<void()> hook) {
        return Accept(std::move(fd), source, std::move(hook));
      });
  if (auto st = listener_->Start(); !st.ok()) return st;
  spdlog::info("ssh: listening on {}:{}", s.host, listener_->port());
  return absl::OkStatus();
}

void SshListener::Stop() {
  if (listener_) listener_->Stop();
}

std::unique_ptr<agentless::ListenedConnection> SshListener::Accept(
    agentless::UniqueFd fd, const std::string& source, std::function<void()> authenticated) {
  SshSessionPtr s(ssh_new());
  if (!s) return nullptr;
  {
    std::lock_guard<std::mutex> lock(accept_mu_);
    if (ssh_bind_accept_fd(bind_.get(), s.get(), fd.get()) != SSH_OK) {
      spdlog::info("ssh: cannot accept {}: {}", source, ssh_get_error(bind_.get()));
      // If the session took the socket before failing, it closes it.
      if (ssh_get_fd(s.get()) == fd.get()) (void)fd.Release();
      return nullptr;
    }
  }
  // The session's socket now closes with the session (ssh_free).
  (void)fd.Release();
  auto conn = std::make_unique<SshConnection>(services_, std::move(s), source);
  conn->SetAuthenticatedHook(std::move(authenticated));
  return conn;
}

}  // namespace portcullis::ssh
