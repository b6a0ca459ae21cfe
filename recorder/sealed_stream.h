#pragma once
// SealedStream: one recording file of any format, written off the session
// thread and sealed (docs/recordings.md, "Sealing"). A format's writer
// (AsciicastWriter, GraphicalWriter) stamps and appends its
// records; the stream's BufferedFile turns them into file bytes (with the
// format's ChunkEncoder, if it has one), its RecordingSealer makes the
// checkpoints, and Close() writes the signed manifest, which names the
// format's media type and the file, then tells the observer how the
// recording ended. Nothing here reads or depends on the bytes.
//
// Thread-compatible: one session thread calls it. The clock, signer and
// observer must outlive it.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "broker/common/clock.h"
#include "broker/session/recorder.h"
#include "recorder/recording_format.h"
#include "recorder/writer_pool.h"

namespace portcullis::recorder {

struct WriterSealing {
  session::RecordingSigner* signer = nullptr;      // null: no manifest (tests of a format)
  session::RecordingObserver* observer = nullptr;  // optional: told of the end
};

class SealedStream {
 public:
  // Takes ownership of `fd`, an open, empty recording file named `path`
  // ("<dir>/<id>.<extension>"), written through `pool` with `file_options`
  // (a sealer there makes the checkpoints; an encoder is the format's).
  // Session times count from `start`.
  SealedStream(const session::RecordingInfo& info, RecordingFormat format, TimePoint start,
               const Clock* clock, std::shared_ptr<WriterPool> pool, int fd, std::string path,
               BufferedFileOptions file_options, WriterSealing sealing = {});
  ~SealedStream();  // Close("aborted") if the owner did not
  SealedStream(const SealedStream&) = delete;
  SealedStream& operator=(const SealedStream&) = delete;

  // Queues one record (BufferedFile::Append); false once the stream failed
  // or is closed.
  bool Append(std::string_view head, std::string_view body, int64_t media_micros) {
    return file_->Append(head, body, media_micros);
  }
  // Microseconds since `start` now, never going backwards (a clock stepped
  // back repeats the last time).
  int64_t Stamp();
  bool healthy() const { return file_->healthy(); }
  absl::Status Health() const { return file_->Health(); }
  size_t Backlog() const { return file_->Backlog(); }
  // Waits until the file is written, sealed and synced, writes the
  // manifest (with a signer), then tells the observer. Returns the first
  // failure. Idempotent.
  [[nodiscard]] absl::Status Close(std::string_view end_reason);
  bool closed() const { return closed_; }

  const std::string& path() const { return file_->path(); }
  const session::RecordingInfo& info() const { return info_; }
  const RecordingFormat& format() const { return format_; }
  TimePoint start() const { return start_; }

 private:
  const session::RecordingInfo info_;
  const RecordingFormat format_;
  const TimePoint start_;
  const Clock* clock_;
  const WriterSealing sealing_;
  int64_t last_micros_ = 0;
  std::unique_ptr<BufferedFile> file_;
  bool closed_ = false;
  absl::Status close_status_;
};

}  // namespace portcullis::recorder
