#pragma once
// Internal to pc_rfb: the rectangle decoders behind ServerStream. Each works
// on a rectangle already checked to lie inside the framebuffer, writes
// converted pixels into it and never reads past the bytes it is given.
// Thread-compatible (one per stream).

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "agentless/vnc/rfb/pixel_convert.h"

namespace portcullis::agentless::rfb::internal {

inline constexpr uint32_t kOpaqueBlack = 0xff000000u;

struct Rect {
  int x = 0, y = 0, w = 0, h = 0;
};

// Where a rectangle's pixels go: the framebuffer's top-left pixel and its
// row pitch in pixels.
struct Surface {
  uint32_t* px = nullptr;
  size_t pitch = 0;
  uint32_t* At(int x, int y) const { return px + static_cast<size_t>(y) * pitch + x; }
  void Fill(int x, int y, int w, int h, uint32_t v) const;
};

// One zlib inflate stream kept for a whole connection (ZRLE, Tight).
class Inflater {
 public:
  Inflater();
  ~Inflater();
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;
  void Reset();
  // Inflates all of `in` (continuing the stream) into `out` (grown, never
  // shrunk), which must then hold exactly `expected` bytes (or, if
  // `expected` is 0, at most `max_out` bytes); `*produced` is how many.
  // DataLoss otherwise, and the stream is then unusable.
  [[nodiscard]] absl::Status Inflate(std::string_view in, size_t expected, size_t max_out, std::vector<uint8_t>* out,
                                     size_t* produced);

 private:
  z_stream zs_{};
  bool ok_ = false;
};

// Hextile: 16x16 tiles in order, each decoded once it is whole.
struct HextileState {
  int next_tile = 0;
  uint32_t bg = kOpaqueBlack, fg = kOpaqueBlack;
};
// Decodes the whole tiles at the start of `in`: `*consumed` bytes used,
// `*done` once the last tile is in. If no tile is whole, `*need` (>
// in.size()) says how many bytes the next one needs.
[[nodiscard]] absl::Status HextileStep(std::string_view in, const Rect& r, const PixelConverter& pc, Surface s,
                                       HextileState& st, size_t* consumed, size_t* need, bool* done);

// ZRLE: a 4-byte length then that much zlib data, 64x64 tiles inside.
// Sets `*need` to the whole rectangle's length once its header is in.
[[nodiscard]] absl::Status ZrleSize(std::string_view in, size_t max_rect_bytes, size_t* need);
[[nodiscard]] absl::Status ZrleDecode(std::string_view whole, const Rect& r, const PixelConverter& pc, Surface s,
                                      Inflater& zlib, std::vector<uint8_t>& scratch);

// Tight (basic with copy/palette/gradient filters, fill, JPEG).
class TightDecoder {
 public:
  // The rectangle's whole length as far as `in` shows it (`*need` >
  // in.size(): read that much and ask again).
  [[nodiscard]] absl::Status Size(std::string_view in, const Rect& r, const PixelConverter& pc, size_t max_rect_bytes,
                                  size_t* need) const;
  // `whole` is exactly the length Size() gave.
  [[nodiscard]] absl::Status Decode(std::string_view whole, const Rect& r, const PixelConverter& pc, Surface s);

 private:
  Inflater zlib_[4];
  std::vector<uint8_t> data_;
  std::vector<uint32_t> row_;
};

// JPEG (Tight) into `s`; the image must be exactly r.w x r.h.
[[nodiscard]] absl::Status DecodeJpeg(std::string_view jpeg, const Rect& r, Surface s);

}  // namespace portcullis::agentless::rfb::internal
