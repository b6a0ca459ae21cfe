#pragma once
// The viewer-to-target half of an RFB session after the handshake, parsed
// with bounds: every message the viewer sends is framed, checked against
// the allow-list of message types (SetPixelFormat 0, SetEncodings 2,
// FramebufferUpdateRequest 3, KeyEvent 4, PointerEvent 5, ClientCutText 6,
// SetDesktopSize 251) and handed to the relay whole, with the bytes to
// forward. Anything else ends the session (an error status naming the
// message, never its content).
//
// Thread-compatible: one session thread feeds it.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "agentless/vnc/rfb/rfb_types.h"

namespace portcullis::agentless::rfb {

struct ClientLimits {
  size_t max_encodings = 1024;    // more in one SetEncodings: error
  size_t max_cut_text = 1 << 20;  // longer ClientCutText: error (before reading it)
  int max_screens = 16;           // SetDesktopSize
};

struct ClientMessage {
  enum class Type {
    kSetPixelFormat,
    kSetEncodings,
    kUpdateRequest,
    kKey,
    kPointer,
    kCutText,
    kSetDesktopSize,
  };
  Type type{};
  // The bytes to send to the target: the message as received, except
  // SetEncodings, rewritten to the allowed encodings only.
  std::string wire;

  PixelFormat pixel_format;         // kSetPixelFormat
  std::vector<int32_t> encodings;   // kSetEncodings: the ones kept, in order
  size_t encodings_dropped = 0;     // kSetEncodings: how many were stripped
  bool incremental = false;         // kUpdateRequest
  uint16_t x = 0, y = 0, w = 0, h = 0;  // kUpdateRequest; x, y for kPointer
  uint32_t keysym = 0;              // kKey
  bool down = false;                // kKey
  uint8_t button_mask = 0;          // kPointer
  std::string text;                 // kCutText (Latin-1 as sent)
  uint16_t width = 0, height = 0;   // kSetDesktopSize
};

class ClientMessageParser {
 public:
  explicit ClientMessageParser(ClientLimits limits = {});
  // Consumes `bytes` (any split) and appends each complete message to
  // `out`. Keeps at most one partial message (bounded by the limits).
  // InvalidArgument for an unknown type or a limit exceeded; the parser is
  // then dead (every later call fails).
  [[nodiscard]] absl::Status Feed(std::string_view bytes, std::vector<ClientMessage>* out);

 private:
  ClientLimits limits_;
  std::string pending_;
  bool dead_ = false;
};

}  // namespace portcullis::agentless::rfb
