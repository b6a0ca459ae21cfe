// Tight's JPEG rectangles through the libjpeg API of libjpeg-turbo,
// decoded straight into the framebuffer as B, G, R, X.
// clang-format off
#include <cstddef>
#include <cstdio>
#include <jpeglib.h>  // needs size_t and FILE first
// clang-format on

#include <csetjmp>

#include "agentless/vnc/rfb/decoders.h"

namespace portcullis::agentless::rfb::internal {
namespace {

struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
};

[[noreturn]] void OnError(j_common_ptr cinfo) {
  auto* e = reinterpret_cast<ErrorManager*>(cinfo->err);
  std::longjmp(e->jump, 1);
}

void NoMessage(j_common_ptr) {}

// A warning (truncated data, a bad marker) is an error here too: the
// rectangle must decode whole.
void OnMessage(j_common_ptr cinfo, int level) {
  if (level < 0) OnError(cinfo);
}

// Plain C-style code between setjmp and longjmp: no object here has a
// destructor. Returns 0 on success, 1 on a libjpeg error, 2 on a size
// mismatch.
int Decompress(const uint8_t* data, size_t len, const Rect& r, Surface s) {
  jpeg_decompress_struct cinfo;
  ErrorManager err;
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = OnError;
  err.pub.output_message = NoMessage;
  err.pub.emit_message = OnMessage;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return 1;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(len));
  jpeg_read_header(&cinfo, TRUE);
  if (cinfo.image_width != static_cast<JDIMENSION>(r.w) || cinfo.image_height != static_cast<JDIMENSION>(r.h) ||
      (cinfo.num_components != 3 && cinfo.num_components != 1)) {
    jpeg_destroy_decompress(&cinfo);
    return 2;
  }
  cinfo.out_color_space = JCS_EXT_BGRX;
  jpeg_start_decompress(&cinfo);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = reinterpret_cast<JSAMPROW>(s.At(r.x, r.y + static_cast<int>(cinfo.output_scanline)));
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return 0;
}

}  // namespace

absl::Status DecodeJpeg(std::string_view jpeg, const Rect& r, Surface s) {
  if (r.w == 0 || r.h == 0) return absl::InvalidArgumentError("Tight: JPEG for an empty rectangle");
  switch (Decompress(reinterpret_cast<const uint8_t*>(jpeg.data()), jpeg.size(), r, s)) {
    case 0:
      return absl::OkStatus();
    case 2:
      return absl::InvalidArgumentError("Tight: JPEG size differs from the rectangle");
    default:
      return absl::DataLossError("Tight: corrupt JPEG");
  }
}

}  // namespace portcullis::agentless::rfb::internal
