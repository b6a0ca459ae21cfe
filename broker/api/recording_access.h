#pragma once
// Shared by the RecordingService's RPCs: who may see which recording, the
// catalogue filter a request amounts to, and catalogue rows as protos.
// Internal to pc_api. Thread-safe (stateless over the Broker).

#include <string>

#include "absl/status/statusor.h"
#include "broker/api/api_common.h"
#include "broker/core/broker.h"
#include "broker/store/recording_repo.h"
#include "portcullis/v1/recordings.pb.h"

namespace portcullis::api {

// The catalogued recording `id`, if `caller` may see it: reviewers (admin,
// auditor) every one, others only their own. NotFound otherwise (an id of
// someone else's recording is not confirmed to exist). FailedPrecondition
// for a deleted one unless `deleted_ok`.
[[nodiscard]] absl::StatusOr<store::RecordingRecord> VisibleRecording(core::Broker& b,
                                                                      const Caller& caller,
                                                                      const std::string& id,
                                                                      bool deleted_ok = false);

// The catalogue filter for a request's filter: a non-reviewer is limited to
// their own recordings (PermissionDenied when they name another user).
// InvalidArgument for a limit outside 1..10000.
[[nodiscard]] absl::StatusOr<store::RecordingFilter> FilterFor(const Caller& caller,
                                                               const v1::RecordingFilter& f,
                                                               int limit);

void FillRecording(const store::RecordingRecord& r, v1::Recording* out);

// "2026-11-23T09:00:00.000000Z", "" for 0.
std::string UtcOfMicros(int64_t us);

}  // namespace portcullis::api
