#pragma once
// RAII owners for the libav* handles the exporters use (ffmpeg 5.1:
// libavcodec 59, libavformat 59, libavutil 57, libswscale 6). Each
// deleter accepts null. Not thread-safe (libav* contexts are not).

#include <memory>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/dict.h>
#include <libavutil/frame.h>
#include <libavutil/log.h>
#include <libswscale/swscale.h>
}

#include <string>

namespace portcullis::recorder::av {

struct CodecContextDeleter {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct FrameDeleter {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct PacketDeleter {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct SwsDeleter {
  void operator()(SwsContext* s) const { sws_freeContext(s); }
};
// An output context: closes its AVIOContext (if the muxer has a file) and
// frees the context. Closing does not write a trailer.
struct OutputFormatDeleter {
  void operator()(AVFormatContext* f) const {
    if (f == nullptr) return;
    if (f->oformat != nullptr && (f->oformat->flags & AVFMT_NOFILE) == 0) avio_closep(&f->pb);
    avformat_free_context(f);
  }
};
// Frees a dictionary owned by this handle.
class Dictionary {
 public:
  Dictionary() = default;
  ~Dictionary() { av_dict_free(&d_); }
  Dictionary(const Dictionary&) = delete;
  Dictionary& operator=(const Dictionary&) = delete;
  void Set(const char* key, const std::string& value) { av_dict_set(&d_, key, value.c_str(), 0); }
  AVDictionary** get() { return &d_; }

 private:
  AVDictionary* d_ = nullptr;
};

using CodecContextPtr = std::unique_ptr<AVCodecContext, CodecContextDeleter>;
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;
using PacketPtr = std::unique_ptr<AVPacket, PacketDeleter>;
using SwsPtr = std::unique_ptr<SwsContext, SwsDeleter>;
using OutputFormatPtr = std::unique_ptr<AVFormatContext, OutputFormatDeleter>;

// Lowers libav*'s process-wide log level to errors (the encoders print
// statistics on stderr otherwise). Idempotent, thread-safe.
inline void QuietLogs() { av_log_set_level(AV_LOG_ERROR); }

// av_err2str as a std::string.
inline std::string ErrorText(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(err, buf, sizeof(buf));
  return buf;
}

}  // namespace portcullis::recorder::av
