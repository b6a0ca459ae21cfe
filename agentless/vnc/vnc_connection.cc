#include "agentless/vnc/vnc_connection.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agentless/vnc/rfb/client_messages.h"
#include "agentless/vnc/rfb/server_stream.h"
#include "agentless/vnc/vnc_handshake.h"
#include "agentless/vnc/vnc_target.h"
#include "broker/common/absl_fmt.h"
#include "broker/common/encoding.h"

namespace portcullis::vnc {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kBurstGap = std::chrono::seconds(2);
// Recorder bytes not yet on disk beyond which the target is not read.
constexpr size_t kRecorderBacklogLimit = 32u << 20;

void SetNonBlocking(int fd) {
  const int flags = fcntl(fd, F_GETFL);
  if (flags >= 0) (void)fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

// A byte queue written from the front.
struct Queue {
  std::string data;
  size_t off = 0;
  size_t size() const { return data.size() - off; }
  bool empty() const { return size() == 0; }
  void Append(std::string_view b) {
    if (off > 0 && off == data.size()) {
      data.clear();
      off = 0;
    }
    data.append(b);
  }
  // Writes what it can through `write` (as send(2)); false if the peer is
  // gone.
  template <typename Write>
  bool Flush(Write&& write, uint64_t* sent) {
    while (!empty()) {
      const ssize_t w = write(data.data() + off, size());
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (w <= 0) return false;
      off += static_cast<size_t>(w);
      *sent += static_cast<uint64_t>(w);
    }
    if (off == data.size()) {
      data.clear();
      off = 0;
    } else if (off > (1u << 20)) {
      data.erase(0, off);
      off = 0;
    }
    return true;
  }
};

// Drives the recorder from the target's decoded stream.
class RecordingEvents final : public agentless::rfb::ServerEvents {
 public:
  RecordingEvents(session::GraphicalRecorder* rec, const agentless::rfb::ServerStream* stream)
      : rec_(rec), stream_(stream) {}
  void Resized(int width, int height) override {
    damage_.clear();
    rec_->Resize(width, height);
  }
  void Damaged(int x, int y, int w, int h) override { damage_.push_back({x, y, w, h}); }
  void UpdateEnd() override {
    const uint8_t* fb = stream_->framebuffer();
    const size_t stride = stream_->stride();
    for (const Rect& r : damage_) {
      if (r.w <= 0 || r.h <= 0) continue;
      rec_->Frame(r.x, r.y, r.w, r.h, fb + static_cast<size_t>(r.y) * stride + static_cast<size_t>(r.x) * 4,
                  stride);
    }
    damage_.clear();
  }
  void CursorShape(int hot_x, int hot_y, int w, int h, const uint8_t* bgra) override {
    rec_->Cursor(hot_x, hot_y, w, h, bgra);
  }
  void CutText(std::string_view latin1) override { rec_->Clipboard(latin1, false); }
  void DesktopName(std::string_view utf8) override {
    rec_->Marker(fmt::format("desktop name: {}", utf8.substr(0, 200)));
  }

 private:
  struct Rect {
    int x, y, w, h;
  };
  session::GraphicalRecorder* rec_;
  const agentless::rfb::ServerStream* stream_;
  std::vector<Rect> damage_;
};

}  // namespace

VncRoleOptions RoleOptionsOf(const policy::Decision& d) {
  VncRoleOptions o;
  o.view_only = d.view_only;
  o.clipboard = d.clipboard == policy::Clipboard::kToTarget || d.clipboard == policy::Clipboard::kBoth;
  o.clipboard_from_target =
      d.clipboard == policy::Clipboard::kFromTarget || d.clipboard == policy::Clipboard::kBoth;
  return o;
}

VncConnection::VncConnection(const VncServices& services, agentless::UniqueFd viewer,
                             std::string source, std::function<void()> authenticated)
    : ProxySession(services.session, "vnc", std::move(source)),
      vnc_(services),
      viewer_(std::move(viewer)),
      on_authenticated_(std::move(authenticated)) {
  viewer_abort_.Register(viewer_.get());
}

VncConnection::~VncConnection() = default;

void VncConnection::AbortUnauthenticated() { viewer_abort_.Abort(); }

void VncConnection::Shutdown() {
  RequestEnd(session::EndReason::kShutdown, "portcullis: the broker is shutting down; closing.");
  connect_abort_.Abort();
}

session::AdmissionRequest VncConnection::Request() const {
  session::AdmissionRequest r;
  r.user = grant_.user;
  r.roles = grant_.roles;
  r.source = source();
  r.session_id = id();
  r.target = grant_.target;
  r.login = "";
  r.protocol = policy::Protocol::kVnc;
  return r;
}

void VncConnection::OpenTarget() {
  session::Admitter& admitter = *services().admitter;
  const session::AdmissionRequest req = Request();
  auto admitted = admitter.Admit(req);
  if (!admitted.ok()) {
    denial_ = std::string(admitted.status().message());
    return;
  }
  const session::Admission& a = *admitted;
  TargetRequest treq;
  treq.address = a.target.address;
  treq.timeout = vnc_.settings.target_timeout;
  // A modern VNC target is reached over VeNCrypt with its certificate
  // pinned (trust on first use as for SSH host keys); legacy in the clear.
  treq.tls = a.target.crypto_profile != "legacy";
  treq.pinned_certificate = a.target.host_key;
  absl::Status host_key_status;
  treq.accept_certificate = [&](const std::string& pin, bool first_use) {
    host_key_status = admitter.AcceptHostKey(req, a, pin, first_use);
    return host_key_status;
  };
  std::optional<SecretBytes> password;
  if (a.target.auth == "password") {
    auto secret = admitter.OpenSecret(req, a);
    if (!secret.ok()) {
      denial_ = admitter.ConnectFailed(req, a, secret.status());
      return;
    }
    password.emplace(std::move(*secret));
    treq.auth = TargetAuth::kVncPassword;
    treq.password = &*password;
  } else if (a.target.auth == "none") {
    treq.auth = TargetAuth::kNone;
  } else {
    denial_ = admitter.ConnectFailed(
        req, a,
        absl::FailedPreconditionError(fmt::format(
            "{} uses auth {}, which VNC targets do not support", a.target.name, a.target.auth)));
    return;
  }
  auto leg = TargetLeg::Connect(treq, &connect_abort_);
  password.reset();  // wiped
  if (!leg.ok()) {
    if (leg.status().code() == absl::StatusCode::kCancelled) {
      denial_ = "portcullis: the broker is shutting down";
      end_reason_ = session::EndReason::kShutdown;
      return;
    }
    // FailedPrecondition: the certificate differs from the pin (the
    // admitter audits target.host_key_mismatch). A pin that lost a race
    // (AcceptHostKey's own error) is already audited and is the user's line.
    if (!host_key_status.ok()) {
      denial_ = std::string(host_key_status.message());
      return;
    }
    denial_ = admitter.ConnectFailed(req, a, leg.status());
    return;
  }
  if (!(*leg)->server_init().format.true_colour) {
    denial_ = admitter.ConnectFailed(
        req, a,
        absl::UnavailableError(fmt::format(
            "{} uses a colour-map pixel format, which the broker does not relay", a.target.name)));
    return;
  }
  session::RecordingInfo info;
  info.session_id = id();
  info.channel = 0;
  info.user = grant_.user;
  info.login = a.login();
  info.target = a.target.name;
  info.protocol = "vnc";
  info.source = source();
  info.target_address = a.target.address;
  info.cols = (*leg)->server_init().width;
  info.rows = (*leg)->server_init().height;
  info.record_input = true;  // a graphical recording always keeps its input events
  info.started = clock().Now();
  info.roles = grant_.roles;
  info.rule = a.decision.reason;
  auto rec = services().recorders->OpenGraphical(info);
  if (!rec.ok()) {
    spdlog::error("[{}] vnc: cannot open the recording: {}", id(), rec.status().message());
    Audit("session.refused", a.target.name, "denied",
          {{"reason", fmt::format("recording unavailable: {}", rec.status().message())}});
    denial_ = "portcullis: the session cannot be recorded; refused";
    return;
  }
  recorder_ = std::move(*rec);
  target_ = std::move(*leg);
  options_ = RoleOptionsOf(a.decision);
  admission_ = std::move(*admitted);
}

void VncConnection::Run() {
  ViewerHandshake hs(viewer_.get(), vnc_.settings.io_timeout);
  auto grant = hs.ReadTicket(SourceAddress(source()), *vnc_.tickets);
  viewer_abort_.Unregister();
  if (!grant.ok()) {
    const absl::Status& st = grant.status();
    spdlog::info("vnc: {} not authenticated: {}", source(), st.message());
    if (st.code() != absl::StatusCode::kPermissionDenied) {
      // Not a viewer, an unsupported one, or one that stalled or left
      // before presenting a ticket (the redeemer audits a refused ticket).
      Audit("vnc.handshake_failed", "vnc-listener", "failure",
            {{"error", std::string(st.message()).substr(0, 200)}});
    }
    return;
  }
  grant_ = std::move(*grant);
  SetActor(grant_.user);
  if (on_authenticated_) on_authenticated_();
  AssignId();
  OpenTarget();

  Listing l;
  l.user = grant_.user;
  l.target = admission_ ? admission_->target.name : grant_.target;
  l.role = admission_ ? admission_->decision.role : "";
  if (admission_ && admission_->decision.max_session.count() > 0)
    l.deadline = clock().Now() + admission_->decision.max_session;
  Register(std::move(l));
  if (!Audit("session.start", grant_.target, denial_ ? "denied" : "success",
             {{"login", ""},
              {"auth", "ticket"},
              {"ticket", grant_.ticket_id},
              {"cert_serial", 0},
              {"role", admission_ ? admission_->decision.role : ""}})) {
    if (!denial_) denial_ = "portcullis: the audit log is unavailable";
  }
  if (denial_) {
    spdlog::info("[{}] vnc: {} refused: {}", id(), grant_.user, *denial_);
    hs.Refuse(*denial_);
    if (end_reason_ != session::EndReason::kShutdown) end_reason_ = session::EndReason::kError;
  } else if (auto st = hs.Accept(); !st.ok()) {
    end_reason_ = session::EndReason::kClientClosed;
  } else {
    ServerInitInfo si = target_->server_init();
    if (auto st2 = hs.SendServerInit(si); !st2.ok()) {
      end_reason_ = session::EndReason::kClientClosed;
    } else {
      spdlog::info("[{}] vnc: {} -> {} ({}, {}x{}, viewer 3.{})", id(), grant_.user,
                   admission_->target.name, target_->version(), si.width, si.height, hs.minor());
      Relay();
    }
  }
  Finish();
}

void VncConnection::EndWith(session::EndReason reason, const std::string& why) {
  if (ending_) return;
  ending_ = true;
  end_reason_ = reason;
  if (!why.empty()) spdlog::info("[{}] vnc: {}", id(), why);
}

void VncConnection::Relay() {
  namespace rfb = agentless::rfb;
  const std::string target_name = admission_->target.name;
  const int vfd = viewer_.get();
  const int tfd = target_->fd();
  SetNonBlocking(vfd);
  SetNonBlocking(tfd);
  const ServerInitInfo& si = target_->server_init();
  rfb::ServerStream stream(si.format, si.width, si.height);
  RecordingEvents events(recorder_.get(), &stream);
  rfb::ClientMessageParser parser;
  recorder_->Resize(si.width, si.height);

  Queue to_viewer, to_target;
  std::vector<rfb::ClientMessage> msgs;
  std::string buf(256u << 10, '\0');
  uint64_t up = 0, down = 0;

  // view_only: one audit row per burst of dropped input.
  bool burst = false;
  uint64_t burst_keys = 0, burst_pointer = 0, burst_resize = 0;
  Clock::time_point last_drop{};
  auto close_burst = [&]() {
    if (!burst) return;
    burst = false;
    Audit("vnc.input_dropped", target_name, "denied",
          {{"keys", burst_keys}, {"pointer", burst_pointer}, {"resize", burst_resize},
           {"reason", "view_only"}});
    burst_keys = burst_pointer = burst_resize = 0;
  };
  auto drop = [&](uint64_t* counter) {
    ++*counter;
    burst = true;
    last_drop = Clock::now();
  };
  bool clipboard_refusal_audited = false;
  bool target_closed = false;

  // The target's clipboard (ServerCutText) reaches the viewer only if the
  // role allows it: otherwise those messages are cut out of the forwarded
  // bytes, and one that is not complete yet is held back from its first
  // byte. Everything else is forwarded as it came, without a second copy
  // unless something is held back.
  const bool strip_cut_text = !options_.clipboard_from_target;
  uint64_t forwarded_to = 0;  // stream offset of held[0]
  std::string held;
  bool clipboard_from_target_audited = false;
  auto from_target = [&](std::string_view bytes) {
    if (bytes.empty()) return;
    if (auto st = stream.Feed(bytes, events); !st.ok()) {
      Audit("vnc.protocol_error", target_name, "failure",
            {{"from", "target"}, {"error", std::string(st.message()).substr(0, 200)}});
      EndWith(session::EndReason::kError,
              fmt::format("the target sent malformed data: {}", st.message()));
      return;
    }
    if (!strip_cut_text) {
      to_viewer.Append(bytes);
      return;
    }
    const auto cuts = stream.TakeCutTextRanges();
    const uint64_t safe = stream.ForwardableUntil();
    if (held.empty() && cuts.empty() && safe == forwarded_to + bytes.size()) {
      to_viewer.Append(bytes);
      forwarded_to = safe;
      return;
    }
    held.append(bytes);
    size_t pos = 0;  // into held
    for (const auto& [begin, end] : cuts) {
      const size_t b = static_cast<size_t>(begin - forwarded_to);
      const size_t e = static_cast<size_t>(end - forwarded_to);
      if (b > pos) to_viewer.Append(std::string_view(held).substr(pos, b - pos));
      pos = e;
      if (!clipboard_from_target_audited) {
        clipboard_from_target_audited = true;
        Audit("vnc.clipboard", target_name, "denied",
              {{"direction", "to-viewer"},
               {"bytes", static_cast<uint64_t>(end - begin - 8)},
               {"sha256", HexEncode(Sha256(held.substr(b + 8, e - b - 8)))},
               {"reason", "clipboard not allowed by the role"}});
      }
    }
    const size_t upto = static_cast<size_t>(safe - forwarded_to);
    if (upto > pos) to_viewer.Append(std::string_view(held).substr(pos, upto - pos));
    held.erase(0, upto);
    forwarded_to = safe;
  };
  from_target(target_->TakeBuffered());

  auto handle = [&](rfb::ClientMessage& m) {
    using T = rfb::ClientMessage::Type;
    switch (m.type) {
      case T::kSetPixelFormat:
        if (!m.pixel_format.true_colour) {
          Audit("vnc.protocol_error", target_name, "failure",
                {{"from", "viewer"}, {"error", "colour-map pixel formats are not relayed"}});
          EndWith(session::EndReason::kError, "the viewer asked for a colour-map pixel format");
          return;
        }
        stream.SetPixelFormat(m.pixel_format);
        break;
      case T::kSetEncodings:
        stream.SetEncodings(m.encodings);
        break;
      case T::kUpdateRequest:
        break;
      case T::kKey:
        if (options_.view_only) return drop(&burst_keys);
        recorder_->Key(m.keysym, m.down);
        break;
      case T::kPointer:
        if (options_.view_only) return drop(&burst_pointer);
        recorder_->Pointer(m.x, m.y, m.button_mask);
        break;
      case T::kSetDesktopSize:
        if (options_.view_only) return drop(&burst_resize);
        break;
      case T::kCutText: {
        const bool allowed =
            options_.clipboard && !options_.view_only && m.text.size() <= vnc_.settings.max_clipboard;
        const std::string sha = HexEncode(Sha256(m.text));
        if (!allowed) {
          if (!clipboard_refusal_audited) {
            clipboard_refusal_audited = true;
            Audit("vnc.clipboard", target_name, "denied",
                  {{"direction", "to-target"}, {"bytes", m.text.size()}, {"sha256", sha},
                   {"reason", options_.clipboard ? "too long" : "clipboard not allowed by the role"}});
          }
          return;
        }
        recorder_->Clipboard(m.text, true);
        Audit("vnc.clipboard", target_name, "forwarded",
              {{"direction", "to-target"}, {"bytes", m.text.size()}, {"sha256", sha}});
        break;
      }
    }
    to_target.Append(m.wire);
  };

  while (!ending_) {
    agentless::Mailbox::Mail mail = mailbox().Take();
    if (mail.end) {
      Audit("session.ending", target_name, std::string(session::EndReasonName(mail.end->reason)),
            {{"notice", mail.end->notice}});
      EndWith(mail.end->reason, mail.end->notice);
      break;
    }
    if (auto h = recorder_->Health(); !h.ok()) {
      spdlog::error("[{}] vnc: recording failed: {}", id(), h.message());
      EndWith(session::EndReason::kRecordingFailed, "the recording cannot be written");
      break;
    }
    if (burst && Clock::now() - last_drop >= kBurstGap) close_burst();
    if (target_closed && to_viewer.empty()) {
      EndWith(session::EndReason::kTargetClosed, "the target closed the connection");
      break;
    }
    const bool recorder_behind = recorder_->Backlog() > kRecorderBacklogLimit;
    pollfd p[3] = {};
    p[0].fd = vfd;
    p[0].events = static_cast<short>((to_target.size() < vnc_.settings.target_queue_limit ? POLLIN : 0) |
                                     (to_viewer.empty() ? 0 : POLLOUT));
    const bool target_readable =
        to_viewer.size() < vnc_.settings.viewer_queue_limit && !recorder_behind;
    p[1].fd = target_closed ? -1 : tfd;
    p[1].events = target_->PollEvents(target_readable, !to_target.empty());
    p[2].fd = mailbox().fd();
    p[2].events = POLLIN;
    // Bytes TLS already decrypted do not wake poll: read them at once.
    const bool pending = !target_closed && target_readable && target_->ReadPending();
    // The recorder's flush of a picture that went still is due in `tick`.
    const int tick = static_cast<int>(std::min<int64_t>(recorder_->Tick().count(), 1000));
    const int timeout = pending ? 0 : recorder_behind ? 5 : std::min(burst ? 250 : 1000, tick);
    const int rc = poll(p, 3, timeout);
    if (rc < 0) {
      if (errno == EINTR) continue;
      EndWith(session::EndReason::kError, "poll failed");
      break;
    }
    if (p[2].revents & POLLIN) mailbox().Drain();
    // Viewer -> target.
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      const ssize_t n = read(vfd, buf.data(), buf.size());
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR && errno != EWOULDBLOCK)) {
        EndWith(session::EndReason::kClientClosed, "");
        break;
      }
      if (n > 0) {
        msgs.clear();
        if (auto st = parser.Feed(std::string_view(buf.data(), static_cast<size_t>(n)), &msgs);
            !st.ok()) {
          Audit("vnc.protocol_error", target_name, "failure",
                {{"from", "viewer"}, {"error", std::string(st.message()).substr(0, 200)}});
          EndWith(session::EndReason::kError,
                  fmt::format("the viewer sent a refused message: {}", st.message()));
          break;
        }
        for (auto& m : msgs) {
          handle(m);
          if (ending_) break;
        }
        if (ending_) break;
      }
    }
    // Target -> viewer.
    if (!target_closed && (pending || (p[1].revents & (POLLIN | POLLHUP | POLLERR)) ||
                           ((p[1].revents & POLLOUT) && to_target.empty()))) {
      const ssize_t n = target_->Read(buf.data(), buf.size());
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR && errno != EWOULDBLOCK)) {
        target_closed = true;
      } else if (n > 0) {
        from_target(std::string_view(buf.data(), static_cast<size_t>(n)));
        if (ending_) break;
      }
    }
    if (!to_target.empty() && !target_closed) {
      uint64_t sent = 0;
      if (!to_target.Flush([&](const char* d, size_t n) { return target_->Write(d, n); }, &sent))
        target_closed = true;
      up += sent;
      AddBytesUp(sent);
    }
    if (!to_viewer.empty()) {
      uint64_t sent = 0;
      if (!to_viewer.Flush(
              [vfd](const char* d, size_t n) { return send(vfd, d, n, MSG_NOSIGNAL); }, &sent)) {
        EndWith(session::EndReason::kClientClosed, "");
        break;
      }
      down += sent;
      AddBytesDown(sent);
    }
  }
  close_burst();
  (void)up;
  (void)down;
}

void VncConnection::Finish() {
  if (recorder_) {
    if (auto st = recorder_->Close(session::EndReasonName(end_reason_)); !st.ok())
      spdlog::error("[{}] vnc: recording: {}", id(), st.message());
  }
  // Both sockets close now: the viewer's, and the target's with libvncclient.
  if (viewer_.get() >= 0) shutdown(viewer_.get(), SHUT_RDWR);
  target_.reset();
  viewer_.Reset();
  AuditEnd(admission_ ? admission_->target.name : grant_.target, end_reason_);
  Unregister();
}

}  // namespace portcullis::vnc
