#pragma once
// A bare gRPC client for the broker's API, for tests that need what the CLI
// does not do: calls without a token, hand-made oversized requests. Trusts
// only the broker's TLS CA from its data directory. Test-only code.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <string_view>

#include "tests/integration/broker_fixture.h"

namespace portcullis::testing {

// A TLS channel to `broker` (its data dir's CA; empty if unreadable).
std::shared_ptr<grpc::Channel> ApiChannel(const BrokerFixture& broker);
// A call context with a 10 s deadline and, if `token` is not empty,
// `authorization: Bearer <token>`.
std::unique_ptr<grpc::ClientContext> ApiContext(std::string_view token = "");
// "CODE: message" for assertion messages.
std::string Describe(const grpc::Status& st);

}  // namespace portcullis::testing
