#pragma once
// The last step of every recording, whatever its format: the manifest
// (docs/recordings.md, "Sealing"). Given the closed recording and its seal
// summary it writes, in this order,
//   <id>.manifest.sig   the raw 64-byte signature of the manifest's bytes,
//   <id>.manifest.json  the manifest (temp file, fsync, rename; 0600),
// syncs the directory, then removes <id>.seal. A crash between the steps
// leaves either no manifest (the seal still proves the prefix: TRUNCATED) or
// a complete, signed one. Thread-safe (no shared state); the signer is
// called once.

#include <string>

#include "absl/status/status.h"
#include "broker/common/clock.h"
#include "broker/session/recorder.h"
#include "recorder/recording_sealer.h"
#include "recorder/seal_format.h"

namespace portcullis::recorder {

// A recording whose file is closed.
struct ClosedRecording {
  session::RecordingInfo info;
  std::string path;        // the recording file, "<dir>/<id>.<ext>"
  std::string media_type;  // its format's, e.g. "application/x-asciicast"
  TimePoint started{}, ended{};
  std::string end_reason;
  absl::Status status;  // the file's final status: OK = complete, else failed
  SealSummary summary;  // from BufferedFile::Close
};

// The manifest of `rec`, signed by the key whose raw public key is
// `public_raw`.
Manifest BuildManifest(const ClosedRecording& rec, std::string_view public_raw);

// Writes the manifest of `rec` as above. Returns the first error (the
// recording then stays provable by its seal only) and fills `end` in either
// case: state "complete" only if the file was complete and the manifest is
// in place; size and sha256 are those of the manifest, or of the last
// checkpoint if no manifest could be written ("" if none).
[[nodiscard]] absl::Status WriteManifest(const ClosedRecording& rec,
                                         session::RecordingSigner* signer,
                                         session::RecordingEnd* end);

// `end` for a recording that is not sealed (no signer): state from
// rec.status, size and sha256 from its summary if any.
session::RecordingEnd UnsealedEnd(const ClosedRecording& rec);

}  // namespace portcullis::recorder
