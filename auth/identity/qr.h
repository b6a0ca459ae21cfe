#pragma once
// Renders a QR code (libqrencode, error-correction level M, 8-bit mode) as
// Unicode half-block text for the terminal, e.g. to enrol a TOTP seed from
// `portcullis users add`. Two module rows per text line; a 2-module quiet
// zone; every line is the same width and ends with '\n'.
//
// Colours: LIGHT modules (and the quiet zone) are drawn with blocks
// ("▀", "▄", "█"), DARK modules are spaces. That is correct on a terminal
// with a dark background and light text (the common default); on a
// light-background terminal the symbol appears inverted, which many but not
// all phone scanners accept. We do not use colour escape codes, since they are
// unreliable across terminals and break when output is piped.
//
// Thread-safe (libqrencode is built with pthread support on Debian).

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace portcullis::auth {

inline constexpr size_t kMaxQrInputBytes = 2000;
inline constexpr int kQrQuietZoneModules = 2;

// InvalidArgument if `text` is empty, longer than kMaxQrInputBytes or
// contains a NUL byte; Internal if libqrencode fails.
[[nodiscard]] absl::StatusOr<std::string> RenderQrForTerminal(std::string_view text);

}  // namespace portcullis::auth
