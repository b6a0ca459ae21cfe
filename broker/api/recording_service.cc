// RecordingService: the catalogue (List), verification with the broker's
// recording key (Verify), legal hold and retention. Read and Search are in
// recording_read_service.cc.
#include <fmt/format.h>

#include "broker/api/api_common.h"
#include "broker/api/recording_access.h"
#include "broker/api/services.h"
#include "broker/common/absl_fmt.h"
#include "broker/common/files.h"
#include "recorder/verifier.h"

namespace portcullis::api {
namespace {

v1::Verdict ToProto(recorder::Verdict v) {
  switch (v) {
    case recorder::Verdict::kValid: return v1::VERDICT_VALID;
    case recorder::Verdict::kTruncated: return v1::VERDICT_TRUNCATED;
    case recorder::Verdict::kInvalid: return v1::VERDICT_INVALID;
  }
  return v1::VERDICT_INVALID;
}

// What the catalogue knows overrides a verdict the files alone allow: a
// recording catalogued as sealed complete whose manifest is gone, or whose
// sealed digest differs from the catalogue's, is not evidence.
void CrossCheckCatalogue(const store::RecordingRecord& r, const std::string& manifest_path,
                         recorder::VerifyReport* rep) {
  auto invalid = [&](const std::string& why) {
    rep->verdict = recorder::Verdict::kInvalid;
    rep->message = fmt::format("INVALID: {} (the files alone say: {})", why, rep->message);
  };
  if (r.state == store::kRecordingComplete && !PathExists(manifest_path)) {
    invalid("the catalogue says this recording was sealed complete, but its manifest is missing");
    return;
  }
  // The files may prove another recording than the one catalogued here.
  if (rep->verdict != recorder::Verdict::kInvalid && rep->recording_id != r.id) {
    invalid(fmt::format("the files are sealed as recording {}", rep->recording_id));
    return;
  }
  if (rep->verdict == recorder::Verdict::kValid && rep->manifest.has_value()) {
    if (!r.sha256_hex.empty() && rep->manifest->sha256_hex != r.sha256_hex) {
      invalid(fmt::format("the manifest's sha256 {} is not the one catalogued ({})",
                          rep->manifest->sha256_hex, r.sha256_hex));
    }
  }
}

}  // namespace

grpc::Status RecordingServiceImpl::List(grpc::ServerContext* ctx,
                                        const v1::ListRecordingsRequest* req,
                                        v1::ListRecordingsResponse* resp) {
  auto caller = Authorize(ctx, b_, Access::kAnyUser);
  if (!caller.ok()) return ToGrpc(caller.status());
  auto filter = FilterFor(*caller, req->filter(), req->limit());
  if (!filter.ok()) return ToGrpc(filter.status());
  filter->include_deleted = req->include_deleted();
  auto rows = b_.recording_store().List(*filter);
  if (!rows.ok()) return ToGrpc(rows.status());
  for (const auto& r : *rows) FillRecording(r, resp->add_recordings());
  return grpc::Status::OK;
}

grpc::Status RecordingServiceImpl::Verify(grpc::ServerContext* ctx,
                                          const v1::VerifyRecordingRequest* req,
                                          v1::VerifyRecordingResponse* resp) {
  auto caller = Authorize(ctx, b_, Access::kAnyUser);
  if (!caller.ok()) return ToGrpc(caller.status());
  auto r = VisibleRecording(b_, *caller, req->id());
  if (!r.ok()) return ToGrpc(r.status());
  recorder::VerifyRequest vr;
  vr.recording_path = b_.recording_catalogue().AbsolutePath(*r);
  vr.public_key_raw = b_.authority().RecordingPublicKey();
  recorder::VerifyReport rep = recorder::VerifyRecording(vr);
  CrossCheckCatalogue(*r, core::FilesOf(vr.recording_path).manifest, &rep);
  // No audit, no answer.
  if (auto st = AuditChange(b_, *caller, "recording.verify", r->id,
                            {{"user", r->user},
                             {"target", r->target},
                             {"verdict", recorder::VerdictName(rep.verdict)},
                             {"message", rep.message}});
      !st.ok()) {
    return ToGrpc(st);
  }
  resp->set_verdict(ToProto(rep.verdict));
  resp->set_message(rep.message);
  resp->set_recording_id(r->id);
  resp->set_file_size(rep.file_size);
  resp->set_valid_bytes(rep.valid_bytes);
  resp->set_valid_until_micros(rep.valid_until_micros);
  if (rep.bad_begin && rep.bad_end) {
    resp->set_has_bad_range(true);
    resp->set_bad_begin(*rep.bad_begin);
    resp->set_bad_end(*rep.bad_end);
  }
  return grpc::Status::OK;
}

grpc::Status RecordingServiceImpl::SetLegalHold(grpc::ServerContext* ctx,
                                                const v1::SetLegalHoldRequest* req,
                                                v1::SetLegalHoldResponse* resp) {
  auto caller = Authorize(ctx, b_, Access::kAdmin);
  if (!caller.ok()) return ToGrpc(caller.status());
  auto r = VisibleRecording(b_, *caller, req->id());
  if (!r.ok()) return ToGrpc(r.status());
  if (auto st = b_.recording_catalogue().SetLegalHold(r->id, req->hold()); !st.ok())
    return ToGrpc(st);
  if (auto st = AuditChange(b_, *caller, "recording.hold", r->id,
                            {{"hold", req->hold()}, {"user", r->user}, {"target", r->target}});
      !st.ok()) {
    return ToGrpc(st);
  }
  auto now = b_.recording_store().Get(r->id);
  if (!now.ok()) return ToGrpc(now.status());
  FillRecording(*now, resp->mutable_recording());
  return grpc::Status::OK;
}

grpc::Status RecordingServiceImpl::Prune(grpc::ServerContext* ctx,
                                         const v1::PruneRecordingsRequest*,
                                         v1::PruneRecordingsResponse* resp) {
  auto caller = Authorize(ctx, b_, Access::kAdmin);
  if (!caller.ok()) return ToGrpc(caller.status());
  core::PruneReport rep = b_.recording_catalogue().Prune(caller->identity.user, caller->peer);
  const int64_t retention = b_.recording_catalogue().retention().count();
  if (auto st = AuditChange(b_, *caller, "recording.prune", "recordings",
                            {{"deleted", rep.deleted.size()},
                             {"failed", rep.failed.size()},
                             {"retention_seconds", retention}});
      !st.ok()) {
    return ToGrpc(st);
  }
  for (const auto& id : rep.deleted) resp->add_deleted(id);
  for (const auto& id : rep.failed) resp->add_failed(id);
  resp->set_retention_seconds(retention);
  return grpc::Status::OK;
}

}  // namespace portcullis::api
