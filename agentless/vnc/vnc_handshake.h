#pragma once
// The viewer side of the RFB handshake (RFC 6143 section 7.1), written for
// the broker and not taken from libvncserver: the broker speaks first
// ("RFB 003.008\n"), accepts a viewer at 3.3, 3.7 or 3.8 (anything else,
// random bytes included, is refused), offers only VncAuth (type 2, never
// None) with a fresh 16-byte challenge from OpenSSL's RAND_bytes, and hands
// the response to a session::TicketRedeemer: the VNC password a viewer
// sends is a one-time connection ticket.
//
// The handshake is split where the broker must decide: ReadTicket() runs
// up to the redeemed ticket; the caller then admits the user and connects
// to the target, and Accept() or Refuse() sends the SecurityResult (a 3.8
// viewer also gets the reason); Accept() then reads ClientInit, and
// SendServerInit() ends the handshake.
//
// I/O is blocking on a socket owned by the caller; a stalled viewer is cut
// short from another thread by shutting the socket down (the listener's
// pre-auth reaper) or by `io_timeout` per read after the ticket.
// Thread-compatible: one session thread.

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agentless/vnc/rfb/rfb_types.h"
#include "broker/session/tickets.h"

namespace portcullis::vnc {

// The version line a viewer sent: its minor version (3, 7 or 8).
// InvalidArgument for anything else (the message never quotes the bytes).
[[nodiscard]] absl::StatusOr<int> ParseViewerVersion(std::string_view twelve_bytes);

// "IP" of "IP:PORT" or "[IP]:PORT" (the listener's source format).
std::string SourceAddress(std::string_view source);

// The reason a 3.8 viewer reads when its ticket is refused.
inline constexpr std::string_view kTicketRefused = "portcullis: ticket refused";

// What the target's ServerInit said, for the viewer's.
struct ServerInitInfo {
  uint16_t width = 0, height = 0;
  agentless::rfb::PixelFormat format;
  std::string name;
};
// The ServerInit message (RFC 6143 7.3.2): size, pixel format, name
// (at most 255 bytes of it are sent).
std::string SerializeServerInit(const ServerInitInfo& si);

class ViewerHandshake {
 public:
  ViewerHandshake(int fd, std::chrono::milliseconds io_timeout) : fd_(fd), timeout_(io_timeout) {}

  // Version, security type, challenge, response, redemption. Errors:
  // InvalidArgument (not RFB, an unsupported version, an unknown security
  // type), Unavailable (the viewer went away or stalled), and the
  // redeemer's PermissionDenied (the viewer has been told and the socket
  // should be closed).
  [[nodiscard]] absl::StatusOr<session::TicketGrant> ReadTicket(
      std::string_view source_address, session::TicketRedeemer& redeemer);

  // SecurityResult OK, then ClientInit (its shared flag is ignored: the
  // broker always asks the target to share the desktop).
  [[nodiscard]] absl::Status Accept();
  // SecurityResult failed with `reason` (sent to 3.8 viewers only).
  void Refuse(std::string_view reason);
  [[nodiscard]] absl::Status SendServerInit(const ServerInitInfo& si);

  int minor() const { return minor_; }

 private:
  [[nodiscard]] absl::Status ReadExact(void* buf, size_t n, bool timed);
  [[nodiscard]] absl::Status WriteAll(std::string_view bytes);

  const int fd_;
  const std::chrono::milliseconds timeout_;
  int minor_ = 0;
};

}  // namespace portcullis::vnc
