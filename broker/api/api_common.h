#pragma once
// Shared pieces of the gRPC services: bearer-token authorisation (checked
// at the top of every RPC), absl -> grpc status conversion (only here, at
// the API edge), and enum/time conversions. Thread-safe.

#include <grpcpp/grpcpp.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "auth/policy/role.h"
#include "broker/core/broker.h"
#include "broker/core/user_admin.h"
#include "google/protobuf/timestamp.pb.h"
#include "portcullis/v1/common.pb.h"

namespace portcullis::api {

// kReviewer: an admin or a holder of the built-in `auditor` role.
enum class Access { kAnyUser, kReviewer, kAdmin };

struct Caller {
  core::Identity identity;
  std::string token_hash;
  int64_t token_expires_at = 0;
  std::string peer;  // e.g. "ipv4:127.0.0.1:53122"
};

// Validates `authorization: Bearer <token>`; with kAdmin also requires the
// admin role, with kReviewer the admin or auditor role. Failures:
// UNAUTHENTICATED (no/bad token) or PERMISSION_DENIED.
[[nodiscard]] absl::StatusOr<Caller> Authorize(grpc::ServerContext* ctx, core::Broker& broker,
                                               Access access);

// True for admins and holders of the auditor role.
bool IsReviewer(const core::Identity& id);

grpc::Status ToGrpc(const absl::Status& st);
core::Actor ActorOf(const Caller& c);
// Appends a successful admin change to the audit log.
[[nodiscard]] absl::Status AuditChange(core::Broker& b, const Caller& c, std::string type,
                                       std::string subject,
                                       nlohmann::json details = nlohmann::json::object());

void SetTimestamp(int64_t unix_seconds, google::protobuf::Timestamp* ts);
v1::Protocol ToProto(policy::Protocol p);
[[nodiscard]] absl::StatusOr<policy::Protocol> FromProto(v1::Protocol p);

}  // namespace portcullis::api
