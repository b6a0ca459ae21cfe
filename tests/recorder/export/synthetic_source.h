#pragma once
// SyntheticSource: a FrameSource that draws an HMI-like screen with no
// recording behind it, for the exporters' tests and bench. A textured,
// static background with panels; a "clock" (200x50 of seven-segment
// digits) that changes every second; optionally a rectangle that moves at
// every step; optionally a resize to a smaller screen. Picture(t) is what
// the screen showed at t, so tests can compare an export with its source.
// Test-only code; thread-compatible.

#include <cstdint>
#include <vector>

#include "recorder/export/frame_source.h"

namespace portcullis::testing {

struct SyntheticOptions {
  int width = 1280, height = 1024;
  int64_t duration_micros = 15'000'000;
  int64_t step_micros = 200'000;    // a picture at every multiple of this
  bool moving_rectangle = true;     // else only the clock changes
  int64_t resize_at_micros = -1;    // from then on the screen is resized_*
  int resized_width = 1024, resized_height = 768;
  int64_t fail_at_micros = -1;      // Next() returns an error there
};

class SyntheticSource final : public recorder::FrameSource {
 public:
  explicit SyntheticSource(SyntheticOptions options);

  int64_t DurationMicros() const override { return o_.duration_micros; }
  int MaxWidth() const override { return o_.width; }
  int MaxHeight() const override { return o_.height; }
  absl::StatusOr<bool> Next(recorder::VideoFrame* frame) override;
  absl::StatusOr<recorder::VideoFrame> SeekTo(int64_t micros) override;

  // The time of the last change at or before `micros`.
  int64_t ChangeAtOrBefore(int64_t micros) const;
  // Renders the screen as it was at `micros` into `*pixels` (BGRX, stride
  // width * 4) and returns the frame describing it.
  recorder::VideoFrame Picture(int64_t micros, std::vector<uint8_t>* pixels) const;

 private:
  // Whether the picture at step `i` differs from the one at step i - 1.
  bool Changes(int64_t i) const;

  SyntheticOptions o_;
  std::vector<uint8_t> background_;
  std::vector<uint8_t> pixels_;
  int64_t next_step_ = 0;
};

}  // namespace portcullis::testing
