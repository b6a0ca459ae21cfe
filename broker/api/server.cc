#include "broker/api/server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "broker/api/services.h"
#include "broker/common/files.h"

namespace portcullis::api {

ApiServer::ApiServer(core::Broker& broker) : broker_(broker) {}
ApiServer::~ApiServer() { Shutdown(); }

absl::Status ApiServer::Start() {
  const auto& cfg = broker_.config();
  auto cert = ReadFileBounded(cfg.TlsServerCertPath(), 64 * 1024);
  if (!cert.ok()) return cert.status();
  auto key = ReadFileBounded(cfg.TlsServerKeyPath(), 64 * 1024);
  if (!key.ok()) return key.status();

  grpc::SslServerCredentialsOptions ssl;
  ssl.pem_key_cert_pairs.push_back({*key, *cert});
  ssl.client_certificate_request = GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE;

  services_.push_back(std::make_unique<AuthServiceImpl>(broker_));
  services_.push_back(std::make_unique<UserServiceImpl>(broker_));
  services_.push_back(std::make_unique<RoleServiceImpl>(broker_));
  services_.push_back(std::make_unique<TargetServiceImpl>(broker_));
  services_.push_back(std::make_unique<PolicyServiceImpl>(broker_));
  services_.push_back(std::make_unique<AuditServiceImpl>(broker_));
  services_.push_back(std::make_unique<CaServiceImpl>(broker_));

  grpc::ServerBuilder builder;
  builder.AddListeningPort(cfg.grpc.ToString(), grpc::SslServerCredentials(ssl), &port_);
  builder.SetMaxReceiveMessageSize(1 << 20);
  for (auto& s : services_) builder.RegisterService(s.get());
  server_ = builder.BuildAndStart();
  OPENSSL_cleanse(key->data(), key->size());
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
