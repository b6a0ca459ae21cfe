#pragma once
// FrameSource: the seam between a graphical recording's reader and the
// exporters (MP4, WebM, PNG). A source yields the framebuffer as the user
// saw it, in time order; the exporters never parse a recording themselves.
//
// Thread-compatible: one thread pulls frames.

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"

namespace portcullis::recorder {

// One picture of the screen: `height` rows of `width` 32-bit pixels
// (B, G, R, unused), `stride` bytes apart. Valid until the next call on
// the source that produced it.
struct VideoFrame {
  int64_t micros = 0;  // since the start of the recording
  int width = 0, height = 0;
  const uint8_t* bgra = nullptr;
  size_t stride = 0;
};

class FrameSource {
 public:
  virtual ~FrameSource() = default;
  // The recording's length in microseconds (its last event).
  virtual int64_t DurationMicros() const = 0;
  // The largest framebuffer size the recording has (exports composite
  // smaller frames onto a canvas of this size).
  virtual int MaxWidth() const = 0;
  virtual int MaxHeight() const = 0;
  // The next changed picture: true and `*frame` set, or false at the end.
  // Consecutive frames differ (a static screen yields few frames).
  [[nodiscard]] virtual absl::StatusOr<bool> Next(VideoFrame* frame) = 0;
  // The picture as it was at `micros` (the last change at or before it),
  // decoded from the nearest keyframe before it; subsequent Next() calls
  // continue after that time.
  [[nodiscard]] virtual absl::StatusOr<VideoFrame> SeekTo(int64_t micros) = 0;
};

}  // namespace portcullis::recorder
