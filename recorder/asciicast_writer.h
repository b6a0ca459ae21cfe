#pragma once
// AsciicastWriter: the TerminalRecorder that writes asciicast v2 (see
// asciicast_format.h). The session thread only stamps each event with its
// time and copies its bytes once into a BufferedFile; the file's WriterPool
// thread escapes them into asciicast lines (its ChunkEncoder), hashes and
// writes them. Neither the escaping nor the disk is on the caller's path.
//
// Output and input are separate byte streams, each with its own UTF-8
// state: a multi-byte character split across two calls is written whole in
// the event of the second call; ill-formed bytes become U+FFFD. Event times
// come from the injected clock, in microseconds since `start`, and never go
// backwards (a clock stepped back repeats the last time).
//
// Sealing: with a signer, Close() writes the recording's signed manifest
// (manifest_writer.h) after the file is closed, and then tells the
// observer (if any) how the recording ended. The file's checkpoints are
// made by its BufferedFile's sealer.
//
// Thread-compatible: one session thread calls it (the TerminalRecorder
// contract). The clock, signer and observer must outlive the writer.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "broker/common/clock.h"
#include "broker/session/recorder.h"
#include "recorder/writer_pool.h"

namespace portcullis::recorder {

inline constexpr std::string_view kAsciicastMediaType = "asciicast/2";

struct WriterSealing {
  session::RecordingSigner* signer = nullptr;      // null: no manifest (tests of the format)
  session::RecordingObserver* observer = nullptr;  // optional: told of the end
};

class AsciicastWriter final : public session::TerminalRecorder {
 public:
  // Takes ownership of `fd`, an open, empty recording file named `path`,
  // written through `pool` with `file_options` (their encoder is the
  // writer's own). Queues the header line at once. Event times count from
  // `start`.
  AsciicastWriter(const session::RecordingInfo& info, TimePoint start, const Clock* clock,
                  std::shared_ptr<WriterPool> pool, int fd, std::string path,
                  BufferedFileOptions file_options, WriterSealing sealing = {});
  ~AsciicastWriter() override;  // Close("aborted") if the owner did not

  void Output(std::string_view bytes) override;
  void Input(std::string_view bytes) override;
  void Resize(int cols, int rows) override;
  void Marker(std::string_view label) override;
  absl::Status Health() const override;
  size_t Backlog() const override { return file_->Backlog(); }
  // Flushes a held-back partial character, appends the marker
  // "end: <end_reason>", waits until the file is written, sealed and
  // synced, then writes the manifest. Returns the first failure.
  [[nodiscard]] absl::Status Close(std::string_view end_reason) override;

  const std::string& path() const { return file_->path(); }

 private:
  // Stamps an event with the session time now (never going backwards).
  int64_t Stamp();
  // Queues one record for the encoder (asciicast_writer.cc).
  void Queue(char kind, int64_t micros, std::string_view body);
  // Queues a ready-made line (header, resize, marker) from scratch_.
  void QueueLine(char type, std::string_view body);
  bool Accepting() const { return !closed_ && file_->healthy(); }

  const session::RecordingInfo info_;
  const WriterSealing sealing_;
  const Clock* clock_;
  const TimePoint start_;
  const bool record_input_;
  int64_t last_micros_ = 0;
  std::string scratch_;  // a record's header or a ready-made line; keeps its capacity
  std::unique_ptr<BufferedFile> file_;
  bool closed_ = false;
  absl::Status close_status_;
};

}  // namespace portcullis::recorder
