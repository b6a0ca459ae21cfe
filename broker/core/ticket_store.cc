#include "broker/core/ticket_store.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>

#include "broker/common/time_format.h"
#include "broker/common/vnc_des.h"

namespace portcullis::core {
namespace {

constexpr char kRefused[] = "portcullis: ticket refused";

std::string NewTicketId() {
  uint8_t b[6];
  if (RAND_bytes(b, sizeof b) != 1) std::abort();  // no randomness: nothing is safe
  return fmt::format("t-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}", b[0], b[1], b[2], b[3], b[4], b[5]);
}

// `n` symbols of kTicketAlphabet, 5 uniformly random bits each.
SecretBytes NewTicket(size_t n) {
  SecretBytes t = SecretBytes::Random(n);
  for (size_t i = 0; i < n; ++i) t.data()[i] = static_cast<uint8_t>(kTicketAlphabet[t.data()[i] & 31]);
  return t;
}

bool HasPort(std::string_view source) {
  // An IPv4 address or host has no ':'; an IPv6 address has no brackets.
  const size_t colons = std::count(source.begin(), source.end(), ':');
  return colons == 1 || source.find('[') != std::string_view::npos;
}

}  // namespace

absl::StatusOr<std::string> PeerAddress(std::string_view peer) {
  if (peer.rfind("ipv4:", 0) == 0) {
    std::string_view rest = peer.substr(5);
    size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return absl::InvalidArgumentError("bad peer");
    return std::string(rest.substr(0, colon));
  }
  if (peer.rfind("ipv6:", 0) == 0) {
    std::string_view rest = peer.substr(5);
    // "[::1]:port"; also accept "%5B::1%5D:port" (URL-escaped brackets).
    size_t open = rest.find('[');
    size_t close = rest.find(']');
    if (open == 0 && close != std::string_view::npos && close > 1)
      return std::string(rest.substr(1, close - 1));
    if (rest.rfind("%5B", 0) == 0) {
      size_t end = rest.find("%5D");
      if (end != std::string_view::npos && end > 3) return std::string(rest.substr(3, end - 3));
    }
    return absl::InvalidArgumentError("bad peer");
  }
  return absl::InvalidArgumentError("the request did not come over TCP");
}

TicketStore::TicketStore(audit::AuditWriter* audit, const Clock* clock, TicketPolicy policy,
                         Equal equal)
    : audit_(audit), clock_(clock), policy_(policy), equal_(equal) {}

absl::Status TicketStore::Write(std::string type, std::string actor, std::string subject,
                                std::string outcome, std::string source,
                                nlohmann::json details) {
  audit::AuditEvent ev;
  ev.type = std::move(type);
  ev.actor = std::move(actor);
  ev.subject = std::move(subject);
  ev.outcome = std::move(outcome);
  ev.source = std::move(source);
  ev.details = std::move(details);
  if (auto st = audit_->Append(ev); !st.ok())
    return absl::UnavailableError("portcullis: the audit log is unavailable; refused");
  return absl::OkStatus();
}

void TicketStore::PurgeLocked(TimePoint now) {
  // Used and expired tickets are kept one more ttl, to tell "reused" and
  // "expired" from "no match".
  std::erase_if(entries_, [&](const Entry& e) { return now >= e.grant.expires + policy_.ttl; });
  for (auto it = refusals_.begin(); it != refusals_.end();) {
    if (now >= it->second.window_start + policy_.refusal_window) {
      it = refusals_.erase(it);
    } else {
      ++it;
    }
  }
}

size_t TicketStore::Pending(std::string_view source) const {
  std::lock_guard<std::mutex> lock(mu_);
  const TimePoint now = clock_->Now();
  return static_cast<size_t>(std::count_if(entries_.begin(), entries_.end(), [&](const Entry& e) {
    return Live(e, now) && (source.empty() || e.grant.source == source);
  }));
}

absl::StatusOr<IssuedTicket> TicketStore::Issue(const TicketRequest& r) {
  if (r.user.empty() || r.target.empty() || r.source.empty())
    return absl::InvalidArgumentError("a ticket needs a user, a target and a source address");
  if (HasPort(r.source))
    return absl::InvalidArgumentError("a ticket's source is an address without port");
  if (r.protocol == policy::Protocol::kVnc) {
    if (auto st = VncDesAvailable(); !st.ok()) return st;
  }
  std::lock_guard<std::mutex> lock(mu_);
  const TimePoint now = clock_->Now();
  PurgeLocked(now);
  const bool vnc = r.protocol == policy::Protocol::kVnc;
  // The per-source limit: the oldest pending VNC ticket of this source goes.
  std::string evicted;
  if (vnc) {
    std::vector<std::deque<Entry>::iterator> mine;
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (Live(*it, now) && it->grant.source == r.source &&
          it->grant.protocol == policy::Protocol::kVnc)
        mine.push_back(it);
    }
    if (static_cast<int>(mine.size()) >= policy_.max_pending_vnc_per_source && !mine.empty()) {
      evicted = mine.front()->grant.ticket_id;
      entries_.erase(mine.front());
    }
  }
  const size_t live = static_cast<size_t>(std::count_if(
      entries_.begin(), entries_.end(), [&](const Entry& e) { return Live(e, now); }));
  if (static_cast<int>(live) >= policy_.max_pending_total)
    return absl::ResourceExhaustedError(
        "portcullis: too many connection tickets are pending; try again in a minute");

  Entry e;
  e.ticket = NewTicket(vnc ? kVncTicketLength : kLongTicketLength);
  session::TicketGrant& g = e.grant;
  g.ticket_id = NewTicketId();
  g.user = r.user;
  g.roles = r.roles;
  g.target = r.target;
  g.login = r.login;
  g.protocol = r.protocol;
  g.source = r.source;
  g.issued = now;
  g.expires = now + policy_.ttl;
  g.decision = r.decision;
  nlohmann::json details = {{"ticket_id", g.ticket_id},
                            {"target", g.target},
                            {"login", g.login},
                            {"protocol", std::string(policy::ProtocolName(g.protocol))},
                            {"expires", FormatUtc(g.expires)}};
  if (!evicted.empty()) details["evicted"] = evicted;
  if (auto st = Write("ticket.issued", g.user, g.target, "success", g.source, std::move(details));
      !st.ok())
    return st;
  IssuedTicket out;
  out.ticket = e.ticket.Clone();
  out.grant = g;
  out.evicted_ticket_id = std::move(evicted);
  entries_.push_back(std::move(e));
  return out;
}

bool TicketStore::RateLimitedLocked(const std::string& source, TimePoint now) {
  auto it = refusals_.find(source);
  if (it == refusals_.end()) return false;
  if (now >= it->second.window_start + policy_.refusal_window) {
    refusals_.erase(it);
    return false;
  }
  return it->second.count >= policy_.max_refusals_per_source;
}

absl::Status TicketStore::RefuseLocked(const std::string& source, std::string_view protocol,
                                       const Refusal& why, TimePoint now) {
  Refusals& rf = refusals_[source];
  if (rf.count == 0) rf.window_start = now;
  const bool limited = why.reason == "rate-limited";
  if (!limited) ++rf.count;
  // While limited, one row per window: a flood costs no audit space.
  const bool audit = !limited || !rf.limit_audited;
  if (limited) rf.limit_audited = true;
  if (audit) {
    nlohmann::json details = {{"reason", why.reason}, {"protocol", std::string(protocol)}};
    std::string actor, subject = "(unknown ticket)";
    if (why.entry != nullptr) {
      details["ticket_id"] = why.entry->grant.ticket_id;
      actor = why.entry->grant.user;
      subject = why.entry->grant.target;
    }
    if (limited) details["refusals"] = rf.count;
    (void)Write("ticket.refused", std::move(actor), std::move(subject), "denied", source,
                std::move(details));
  }
  return absl::PermissionDeniedError(kRefused);
}

absl::StatusOr<session::TicketGrant> TicketStore::ConsumeLocked(Entry& e,
                                                               std::string_view source) {
  e.state = State::kUsed;
  const session::TicketGrant& g = e.grant;
  if (auto st = Write("ticket.redeemed", g.user, g.target, "success", std::string(source),
                      {{"ticket_id", g.ticket_id},
                       {"login", g.login},
                       {"protocol", std::string(policy::ProtocolName(g.protocol))}});
      !st.ok())
    return st;
  return g;
}

absl::StatusOr<session::TicketGrant> TicketStore::RedeemVncAuth(
    std::string_view source_view, const std::array<uint8_t, 16>& challenge,
    const std::array<uint8_t, 16>& response) {
  const std::string source(source_view);
  std::lock_guard<std::mutex> lock(mu_);
  const TimePoint now = clock_->Now();
  PurgeLocked(now);
  if (RateLimitedLocked(source, now))
    return RefuseLocked(source, "vnc", {"rate-limited", nullptr}, now);
  const std::string_view got(reinterpret_cast<const char*>(response.data()), response.size());
  auto matches = [&](const Entry& e) {
    auto want = VncAuthResponse(e.ticket.Reveal(), challenge);
    if (!want.ok()) return false;
    const bool eq =
        equal_(std::string_view(reinterpret_cast<const char*>(want->data()), want->size()), got);
    OPENSSL_cleanse(want->data(), want->size());
    return eq;
  };
  // The pending tickets of this source first; the one that matches is used.
  for (Entry& e : entries_) {
    if (e.grant.protocol != policy::Protocol::kVnc || e.grant.source != source || !Live(e, now))
      continue;
    if (matches(e)) return ConsumeLocked(e, source);
  }
  // Refused: say why in the audit log (the viewer only learns "refused").
  Refusal why{"no match", nullptr};
  for (Entry& e : entries_) {
    if (e.grant.protocol != policy::Protocol::kVnc || Live(e, now) == (e.grant.source == source))
      continue;
    // Here: a used or expired ticket of this source, or a live one of another.
    if (!matches(e)) continue;
    why.entry = &e;
    why.reason = e.grant.source != source ? "wrong source"
                 : e.state == State::kUsed ? "reused"
                                           : "expired";
    // A ticket presented from elsewhere has leaked: it is void.
    if (e.grant.source != source) e.state = State::kUsed;
    break;
  }
  return RefuseLocked(source, "vnc", why, now);
}

absl::StatusOr<session::TicketGrant> TicketStore::RedeemPlain(std::string_view source_view,
                                                             std::string_view user,
                                                             std::string_view target,
                                                             std::string_view ticket) {
  const std::string source(source_view);
  std::lock_guard<std::mutex> lock(mu_);
  const TimePoint now = clock_->Now();
  PurgeLocked(now);
  if (RateLimitedLocked(source, now)) return RefuseLocked(source, "", {"rate-limited", nullptr}, now);
  // Every candidate of that user and target is compared (no early exit on
  // the secret), then the live one from this source is taken.
  Entry* hit = nullptr;
  Refusal why{"no match", nullptr};
  for (Entry& e : entries_) {
    if (e.grant.user != user || e.grant.target != target) continue;
    const bool eq = equal_(e.ticket.Reveal(), ticket);
    if (!eq) continue;
    if (Live(e, now) && e.grant.source == source) {
      hit = &e;
    } else if (why.entry == nullptr) {
      why.entry = &e;
      why.reason = e.grant.source != source ? "wrong source"
                   : e.state == State::kUsed ? "reused"
                                             : "expired";
      // A ticket presented from elsewhere has leaked: it is void.
      if (e.grant.source != source) e.state = State::kUsed;
    }
  }
  if (hit != nullptr) return ConsumeLocked(*hit, source);
  return RefuseLocked(source,
                      why.entry != nullptr ? policy::ProtocolName(why.entry->grant.protocol) : "",
                      why, now);
}

}  // namespace portcullis::core
