#include "recorder/export/video_encoder.h"

#include <algorithm>

#include <fmt/format.h>

extern "C" {
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
}

namespace portcullis::recorder {
namespace {

absl::Status AvError(std::string_view what, int err) {
  return absl::InternalError(fmt::format("video export: {}: {}", what, av::ErrorText(err)));
}

// Private options of the encoder; the names are libavcodec's.
void SetCodecOptions(VideoFormat format, AVCodecContext* enc) {
  void* priv = enc->priv_data;
  if (format == VideoFormat::kMp4) {
    av_opt_set(priv, "preset", "veryfast", 0);
    av_opt_set(priv, "tune", "stillimage", 0);
    av_opt_set(priv, "crf", "20", 0);
    av_opt_set(priv, "forced-idr", "1", 0);
  } else {
    // Realtime mode at its fastest speed: screens are mostly static, and
    // the quality stays bounded by the constant-quality target.
    av_opt_set(priv, "deadline", "realtime", 0);
    av_opt_set(priv, "cpu-used", "8", 0);
    av_opt_set(priv, "row-mt", "1", 0);
    av_opt_set(priv, "crf", "32", 0);
    av_opt_set(priv, "lag-in-frames", "0", 0);
  }
}

}  // namespace

absl::Status VideoEncoder::Open(VideoFormat format, const std::string& path, int width,
                                int height, const ExportMetadata& metadata, int threads) {
  if (width <= 0 || height <= 0 || width % 2 != 0 || height % 2 != 0) {
    return absl::InvalidArgumentError(fmt::format("video export: bad size {}x{}", width, height));
  }
  av::QuietLogs();
  width_ = width;
  height_ = height;
  const bool mp4 = format == VideoFormat::kMp4;
  const char* codec_name = mp4 ? "libx264" : "libvpx-vp9";
  const AVCodec* codec = avcodec_find_encoder_by_name(codec_name);
  if (codec == nullptr) {
    return absl::UnimplementedError(fmt::format("video export: no {} encoder in libavcodec", codec_name));
  }
  // "file:" keeps a ':' in the path from naming a protocol.
  const std::string url = "file:" + path;
  AVFormatContext* raw_fmt = nullptr;
  int err = avformat_alloc_output_context2(&raw_fmt, nullptr, mp4 ? "mp4" : "webm", url.c_str());
  if (err < 0 || raw_fmt == nullptr) return AvError("cannot set up the muxer", err);
  // Owned before the file is open: the deleter closes pb only once set.
  fmt_.reset(raw_fmt);

  enc_.reset(avcodec_alloc_context3(codec));
  if (!enc_) return absl::ResourceExhaustedError("video export: out of memory");
  enc_->width = width;
  enc_->height = height;
  enc_->pix_fmt = AV_PIX_FMT_YUV420P;
  enc_->time_base = AVRational{1, 1000};
  // A hint for rate control only: timestamps carry the variable rate.
  enc_->framerate = AVRational{30, 1};
  enc_->gop_size = 60;
  enc_->max_b_frames = 0;
  enc_->thread_count = threads;
  enc_->color_primaries = AVCOL_PRI_BT709;
  enc_->color_trc = AVCOL_TRC_BT709;
  enc_->colorspace = AVCOL_SPC_BT709;
  enc_->color_range = AVCOL_RANGE_MPEG;
  if (!mp4) enc_->bit_rate = 0;  // with crf: constant quality
  if (fmt_->oformat->flags & AVFMT_GLOBALHEADER) enc_->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  SetCodecOptions(format, enc_.get());
  if ((err = avcodec_open2(enc_.get(), codec, nullptr)) < 0) {
    return AvError(fmt::format("cannot open {}", codec_name), err);
  }

  stream_ = avformat_new_stream(fmt_.get(), nullptr);
  if (stream_ == nullptr) return absl::ResourceExhaustedError("video export: out of memory");
  stream_->time_base = enc_->time_base;
  if ((err = avcodec_parameters_from_context(stream_->codecpar, enc_.get())) < 0) {
    return AvError("codec parameters", err);
  }
  av_dict_set(&fmt_->metadata, "portcullis_recording_id", metadata.recording_id.c_str(), 0);
  av_dict_set(&fmt_->metadata, "portcullis_recording_sha256", metadata.sha256.c_str(), 0);
  const std::string comment =
      fmt::format("Portcullis recording {} sha256 {}", metadata.recording_id, metadata.sha256);
  av_dict_set(&fmt_->metadata, "comment", comment.c_str(), 0);

  if ((err = avio_open(&fmt_->pb, url.c_str(), AVIO_FLAG_WRITE)) < 0) {
    return absl::UnavailableError(fmt::format("video export: cannot open {}: {}", path, av::ErrorText(err)));
  }
  av::Dictionary opts;
  if (mp4) opts.Set("movflags", "+faststart+use_metadata_tags");
  if ((err = avformat_write_header(fmt_.get(), opts.get())) < 0) return AvError("cannot write the header", err);

  yuv_.reset(av_frame_alloc());
  pkt_.reset(av_packet_alloc());
  held_.reset(av_packet_alloc());
  if (!yuv_ || !pkt_ || !held_) return absl::ResourceExhaustedError("video export: out of memory");
  yuv_->format = AV_PIX_FMT_YUV420P;
  yuv_->width = width;
  yuv_->height = height;
  yuv_->color_primaries = AVCOL_PRI_BT709;
  yuv_->color_trc = AVCOL_TRC_BT709;
  yuv_->colorspace = AVCOL_SPC_BT709;
  yuv_->color_range = AVCOL_RANGE_MPEG;
  if ((err = av_frame_get_buffer(yuv_.get(), 0)) < 0) return AvError("frame buffer", err);

  sws_.reset(sws_getContext(width, height, AV_PIX_FMT_BGR0, width, height, AV_PIX_FMT_YUV420P,
                            SWS_BILINEAR, nullptr, nullptr, nullptr));
  if (!sws_) return absl::InternalError("video export: no BGRX to yuv420p conversion");
  // Full-range RGB in, BT.709 limited-range YUV out.
  sws_setColorspaceDetails(sws_.get(), sws_getCoefficients(SWS_CS_ITU709), 1,
                           sws_getCoefficients(SWS_CS_ITU709), 0, 0, 1 << 16, 1 << 16);
  return absl::OkStatus();
}

absl::Status VideoEncoder::Encode(const uint8_t* bgrx, size_t stride, int64_t pts_ms, bool keyframe) {
  int err = av_frame_make_writable(yuv_.get());
  if (err < 0) return AvError("frame buffer", err);
  const uint8_t* src[1] = {bgrx};
  const int src_stride[1] = {static_cast<int>(stride)};
  sws_scale(sws_.get(), src, src_stride, 0, height_, yuv_->data, yuv_->linesize);
  yuv_->pts = pts_ms;
  yuv_->pict_type = keyframe ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
  yuv_->key_frame = keyframe ? 1 : 0;
  return Send(yuv_.get());
}

absl::Status VideoEncoder::Send(const AVFrame* frame) {
  int err = avcodec_send_frame(enc_.get(), frame);
  if (err < 0) return AvError("encoding", err);
  for (;;) {
    err = avcodec_receive_packet(enc_.get(), pkt_.get());
    if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return absl::OkStatus();
    if (err < 0) return AvError("encoding", err);
    av_packet_rescale_ts(pkt_.get(), enc_->time_base, stream_->time_base);
    pkt_->stream_index = stream_->index;
    if (holding_) {
      if (absl::Status st = WriteHeld(pkt_->pts); !st.ok()) return st;
    }
    av_packet_move_ref(held_.get(), pkt_.get());
    holding_ = true;
  }
}

absl::Status VideoEncoder::WriteHeld(int64_t next_pts) {
  held_->duration = std::max<int64_t>(1, next_pts - held_->pts);
  holding_ = false;
  const int err = av_interleaved_write_frame(fmt_.get(), held_.get());  // unrefs held_
  if (err < 0) {
    return absl::UnavailableError(fmt::format("video export: cannot write: {}", av::ErrorText(err)));
  }
  return absl::OkStatus();
}

absl::Status VideoEncoder::Finish(int64_t end_ms) {
  if (absl::Status st = Send(nullptr); !st.ok()) return st;
  if (holding_) {
    const int64_t end = av_rescale_q(end_ms, AVRational{1, 1000}, stream_->time_base);
    if (absl::Status st = WriteHeld(end); !st.ok()) return st;
  }
  int err = av_write_trailer(fmt_.get());
  if (err < 0) return absl::UnavailableError(fmt::format("video export: cannot finish the file: {}", av::ErrorText(err)));
  if ((err = avio_closep(&fmt_->pb)) < 0) {
    return absl::UnavailableError(fmt::format("video export: cannot close the file: {}", av::ErrorText(err)));
  }
  return absl::OkStatus();
}

}  // namespace portcullis::recorder
