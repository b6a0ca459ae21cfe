#include "agentless/vnc/vnc_handshake.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace portcullis::vnc {
namespace {

constexpr uint8_t kSecurityVncAuth = 2;

void PutU16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}
void PutU32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

}  // namespace

absl::StatusOr<int> ParseViewerVersion(std::string_view v) {
  if (v.size() != 12 || v.substr(0, 4) != "RFB " || v[7] != '.' || v[11] != '\n')
    return absl::InvalidArgumentError("not an RFB protocol version");
  for (size_t i : {4, 5, 6, 8, 9, 10}) {
    if (v[i] < '0' || v[i] > '9') return absl::InvalidArgumentError("not an RFB protocol version");
  }
  const std::string_view ver = v.substr(4, 7);
  if (ver == "003.003") return 3;
  if (ver == "003.007") return 7;
  if (ver == "003.008") return 8;
  // Digits only (checked above): safe to name in the error.
  return absl::InvalidArgumentError(fmt::format("unsupported RFB version {}", ver));
}

std::string SourceAddress(std::string_view source) {
  if (!source.empty() && source.front() == '[') {
    const size_t end = source.find(']');
    return std::string(end == std::string_view::npos ? source.substr(1) : source.substr(1, end - 1));
  }
  const size_t colon = source.rfind(':');
  return std::string(colon == std::string_view::npos ? source : source.substr(0, colon));
}

std::string SerializeServerInit(const ServerInitInfo& si) {
  std::string out;
  PutU16(out, si.width);
  PutU16(out, si.height);
  const auto& pf = si.format;
  out.push_back(static_cast<char>(pf.bits_per_pixel));
  out.push_back(static_cast<char>(pf.depth));
  out.push_back(static_cast<char>(pf.big_endian ? 1 : 0));
  out.push_back(static_cast<char>(pf.true_colour ? 1 : 0));
  PutU16(out, pf.red_max);
  PutU16(out, pf.green_max);
  PutU16(out, pf.blue_max);
  out.push_back(static_cast<char>(pf.red_shift));
  out.push_back(static_cast<char>(pf.green_shift));
  out.push_back(static_cast<char>(pf.blue_shift));
  out.append(3, '\0');
  const std::string_view name = std::string_view(si.name).substr(0, 255);
  PutU32(out, static_cast<uint32_t>(name.size()));
  out.append(name);
  return out;
}

absl::Status ViewerHandshake::ReadExact(void* buf, size_t n, bool timed) {
  auto* p = static_cast<uint8_t*>(buf);
  size_t got = 0;
  while (got < n) {
    if (timed) {
      pollfd pfd{fd_, POLLIN, 0};
      const int rc = poll(&pfd, 1, static_cast<int>(timeout_.count()));
      if (rc < 0 && errno == EINTR) continue;
      if (rc == 0) return absl::UnavailableError("the viewer stalled in the handshake");
      if (rc < 0) return absl::UnavailableError("poll failed");
    }
    const ssize_t r = read(fd_, p + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd pfd{fd_, POLLIN, 0};
      (void)poll(&pfd, 1, static_cast<int>(timeout_.count()));
      continue;
    }
    if (r <= 0) return absl::UnavailableError("the viewer closed the connection in the handshake");
    got += static_cast<size_t>(r);
  }
  return absl::OkStatus();
}

absl::Status ViewerHandshake::WriteAll(std::string_view bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t w = send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd pfd{fd_, POLLOUT, 0};
      if (poll(&pfd, 1, static_cast<int>(timeout_.count())) <= 0)
        return absl::UnavailableError("the viewer does not read");
      continue;
    }
    if (w <= 0) return absl::UnavailableError("the viewer closed the connection in the handshake");
    done += static_cast<size_t>(w);
  }
  return absl::OkStatus();
}

absl::StatusOr<session::TicketGrant> ViewerHandshake::ReadTicket(
    std::string_view source_address, session::TicketRedeemer& redeemer) {
  if (auto st = WriteAll("RFB 003.008\n"); !st.ok()) return st;
  char version[12];
  // Untimed before the ticket: the listener's reaper ends a stalled viewer.
  if (auto st = ReadExact(version, sizeof version, false); !st.ok()) return st;
  auto minor = ParseViewerVersion(std::string_view(version, sizeof version));
  if (!minor.ok()) return minor.status();
  minor_ = *minor;
  if (minor_ == 3) {
    // 3.3: the server decides the type.
    std::string t;
    PutU32(t, kSecurityVncAuth);
    if (auto st = WriteAll(t); !st.ok()) return st;
  } else {
    const char offer[2] = {1, static_cast<char>(kSecurityVncAuth)};
    if (auto st = WriteAll(std::string_view(offer, 2)); !st.ok()) return st;
    uint8_t choice = 0;
    if (auto st = ReadExact(&choice, 1, false); !st.ok()) return st;
    if (choice != kSecurityVncAuth) {
      Refuse("portcullis: only VNC password authentication is offered");
      return absl::InvalidArgumentError(
          fmt::format("the viewer chose security type {}, not VncAuth", choice));
    }
  }
  std::array<uint8_t, 16> challenge{};
  if (RAND_bytes(challenge.data(), static_cast<int>(challenge.size())) != 1)
    return absl::InternalError("no random challenge");
  if (auto st = WriteAll(std::string_view(reinterpret_cast<const char*>(challenge.data()),
                                          challenge.size()));
      !st.ok())
    return st;
  std::array<uint8_t, 16> response{};
  if (auto st = ReadExact(response.data(), response.size(), false); !st.ok()) return st;
  auto grant = redeemer.RedeemVncAuth(source_address, challenge, response);
  OPENSSL_cleanse(response.data(), response.size());
  if (!grant.ok()) {
    Refuse(kTicketRefused);
    return absl::PermissionDeniedError(std::string(kTicketRefused));
  }
  return grant;
}

absl::Status ViewerHandshake::Accept() {
  std::string ok;
  PutU32(ok, 0);
  if (auto st = WriteAll(ok); !st.ok()) return st;
  uint8_t shared = 0;
  return ReadExact(&shared, 1, true);
}

void ViewerHandshake::Refuse(std::string_view reason) {
  std::string out;
  PutU32(out, 1);
  if (minor_ >= 8) {
    PutU32(out, static_cast<uint32_t>(reason.size()));
    out.append(reason);
  }
  (void)WriteAll(out);
}

absl::Status ViewerHandshake::SendServerInit(const ServerInitInfo& si) {
  return WriteAll(SerializeServerInit(si));
}

}  // namespace portcullis::vnc
