#include "tests/recorder/export/synthetic_source.h"

#include <algorithm>
#include <cstring>

#include "absl/status/status.h"

namespace portcullis::testing {
namespace {

constexpr int kClockX = 40, kClockY = 20, kDigitW = 40, kDigitH = 50, kDigits = 5;
constexpr int kRectW = 120, kRectH = 80;

void Fill(std::vector<uint8_t>* px, int stride_px, int x0, int y0, int w, int h, int max_w,
          int max_h, uint8_t b, uint8_t g, uint8_t r) {
  const int x1 = std::min(x0 + w, max_w), y1 = std::min(y0 + h, max_h);
  for (int y = std::max(0, y0); y < y1; ++y) {
    uint8_t* p = px->data() + (static_cast<size_t>(y) * stride_px + std::max(0, x0)) * 4;
    for (int x = std::max(0, x0); x < x1; ++x, p += 4) {
      p[0] = b;
      p[1] = g;
      p[2] = r;
      p[3] = 0;
    }
  }
}

// Segments a..g of each decimal digit.
constexpr uint8_t kSegments[10] = {0x3f, 0x06, 0x5b, 0x4f, 0x66, 0x6d, 0x7d, 0x07, 0x7f, 0x6f};

void DrawDigit(std::vector<uint8_t>* px, int stride_px, int x, int y, int d, int max_w, int max_h) {
  Fill(px, stride_px, x, y, kDigitW, kDigitH, max_w, max_h, 20, 20, 20);
  const uint8_t s = kSegments[d];
  const int t = 5, w = kDigitW - 10, h = (kDigitH - 15) / 2;
  auto seg = [&](int bit, int sx, int sy, int sw, int sh) {
    if (s & (1 << bit)) Fill(px, stride_px, x + sx, y + sy, sw, sh, max_w, max_h, 40, 230, 60);
  };
  seg(0, 5, 2, w, t);
  seg(1, 5 + w - t, 2, t, h + t);
  seg(2, 5 + w - t, 2 + h + t, t, h + t);
  seg(3, 5, 2 + 2 * h + t, w, t);
  seg(4, 5, 2 + h + t, t, h + t);
  seg(5, 5, 2, t, h + t);
  seg(6, 5, 2 + h, w, t);
}

}  // namespace

SyntheticSource::SyntheticSource(SyntheticOptions options)
    : o_(options), background_(static_cast<size_t>(o_.width) * o_.height * 4) {
  // An HMI: a flat grey desktop with a gentle gradient, coloured panels
  // (tanks, gauges) and labels: text-like rows of dark dots in a fifth of
  // the screen.
  uint32_t seed = 12345;
  for (int y = 0; y < o_.height; ++y) {
    for (int x = 0; x < o_.width; ++x) {
      uint8_t* p = background_.data() + (static_cast<size_t>(y) * o_.width + x) * 4;
      uint8_t v = static_cast<uint8_t>(170 + (y * 32) / std::max(1, o_.height));
      const bool label = y >= 100 && y % 24 < 9 && x % 320 >= 20 && x % 320 < 180 && (y / 24) % 4 == 0;
      if (label) {
        seed = seed * 1103515245u + 12345u;
        if ((seed >> 16) % 3 == 0) v = 30;
      }
      p[0] = v;
      p[1] = v;
      p[2] = static_cast<uint8_t>(v - 10 + (x * 20) / std::max(1, o_.width));
      p[3] = 0;
    }
  }
  for (int i = 0; i < 6; ++i) {
    Fill(&background_, o_.width, 60 + i * 200, 300 + (i % 2) * 250, 160, 200, o_.width, o_.height,
         static_cast<uint8_t>(40 * i), 120, static_cast<uint8_t>(200 - 30 * i));
  }
  pixels_.resize(background_.size());
}

bool SyntheticSource::Changes(int64_t i) const {
  if (i == 0) return true;
  const int64_t t = i * o_.step_micros, prev = t - o_.step_micros;
  if (o_.moving_rectangle) return true;
  if (t / 1'000'000 != prev / 1'000'000) return true;  // the clock ticks
  return o_.resize_at_micros >= 0 && prev < o_.resize_at_micros && t >= o_.resize_at_micros;
}

int64_t SyntheticSource::ChangeAtOrBefore(int64_t micros) const {
  int64_t i = std::min(micros / o_.step_micros, (o_.duration_micros - 1) / o_.step_micros);
  while (i > 0 && !Changes(i)) --i;
  return i * o_.step_micros;
}

recorder::VideoFrame SyntheticSource::Picture(int64_t micros, std::vector<uint8_t>* pixels) const {
  const int64_t i = micros / o_.step_micros;  // the step in force
  const bool resized = o_.resize_at_micros >= 0 && i * o_.step_micros >= o_.resize_at_micros;
  const int w = resized ? o_.resized_width : o_.width;
  const int h = resized ? o_.resized_height : o_.height;
  pixels->resize(static_cast<size_t>(w) * h * 4);
  for (int y = 0; y < h; ++y) {
    std::memcpy(pixels->data() + static_cast<size_t>(y) * w * 4,
                background_.data() + static_cast<size_t>(y) * o_.width * 4, static_cast<size_t>(w) * 4);
  }
  const int64_t seconds = (i * o_.step_micros) / 1'000'000;
  int64_t v = seconds;
  for (int d = kDigits - 1; d >= 0; --d, v /= 10) {
    DrawDigit(pixels, w, kClockX + d * kDigitW, kClockY, static_cast<int>(v % 10), w, h);
  }
  if (o_.moving_rectangle) {
    const int span_x = std::max(1, w - kRectW), span_y = std::max(1, h - 200 - kRectH);
    const int64_t rx = (i * 8) % (2 * span_x), ry = (i * 5) % (2 * span_y);
    const int x = static_cast<int>(rx < span_x ? rx : 2 * span_x - rx);
    const int y = 150 + static_cast<int>(ry < span_y ? ry : 2 * span_y - ry);
    Fill(pixels, w, x, y, kRectW, kRectH, w, h, 30, 60, 220);
    Fill(pixels, w, x + 10, y + 10, kRectW - 20, kRectH - 20, w, h, 250, 250, 250);
  }
  recorder::VideoFrame f;
  f.micros = i * o_.step_micros;
  f.width = w;
  f.height = h;
  f.bgra = pixels->data();
  f.stride = static_cast<size_t>(w) * 4;
  return f;
}

absl::StatusOr<bool> SyntheticSource::Next(recorder::VideoFrame* frame) {
  for (;;) {
    const int64_t t = next_step_ * o_.step_micros;
    if (t >= o_.duration_micros) return false;
    if (o_.fail_at_micros >= 0 && t >= o_.fail_at_micros) {
      return absl::DataLossError("synthetic source: a corrupt record");
    }
    const int64_t i = next_step_++;
    if (!Changes(i)) continue;
    *frame = Picture(t, &pixels_);
    return true;
  }
}

absl::StatusOr<recorder::VideoFrame> SyntheticSource::SeekTo(int64_t micros) {
  if (micros < 0) return absl::OutOfRangeError("before the recording");
  const int64_t at = ChangeAtOrBefore(micros);
  next_step_ = at / o_.step_micros + 1;
  return Picture(at, &pixels_);
}

}  // namespace portcullis::testing
