#pragma once
// The gRPC API server: every portcullis.v1 service over TLS with the
// broker's server certificate. Owns the service objects. Start() binds;
// Shutdown() drains in-flight RPCs. Not copyable; thread-safe after Start().

#include <grpcpp/grpcpp.h>

#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "broker/core/broker.h"

namespace portcullis::api {

class ApiServer {
 public:
  explicit ApiServer(core::Broker& broker);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  [[nodiscard]] absl::Status Start();
  int port() const { return port_; }
  void Shutdown();
  void Wait();

 private:
  core::Broker& broker_;
  std::vector<std::unique_ptr<grpc::Service>> services_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace portcullis::api
