#pragma once
// TicketStore: the broker's in-memory connection tickets (see
// broker/session/tickets.h for what a ticket is). The Access RPC issues
// them after admission; the VNC (and later RDP) listeners redeem them
// through session::TicketRedeemer.
//
// Rules:
//  - A ticket is usable once, until issued + TicketPolicy::ttl (120 s), only
//    from the source address it was issued to (no port).
//  - VNC tickets are 8 characters from kTicketAlphabet (32 symbols, 5 bits
//    each: 40 bits), because a VNC password carries 8 characters. Other
//    protocols get kLongTicketLength characters (100 bits).
//  - At most max_pending_vnc_per_source VNC tickets are pending per source:
//    a further request evicts the oldest (the user asked again; the old one
//    is dead). At most max_pending_total tickets in all: beyond, Issue is
//    refused.
//  - A source with max_refusals_per_source refused attempts within
//    refusal_window is refused outright until the window ends (reason
//    "rate-limited"; one audit row per window).
//  - A ticket presented from another source than its own is void from then
//    on (it has leaked).
//  - Candidates are compared with a constant-time compare (Equal, by
//    default ConstantTimeEquals); the ticket never appears in a log, an
//    error or the audit log, only its ticket_id.
// Audit: ticket.issued, ticket.redeemed, ticket.refused (reason expired,
// reused, wrong source, no match or rate-limited). A row that cannot be
// written refuses the issue or the redemption (fail closed).
//
// Thread-safe (one mutex). Audit rows are written under it; tickets are
// rare.

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "auth/policy/engine.h"
#include "broker/audit/audit_event.h"
#include "broker/common/clock.h"
#include "broker/common/secret.h"
#include "broker/session/tickets.h"

namespace portcullis::core {

// Unambiguous: no 0/O, no 1/I. 32 symbols, so 5 random bits map to one
// without bias.
inline constexpr std::string_view kTicketAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
inline constexpr size_t kVncTicketLength = 8;
inline constexpr size_t kLongTicketLength = 20;

struct TicketPolicy {
  std::chrono::seconds ttl{120};
  int max_pending_vnc_per_source = 3;
  int max_pending_total = 4096;
  int max_refusals_per_source = 5;
  std::chrono::seconds refusal_window{60};
};

// What a ticket is issued for: an admitted request.
struct TicketRequest {
  std::string user;
  std::vector<std::string> roles;
  std::string target;
  std::string login;  // "" for VNC
  policy::Protocol protocol = policy::Protocol::kVnc;
  std::string source;  // an address without port
  policy::Decision decision;
};

struct IssuedTicket {
  SecretBytes ticket;  // shown to the user once, never logged
  session::TicketGrant grant;
  std::string evicted_ticket_id;  // the older ticket this one displaced, or ""
};

class TicketStore final : public session::TicketRedeemer {
 public:
  using Equal = bool (*)(std::string_view, std::string_view);

  // `audit` and `clock` must outlive the store.
  TicketStore(audit::AuditWriter* audit, const Clock* clock, TicketPolicy policy = {},
              Equal equal = &ConstantTimeEquals);

  // A new ticket for `r`. InvalidArgument for a request without user,
  // target or source, or with a port in the source; ResourceExhausted when
  // max_pending_total tickets are pending; Unavailable if the audit row
  // cannot be written (no ticket is kept then).
  [[nodiscard]] absl::StatusOr<IssuedTicket> Issue(const TicketRequest& r);

  [[nodiscard]] absl::StatusOr<session::TicketGrant> RedeemVncAuth(
      std::string_view source, const std::array<uint8_t, 16>& challenge,
      const std::array<uint8_t, 16>& response) override;
  [[nodiscard]] absl::StatusOr<session::TicketGrant> RedeemPlain(std::string_view source,
                                                                std::string_view user,
                                                                std::string_view target,
                                                                std::string_view ticket) override;

  // Pending (unused, unexpired) tickets issued to `source`; all if "".
  size_t Pending(std::string_view source = "") const;
  const TicketPolicy& policy() const { return policy_; }

 private:
  enum class State { kPending, kUsed };
  struct Entry {
    SecretBytes ticket;
    session::TicketGrant grant;
    State state = State::kPending;
  };
  struct Refusals {
    TimePoint window_start{};
    int count = 0;
    bool limit_audited = false;
  };
  // What a refused attempt was about, for its audit row.
  struct Refusal {
    std::string reason;
    const Entry* entry = nullptr;  // the ticket it matched, if any
  };

  bool Live(const Entry& e, TimePoint now) const {
    return e.state == State::kPending && now < e.grant.expires;
  }
  void PurgeLocked(TimePoint now);
  bool RateLimitedLocked(const std::string& source, TimePoint now);
  absl::Status RefuseLocked(const std::string& source, std::string_view protocol,
                            const Refusal& why, TimePoint now);
  absl::StatusOr<session::TicketGrant> ConsumeLocked(Entry& e, std::string_view source);
  absl::Status Write(std::string type, std::string actor, std::string subject, std::string outcome,
                     std::string source, nlohmann::json details);

  audit::AuditWriter* audit_;
  const Clock* clock_;
  const TicketPolicy policy_;
  const Equal equal_;
  mutable std::mutex mu_;
  std::deque<Entry> entries_;  // oldest first; used and expired ones kept a ttl for diagnosis
  std::map<std::string, Refusals, std::less<>> refusals_;
};

// "127.0.0.1" from a gRPC peer "ipv4:127.0.0.1:53122", "::1" from
// "ipv6:[::1]:53122"; InvalidArgument for anything else (in-process
// channels, unix sockets).
[[nodiscard]] absl::StatusOr<std::string> PeerAddress(std::string_view grpc_peer);

}  // namespace portcullis::core
