#include <fmt/format.h>

#include "auth/ca/ssh_public_key.h"
#include "broker/api/api_common.h"
#include "broker/api/services.h"
#include "broker/common/encoding.h"

namespace portcullis::api {
namespace {

// Enough for every laptop and token a person uses; bounds the table.
constexpr size_t kMaxKeysPerUser = 32;

void FillKey(const store::UserKeyRecord& k, v1::UserKey* out) {
  out->set_user(k.user);
  out->set_fingerprint(k.fingerprint);
  out->set_type(k.type);
  out->set_comment(k.comment);
  SetTimestamp(k.created_at, out->mutable_created_at());
  std::string line = k.type + " " + Base64Encode(k.blob);
  if (!k.comment.empty()) line += " " + k.comment;
  out->set_public_key(line);
}

}  // namespace

absl::StatusOr<std::string> KeyServiceImpl::Owner(const Caller& caller,
                                                  const std::string& requested) {
  if (requested.empty() || requested == caller.identity.user) return caller.identity.user;
  if (!caller.identity.admin) {
    return absl::PermissionDeniedError("managing another user's keys needs the admin role");
  }
  auto rec = b_.users().Get(requested);
  if (!rec.ok()) return rec.status();
  return requested;
}

grpc::Status KeyServiceImpl::AddKey(grpc::ServerContext* ctx, const v1::AddKeyRequest* req,
                                    v1::AddKeyResponse* resp) {
  auto caller = Authorize(ctx, b_, Access::kAnyUser);
  if (!caller.ok()) return ToGrpc(caller.status());
  auto user = Owner(*caller, req->user());
  if (!user.ok()) return ToGrpc(user.status());
  auto key = ca::ParseUserPublicKeyLine(req->public_key());
  if (!key.ok()) return ToGrpc(key.status());

  store::UserKeyRecord rec;
  rec.user = *user;
  rec.fingerprint = ca::Fingerprint(key->blob);
  rec.blob = key->blob;
  rec.type = key->type;
  rec.comment = key->comment;
  rec.created_at = b_.clock()->NowUnix();
  auto st = b_.db()->InTransaction([&]() -> absl::Status {
    auto existing = b_.keys().List(rec.user);
    if (!existing.ok()) return existing.status();
    if (existing->size() >= kMaxKeysPerUser) {
      return absl::ResourceExhaustedError(fmt::format(
          "{} already has {} keys registered: remove one first", rec.user, kMaxKeysPerUser));
    }
    return b_.keys().Add(rec);
  });
  if (!st.ok()) return ToGrpc(st);
  if (auto a = AuditChange(b_, *caller, "key.add", rec.user,
                           {{"fingerprint", rec.fingerprint}, {"type", rec.type}});
      !a.ok())
    return ToGrpc(a);
  FillKey(rec, resp->mutable_key());
  return grpc::Status::OK;
}

grpc::Status KeyServiceImpl::ListKeys(grpc::ServerContext* ctx, const v1::ListKeysRequest* req,
                                      v1::ListKeysResponse* resp) {
  auto caller = Authorize(ctx, b_, Access::kAnyUser);
  if (!caller.ok()) return ToGrpc(caller.status());
  auto user = Owner(*caller, req->user());
  if (!user.ok()) return ToGrpc(user.status());
  auto keys = b_.keys().List(*user);
  if (!keys.ok()) return ToGrpc(keys.status());
  for (const auto& k : *keys) FillKey(k, resp->add_keys());
  return grpc::Status::OK;
}

grpc::Status KeyServiceImpl::RemoveKey(grpc::ServerContext* ctx, const v1::RemoveKeyRequest* req,
                                       v1::RemoveKeyResponse*) {
  auto caller = Authorize(ctx, b_, Access::kAnyUser);
  if (!caller.ok()) return ToGrpc(caller.status());
  auto user = Owner(*caller, req->user());
  if (!user.ok()) return ToGrpc(user.status());
  const std::string& fp = req->fingerprint();
  if (fp.empty() || fp.size() > 128) {
    return ToGrpc(absl::InvalidArgumentError("give the key's SHA256:... fingerprint"));
  }
  if (auto st = b_.keys().Remove(*user, fp); !st.ok()) return ToGrpc(st);
  return ToGrpc(AuditChange(b_, *caller, "key.remove", *user, {{"fingerprint", fp}}));
}

}  // namespace portcullis::api
