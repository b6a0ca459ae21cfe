#pragma once
// VncServices: everything the VNC access path may use, as narrow seams: its
// own settings, the ticket redeemer (how a viewer authenticates), and the
// protocol-neutral session services (admission, the session registry, the
// recorders, the audit writer, the clock). Never the broker or its store.
// The daemon builds it; everything it points to must outlive the listener.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "agentless/common/proxy_session.h"
#include "broker/session/tickets.h"

namespace portcullis::vnc {

struct VncSettings {
  std::string host = "0.0.0.0";  // listen address
  uint16_t port = 5900;          // 0 = an ephemeral port (tests)
  std::chrono::seconds auth_timeout{60};    // accept..ticket redeemed
  int max_unauthenticated = 256;            // concurrent pre-ticket connections
  int max_sessions = 4096;                  // concurrent connections
  std::chrono::seconds target_timeout{15};  // connect + handshake to a target
  // A viewer's reads after the ticket (ClientInit), and writes to a viewer
  // that stopped reading during the handshake.
  std::chrono::milliseconds io_timeout{10000};
  // Bytes queued towards the viewer beyond which the target is not read
  // (backpressure), and towards the target beyond which the viewer is not.
  size_t viewer_queue_limit = 8u << 20;
  size_t target_queue_limit = 1u << 20;
  // The longest clipboard text a viewer may send when its role allows it.
  size_t max_clipboard = 256u << 10;
};

struct VncServices {
  VncSettings settings;
  session::TicketRedeemer* tickets = nullptr;
  agentless::SessionServices session;
};

}  // namespace portcullis::vnc
