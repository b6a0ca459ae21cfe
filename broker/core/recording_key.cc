#include "broker/core/recording_key.h"

#include "broker/common/files.h"
#include "recorder/seal_format.h"

namespace portcullis::core {

absl::StatusOr<std::unique_ptr<RecordingKey>> RecordingKey::LoadOrCreate(const std::string& path) {
  if (!PathExists(path)) {
    if (auto st = ca::Ed25519Key::Generate().SavePrivateFile(path); !st.ok()) return st;
  }
  auto key = ca::Ed25519Key::LoadPrivateFile(path);
  if (!key.ok()) return key.status();
  return std::make_unique<RecordingKey>(std::move(*key));
}

absl::StatusOr<std::string> RecordingKey::SignRecordingSeal(std::string_view payload) {
  if (!recorder::IsSealPayload(payload)) {
    return absl::InvalidArgumentError("recording key: refusing to sign anything but a seal");
  }
  return key_.Sign(payload);
}

}  // namespace portcullis::core
