#pragma once
// Connection tickets: the one-time secret a VNC viewer (and, next, an RDP
// client) sends instead of the user's password. `portcullis access TARGET`
// asks the broker for one after the user logged in with password and TOTP;
// the broker binds it to the user, the target, the login and protocol that
// were decided, and the source address the request came from. A ticket is
// usable once, for TicketPolicy::ttl, only from that address. Tickets live
// in memory only (a restart voids them) and never appear in a log, an error
// or the audit log.
//
// Protocol code redeems tickets through TicketRedeemer; only the broker
// issues them. Implementations are thread-safe.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "auth/policy/engine.h"
#include "auth/policy/role.h"
#include "broker/common/clock.h"

namespace portcullis::session {

// What a redeemed ticket stands for: who, to which target, as which login,
// over which protocol, from where, and when it was issued.
struct TicketGrant {
  std::string ticket_id;  // a non-secret handle for the audit log ("t-" + 12 hex)
  std::string user;
  std::vector<std::string> roles;  // the user's roles when the ticket was issued
  std::string target;
  std::string login;  // "" where the protocol has none (VNC)
  policy::Protocol protocol = policy::Protocol::kVnc;
  std::string source;  // the address the ticket may be used from (no port)
  TimePoint issued{};
  TimePoint expires{};
  // The admission decision the ticket was issued on (its grants: view_only,
  // clipboard, max_session, record_input ...). The listener still admits
  // the connection again when the ticket is redeemed.
  policy::Decision decision;
};

class TicketRedeemer {
 public:
  virtual ~TicketRedeemer() = default;

  // VNC authentication (RFB VncAuth): the viewer answered `challenge` with
  // `response` (DES of the challenge under the ticket, as VNC passwords
  // are used). Tries the tickets pending for `source` (an address without
  // port) and protocol vnc; the one that matches is consumed and returned.
  // PermissionDenied("portcullis: ticket refused") for no match, an expired
  // ticket, or one from another source; the reason goes to the audit log
  // (ticket.refused), never the ticket.
  [[nodiscard]] virtual absl::StatusOr<TicketGrant> RedeemVncAuth(
      std::string_view source, const std::array<uint8_t, 16>& challenge,
      const std::array<uint8_t, 16>& response) = 0;

  // A ticket sent in clear inside an encrypted channel (RDP's NLA
  // password, VeNCrypt Plain): `user` and `target` as the client named
  // them. Same refusals.
  [[nodiscard]] virtual absl::StatusOr<TicketGrant> RedeemPlain(std::string_view source,
                                                               std::string_view user,
                                                               std::string_view target,
                                                               std::string_view ticket) = 0;
};

}  // namespace portcullis::session
