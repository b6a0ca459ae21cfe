#include "agentless/ssh/ssh_connection.h"

#include <fmt/format.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agentless/ssh/ssh_channels.h"
#include "agentless/ssh/target_connector.h"
#include "broker/common/absl_fmt.h"
#include "broker/common/time_format.h"

namespace portcullis::ssh {

SshConnection::SshConnection(const SshServices& services, SshSessionPtr client,
                             std::string source)
    : ProxySession(services.session, "ssh", std::move(source)),
      ssh_(services),
      client_(std::move(client)) {
  // Our own duplicate of the client socket for AbortUnauthenticated(): the
  // number libssh holds may be closed on the owner thread at any time (a
  // client's disconnect message, a socket error) and then reused by another
  // connection, which a shutdown(2) by number from another thread would cut.
  client_abort_.Register(ssh_get_fd(client_.get()));
}

SshConnection::~SshConnection() {
  channels_.clear();  // frees channels before their sessions
  if (event_) {
    if (client_) ssh_event_remove_session(event_.get(), client_.get());
    if (target_) ssh_event_remove_session(event_.get(), target_.get());
    if (mailbox().valid()) ssh_event_remove_fd(event_.get(), mailbox().fd());
  }
  event_.reset();
  target_.reset();
  client_.reset();
}

void SshConnection::AbortUnauthenticated() {
  // Shuts the duplicate down (any thread): the owner's poll wakes up and
  // libssh sees the socket closed.
  client_abort_.Abort();
}

void SshConnection::Shutdown() {
  RequestEnd(session::EndReason::kShutdown, "portcullis: the broker is shutting down; closing.");
  AbortConnect();
}

bool SshConnection::Handshake() {
  const long timeout = static_cast<long>(ssh_.settings.auth_timeout.count());
  ssh_options_set(client_.get(), SSH_OPTIONS_TIMEOUT, &timeout);
  if (ssh_handle_key_exchange(client_.get()) != SSH_OK) {
    const std::string err = ssh_get_error(client_.get());
    spdlog::info("ssh: handshake with {} failed: {}", source(), err);
    Audit("ssh.handshake_failed", "ssh-listener", "failure", {{"error", err.substr(0, 200)}});
    return false;
  }
  auto result = AuthenticateClient(client_.get(), ssh_.auth, source());
  if (!result.ok()) {
    spdlog::info("ssh: {} not authenticated: {}", source(), result.status().message());
    return false;
  }
  identity_ = result->identity;
  address_ = result->address;
  auth_method_ = result->method;
  SetActor(identity_.user);
  authenticated_ = true;
  if (on_authenticated_) on_authenticated_();
  return true;
}

void SshConnection::AuditDecision(session::RequestKind kind, const std::string& subject,
                                  const policy::Decision& d, nlohmann::json extra) {
  auto st = admitter().AuditDecision(
      Request(target_name_, login_.empty() ? address_.login : login_), subject, kind, d,
      std::move(extra));
  if (!st.ok()) {
    spdlog::error("[{}] cannot write audit event policy.decision: {}", id(), st.message());
    RequestEnd(session::EndReason::kError, "portcullis: the audit log is unavailable; closing.");
  }
}

policy::Decision SshConnection::Refusal(const policy::Decision& base, std::string rule,
                                        std::string reason) {
  policy::Decision d;
  d.allowed = false;
  d.role = base.role;
  d.rule = std::move(rule);
  d.reason = std::move(reason);
  return d;
}

session::AdmissionRequest SshConnection::Request(const std::string& target,
                                                 const std::string& login) const {
  session::AdmissionRequest r;
  r.user = identity_.user;
  r.roles = identity_.roles;
  r.source = source();
  r.session_id = id();
  r.target = target;
  r.login = login;
  r.protocol = policy::Protocol::kSsh;
  return r;
}

void SshConnection::OpenTarget(const SshAddress& addr) {
  session::Admitter& admitter = this->admitter();
  const session::AdmissionRequest req = Request(addr.target, addr.login);
  // Local until the target is connected: a failed attempt must not leave
  // its decision in force for a target admitted by another one.
  auto admitted = admitter.Admit(req);
  if (!admitted.ok()) {
    denial_ = std::string(admitted.status().message());
    return;
  }
  const session::Admission& a = *admitted;
  TargetEndpoint ep;
  ep.name = a.target.name;
  ep.address = a.target.address;
  ep.login = a.login();
  ep.crypto_profile = a.target.crypto_profile;
  ep.pinned_host_key = a.target.host_key;
  ep.timeout = ssh_.settings.target_timeout;
  ep.abort = &connect_abort_;
  const bool tunnels = !a.decision.tunnels.empty();
  // The target's auth mode picks the credential: a certificate from the CA,
  // or the secret vaulted for this login, opened by the Authority only once
  // the target's host key checked out.
  TargetCredential cred;
  cred.mode = a.target.auth == "password" ? TargetAuthMode::kPassword
              : a.target.auth == "key"    ? TargetAuthMode::kKey
                                          : TargetAuthMode::kCertificate;
  cred.mint = [&](const std::string& blob) {
    return admitter.IssueCertificate(req, a, blob, tunnels);
  };
  cred.fetch_secret = [&]() { return admitter.OpenSecret(req, a); };
  // The host key is accepted (and pinned on first use) before any
  // credential goes to the target.
  absl::Status host_key_status;
  ep.accept_host_key = [&](const std::string& key, bool first_use) {
    host_key_status = admitter.AcceptHostKey(req, a, key, first_use);
    return host_key_status;
  };
  auto conn = ConnectTarget(ep, cred);
  if (!host_key_status.ok()) {
    denial_ = std::string(host_key_status.message());
    return;
  }
  if (!conn.ok()) {
    denial_ = admitter.ConnectFailed(req, a, conn.status());
    return;
  }
  // Connected: the decision that admitted this target is the one in force
  // for every channel of the connection.
  decision_ = a.decision;
  login_ = a.login();
  target_address_ = a.target.address;
  cert_serial_ = conn->cert.serial;
  target_ = std::move(conn->session);
  target_name_ = a.target.name;
  admission_ = std::move(*admitted);
  ssh_set_blocking(target_.get(), 0);
}

bool SshConnection::OpenTargetChannel(ChannelPair* p) {
  if (p->target != nullptr) return true;
  if (!target_) return false;
  ssh_channel t = ssh_channel_new(target_.get());
  if (t == nullptr) return false;
  ssh_set_blocking(target_.get(), 1);
  bool ok = ssh_channel_open_session(t) == SSH_OK &&
            (!p->pty ||
             ssh_channel_request_pty_size(t, p->term.c_str(), p->cols, p->rows) == SSH_OK);
  ssh_set_blocking(target_.get(), 0);
  if (!ok) {
    ssh_channel_free(t);
    return false;
  }
  p->AttachTarget(t);
  return true;
}

void SshConnection::RegisterSession() {
  Listing l;
  l.user = identity_.user;
  l.login = login_;
  l.target = target_name_.empty() ? "(menu)" : target_name_;
  l.role = decision_.role;
  if (target_ && decision_.max_session.count() > 0)
    l.deadline = clock().Now() + decision_.max_session;
  Register(std::move(l));
}

void SshConnection::Run() {
  const bool authenticated = Handshake();
  // Nothing calls AbortUnauthenticated() any more (the listener stops once
  // the authenticated hook ran, and a failed handshake ends the
  // connection): the duplicate goes, so that the socket closes with libssh's
  // descriptor (ssh_disconnect, ssh_free) and not later.
  client_abort_.Unregister();
  if (!authenticated) return;
  AssignId();
  if (!address_.target.empty()) OpenTarget(address_);
  RegisterSession();
  Audit("session.start", address_.target.empty() ? "(menu)" : address_.target,
        denial_ ? "denied" : "success",
        {{"login", login_},
         {"auth", auth_method_},
         {"cert_serial", cert_serial_},
         {"role", decision_.role}});
  if (connect_abort_.aborted()) {
    // The broker is stopping: the target never answered, so there is
    // nothing to relay.
    end_reason_ = session::EndReason::kShutdown;
  } else {
    Relay();
  }
  Finish();
}

int SshConnection::OnWakeup(socket_t, int, void* userdata) {
  static_cast<SshConnection*>(userdata)->mailbox().Drain();
  return 0;
}

void SshConnection::HandleWakeup() {
  // The relay loop calls this after every poll: Take() stays off the mutex
  // unless another thread posted something.
  agentless::Mailbox::Mail mail = mailbox().Take();
  if (mail.empty()) return;
  for (const auto& line : mail.notices) {
    for (auto& p : channels_) {
      if (p->kind == ChannelPair::Kind::kSession &&
          (p->mode == ChannelPair::Mode::kRelay || p->mode == ChannelPair::Mode::kMenu))
        p->TellUser(line);
    }
  }
  if (mail.end && !ending_) {
    ending_ = true;
    end_reason_ = mail.end->reason;
    Audit("session.ending", target_name_, std::string(session::EndReasonName(mail.end->reason)),
          {{"notice", mail.end->notice}});
    EndAll(mail.end->notice);
  }
}

void SshConnection::EndAll(const std::string& notice) {
  for (auto& p : channels_) p->Close(notice);
}

int SshConnection::OnMessage(ssh_session, ssh_message msg, void* userdata) {
  auto* self = static_cast<SshConnection*>(userdata);
  if (ssh_message_type(msg) == SSH_REQUEST_CHANNEL_OPEN &&
      ssh_message_subtype(msg) == SSH_CHANNEL_DIRECT_TCPIP) {
    return self->OpenTunnel(msg);
  }
  if (ssh_message_type(msg) == SSH_REQUEST_CHANNEL_OPEN ||
      ssh_message_type(msg) == SSH_REQUEST_GLOBAL) {
    // x11, forwarded-tcpip, auth-agent, tcpip-forward (remote forwarding):
    // refused.
    spdlog::info("[{}] refused channel open / global request type {}", self->id(),
                 ssh_message_subtype(msg));
  }
  return 1;  // libssh sends the default (refusing) reply
}

ssh_channel SshConnection::OnSessionChannelOpen(ssh_session, void* userdata) {
  auto* self = static_cast<SshConnection*>(userdata);
  if (self->ending_) return nullptr;
  if (!self->ChannelAllowed("session")) return nullptr;  // "administratively prohibited"
  auto p = std::make_unique<ChannelPair>(self, ChannelPair::Kind::kSession);
  if (self->target_ && !self->denial_ && !self->OpenTargetChannel(p.get())) return nullptr;
  ssh_channel c = ssh_channel_new(self->client_.get());
  if (c == nullptr) return nullptr;
  p->AttachClient(c);
  self->channels_.push_back(std::move(p));
  return c;
}

bool SshConnection::ChannelAllowed(const char* kind) {
  const size_t cap = static_cast<size_t>(ssh_.settings.max_channels_per_connection);
  // Done pairs no peer waits on are freed at the next pump: not counted.
  size_t open = 0;
  for (const auto& p : channels_) open += p->mode != ChannelPair::Mode::kDone || p->Lingering();
  if (open < cap) return true;
  spdlog::info("[{}] refused a {} channel: {} channels are open on this connection (limit {})",
               id(), kind, open, cap);
  if (!channel_cap_audited_) {
    channel_cap_audited_ = true;
    Audit("ssh.channel_refused", target_name_.empty() ? "(none)" : target_name_, "denied",
          {{"channel", kind},
           {"reason", "too many channels on this connection"},
           {"limit", cap}});
    for (auto& p : channels_) {
      if (p->kind == ChannelPair::Kind::kSession &&
          (p->mode == ChannelPair::Mode::kRelay || p->mode == ChannelPair::Mode::kMenu))
        p->TellUser(fmt::format("portcullis: a new channel was refused: this connection already "
                                "has {} channels open (ssh.max_channels_per_connection)",
                                cap));
    }
  }
  return false;
}

void SshConnection::Relay() {
  ssh_set_blocking(client_.get(), 0);
  event_.reset(ssh_event_new());
  if (!event_ || !mailbox().valid()) return;
  ssh_event_add_fd(event_.get(), mailbox().fd(), POLLIN, OnWakeup, this);
  ssh_callbacks_init(&server_cb_);
  server_cb_.userdata = this;
  server_cb_.channel_open_request_session_function = OnSessionChannelOpen;
  ssh_set_server_callbacks(client_.get(), &server_cb_);
  ssh_set_message_callback(client_.get(), OnMessage, this);
  ssh_event_add_session(event_.get(), client_.get());
  if (target_) ssh_event_add_session(event_.get(), target_.get());
  bool target_lost = false;
  for (;;) {
    Pump();
    HandleWakeup();
    if (!ssh_is_connected(client_.get())) {
      if (!ending_) end_reason_ = session::EndReason::kClientClosed;
      break;
    }
    if (target_ && !ssh_is_connected(target_.get()) && !target_lost) {
      target_lost = true;
      ending_ = true;
      end_reason_ = session::EndReason::kTargetClosed;
      Pump();  // deliver what already arrived
      EndAll(fmt::format("portcullis: the connection to {} was lost", target_name_));
    }
    if (ending_) {
      bool open = false;
      for (auto& p : channels_) open |= p->mode != ChannelPair::Mode::kDone;
      if (!open) break;
    }
    // The recording writer has no way to wake this loop: while a channel
    // waits for it, poll again soon.
    bool recorder_wait = false;
    for (auto& p : channels_) recorder_wait |= p->WaitingOnRecorder();
    int rc = ssh_event_dopoll(event_.get(), recorder_wait ? 5 : ending_ ? 200 : 5000);
    if (rc == SSH_ERROR && !ssh_is_connected(client_.get())) {
      if (!ending_) end_reason_ = session::EndReason::kClientClosed;
      break;
    }
  }
}

void SshConnection::Pump() {
  bool moved = true;
  for (int round = 0; moved && round < 64; ++round) {
    moved = false;
    for (size_t i = 0; i < channels_.size(); ++i) {
      ChannelPair* p = channels_[i].get();
      if (p->mode == ChannelPair::Mode::kMenu) MenuInput(p);
      moved |= p->Pump();
    }
  }
  // Free finished channels (tunnels get their closing audit row).
  for (auto it = channels_.begin(); it != channels_.end();) {
    ChannelPair* p = it->get();
    if (p->mode != ChannelPair::Mode::kDone || p->Lingering()) {
      ++it;
      continue;
    }
    if (p->kind == ChannelPair::Kind::kTunnel) {
      Audit("tunnel.close", target_name_, "success",
            {{"destination", p->tunnel_dest}, {"bytes_up", p->up}, {"bytes_down", p->down}});
    }
    if (p->recorder) {
      if (auto st = p->recorder->Close(session::EndReasonName(end_reason_)); !st.ok())
        spdlog::error("[{}] recording: {}", id(), st.message());
    }
    it = channels_.erase(it);
  }
}

void SshConnection::Finish() {
  for (auto& p : channels_) {
    if (p->recorder) (void)p->recorder->Close(session::EndReasonName(end_reason_));
    if (p->kind == ChannelPair::Kind::kTunnel) {
      Audit("tunnel.close", target_name_, std::string(session::EndReasonName(end_reason_)),
            {{"destination", p->tunnel_dest}, {"bytes_up", p->up}, {"bytes_down", p->down}});
    }
  }
  // ssh_disconnect() frees every channel of its session, so pairs still held
  // here (the relay ended on a kill, a lost target or a vanished client)
  // must release their channels first, or ~ChannelPair frees them again.
  channels_.clear();
  if (client_ && ssh_is_connected(client_.get())) {
    ssh_blocking_flush(client_.get(), 1000);  // ssh_disconnect does not flush
    ssh_disconnect(client_.get());
  }
  if (target_) {
    if (event_) ssh_event_remove_session(event_.get(), target_.get());
    CloseTargetSession(target_, 1000);
  }
  const std::string subject = !target_name_.empty()      ? target_name_
                              : !address_.target.empty() ? address_.target
                                                         : "(menu)";
  AuditEnd(subject, end_reason_);
  Unregister();
}

}  // namespace portcullis::ssh
