// STUB: replaced by the sealing work (issue 4). Do not ship.
#include "recorder/seal_format.h"

namespace portcullis::recorder {
std::string CheckpointPayload(const Checkpoint&) { return ""; }
std::string CheckpointLine(const Checkpoint&) { return ""; }
absl::StatusOr<Checkpoint> ParseCheckpointLine(std::string_view) {
  return absl::UnimplementedError("checkpoints: not implemented yet");
}
std::string ManifestJson(const Manifest&) { return ""; }
absl::StatusOr<Manifest> ParseManifest(std::string_view) {
  return absl::UnimplementedError("manifest: not implemented yet");
}
std::string RecordingKeyId(std::string_view) { return ""; }
}  // namespace portcullis::recorder
