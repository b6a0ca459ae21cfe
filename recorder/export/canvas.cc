#include "recorder/export/canvas.h"

#include <algorithm>
#include <cstring>

namespace portcullis::recorder {

Canvas::Canvas(int max_width, int max_height)
    : width_((max_width + 1) & ~1),
      height_((max_height + 1) & ~1),
      stride_(static_cast<size_t>(width_) * 4),
      pixels_(stride_ * static_cast<size_t>(height_), 0) {}

void Canvas::Draw(const VideoFrame& frame) {
  const int w = std::clamp(frame.width, 0, width_);
  const int h = std::clamp(frame.height, 0, height_);
  if (frame.width != last_width_ || frame.height != last_height_) {
    std::fill(pixels_.begin(), pixels_.end(), 0);
    last_width_ = frame.width;
    last_height_ = frame.height;
  }
  if (frame.bgra == nullptr || w == 0) return;
  const size_t row = static_cast<size_t>(w) * 4;
  for (int y = 0; y < h; ++y) {
    std::memcpy(pixels_.data() + static_cast<size_t>(y) * stride_,
                frame.bgra + static_cast<size_t>(y) * frame.stride, row);
  }
}

}  // namespace portcullis::recorder
