#pragma once
// RecordingKey: the broker's Ed25519 recording key behind the
// session::RecordingSigner seam. It signs recording seals (checkpoint lines
// and manifests, docs/recordings.md) and nothing else: any other payload is
// refused, so the key cannot be used to sign certificates or arbitrary data.
// The key lives in <data_dir>/keys/recording_ed25519 (PKCS#8 PEM, 0600),
// created on first open. Thread-safe (Ed25519Key's const methods are).

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "auth/ca/ed25519_key.h"
#include "broker/session/recorder.h"

namespace portcullis::core {

class RecordingKey final : public session::RecordingSigner {
 public:
  // Loads the key at `path`, creating it (0600) if it does not exist.
  // Refuses a key file readable by group or others.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<RecordingKey>> LoadOrCreate(
      const std::string& path);

  explicit RecordingKey(ca::Ed25519Key key) : key_(std::move(key)) {}

  // InvalidArgument unless `payload` is a seal payload (IsSealPayload).
  [[nodiscard]] absl::StatusOr<std::string> SignRecordingSeal(std::string_view payload) override;
  std::string RecordingPublicKey() const override { return key_.PublicRaw(); }

 private:
  const ca::Ed25519Key key_;
};

}  // namespace portcullis::core
