// ExportVideo: the timing of a variable-frame-rate export. The source
// yields only changed pictures; each is shown from its time (in ms) until
// the next one. Pictures within the same millisecond collapse into the
// last one; a static stretch longer than the keyframe interval gets
// repeated keyframes; the last picture lasts until the recording's end
// (its packet's duration), so the video lasts as long as the session did.
#include <sys/stat.h>

#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "recorder/export/canvas.h"
#include "recorder/export/exporter.h"
#include "recorder/export/output_file.h"
#include "recorder/export/video_encoder.h"

namespace portcullis::recorder {
namespace {

class VideoTimeline {
 public:
  VideoTimeline(VideoEncoder* encoder, const Canvas* canvas, int64_t key_interval_ms)
      : encoder_(encoder), canvas_(canvas), key_interval_ms_(std::max<int64_t>(1, key_interval_ms)) {}

  // Call before drawing a picture that starts at `pts_ms` onto the canvas;
  // returns the timestamp the picture gets.
  [[nodiscard]] absl::StatusOr<int64_t> Before(int64_t pts_ms) {
    pts_ms = std::max(pts_ms, last_encoded_ + 1);
    if (pending_ && pts_ms > pending_pts_) {
      if (absl::Status st = EncodeAt(pending_pts_); !st.ok()) return st;
      pending_ = false;
      if (absl::Status st = KeyframesUntil(pts_ms); !st.ok()) return st;
    }
    return pts_ms;
  }
  void Drawn(int64_t pts_ms) {
    pending_ = true;
    pending_pts_ = pts_ms;
  }
  // Encodes what is pending, with keyframes up to `end_ms`.
  [[nodiscard]] absl::Status End(int64_t end_ms) {
    if (pending_) {
      if (absl::Status st = EncodeAt(pending_pts_); !st.ok()) return st;
      pending_ = false;
    }
    if (last_encoded_ < 0) return absl::OkStatus();
    return KeyframesUntil(end_ms);
  }
  int64_t frames() const { return frames_; }
  int64_t last_pts() const { return last_encoded_; }

 private:
  // Repeats the shown picture as a keyframe wherever the stretch before
  // `pts_ms` would otherwise lack one.
  absl::Status KeyframesUntil(int64_t pts_ms) {
    while (last_key_ >= 0 && pts_ms - last_key_ > key_interval_ms_) {
      if (absl::Status st = EncodeAt(last_key_ + key_interval_ms_); !st.ok()) return st;
    }
    return absl::OkStatus();
  }
  absl::Status EncodeAt(int64_t pts_ms) {
    const bool key = last_key_ < 0 || pts_ms - last_key_ >= key_interval_ms_;
    if (absl::Status st = encoder_->Encode(canvas_->data(), canvas_->stride(), pts_ms, key); !st.ok()) {
      return st;
    }
    if (key) last_key_ = pts_ms;
    last_encoded_ = pts_ms;
    ++frames_;
    return absl::OkStatus();
  }

  VideoEncoder* encoder_;
  const Canvas* canvas_;
  int64_t key_interval_ms_;
  bool pending_ = false;
  int64_t pending_pts_ = 0;
  int64_t last_encoded_ = -1, last_key_ = -1;
  int64_t frames_ = 0;
};

bool Cancelled(const VideoExportOptions& o, double fraction) {
  if (o.cancel != nullptr && o.cancel->load(std::memory_order_relaxed)) return true;
  return o.progress && !o.progress(std::clamp(fraction, 0.0, 1.0));
}

uint64_t FileSize(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

}  // namespace

absl::StatusOr<VideoFormat> ParseVideoFormat(const std::string& name) {
  if (name == "mp4") return VideoFormat::kMp4;
  if (name == "webm") return VideoFormat::kWebm;
  return absl::InvalidArgumentError(fmt::format("unknown video format '{}' (mp4 or webm)", name));
}

absl::StatusOr<ExportResult> ExportVideo(FrameSource& source, const VideoExportOptions& options) {
  const int max_w = source.MaxWidth(), max_h = source.MaxHeight();
  if (max_w <= 0 || max_h <= 0 || max_w > Canvas::kMaxSide || max_h > Canvas::kMaxSide) {
    return absl::InvalidArgumentError(
        fmt::format("video export: the recording's screen size {}x{} cannot be exported", max_w, max_h));
  }
  const int64_t duration = std::max<int64_t>(0, source.DurationMicros());
  OutputFile out(options.output_path, options.overwrite);
  if (absl::Status st = out.Create(); !st.ok()) return st;

  Canvas canvas(max_w, max_h);
  VideoEncoder encoder;
  if (absl::Status st = encoder.Open(options.format, out.temp_path(), canvas.width(), canvas.height(),
                                     options.metadata, options.threads);
      !st.ok()) {
    return st;
  }
  VideoTimeline timeline(&encoder, &canvas, options.keyframe_interval_micros / 1000);
  if (Cancelled(options, 0)) return absl::CancelledError("export cancelled");
  bool first = true;
  for (;;) {
    VideoFrame frame;
    absl::StatusOr<bool> more = source.Next(&frame);
    if (!more.ok()) return more.status();
    if (!*more) break;
    if (frame.width < 0 || frame.height < 0 || (frame.width > 0 && frame.bgra == nullptr) ||
        frame.stride < static_cast<size_t>(frame.width) * 4) {
      return absl::InvalidArgumentError(fmt::format(
          "video export: a {}x{} picture with {} bytes per row cannot be exported", frame.width,
          frame.height, frame.stride));
    }
    // The first picture opens the video, whenever it was recorded.
    const int64_t pts = first ? 0 : std::max<int64_t>(0, frame.micros / 1000);
    first = false;
    absl::StatusOr<int64_t> at = timeline.Before(pts);
    if (!at.ok()) return at.status();
    canvas.Draw(frame);
    timeline.Drawn(*at);
    if (Cancelled(options, duration > 0 ? static_cast<double>(frame.micros) / duration : 0)) {
      return absl::CancelledError("export cancelled");
    }
  }
  if (first) return absl::InvalidArgumentError("video export: the recording has no pictures");
  const int64_t end_ms = std::max(duration / 1000, timeline.last_pts() + 1);
  if (absl::Status st = timeline.End(end_ms); !st.ok()) return st;
  if (absl::Status st = encoder.Finish(end_ms); !st.ok()) return st;
  if (Cancelled(options, 1)) return absl::CancelledError("export cancelled");
  const uint64_t bytes = FileSize(out.temp_path());
  if (absl::Status st = out.Commit(); !st.ok()) return st;
  ExportResult result;
  result.frames = timeline.frames();
  result.duration_micros = end_ms * 1000;
  result.width = canvas.width();
  result.height = canvas.height();
  result.bytes = bytes;
  return result;
}

}  // namespace portcullis::recorder
