#pragma once
// FakeRedeemer: a session::TicketRedeemer for tests, until the broker's
// ticket store is wired: tickets added with Add() are checked against the
// viewer's VncAuth response with libvncclient's own DES
// (rfbClientEncryptBytes), bound to a source address, used once.
// Thread-safe. Test-only code.

#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "broker/session/tickets.h"

extern "C" void rfbClientEncryptBytes(unsigned char* bytes, char* passwd);

namespace portcullis::testing {

class FakeRedeemer : public session::TicketRedeemer {
 public:
  void Add(std::string ticket, session::TicketGrant grant) {
    std::lock_guard<std::mutex> lock(mu_);
    pending_.push_back({std::move(ticket), std::move(grant)});
  }
  int redeemed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return redeemed_;
  }
  int refused() const {
    std::lock_guard<std::mutex> lock(mu_);
    return refused_;
  }

  absl::StatusOr<session::TicketGrant> RedeemVncAuth(
      std::string_view source, const std::array<uint8_t, 16>& challenge,
      const std::array<uint8_t, 16>& response) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
      if (it->grant.source != source) continue;
      std::array<uint8_t, 16> expect = challenge;
      char pw[9] = {};
      strncpy(pw, it->ticket.c_str(), 8);
      rfbClientEncryptBytes(expect.data(), pw);
      if (expect != response) continue;
      session::TicketGrant g = it->grant;
      pending_.erase(it);
      ++redeemed_;
      return g;
    }
    ++refused_;
    return absl::PermissionDeniedError("portcullis: ticket refused");
  }
  absl::StatusOr<session::TicketGrant> RedeemPlain(std::string_view, std::string_view,
                                                  std::string_view, std::string_view) override {
    return absl::PermissionDeniedError("portcullis: ticket refused");
  }

 private:
  struct Pending {
    std::string ticket;
    session::TicketGrant grant;
  };
  mutable std::mutex mu_;
  std::vector<Pending> pending_;
  int redeemed_ = 0, refused_ = 0;
};

}  // namespace portcullis::testing
