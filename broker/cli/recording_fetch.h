#pragma once
// Reading a recording from the broker into an unlinked temporary file, for
// the commands that work on a whole recording locally (`recordings input`,
// `recordings export` of graphical recordings). The broker audits the read
// as an export.

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "broker/cli/cli_context.h"
#include "portcullis/v1/recordings.pb.h"

namespace portcullis::cli {

struct FetchedRecording {
  int fd = -1;  // the caller owns it
  v1::Recording recording;  // sha256 set (the received file's, if the catalogue had none)
};

// Streams ID's recording into an anonymous file (under $TMPDIR), checking
// the order and size of the chunks and, with `check_sha256`, a complete
// recording's sealed SHA-256. `accept` (optional) sees the recording's catalogue entry
// with the first chunk: a non-OK status stops the read and is returned.
// `progress` (optional) gets the fraction received (-1 while unknown) after
// each chunk; false cancels (CancelledError "cancelled"). CancelledError
// with an empty message: the broker refused, already reported, *rc set.
[[nodiscard]] absl::StatusOr<FetchedRecording> FetchRecording(
    CliContext& ctx, const std::string& id,
    const std::function<absl::Status(const v1::Recording&)>& accept,
    const std::function<bool(double)>& progress, bool check_sha256, int* rc);

}  // namespace portcullis::cli
