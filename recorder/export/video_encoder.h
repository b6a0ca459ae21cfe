#pragma once
// VideoEncoder: one video stream (H.264 in MP4 or VP9 in WebM) written by
// libavformat to a file, fed BGRX pictures with millisecond timestamps.
// Converts to yuv420p (BT.709, limited range) with swscale. Used by
// ExportVideo; not thread-safe.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "recorder/export/av_handles.h"
#include "recorder/export/exporter.h"

namespace portcullis::recorder {

class VideoEncoder {
 public:
  VideoEncoder() = default;
  ~VideoEncoder() = default;
  VideoEncoder(const VideoEncoder&) = delete;
  VideoEncoder& operator=(const VideoEncoder&) = delete;

  // Opens the encoder and the muxer on `path` (an existing file, truncated)
  // for even `width` x `height`, and writes the header with `metadata`.
  [[nodiscard]] absl::Status Open(VideoFormat format, const std::string& path, int width,
                                  int height, const ExportMetadata& metadata, int threads);
  // Encodes a picture shown from `pts_ms` on (strictly increasing).
  // `keyframe` forces an IDR / VP9 keyframe.
  [[nodiscard]] absl::Status Encode(const uint8_t* bgrx, size_t stride, int64_t pts_ms,
                                    bool keyframe);
  // Drains the encoder and writes the trailer; the last picture lasts
  // until `end_ms` (after its timestamp).
  [[nodiscard]] absl::Status Finish(int64_t end_ms);

 private:
  [[nodiscard]] absl::Status Send(const AVFrame* frame);
  // Writes the held packet, lasting until `next_pts` (stream time base).
  [[nodiscard]] absl::Status WriteHeld(int64_t next_pts);

  av::OutputFormatPtr fmt_;
  av::CodecContextPtr enc_;
  av::FramePtr yuv_;
  av::PacketPtr pkt_;
  // Each packet is written once the next one gives its duration (no
  // B-frames: packets come in presentation order).
  av::PacketPtr held_;
  bool holding_ = false;
  av::SwsPtr sws_;
  AVStream* stream_ = nullptr;  // owned by fmt_
  int width_ = 0, height_ = 0;
};

}  // namespace portcullis::recorder
