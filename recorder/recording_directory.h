#pragma once
// RecordingDirectory: where sealed recordings of every format are created.
// A recording goes to <dir>/<YYYY>/<MM>/<DD>/<session_id>.<channel>.<ext>
// (UTC date of the start; <ext> is its format's extension), directories
// 0700, files 0600, created with O_EXCL so that an existing recording is
// never overwritten. Every recording is sealed (docs/recordings.md):
// checkpoints in <id>.seal while it is written, a signed manifest naming
// its media type when it ends. A format's factory (AsciicastFactory, for
// terminal and graphical recordings) opens its streams here and wraps them in its writer.
//
// Thread-safe. Owns one WriterPool shared by all its streams; streams keep
// the pool alive, so they may outlive the directory (the clock, the signer
// and the observer must outlive both).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker/common/clock.h"
#include "broker/session/recorder.h"
#include "recorder/recording_format.h"
#include "recorder/sealed_stream.h"
#include "recorder/writer_pool.h"

namespace portcullis::recorder {

struct RecordingDirectoryOptions {
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

class RecordingDirectory {
 public:
  RecordingDirectory(RecordingDirectoryOptions options, const Clock* clock);

  // OK iff there is a signer, and the directory exists or can be created,
  // is writable, and has at least min_free_bytes free for unprivileged
  // users (statvfs f_bavail).
  [[nodiscard]] absl::Status Ready();

  // Creates the recording of `info` in `format` and its seal, catalogues
  // it with the observer, and returns its stream. `encoder` (optional)
  // turns the writer's records into the file's bytes. Fails if Ready()
  // does, if info.session_id is not 1-64 characters of [A-Za-z0-9_-], if
  // the format is not valid, if the observer refuses it, or if the file
  // already exists (AlreadyExists). `buffer_cap` (0: the directory's)
  // lets a format whose records are large (graphical) buffer more.
  [[nodiscard]] absl::StatusOr<std::unique_ptr<SealedStream>> Open(
      const session::RecordingInfo& info, const RecordingFormat& format,
      std::unique_ptr<ChunkEncoder> encoder, size_t buffer_cap = 0);

  // Where a recording of `info` in `format` starting at `start` goes.
  std::string PathFor(const session::RecordingInfo& info, TimePoint start,
                      const RecordingFormat& format) const;

  const Clock* clock() const { return clock_; }

 private:
  const RecordingDirectoryOptions options_;
  const Clock* clock_;
  std::shared_ptr<WriterPool> pool_;
};

}  // namespace portcullis::recorder
