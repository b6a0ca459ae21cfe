#pragma once
// The target-to-viewer half of an RFB session after the handshake: a
// bounded push parser over the bytes the target sends (FramebufferUpdate
// with the allow-listed encodings and pseudo-encodings,
// SetColourMapEntries, Bell, ServerCutText) that decodes every update into
// a shadow framebuffer of 32-bit B, G, R, unused pixels, whatever pixel
// format the viewer chose. The relay forwards the target's bytes as they
// came (pass-through) and feeds the same bytes here for the recording and
// to refuse a target that sends malformed data.
//
// Thread-compatible: one session thread feeds it.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "agentless/vnc/rfb/rfb_types.h"

namespace portcullis::agentless::rfb {

struct ServerLimits {
  int max_width = 8192, max_height = 8192;
  size_t max_cut_text = 1 << 20;    // longer ServerCutText: error
  size_t max_rect_bytes = 64 << 20; // a compressed rectangle's length
  size_t max_cursor_bytes = 1 << 20;
};

// What the parser tells the relay as it decodes. Called from Feed().
class ServerEvents {
 public:
  virtual ~ServerEvents() = default;
  // The framebuffer changed size (DesktopSize / ExtendedDesktopSize); its
  // content is undefined (black) until updated.
  virtual void Resized(int width, int height) {}
  // Pixels in this rectangle of framebuffer() changed.
  virtual void Damaged(int x, int y, int w, int h) {}
  // A FramebufferUpdate ended (all its rectangles decoded).
  virtual void UpdateEnd() {}
  // Cursor pseudo-encoding: shape as B, G, R, A (A 0 or 255).
  virtual void CursorShape(int hot_x, int hot_y, int w, int h, const uint8_t* bgra) {}
  virtual void PointerMoved(int x, int y) {}
  virtual void CutText(std::string_view latin1) {}
  virtual void Bell() {}
  virtual void DesktopName(std::string_view utf8) {}
};

class ServerStream {
 public:
  // `format`: the pixel format in force (ServerInit's, until the viewer
  // sets another); `width` x `height`: ServerInit's size.
  ServerStream(PixelFormat format, int width, int height, ServerLimits limits = {});
  ~ServerStream();
  ServerStream(const ServerStream&) = delete;
  ServerStream& operator=(const ServerStream&) = delete;

  // The viewer's SetPixelFormat, forwarded to the target: updates that
  // begin after the current one (if any) are parsed in `format`.
  void SetPixelFormat(const PixelFormat& format);
  // The encodings the relay allowed (Tight, ZRLE, ...), to refuse an
  // update in an encoding the viewer never asked for. Raw is always allowed.
  void SetEncodings(const std::vector<int32_t>& encodings);

  // Consumes `bytes` (any split), decoding as far as they go. Keeps a
  // bounded partial message. InvalidArgument/DataLoss for malformed data
  // (the stream is then dead).
  [[nodiscard]] absl::Status Feed(std::string_view bytes, ServerEvents& events);

  // True between messages (not inside a FramebufferUpdate).
  bool AtMessageBoundary() const;

  // For a relay that must not pass the target's clipboard on (the role's
  // clipboard is none or to_target). Offsets count the bytes fed since the
  // stream was made. ForwardableUntil(): the bytes before it may be
  // forwarded; a ServerCutText message not yet complete is held back from
  // its first byte. TakeCutTextRanges(): [begin, end) of each ServerCutText
  // completed since the last call, in order (always at or after the
  // previous ForwardableUntil()).
  uint64_t ForwardableUntil() const;
  std::vector<std::pair<uint64_t, uint64_t>> TakeCutTextRanges();

  int width() const;
  int height() const;
  // width() * height() pixels, 4 bytes each, stride() bytes per row.
  const uint8_t* framebuffer() const;
  size_t stride() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace portcullis::agentless::rfb
