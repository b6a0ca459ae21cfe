// Fuzzes the viewer side of the RFB handshake: the version line parser, and
// the whole pre-ticket exchange over a socketpair with the input as
// everything the viewer sends (a redeemer that refuses every ticket).
// Properties: a parsed version is 3, 7 or 8 and only for the three exact
// lines; the handshake never accepts without a ticket.
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "agentless/vnc/vnc_handshake.h"

namespace {

class RefuseAll : public portcullis::session::TicketRedeemer {
 public:
  absl::StatusOr<portcullis::session::TicketGrant> RedeemVncAuth(
      std::string_view, const std::array<uint8_t, 16>&, const std::array<uint8_t, 16>&) override {
    return absl::PermissionDeniedError("portcullis: ticket refused");
  }
  absl::StatusOr<portcullis::session::TicketGrant> RedeemPlain(std::string_view, std::string_view,
                                                              std::string_view,
                                                              std::string_view) override {
    return absl::PermissionDeniedError("portcullis: ticket refused");
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto v = portcullis::vnc::ParseViewerVersion(input);
  if (v.ok()) {
    if (!(*v == 3 || *v == 7 || *v == 8)) abort();
    if (input != "RFB 003.003\n" && input != "RFB 003.007\n" && input != "RFB 003.008\n") abort();
  }
  if (size > 4096) return 0;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return 0;
  if (size > 0 && write(sv[1], data, size) != static_cast<ssize_t>(size)) {
    close(sv[0]);
    close(sv[1]);
    return 0;
  }
  shutdown(sv[1], SHUT_WR);
  RefuseAll refuse;
  portcullis::vnc::ViewerHandshake hs(sv[0], std::chrono::milliseconds(100));
  auto g = hs.ReadTicket("127.0.0.1", refuse);
  if (g.ok()) abort();
  close(sv[0]);
  close(sv[1]);
  return 0;
}
