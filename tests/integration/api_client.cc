#include "tests/integration/api_client.h"

#include <fmt/format.h>

#include <chrono>

namespace portcullis::testing {

std::shared_ptr<grpc::Channel> ApiChannel(const BrokerFixture& broker) {
  grpc::SslCredentialsOptions opts;
  auto ca = ReadWholeFile(broker.ca_pem_path());
  if (ca.ok()) opts.pem_root_certs = *ca;
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(16 << 20);
  return grpc::CreateCustomChannel(broker.address(), grpc::SslCredentials(opts), args);
}

std::unique_ptr<grpc::ClientContext> ApiContext(std::string_view token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + std::string(token));
  return ctx;
}

std::string Describe(const grpc::Status& st) {
  return fmt::format("{}: {}", static_cast<int>(st.error_code()), st.error_message());
}

}  // namespace portcullis::testing
