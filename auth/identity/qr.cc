#include "auth/identity/qr.h"

#include <qrencode.h>

#include <memory>

#include <fmt/format.h>

#include "absl/status/status.h"

namespace portcullis::auth {
namespace {

struct QrCodeDeleter {
  void operator()(QRcode* q) const { QRcode_free(q); }
};
using QrCodePtr = std::unique_ptr<QRcode, QrCodeDeleter>;

constexpr const char kUpperHalf[] = "\u2580";  // ▀
constexpr const char kLowerHalf[] = "\u2584";  // ▄
constexpr const char kFullBlock[] = "\u2588";  // █

}  // namespace

absl::StatusOr<std::string> RenderQrForTerminal(std::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("QR input is empty");
  if (text.size() > kMaxQrInputBytes) {
    return absl::InvalidArgumentError(
        fmt::format("QR input too long: at most {} bytes", kMaxQrInputBytes));
  }
  if (text.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError("QR input contains a NUL byte");
  }
  std::string terminated(text);
  QrCodePtr qr(QRcode_encodeString(terminated.c_str(), /*version=*/0, QR_ECLEVEL_M, QR_MODE_8,
                                   /*casesensitive=*/1));
  if (!qr) return absl::InternalError("QR encoding failed");

  const int width = qr->width;
  const int size = width + 2 * kQrQuietZoneModules;
  // Light if outside the symbol (quiet zone) or a light module (bit 0 clear).
  auto light = [&](int row, int col) {
    int r = row - kQrQuietZoneModules;
    int c = col - kQrQuietZoneModules;
    if (r < 0 || c < 0 || r >= width || c >= width) return true;
    return (qr->data[r * width + c] & 1) == 0;
  };

  std::string out;
  for (int row = 0; row < size; row += 2) {
    for (int col = 0; col < size; ++col) {
      bool top = light(row, col);
      // An odd final row pairs with a dark (empty) row below it.
      bool bottom = row + 1 < size && light(row + 1, col);
      if (top && bottom) {
        out += kFullBlock;
      } else if (top) {
        out += kUpperHalf;
      } else if (bottom) {
        out += kLowerHalf;
      } else {
        out += ' ';
      }
    }
    out += '\n';
  }
  return out;
}

}  // namespace portcullis::auth
