#include "agentless/vnc/vencrypt.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <vector>

#include <fmt/format.h>

#include "agentless/vnc/rfb/rfb_types.h"
#include "broker/common/absl_fmt.h"
#include "broker/common/encoding.h"
#include "broker/common/vnc_des.h"

namespace portcullis::vnc {
namespace {

constexpr uint32_t kVeNCryptTlsNone = 257;
constexpr uint32_t kVeNCryptTlsVnc = 258;
constexpr uint32_t kVeNCryptTlsPlain = 259;
constexpr uint32_t kVeNCryptX509Plain = 262;
// A reason string from the target, and its desktop name: bounded before
// reading (the viewer is sent at most 255 bytes of the name).
constexpr uint32_t kMaxReason = 4096;
constexpr uint32_t kMaxName = 65536;

uint32_t U32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
void PutU32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

// A printable excerpt of text the target sent, for the audit log.
std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 200)) out.push_back(c >= ' ' && c <= '~' ? c : '?');
  return out;
}

absl::StatusOr<std::string> ReadReason(ByteChannel& ch) {
  uint8_t len[4];
  if (auto st = ch.ReadExact(len, 4); !st.ok()) return st;
  const uint32_t n = U32(len);
  if (n > kMaxReason) return absl::UnavailableError("the target sent an oversized reason");
  std::string reason(n, '\0');
  if (n > 0) {
    if (auto st = ch.ReadExact(reason.data(), n); !st.ok()) return st;
  }
  return Printable(reason);
}

std::string_view SubtypeName(uint32_t t) {
  switch (t) {
    case 256: return "Plain";
    case kVeNCryptTlsNone: return "TLSNone";
    case kVeNCryptTlsVnc: return "TLSVnc";
    case kVeNCryptTlsPlain: return "TLSPlain";
    case kVeNCryptX509None: return "X509None";
    case kVeNCryptX509Vnc: return "X509Vnc";
    case kVeNCryptX509Plain: return "X509Plain";
    default: return "other";
  }
}

}  // namespace

absl::StatusOr<uint32_t> NegotiateVeNCrypt(ByteChannel& ch, bool with_password) {
  char version[12];
  if (auto st = ch.ReadExact(version, sizeof version); !st.ok()) return st;
  auto minor = ParseViewerVersion(std::string_view(version, sizeof version));
  if (!minor.ok()) {
    // Other minor versions (3.889 of Apple, 4.x of RealVNC) answer with 3.8.
    const std::string_view v(version, sizeof version);
    const bool rfb = v.substr(0, 4) == "RFB " && v[11] == '\n';
    if (!rfb) return absl::UnavailableError("the target does not speak RFB");
    if (v.substr(4, 3) == "003" && v.substr(8, 3) < "008")
      return absl::FailedPreconditionError(
          "the target speaks an RFB version older than 3.8, without VeNCrypt");
  } else if (*minor < 8) {
    return absl::FailedPreconditionError(
        "the target speaks an RFB version older than 3.8, without VeNCrypt");
  }
  if (auto st = ch.WriteAll("RFB 003.008\n"); !st.ok()) return st;
  uint8_t count = 0;
  if (auto st = ch.ReadExact(&count, 1); !st.ok()) return st;
  if (count == 0) {
    auto reason = ReadReason(ch);
    if (!reason.ok()) return reason.status();
    return absl::UnavailableError(fmt::format("the target refused the connection: {}", *reason));
  }
  std::array<uint8_t, 255> types{};
  if (auto st = ch.ReadExact(types.data(), count); !st.ok()) return st;
  if (std::find(types.begin(), types.begin() + count, kSecurityVeNCrypt) == types.begin() + count)
    return absl::FailedPreconditionError(
        "the target offers no VeNCrypt (TLS), only the clear; the broker does not fall back "
        "to the clear for a target added with --crypto modern");
  const char choice = static_cast<char>(kSecurityVeNCrypt);
  if (auto st = ch.WriteAll(std::string_view(&choice, 1)); !st.ok()) return st;

  uint8_t ver[2];
  if (auto st = ch.ReadExact(ver, 2); !st.ok()) return st;
  if (ver[0] != 0 || ver[1] < 2)
    return absl::FailedPreconditionError(
        fmt::format("the target speaks VeNCrypt {}.{}; the broker needs 0.2", ver[0], ver[1]));
  if (auto st = ch.WriteAll(std::string_view("\x00\x02", 2)); !st.ok()) return st;
  uint8_t ack = 1;
  if (auto st = ch.ReadExact(&ack, 1); !st.ok()) return st;
  if (ack != 0) return absl::UnavailableError("the target refused VeNCrypt 0.2");
  uint8_t n = 0;
  if (auto st = ch.ReadExact(&n, 1); !st.ok()) return st;
  if (n == 0) return absl::FailedPreconditionError("the target offers no VeNCrypt subtype");
  std::vector<uint8_t> raw(size_t{n} * 4);
  if (auto st = ch.ReadExact(raw.data(), raw.size()); !st.ok()) return st;
  const uint32_t want = with_password ? kVeNCryptX509Vnc : kVeNCryptX509None;
  bool offered = false;
  std::string names;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t t = U32(&raw[i * 4]);
    offered = offered || t == want;
    if (!names.empty()) names += ", ";
    names += SubtypeName(t);
  }
  if (!offered)
    return absl::FailedPreconditionError(fmt::format(
        "the target offers VeNCrypt {} but not {} (anonymous TLS cannot be pinned; the broker "
        "needs an X.509 certificate and {})",
        names, SubtypeName(want),
        with_password ? "the VNC password (X509Vnc)" : "no password (X509None)"));
  std::string pick;
  PutU32(pick, want);
  if (auto st = ch.WriteAll(pick); !st.ok()) return st;
  uint8_t accepted = 0;
  if (auto st = ch.ReadExact(&accepted, 1); !st.ok()) return st;
  if (accepted != 1)
    return absl::UnavailableError(fmt::format("the target refused VeNCrypt {}", SubtypeName(want)));
  return want;
}

absl::StatusOr<ServerInitInfo> FinishHandshake(ByteChannel& ch, uint32_t subtype,
                                               const SecretBytes* password) {
  if (subtype == kVeNCryptX509Vnc) {
    if (password == nullptr) return absl::InvalidArgumentError("no VNC password for X509Vnc");
    VncChallenge challenge;
    if (auto st = ch.ReadExact(challenge.data(), challenge.size()); !st.ok()) return st;
    auto response = VncAuthResponse(password->Reveal(), challenge);
    if (!response.ok()) return response.status();
    const absl::Status sent = ch.WriteAll(
        std::string_view(reinterpret_cast<const char*>(response->data()), response->size()));
    OPENSSL_cleanse(response->data(), response->size());
    if (!sent.ok()) return sent;
  } else if (subtype != kVeNCryptX509None) {
    return absl::InvalidArgumentError("unsupported VeNCrypt subtype");
  }
  uint8_t result[4];
  if (auto st = ch.ReadExact(result, 4); !st.ok()) {
    if (subtype == kVeNCryptX509Vnc)
      return absl::UnauthenticatedError("the target closed the connection after the VNC password");
    return st;
  }
  if (U32(result) != 0) {
    auto reason = ReadReason(ch);  // RFB 3.8: the reason follows
    if (subtype == kVeNCryptX509Vnc)
      return absl::UnauthenticatedError("the target refused the vaulted VNC password");
    return absl::UnavailableError(fmt::format("the target refused the connection: {}",
                                              reason.ok() ? *reason : "no reason"));
  }
  if (auto st = ch.WriteAll(std::string_view("\x01", 1)); !st.ok()) return st;  // shared
  uint8_t head[24];
  if (auto st = ch.ReadExact(head, sizeof head); !st.ok()) return st;
  ServerInitInfo si;
  si.width = static_cast<uint16_t>((head[0] << 8) | head[1]);
  si.height = static_cast<uint16_t>((head[2] << 8) | head[3]);
  auto pf = agentless::rfb::ParsePixelFormat(
      std::string_view(reinterpret_cast<const char*>(head + 4), 16));
  if (!pf.ok())
    return absl::UnavailableError(
        fmt::format("the target sent a bad pixel format: {}", pf.status().message()));
  si.format = *pf;
  const uint32_t name_len = U32(head + 20);
  if (name_len > kMaxName) return absl::UnavailableError("the target sent an oversized desktop name");
  si.name.assign(name_len, '\0');
  if (name_len > 0) {
    if (auto st = ch.ReadExact(si.name.data(), name_len); !st.ok()) return st;
  }
  return si;
}

std::string CertificatePin(std::string_view der) {
  return "x509-sha256 " + HexEncode(Sha256(der));
}

}  // namespace portcullis::vnc
