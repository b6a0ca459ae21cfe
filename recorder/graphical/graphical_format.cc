#include "recorder/graphical/graphical_format.h"

#include <zstd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "broker/common/time_format.h"
#include "recorder/recording_header.h"

namespace portcullis::recorder {

RecordingFormat GraphicalFormat() {
  return {std::string(kGraphicalMediaType), std::string(kGraphicalExtension)};
}

std::string GraphicalHeaderLine(const session::RecordingInfo& info, TimePoint start) {
  nlohmann::ordered_json h;
  h["format"] = kGraphicalFormatName;
  h["timestamp"] = ToUnix(start);
  h["title"] = fmt::format("{}: {}@{}", info.user, info.login, info.target);
  h["portcullis"] = SessionHeaderFields(info, start);
  return HeaderJsonLine(h);
}

void PutU32(uint32_t v, std::string* out) {
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
  out->append(b, 4);
}

void PutU64(uint64_t v, std::string* out) {
  PutU32(static_cast<uint32_t>(v >> 32), out);
  PutU32(static_cast<uint32_t>(v), out);
}

uint32_t GetU32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

uint64_t GetU64(const uint8_t* p) { return (uint64_t{GetU32(p)} << 32) | GetU32(p + 4); }

void AppendGraphicalHead(GraphicalRecord type, int64_t micros, uint32_t payload_len,
                         std::string* out) {
  PutU32(payload_len, out);
  out->push_back(static_cast<char>(type));
  PutU64(static_cast<uint64_t>(micros < 0 ? 0 : micros), out);
}

ZstdCompressor::ZstdCompressor(int level) : cctx_(ZSTD_createCCtx()), level_(level) {
  if (cctx_ == nullptr) std::abort();  // out of memory
}

ZstdCompressor::~ZstdCompressor() { ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(cctx_)); }

void ZstdCompressor::Compress(std::string_view data, std::string* out) {
  const size_t at = out->size();
  out->resize(at + ZSTD_compressBound(data.size()));
  const size_t n = ZSTD_compressCCtx(static_cast<ZSTD_CCtx*>(cctx_), out->data() + at,
                                     out->size() - at, data.data(), data.size(), level_);
  if (ZSTD_isError(n)) std::abort();  // cannot happen with a bound-sized buffer
  out->resize(at + n);
}

ZstdDecompressor::ZstdDecompressor() : dctx_(ZSTD_createDCtx()) {
  if (dctx_ == nullptr) std::abort();
}

ZstdDecompressor::~ZstdDecompressor() { ZSTD_freeDCtx(static_cast<ZSTD_DCtx*>(dctx_)); }

absl::Status ZstdDecompressor::DecompressExactly(std::string_view frame, uint8_t* out,
                                                 size_t size) {
  // The frame must say its size, and say exactly `size`: nothing is
  // decompressed past what the record's header allows.
  const unsigned long long declared = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (declared != size) return absl::DataLossError("zstd frame of the wrong size");
  if (ZSTD_findFrameCompressedSize(frame.data(), frame.size()) != frame.size()) {
    return absl::DataLossError("bytes after the zstd frame");
  }
  const size_t n = ZSTD_decompressDCtx(static_cast<ZSTD_DCtx*>(dctx_), out, size, frame.data(),
                                       frame.size());
  if (ZSTD_isError(n) || n != size) return absl::DataLossError("corrupt zstd frame");
  return absl::OkStatus();
}

}  // namespace portcullis::recorder
