#pragma once
// Decoding exported files back with libavformat/libavcodec, for tests that
// compare an export with its source. Test-only code.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace portcullis::testing {

struct RgbPicture {
  int64_t pts_ms = 0;
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;  // RGB24, stride width * 3
};

// Every picture of the file's video stream, converted to RGB24 (BT.709
// limited range to full-range RGB).
[[nodiscard]] absl::StatusOr<std::vector<RgbPicture>> DecodeVideo(const std::string& path);

// A PNG file image decoded by libavcodec's PNG decoder, as RGB24.
[[nodiscard]] absl::StatusOr<RgbPicture> DecodePng(const std::string& png);

// PSNR (dB) between the w x h region at (x0, y0) of an RGB24 picture and
// of a BGRX one; +inf if identical.
double Psnr(const RgbPicture& got, const uint8_t* bgrx, size_t stride, int w, int h, int x0 = 0,
            int y0 = 0);

}  // namespace portcullis::testing
