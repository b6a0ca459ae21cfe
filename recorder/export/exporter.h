#pragma once
// Exporters of graphical recordings, reading a FrameSource (the recording
// reader's seam) and writing with ffmpeg's libraries:
//  - ExportVideo: MP4 (H.264, libx264) or WebM (VP9, libvpx-vp9), variable
//    frame rate (time base 1/1000 s), a keyframe at least every 2 s, frames
//    composited onto one canvas of the recording's largest size (padded to
//    even dimensions), the last picture held until DurationMicros(), the
//    recording's id and SHA-256 in the container's tags;
//  - ExportPng: the picture at a time, losslessly (RGB24 PNG).
// Output goes to a temporary file beside the destination, renamed into
// place when complete: a cancelled or failed export leaves no file.
// Each call is synchronous and uses the source from the calling thread
// only; separate calls on separate sources may run in parallel.

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "recorder/export/frame_source.h"

namespace portcullis::recorder {

enum class VideoFormat { kMp4, kWebm };

// "mp4" / "webm"; InvalidArgument otherwise.
[[nodiscard]] absl::StatusOr<VideoFormat> ParseVideoFormat(const std::string& name);

// What the exported file says about its origin (container tags
// "portcullis_recording_id", "portcullis_recording_sha256" and a "comment"
// naming both; WebM stores tag names upper-case).
struct ExportMetadata {
  std::string recording_id;
  std::string sha256;  // hex
};

// Called with the fraction of DurationMicros() exported so far (0..1);
// returning false cancels the export.
using ExportProgress = std::function<bool(double fraction)>;

struct VideoExportOptions {
  VideoFormat format = VideoFormat::kMp4;
  std::string output_path;
  bool overwrite = false;  // replace an existing output_path
  ExportMetadata metadata;
  ExportProgress progress;                  // optional
  const std::atomic<bool>* cancel = nullptr;  // optional; true cancels
  // Encoder threads; 0 lets the codec choose (one per core).
  int threads = 0;
  // The longest stretch of the video without a keyframe.
  int64_t keyframe_interval_micros = 2'000'000;
};

struct ExportResult {
  int64_t frames = 0;           // pictures handed to the encoder
  int64_t duration_micros = 0;  // of the video
  int width = 0, height = 0;    // of the video (even)
  uint64_t bytes = 0;           // of the file written
};

// Writes the whole recording to options.output_path. Errors: Cancelled
// (progress returned false or *cancel became true), InvalidArgument (a
// source with no frames or impossible sizes), AlreadyExists / NotFound /
// PermissionDenied (the output path), Internal (the encoder or muxer);
// a source's own error is passed on. No file is left behind on error.
[[nodiscard]] absl::StatusOr<ExportResult> ExportVideo(FrameSource& source,
                                                       const VideoExportOptions& options);

// A frame's pixels as a PNG file image (RGB24, lossless).
[[nodiscard]] absl::StatusOr<std::string> EncodePng(const VideoFrame& frame);

// Seeks `source` to `micros` and writes that picture to `output_path` as
// PNG (the frame's own size, exactly its pixels). OutOfRange for a time
// past DurationMicros() or before 0.
[[nodiscard]] absl::StatusOr<ExportResult> ExportPng(FrameSource& source, int64_t micros,
                                                     const std::string& output_path,
                                                     bool overwrite = false);

}  // namespace portcullis::recorder
