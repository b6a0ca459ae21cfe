#include "tests/recorder/export/decode_util.h"

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "recorder/export/av_handles.h"

namespace portcullis::testing {
namespace av = recorder::av;
namespace {

struct InputDeleter {
  void operator()(AVFormatContext* f) const { avformat_close_input(&f); }
};

absl::Status AvError(std::string_view what, int err) {
  return absl::InternalError(fmt::format("{}: {}", what, av::ErrorText(err)));
}

absl::StatusOr<RgbPicture> ToRgb(const AVFrame* f, AVColorSpace space) {
  RgbPicture out;
  out.width = f->width;
  out.height = f->height;
  out.rgb.resize(static_cast<size_t>(f->width) * f->height * 3);
  if (f->format == AV_PIX_FMT_RGB24) {
    for (int y = 0; y < f->height; ++y) {
      std::copy_n(f->data[0] + static_cast<ptrdiff_t>(y) * f->linesize[0], f->width * 3,
                  out.rgb.data() + static_cast<size_t>(y) * f->width * 3);
    }
    return out;
  }
  av::SwsPtr sws(sws_getContext(f->width, f->height, static_cast<AVPixelFormat>(f->format), f->width,
                                f->height, AV_PIX_FMT_RGB24, SWS_BILINEAR, nullptr, nullptr, nullptr));
  if (!sws) return absl::InternalError("no conversion to RGB24");
  // The exporters write BT.709; other spaces are not expected here.
  const int cs = space == AVCOL_SPC_SMPTE170M ? SWS_CS_DEFAULT : SWS_CS_ITU709;
  sws_setColorspaceDetails(sws.get(), sws_getCoefficients(cs), 0, sws_getCoefficients(cs), 1, 0,
                           1 << 16, 1 << 16);
  uint8_t* dst[1] = {out.rgb.data()};
  const int dst_stride[1] = {f->width * 3};
  sws_scale(sws.get(), f->data, f->linesize, 0, f->height, dst, dst_stride);
  return out;
}

}  // namespace

absl::StatusOr<std::vector<RgbPicture>> DecodeVideo(const std::string& path) {
  AVFormatContext* raw = nullptr;
  int err = avformat_open_input(&raw, path.c_str(), nullptr, nullptr);
  if (err < 0) return AvError("open " + path, err);
  std::unique_ptr<AVFormatContext, InputDeleter> in(raw);
  if ((err = avformat_find_stream_info(in.get(), nullptr)) < 0) return AvError("stream info", err);
  const AVCodec* codec = nullptr;
  const int index = av_find_best_stream(in.get(), AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
  if (index < 0 || codec == nullptr) return absl::NotFoundError("no video stream");
  AVStream* st = in->streams[index];
  av::CodecContextPtr dec(avcodec_alloc_context3(codec));
  if ((err = avcodec_parameters_to_context(dec.get(), st->codecpar)) < 0) return AvError("params", err);
  if ((err = avcodec_open2(dec.get(), codec, nullptr)) < 0) return AvError("open decoder", err);
  av::PacketPtr pkt(av_packet_alloc());
  av::FramePtr frame(av_frame_alloc());
  std::vector<RgbPicture> out;
  auto drain = [&]() -> absl::Status {
    for (;;) {
      int e = avcodec_receive_frame(dec.get(), frame.get());
      if (e == AVERROR(EAGAIN) || e == AVERROR_EOF) return absl::OkStatus();
      if (e < 0) return AvError("decode", e);
      absl::StatusOr<RgbPicture> pic = ToRgb(frame.get(), dec->colorspace);
      if (!pic.ok()) return pic.status();
      const int64_t pts = frame->best_effort_timestamp;
      pic->pts_ms = av_rescale_q(pts, st->time_base, AVRational{1, 1000});
      out.push_back(std::move(*pic));
      av_frame_unref(frame.get());
    }
  };
  while (av_read_frame(in.get(), pkt.get()) >= 0) {
    if (pkt->stream_index == index) {
      err = avcodec_send_packet(dec.get(), pkt.get());
      av_packet_unref(pkt.get());
      if (err < 0) return AvError("decode", err);
      if (absl::Status s = drain(); !s.ok()) return s;
    } else {
      av_packet_unref(pkt.get());
    }
  }
  avcodec_send_packet(dec.get(), nullptr);
  if (absl::Status s = drain(); !s.ok()) return s;
  return out;
}

absl::StatusOr<RgbPicture> DecodePng(const std::string& png) {
  const AVCodec* codec = avcodec_find_decoder(AV_CODEC_ID_PNG);
  if (codec == nullptr) return absl::NotFoundError("no PNG decoder");
  av::CodecContextPtr dec(avcodec_alloc_context3(codec));
  int err = avcodec_open2(dec.get(), codec, nullptr);
  if (err < 0) return AvError("open decoder", err);
  av::PacketPtr pkt(av_packet_alloc());
  if ((err = av_new_packet(pkt.get(), static_cast<int>(png.size()))) < 0) return AvError("packet", err);
  std::copy(png.begin(), png.end(), pkt->data);
  if ((err = avcodec_send_packet(dec.get(), pkt.get())) < 0) return AvError("decode", err);
  av::FramePtr frame(av_frame_alloc());
  if ((err = avcodec_receive_frame(dec.get(), frame.get())) < 0) return AvError("decode", err);
  if (frame->format != AV_PIX_FMT_RGB24) {
    return absl::InternalError(fmt::format("PNG decoded as pixel format {}", frame->format));
  }
  return ToRgb(frame.get(), AVCOL_SPC_UNSPECIFIED);
}

double Psnr(const RgbPicture& got, const uint8_t* bgrx, size_t stride, int w, int h, int x0,
            int y0) {
  double sum = 0;
  for (int y = y0; y < y0 + h; ++y) {
    const uint8_t* s = bgrx + static_cast<size_t>(y) * stride + static_cast<size_t>(x0) * 4;
    const uint8_t* g = got.rgb.data() + (static_cast<size_t>(y) * got.width + x0) * 3;
    for (int x = 0; x < w; ++x, s += 4, g += 3) {
      for (int c = 0; c < 3; ++c) {
        const double d = static_cast<double>(g[c]) - s[2 - c];
        sum += d * d;
      }
    }
  }
  const double mse = sum / (static_cast<double>(w) * h * 3);
  if (mse == 0) return std::numeric_limits<double>::infinity();
  return 10 * std::log10(255.0 * 255.0 / mse);
}

}  // namespace portcullis::testing
