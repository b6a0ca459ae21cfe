#pragma once
// Canvas: the picture the exporters encode. A fixed BGRX buffer of the
// recording's largest size rounded up to even dimensions (video encoders
// need them); each frame is copied to its top-left corner and whatever it
// does not cover is black. Thread-compatible.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "recorder/export/frame_source.h"

namespace portcullis::recorder {

class Canvas {
 public:
  // max_width, max_height in 1..kMaxSide.
  Canvas(int max_width, int max_height);

  static constexpr int kMaxSide = 16384;

  // Copies `frame` (clipped to the canvas), clearing the rest when the
  // frame's size differs from the previous one.
  void Draw(const VideoFrame& frame);

  int width() const { return width_; }
  int height() const { return height_; }
  size_t stride() const { return stride_; }
  const uint8_t* data() const { return pixels_.data(); }

 private:
  int width_, height_;
  size_t stride_;
  int last_width_ = -1, last_height_ = -1;
  std::vector<uint8_t> pixels_;
};

}  // namespace portcullis::recorder
