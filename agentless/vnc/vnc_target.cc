#include "agentless/vnc/vnc_target.h"

#include <openssl/crypto.h>
#include <rfb/rfbclient.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include <fmt/format.h>

#include "agentless/vnc/tls_client.h"
#include "agentless/vnc/vencrypt.h"
#include "broker/common/absl_fmt.h"

namespace portcullis::vnc {
namespace {

// libvncclient's last log line on this thread (it logs the reason a
// handshake failed, never a password): classifies the failure. Kept to one
// line, never printed as is.
thread_local std::string g_last_log;
thread_local bool g_password_asked = false;

void CaptureLog(const char* format, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, format);
  const int n = vsnprintf(buf, sizeof buf, format, ap);
  va_end(ap);
  if (n <= 0) return;
  std::string line(buf, std::min<size_t>(static_cast<size_t>(n), sizeof buf - 1));
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (!line.empty()) g_last_log = std::move(line);
}

void SilenceLibvncclient() {
  static std::once_flag once;
  std::call_once(once, [] {
    rfbClientLog = CaptureLog;
    rfbClientErr = CaptureLog;
  });
}

// The tag under which the request rides on the rfbClient.
int g_request_tag;

char* GetPassword(rfbClient* client) {
  g_password_asked = true;
  auto* req = static_cast<const TargetRequest*>(rfbClientGetClientData(client, &g_request_tag));
  std::string_view pw;
  if (req != nullptr && req->password != nullptr) pw = req->password->Reveal();
  // libvncclient wipes and free()s it after use.
  char* out = static_cast<char*>(malloc(pw.size() + 1));
  if (out == nullptr) return nullptr;
  memcpy(out, pw.data(), pw.size());
  out[pw.size()] = '\0';
  return out;
}

bool Contains(const std::string& s, std::string_view needle) {
  return s.find(needle) != std::string::npos;
}

}  // namespace

absl::Status SplitHostPort(const std::string& address, std::string* host, uint16_t* port) {
  std::string h, p;
  if (!address.empty() && address.front() == '[') {
    const size_t end = address.find("]:");
    if (end == std::string::npos) return absl::InvalidArgumentError("bad target address");
    h = address.substr(1, end - 1);
    p = address.substr(end + 2);
  } else {
    const size_t colon = address.rfind(':');
    if (colon == std::string::npos || colon == 0)
      return absl::InvalidArgumentError("bad target address");
    h = address.substr(0, colon);
    p = address.substr(colon + 1);
  }
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos)
    return absl::InvalidArgumentError("bad target port");
  const int n = std::stoi(p);
  if (n < 1 || n > 65535) return absl::InvalidArgumentError("bad target port");
  *host = h;
  *port = static_cast<uint16_t>(n);
  return absl::OkStatus();
}

TargetLeg::TargetLeg() = default;

TargetLeg::~TargetLeg() {
  if (tls_ != nullptr) {
    tls_->Close();
    tls_.reset();
  }
  if (tls_fd_ >= 0) close(tls_fd_);
  if (client_ != nullptr) {
    // rfbClientCleanup closes the socket and frees what the library holds.
    rfbClientSetClientData(client_, &g_request_tag, nullptr);
    rfbClientCleanup(client_);
  }
}

int TargetLeg::fd() const {
  if (tls_ != nullptr) return tls_fd_;
  return client_ != nullptr ? client_->sock : -1;
}

std::string TargetLeg::tls_version() const { return tls_ != nullptr ? tls_->version() : ""; }

ssize_t TargetLeg::Read(char* buf, size_t n) {
  if (tls_ != nullptr) return tls_->Read(buf, n);
  return read(fd(), buf, n);
}

ssize_t TargetLeg::Write(const char* buf, size_t n) {
  if (tls_ != nullptr) return tls_->Write(buf, n);
  return send(fd(), buf, n, MSG_NOSIGNAL);
}

bool TargetLeg::ReadPending() const { return tls_ != nullptr && tls_->ReadPending(); }

short TargetLeg::PollEvents(bool want_read, bool want_write) const {
  if (tls_ != nullptr) return tls_->PollEvents(want_read, want_write);
  return static_cast<short>((want_read ? POLLIN : 0) | (want_write ? POLLOUT : 0));
}

std::string TargetLeg::TakeBuffered() {
  if (client_ == nullptr || client_->buffered == 0) return {};
  std::string out(client_->bufoutptr, client_->buffered);
  client_->buffered = 0;
  client_->bufoutptr = client_->buf;
  return out;
}

std::string TargetLeg::version() const {
  if (client_ != nullptr) return fmt::format("RFB {:03d}.{:03d}", client_->major, client_->minor);
  return fmt::format("RFB {:03d}.{:03d}", major_, minor_);
}

absl::StatusOr<std::unique_ptr<TargetLeg>> TargetLeg::ConnectTls(const TargetRequest& req,
                                                                 int sock,
                                                                 agentless::ConnectAbort* abort) {
  std::unique_ptr<TargetLeg> leg(new TargetLeg());
  leg->tls_fd_ = sock;  // closed with the leg from here on
  leg->tls_ = std::make_unique<TlsClient>();
  const Deadline deadline = std::chrono::steady_clock::now() + req.timeout;
  if (abort != nullptr) abort->Register(sock);
  auto run = [&]() -> absl::Status {
    const bool with_password = req.auth == TargetAuth::kVncPassword;
    SocketChannel clear(sock, deadline);
    auto subtype = NegotiateVeNCrypt(clear, with_password);
    // FailedPrecondition is the pin's to the caller: a target that wants
    // another security type is unavailable to this target's configuration.
    if (!subtype.ok() && subtype.status().code() == absl::StatusCode::kFailedPrecondition)
      return absl::UnavailableError(subtype.status().message());
    if (!subtype.ok()) return subtype.status();
    if (auto st = leg->tls_->Handshake(sock, deadline); !st.ok()) return st;
    const std::string der = leg->tls_->PeerCertificateDer();
    if (der.empty()) return absl::UnavailableError("the target presented no certificate");
    const std::string pin = CertificatePin(der);
    const bool first_use = req.pinned_certificate.empty();
    if (!first_use && req.pinned_certificate != pin)
      return absl::FailedPreconditionError(fmt::format(
          "certificate of {} changed (pinned {}..., presented {}...); the session is refused "
          "until an administrator checks it",
          req.address, req.pinned_certificate.substr(0, 28), pin.substr(0, 28)));
    if (req.accept_certificate) {
      if (auto st = req.accept_certificate(pin, first_use); !st.ok()) return st;
    }
    // Only now, to the certificate the broker trusts, the credential.
    leg->tls_->set_deadline(deadline);
    auto si = FinishHandshake(*leg->tls_, *subtype, with_password ? req.password : nullptr);
    if (!si.ok()) return si.status();
    leg->si_ = std::move(*si);
    return absl::OkStatus();
  };
  absl::Status st = run();
  if (abort != nullptr) abort->Unregister();
  if (abort != nullptr && abort->aborted()) return absl::CancelledError("the broker is stopping");
  if (!st.ok()) return st;
  return leg;
}

absl::StatusOr<std::unique_ptr<TargetLeg>> TargetLeg::Connect(const TargetRequest& req,
                                                              agentless::ConnectAbort* abort) {
  SilenceLibvncclient();
  std::string host;
  uint16_t port = 0;
  if (auto st = SplitHostPort(req.address, &host, &port); !st.ok()) return st;
  auto sock = agentless::TcpConnect(host, port, req.timeout, abort);
  if (!sock.ok()) return sock.status();
  if (req.tls) return ConnectTls(req, *sock, abort);
  std::unique_ptr<TargetLeg> leg(new TargetLeg());
  // 8 bits per sample, 3 samples, 4 bytes per pixel: only used for
  // libvncclient's own defaults; it never sends this pixel format.
  leg->client_ = rfbGetClient(8, 3, 4);
  if (leg->client_ == nullptr) {
    close(*sock);
    return absl::ResourceExhaustedError("out of memory");
  }
  rfbClient* c = leg->client_;
  c->sock = *sock;  // closed by rfbClientCleanup from here on
  // libvncclient reads with select()/recv on a blocking socket.
  const int flags = fcntl(c->sock, F_GETFL);
  if (flags >= 0) (void)fcntl(c->sock, F_SETFL, flags & ~O_NONBLOCK);
  free(c->serverHost);
  c->serverHost = strdup(host.c_str());
  c->serverPort = port;
  c->appData.shareDesktop = TRUE;
  c->connectTimeout = static_cast<unsigned int>(
      std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::seconds>(req.timeout).count()));
  c->readTimeout = c->connectTimeout;
  c->GetPassword = GetPassword;
  rfbClientSetClientData(c, &g_request_tag, const_cast<TargetRequest*>(&req));
  const uint32_t schemes[] = {req.auth == TargetAuth::kVncPassword ? uint32_t{rfbVncAuth}
                                                                   : uint32_t{rfbNoAuth}};
  SetClientAuthSchemes(c, schemes, 1);

  if (abort != nullptr) abort->Register(c->sock);
  g_last_log.clear();
  g_password_asked = false;
  const bool ok = InitialiseRFBConnection(c) != 0;
  if (abort != nullptr) abort->Unregister();
  rfbClientSetClientData(c, &g_request_tag, nullptr);
  const std::string why = g_last_log;
  g_last_log.clear();
  if (abort != nullptr && abort->aborted()) return absl::CancelledError("the broker is stopping");
  if (!ok) {
    // The password is asked for once the target chose VncAuth; a failure
    // after that is its SecurityResult (or its closing the connection).
    if (g_password_asked || Contains(why, "uthentication fail"))
      return absl::UnauthenticatedError("the target refused the vaulted VNC password");
    if (Contains(why, "nknown authentication") || Contains(why, "No suitable") ||
        Contains(why, "security type") || Contains(why, "authentication scheme"))
      return absl::UnavailableError(
          req.auth == TargetAuth::kVncPassword
              ? "the target offers no VNC password authentication"
              : "the target asks for authentication but none is configured");
    if (Contains(why, "Not a valid VNC server") || Contains(why, "not a valid") ||
        Contains(why, "protocol version"))
      return absl::UnavailableError(fmt::format("{} does not speak RFB", req.address));
    return absl::UnavailableError(
        fmt::format("the RFB handshake with {} failed", req.address));
  }
  ServerInitInfo& si = leg->si_;
  si.width = c->si.framebufferWidth;
  si.height = c->si.framebufferHeight;
  const rfbPixelFormat& f = c->si.format;
  si.format.bits_per_pixel = f.bitsPerPixel;
  si.format.depth = f.depth;
  si.format.big_endian = f.bigEndian != 0;
  si.format.true_colour = f.trueColour != 0;
  si.format.red_max = f.redMax;
  si.format.green_max = f.greenMax;
  si.format.blue_max = f.blueMax;
  si.format.red_shift = f.redShift;
  si.format.green_shift = f.greenShift;
  si.format.blue_shift = f.blueShift;
  si.name = c->desktopName != nullptr ? c->desktopName : "";
  return leg;
}

}  // namespace portcullis::vnc
