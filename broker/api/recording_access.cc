#include "broker/api/recording_access.h"

#include <fmt/format.h>

#include "broker/common/absl_fmt.h"
#include "broker/common/printable.h"
#include "broker/common/time_format.h"

namespace portcullis::api {
namespace {

void SetMicros(int64_t us, google::protobuf::Timestamp* ts) {
  int64_t s = us / 1'000'000;
  int64_t rem = us % 1'000'000;
  if (rem < 0) {
    rem += 1'000'000;
    --s;
  }
  ts->set_seconds(s);
  ts->set_nanos(static_cast<int32_t>(rem * 1000));
}

}  // namespace

std::string UtcOfMicros(int64_t us) {
  return us == 0 ? "" : FormatUtc(TimePoint(std::chrono::microseconds(us)), true);
}

absl::StatusOr<store::RecordingRecord> VisibleRecording(core::Broker& b, const Caller& caller,
                                                        const std::string& id, bool deleted_ok) {
  auto r = b.recording_store().Get(id);
  if (!r.ok()) {
    if (absl::IsNotFound(r.status()))
      return absl::NotFoundError(fmt::format("no recording {}", Printable(id)));
    return r.status();
  }
  if (!IsReviewer(caller.identity) && r->user != caller.identity.user) {
    return absl::NotFoundError(fmt::format("no recording {}", Printable(id)));
  }
  if (r->deleted() && !deleted_ok) {
    return absl::FailedPreconditionError(
        fmt::format("recording {} was deleted by retention at {}", r->id,
                    FormatUtc(FromUnix(r->deleted_at))));
  }
  return r;
}

absl::StatusOr<store::RecordingFilter> FilterFor(const Caller& caller, const v1::RecordingFilter& f,
                                                 int limit) {
  store::RecordingFilter out;
  if (limit < 0 || limit > 10000) return absl::InvalidArgumentError("limit must be 0-10000");
  out.limit = limit == 0 ? 1000 : limit;
  if (!f.user().empty()) out.user = f.user();
  if (!f.target().empty()) out.target = f.target();
  if (f.has_since()) out.since_us = f.since().seconds() * 1'000'000;
  if (!IsReviewer(caller.identity)) {
    if (out.user && *out.user != caller.identity.user) {
      return absl::PermissionDeniedError(
          "only admins and auditors may see other users' recordings");
    }
    out.user = caller.identity.user;
  }
  return out;
}

void FillRecording(const store::RecordingRecord& r, v1::Recording* out) {
  out->set_id(r.id);
  out->set_session_id(r.session_id);
  out->set_channel(r.channel);
  out->set_user(r.user);
  out->set_login(r.login);
  out->set_target(r.target);
  out->set_protocol(r.protocol);
  out->set_source(r.source);
  out->set_command(r.command);
  SetMicros(r.started_us, out->mutable_started());
  if (r.ended_us != 0) {
    SetMicros(r.ended_us, out->mutable_ended());
    out->set_duration_micros(std::max<int64_t>(0, r.ended_us - r.started_us));
  }
  out->set_size(r.size);
  out->set_sha256(r.sha256_hex);
  out->set_state(r.state);
  out->set_end_reason(r.end_reason);
  out->set_failure(r.failure);
  out->set_legal_hold(r.legal_hold);
  if (r.deleted()) SetTimestamp(r.deleted_at, out->mutable_deleted());
}

}  // namespace portcullis::api
