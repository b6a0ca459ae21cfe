#pragma once
// DiscardingFactory: a RecorderFactory whose recorders drop everything. It
// exists only so that `make bench` can measure what recording costs
// (`portcullisd --benchmark-unrecorded`, which logs a warning and writes an
// audit event when it starts). Never used otherwise: Portcullis records
// every session. Thread-safe.

#include <memory>

#include "broker/session/recorder.h"

namespace portcullis::recorder {

class DiscardingFactory final : public session::RecorderFactory {
 public:
  [[nodiscard]] absl::StatusOr<std::unique_ptr<session::TerminalRecorder>> OpenTerminal(
      const session::RecordingInfo& info) override;
  [[nodiscard]] absl::StatusOr<std::unique_ptr<session::GraphicalRecorder>> OpenGraphical(
      const session::RecordingInfo& info) override;
  [[nodiscard]] absl::Status Ready() override { return absl::OkStatus(); }
};

}  // namespace portcullis::recorder
