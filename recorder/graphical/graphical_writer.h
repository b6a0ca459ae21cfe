#pragma once
// GraphicalWriter: the GraphicalRecorder that writes graphical recordings
// (graphical_format.h) to a SealedStream.
//
// The session thread does little per call: Frame() copies the rectangle
// into a shadow framebuffer (the unused fourth byte zeroed) and marks its
// rows dirty. At most every `flush_interval` (at the first call after it
// has passed, and at Close) the dirty row bands are handed to the stream,
// one copy each, stamped with the time of the last Frame() they contain.
// The stream's writer thread (the encoder from NewGraphicalEncoder()) keeps
// its own copy of the picture, finds the changed rectangles, XORs them
// against what it had, compresses them with zstd and writes a DELTA, or a
// KEYFRAME when one is due: after a resize, once the deltas since the last
// keyframe reach max(keyframe_min_bytes, that keyframe's size), and at the
// first change after keyframe_interval. An unchanged screen costs nothing.
//
// Backpressure: while the stream's backlog leaves no room for a flush, the
// flush waits (further frames merge into the shadow) for up to
// `max_defer`; then it is handed over anyway, and a full buffer fails the
// recording (Health() non-OK, the session must end). Keys, pointer events
// (when they change), cursor shapes, clipboard hashes and markers are
// recorded always, as they happen.
//
// Thread-compatible: one session thread calls it. The clock, signer and
// observer must outlive the writer.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "broker/session/recorder.h"
#include "recorder/sealed_stream.h"
#include "recorder/writer_pool.h"

namespace portcullis::recorder {

struct GraphicalEncoderOptions {
  std::chrono::microseconds keyframe_interval = std::chrono::minutes(5);
  size_t keyframe_min_bytes = 256u << 10;
  int zstd_level = 3;
};

struct GraphicalWriterOptions {
  std::chrono::microseconds flush_interval = std::chrono::milliseconds(33);
  std::chrono::microseconds max_defer = std::chrono::seconds(10);
  // The stream's buffer cap (BufferedFileOptions::buffer_cap): flushes wait
  // while they would not fit.
  size_t buffer_cap = kGraphicalBufferCap;
  static constexpr size_t kGraphicalBufferCap = size_t{64} << 20;
};

// The encoder a graphical stream's file is written with.
std::unique_ptr<ChunkEncoder> NewGraphicalEncoder(GraphicalEncoderOptions options = {});

class GraphicalWriter final : public session::GraphicalRecorder {
 public:
  // Writes to `stream`, an open stream in GraphicalFormat() whose file has
  // NewGraphicalEncoder() as its encoder and `options.buffer_cap` as its
  // buffer cap. Queues the header line at once.
  GraphicalWriter(std::unique_ptr<SealedStream> stream, GraphicalWriterOptions options = {});
  ~GraphicalWriter() override;  // Close("aborted") if the owner did not

  void Resize(int width, int height) override;
  void Frame(int x, int y, int w, int h, const uint8_t* pixels, size_t stride) override;
  void Key(uint32_t keysym, bool down) override;
  void Pointer(int x, int y, uint32_t button_mask) override;
  void Cursor(int hot_x, int hot_y, int w, int h, const uint8_t* bgra) override;
  void Clipboard(std::string_view text, bool to_target) override;
  void Marker(std::string_view label) override;
  std::chrono::milliseconds Tick() override;
  absl::Status Health() const override;
  size_t Backlog() const override { return stream_->Backlog(); }
  // Flushes what is dirty (waiting up to max_defer for room), appends the
  // marker "end: <end_reason>", then closes the stream. Idempotent.
  [[nodiscard]] absl::Status Close(std::string_view end_reason) override;

  const std::string& path() const { return stream_->path(); }

 private:
  static constexpr int kBandRows = 32;

  bool Accepting() const { return failure_.ok() && !stream_->closed() && stream_->healthy(); }
  // Flushes if something is dirty and the interval since the first dirty
  // frame has passed.
  void MaybeFlush(int64_t now);
  // Hands the dirty bands over; with `force`, even if they do not fit.
  // Returns false if it deferred.
  bool Flush(int64_t now, bool force);
  void QueueRecord(std::string_view record, int64_t micros);

  std::unique_ptr<SealedStream> stream_;
  const GraphicalWriterOptions options_;
  absl::Status failure_;
  int width_ = 0, height_ = 0;
  std::vector<uint8_t> shadow_;       // width_ x height_ BGRX
  std::vector<uint8_t> band_dirty_;   // per kBandRows rows
  bool dirty_ = false;
  int64_t first_dirty_ = 0, last_dirty_ = 0;
  int64_t deferred_since_ = -1;
  bool have_pointer_ = false;
  int pointer_x_ = 0, pointer_y_ = 0;
  uint32_t pointer_mask_ = 0;
  std::string scratch_;
};

}  // namespace portcullis::recorder
