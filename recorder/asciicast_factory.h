#pragma once
// AsciicastFactory: the RecorderFactory for terminal sessions. A recording
// goes to <dir>/<YYYY>/<MM>/<DD>/<session_id>.<channel>.cast (UTC date of
// the start), directories 0700, files 0600, created with O_EXCL so that an
// existing recording is never overwritten. Every recording is sealed
// (docs/recordings.md): checkpoints in <id>.seal while it is written, a
// signed manifest when it ends.
//
// Thread-safe. Owns one WriterPool shared by all its recorders; recorders
// keep the pool alive, so they may outlive the factory (the clock, the
// signer and the observer must outlive both).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker/common/clock.h"
#include "broker/session/recorder.h"
#include "recorder/writer_pool.h"

namespace portcullis::recorder {

struct AsciicastFactoryOptions {
  std::string dir;  // the recordings directory; created (0700) if missing
  size_t buffer_cap = BufferedFile::kDefaultBufferCap;  // per recording
  uint64_t min_free_bytes = 64u << 20;  // Ready() refuses below this
  int writer_threads = 1;
  // Seals every recording; required (without one no recording is opened).
  session::RecordingSigner* signer = nullptr;
  // Catalogues recordings; optional. A failing Opened() refuses the
  // recording.
  session::RecordingObserver* observer = nullptr;
  // A recording that would grow past this fails (and its session ends).
  uint64_t max_recording_bytes = uint64_t{16} << 30;
  std::chrono::microseconds checkpoint_interval = std::chrono::seconds(4);
  uint64_t checkpoint_bytes = uint64_t{16} << 20;
};

class AsciicastFactory final : public session::RecorderFactory {
 public:
  AsciicastFactory(AsciicastFactoryOptions options, const Clock* clock);

  // Fails if Ready() does, if info.session_id is not 1-64 characters of
  // [A-Za-z0-9_-], if the observer refuses it, or if the file already
  // exists (AlreadyExists).
  [[nodiscard]] absl::StatusOr<std::unique_ptr<session::TerminalRecorder>> OpenTerminal(
      const session::RecordingInfo& info) override;
  // OK iff there is a signer, and the directory exists or can be created,
  // is writable, and has at least min_free_bytes free for unprivileged
  // users (statvfs f_bavail).
  [[nodiscard]] absl::Status Ready() override;

  // Where a recording of `info` starting at `start` goes.
  std::string PathFor(const session::RecordingInfo& info, TimePoint start) const;

 private:
  const AsciicastFactoryOptions options_;
  const Clock* clock_;
  std::shared_ptr<WriterPool> pool_;
};

}  // namespace portcullis::recorder
