// PNG at a time: the frame's own pixels, BGRX to RGB24, losslessly.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "recorder/export/av_handles.h"
#include "recorder/export/canvas.h"
#include "recorder/export/exporter.h"
#include "recorder/export/output_file.h"
#include "recorder/file_io.h"

namespace portcullis::recorder {
namespace {

absl::Status AvError(std::string_view what, int err) {
  return absl::InternalError(fmt::format("PNG export: {}: {}", what, av::ErrorText(err)));
}

}  // namespace

absl::StatusOr<std::string> EncodePng(const VideoFrame& frame) {
  if (frame.width <= 0 || frame.height <= 0 || frame.width > Canvas::kMaxSide ||
      frame.height > Canvas::kMaxSide || frame.bgra == nullptr ||
      frame.stride < static_cast<size_t>(frame.width) * 4) {
    return absl::InvalidArgumentError(
        fmt::format("PNG export: a {}x{} picture cannot be exported", frame.width, frame.height));
  }
  av::QuietLogs();
  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_PNG);
  if (codec == nullptr) return absl::UnimplementedError("PNG export: no PNG encoder in libavcodec");
  av::CodecContextPtr enc(avcodec_alloc_context3(codec));
  av::FramePtr rgb(av_frame_alloc());
  av::PacketPtr pkt(av_packet_alloc());
  if (!enc || !rgb || !pkt) return absl::ResourceExhaustedError("PNG export: out of memory");
  enc->width = frame.width;
  enc->height = frame.height;
  enc->pix_fmt = AV_PIX_FMT_RGB24;
  enc->time_base = AVRational{1, 1};
  int err = avcodec_open2(enc.get(), codec, nullptr);
  if (err < 0) return AvError("cannot open the encoder", err);
  rgb->format = AV_PIX_FMT_RGB24;
  rgb->width = frame.width;
  rgb->height = frame.height;
  if ((err = av_frame_get_buffer(rgb.get(), 0)) < 0) return AvError("frame buffer", err);
  for (int y = 0; y < frame.height; ++y) {
    const uint8_t* s = frame.bgra + static_cast<size_t>(y) * frame.stride;
    uint8_t* d = rgb->data[0] + static_cast<ptrdiff_t>(y) * rgb->linesize[0];
    for (int x = 0; x < frame.width; ++x, s += 4, d += 3) {
      d[0] = s[2];
      d[1] = s[1];
      d[2] = s[0];
    }
  }
  rgb->pts = 0;
  if ((err = avcodec_send_frame(enc.get(), rgb.get())) < 0) return AvError("encoding", err);
  if ((err = avcodec_send_frame(enc.get(), nullptr)) < 0) return AvError("encoding", err);
  std::string png;
  for (;;) {
    err = avcodec_receive_packet(enc.get(), pkt.get());
    if (err == AVERROR_EOF) break;
    if (err < 0) return AvError("encoding", err);
    png.append(reinterpret_cast<const char*>(pkt->data), static_cast<size_t>(pkt->size));
    av_packet_unref(pkt.get());
  }
  if (png.empty()) return absl::InternalError("PNG export: the encoder produced nothing");
  return png;
}

absl::StatusOr<ExportResult> ExportPng(FrameSource& source, int64_t micros,
                                       const std::string& output_path, bool overwrite) {
  if (micros < 0 || micros > source.DurationMicros()) {
    return absl::OutOfRangeError(fmt::format("PNG export: {} µs is outside the recording (0 to {} µs)",
                                             micros, source.DurationMicros()));
  }
  OutputFile out(output_path, overwrite);
  if (absl::Status st = out.Create(); !st.ok()) return st;
  absl::StatusOr<VideoFrame> frame = source.SeekTo(micros);
  if (!frame.ok()) return frame.status();
  absl::StatusOr<std::string> png = EncodePng(*frame);
  if (!png.ok()) return png.status();
  int fd = ::open(out.temp_path().c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) {
    return absl::UnavailableError(fmt::format("cannot open {}: {}", out.temp_path(), std::strerror(errno)));
  }
  absl::Status st = WriteAll(fd, *png, out.temp_path());
  ::close(fd);
  if (!st.ok()) return st;
  if (st = out.Commit(); !st.ok()) return st;
  ExportResult result;
  result.frames = 1;
  result.duration_micros = 0;
  result.width = frame->width;
  result.height = frame->height;
  result.bytes = png->size();
  return result;
}

}  // namespace portcullis::recorder
