#include "broker/api/server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>

#include <openssl/crypto.h>

#include "broker/api/services.h"
#include "broker/common/time_format.h"
#include "broker/tls/server_identity.h"

namespace portcullis::api {

ApiServer::ApiServer(core::Broker& broker) : broker_(broker) {}
ApiServer::~ApiServer() { Shutdown(); }

// TLS: gRPC 1.51 (Debian 12) has no public knob for a minimum protocol
// version, so TLS 1.3 cannot be required; clients that offer it (our CLI,
// any OpenSSL 3 client) negotiate it. The TLS 1.2 fallback is pinned to
// forward-secret AEAD suites for the server's key: ECDSA (the broker's own
// and most imported ones) or RSA (an imported one).
constexpr char kTls12EcdsaSuites[] =
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305";
constexpr char kTls12RsaSuites[] =
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305";

absl::Status ApiServer::Start() {
  const auto& cfg = broker_.config();
  auto identity = tls::LoadServerIdentity(
      {cfg.TlsServerCertPath(), cfg.TlsServerKeyPath(), cfg.TlsImportedPath()});
  if (!identity.ok()) return identity.status();
  ::setenv("GRPC_SSL_CIPHER_SUITES", identity->rsa ? kTls12RsaSuites : kTls12EcdsaSuites, 1);
  if (identity->imported) {
    spdlog::info("api: serving the imported certificate {} (issuer {}, SHA-256 {}, until {})",
                 identity->leaf.subject, identity->leaf.issuer, identity->leaf.sha256_fingerprint,
                 FormatUtc(FromUnix(identity->leaf.not_after_unix)));
    if (identity->leaf.not_after_unix <= broker_.clock()->NowUnix()) {
      spdlog::warn("api: the imported certificate has expired; clients will refuse it");
    }
  }

  grpc::SslServerCredentialsOptions ssl;
  {
    // gRPC copies the key into its own credentials.
    std::string key(identity->key_pem.Reveal());
    ssl.pem_key_cert_pairs.push_back({std::move(key), identity->cert_chain_pem});
  }
  ssl.client_certificate_request = GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE;

  services_.push_back(std::make_unique<AuthServiceImpl>(broker_));
  services_.push_back(std::make_unique<UserServiceImpl>(broker_));
  services_.push_back(std::make_unique<RoleServiceImpl>(broker_));
  services_.push_back(std::make_unique<TargetServiceImpl>(broker_));
  services_.push_back(std::make_unique<PolicyServiceImpl>(broker_));
  services_.push_back(std::make_unique<AuditServiceImpl>(broker_));
  services_.push_back(std::make_unique<CaServiceImpl>(broker_));
  services_.push_back(std::make_unique<SessionServiceImpl>(broker_));
  services_.push_back(std::make_unique<AccessServiceImpl>(broker_));
  services_.push_back(std::make_unique<KeyServiceImpl>(broker_));
  services_.push_back(std::make_unique<RecordingServiceImpl>(broker_));

  grpc::ServerBuilder builder;
  builder.AddListeningPort(cfg.grpc.ToString(), grpc::SslServerCredentials(ssl), &port_);
  builder.SetMaxReceiveMessageSize(1 << 20);
  // gRPC sets SO_REUSEPORT by default: a second process could then bind the
  // same port and be handed some of our clients. Own the port exclusively,
  // so a taken port is a startup error.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  for (auto& s : services_) builder.RegisterService(s.get());
  server_ = builder.BuildAndStart();
  for (auto& pair : ssl.pem_key_cert_pairs) {
    OPENSSL_cleanse(pair.private_key.data(), pair.private_key.size());
  }
  if (!server_ || port_ == 0) {
    return absl::UnavailableError(
        fmt::format("cannot listen on {} for the API", cfg.grpc.ToString()));
  }
  spdlog::info("api: listening on {} (TLS)", cfg.grpc.host + ":" + std::to_string(port_));
  return absl::OkStatus();
}

void ApiServer::Shutdown() {
  if (server_) {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  }
}

void ApiServer::Wait() {
  if (server_) server_->Wait();
}

}  // namespace portcullis::api
