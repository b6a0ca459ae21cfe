#pragma once
// AsciicastWriter: the TerminalRecorder that writes asciicast v2 (see
// asciicast_format.h) to a SealedStream. The session thread only stamps
// each event with its time and copies its bytes once into the stream; the
// stream's WriterPool thread escapes them into asciicast lines (the
// encoder from NewAsciicastEncoder()), hashes and writes them. Neither the
// escaping nor the disk is on the caller's path. Sealing (checkpoints, the
// manifest, the observer) is the stream's, as for every format.
//
// Output and input are separate byte streams, each with its own UTF-8
// state: a multi-byte character split across two calls is written whole in
// the event of the second call; ill-formed bytes become U+FFFD. Event times
// come from the stream's clock, in microseconds since its start, and never
// go backwards.
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
#include "recorder/asciicast_format.h"
#include "recorder/sealed_stream.h"
#include "recorder/writer_pool.h"

namespace portcullis::recorder {

// The encoder an asciicast stream's file is written with (it runs on the
// writer thread and turns AsciicastWriter's records into lines).
std::unique_ptr<ChunkEncoder> NewAsciicastEncoder();

class AsciicastWriter final : public session::TerminalRecorder {
 public:
  // Writes to `stream`, an open asciicast stream whose file has
  // NewAsciicastEncoder() as its encoder (RecordingDirectory::Open given
  // AsciicastFormat() and that encoder). Queues the header line at once.
  explicit AsciicastWriter(std::unique_ptr<SealedStream> stream);
  // The same over a file opened by the caller: takes ownership of `fd`, an
  // open, empty recording file named `path`, written through `pool` with
  // `file_options` (their encoder is the writer's own). Event times count
  // from `start`.
  AsciicastWriter(const session::RecordingInfo& info, TimePoint start, const Clock* clock,
                  std::shared_ptr<WriterPool> pool, int fd, std::string path,
                  BufferedFileOptions file_options, WriterSealing sealing = {});
  ~AsciicastWriter() override;  // Close("aborted") if the owner did not

  void Output(std::string_view bytes) override;
  void Input(std::string_view bytes) override;
  void Resize(int cols, int rows) override;
  void Marker(std::string_view label) override;
  absl::Status Health() const override { return stream_->Health(); }
  size_t Backlog() const override { return stream_->Backlog(); }
  // Flushes a held-back partial character, appends the marker
  // "end: <end_reason>", then closes the stream (written, sealed, synced,
  // manifest). Returns the first failure.
  [[nodiscard]] absl::Status Close(std::string_view end_reason) override;

  const std::string& path() const { return stream_->path(); }

 private:
  // Queues one record for the encoder (asciicast_writer.cc).
  void Queue(char kind, int64_t micros, std::string_view body);
  // Queues a ready-made line (resize, marker) stamped now.
  void QueueLine(char type, std::string_view body);
  bool Accepting() const { return !stream_->closed() && stream_->healthy(); }

  std::unique_ptr<SealedStream> stream_;
  const bool record_input_;
  std::string scratch_;  // a record's header; keeps its capacity
};

}  // namespace portcullis::recorder
