#pragma once
// AsciicastFactory: the daemon's RecorderFactory. A terminal session's
// recording is an asciicast v2 file, <id>.cast; a graphical session's (VNC,
// RDP) is a graphical recording, <id>.pgr (graphical/graphical_format.h).
// Both are created and sealed by one RecordingDirectory (its layout, modes,
// checkpoints and manifest are the same for every format; see
// recording_directory.h).
//
// Thread-safe. Recorders keep the directory's writer pool alive, so they
// may outlive the factory (the clock, the signer and the observer must
// outlive both).

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker/common/clock.h"
#include "broker/session/recorder.h"
#include "recorder/recording_directory.h"

namespace portcullis::recorder {

using AsciicastFactoryOptions = RecordingDirectoryOptions;

class AsciicastFactory final : public session::RecorderFactory {
 public:
  AsciicastFactory(AsciicastFactoryOptions options, const Clock* clock);

  // Fails as RecordingDirectory::Open does.
  [[nodiscard]] absl::StatusOr<std::unique_ptr<session::TerminalRecorder>> OpenTerminal(
      const session::RecordingInfo& info) override;
  // Fails as RecordingDirectory::Open does. The stream buffers up to
  // max(buffer_cap, 64 MiB): a flush of a whole screen is one record.
  [[nodiscard]] absl::StatusOr<std::unique_ptr<session::GraphicalRecorder>> OpenGraphical(
      const session::RecordingInfo& info) override;
  // As RecordingDirectory::Ready.
  [[nodiscard]] absl::Status Ready() override { return dir_.Ready(); }

  // Where a terminal recording of `info` starting at `start` goes.
  std::string PathFor(const session::RecordingInfo& info, TimePoint start) const;
  // Where a graphical recording of `info` starting at `start` goes.
  std::string GraphicalPathFor(const session::RecordingInfo& info, TimePoint start) const;

 private:
  RecordingDirectory dir_;
  const size_t graphical_buffer_cap_;
};

}  // namespace portcullis::recorder
