// The parts of an SSH session that talk to the broker's services: tunnels
// (direct-tcpip) decided per destination, file-transfer decisions and audit
// rows, and the terminal recorder.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <string_view>
#include <vector>

#include "agentless/ssh/file_transfer_event.h"
#include "agentless/ssh/ssh_channels.h"
#include "agentless/ssh/ssh_connection.h"
#include "broker/common/absl_fmt.h"

namespace portcullis::ssh {

int SshConnection::OpenTunnel(ssh_message msg) {
  const char* host = ssh_message_channel_request_open_destination(msg);
  const int port = ssh_message_channel_request_open_destination_port(msg);
  const char* orig = ssh_message_channel_request_open_originator(msg);
  const int orig_port = ssh_message_channel_request_open_originator_port(msg);
  const std::string dest = fmt::format("{}:{}", host ? host : "", port);
  if (!target_ || denial_ || ending_ || host == nullptr) {
    AuditDecision(session::RequestKind::kTunnel, target_name_.empty() ? "(none)" : target_name_,
                  Refusal({}, "no-target", "no admitted target on this connection"),
                  {{"destination", dest}});
    return 1;
  }
  if (!ChannelAllowed("tunnel")) return 1;  // "administratively prohibited"
  // The target's labels as admitted; the role table as it is now.
  policy::Decision d =
      admitter().DecideTunnel(Request(target_name_, login_), *admission_, dest);
  if (!d.allowed) return 1;  // "open failed: administratively prohibited"
  ssh_channel t = ssh_channel_new(target_.get());
  if (t == nullptr) return 1;
  ssh_set_blocking(target_.get(), 1);
  int rc = ssh_channel_open_forward(t, host, port, orig ? orig : "127.0.0.1", orig_port);
  ssh_set_blocking(target_.get(), 0);
  if (rc != SSH_OK) {
    ssh_channel_free(t);
    Audit("tunnel.open", target_name_, "failure",
          {{"destination", dest}, {"error", "the target refused or could not connect"}});
    return 1;
  }
  ssh_channel c = ssh_message_channel_request_open_reply_accept(msg);
  if (c == nullptr) {
    ssh_channel_close(t);
    ssh_channel_free(t);
    return 0;
  }
  auto p = std::make_unique<ChannelPair>(this, ChannelPair::Kind::kTunnel);
  p->AttachClient(c);
  p->AttachTarget(t);
  p->tunnel_dest = dest;
  p->opened = clock().Now();
  p->mode = ChannelPair::Mode::kRelay;
  Audit("tunnel.open", target_name_, "success", {{"destination", dest}});
  channels_.push_back(std::move(p));
  return 0;
}

bool SshConnection::TransferAllowed(policy::TransferDirection dir, const std::string& path) {
  const bool ok = policy::TransferPermitted(decision_.file_transfer, dir);
  policy::Decision d = Refusal(decision_, "file_transfer",
                               fmt::format("role {} file_transfer: {}", decision_.role,
                                           policy::FileTransferName(decision_.file_transfer)));
  if (ok) {
    d.allowed = true;
    d.rule = std::string(policy::kRuleAllow);
  }
  AuditDecision(session::RequestKind::kTransfer, target_name_, d,
                {{"direction", std::string(policy::TransferDirectionName(dir))},
                 {"path", AuditPath(path)}});
  return ok;
}

namespace {

// `pattern` as one shell word whose glob characters (and a leading ~) stay
// active and everything else is quoted.
std::string PatternWord(std::string_view pattern) {
  std::string out;
  bool quoting = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    const bool active = std::string_view("*?[]{},!^-/").find(c) != std::string_view::npos ||
                        (c == '~' && i == 0);
    if (active) {
      if (quoting) out += '\'';
      quoting = false;
      out += c;
    } else {
      if (!quoting) out += '\'';
      quoting = true;
      if (c == '\'') {
        out += "'\\''";
      } else {
        out += c;
      }
    }
  }
  if (quoting) out += '\'';
  return out;
}

struct ChannelFree {
  void operator()(ssh_channel c) const {
    if (ssh_channel_is_open(c)) ssh_channel_close(c);
    ssh_channel_free(c);
  }
};

}  // namespace

std::vector<std::string> SshConnection::ExpandOnTarget(const std::string& pattern) {
  constexpr size_t kMaxListing = 256 * 1024;
  constexpr size_t kMaxPaths = 4096;  // the auditor scans this list per record
  constexpr int kTimeoutMs = 5000;
  std::vector<std::string> paths;
  if (!target_) return paths;
  // printf repeats its format for each word the pattern expands to.
  const std::string cmd = "printf '%s\\0' " + PatternWord(pattern);
  ssh_set_blocking(target(), 1);
  std::string out;
  bool ok = false;
  {
    std::unique_ptr<ssh_channel_struct, ChannelFree> ch(ssh_channel_new(target()));
    if (ch && ssh_channel_open_session(ch.get()) == SSH_OK &&
        ssh_channel_request_exec(ch.get(), cmd.c_str()) == SSH_OK) {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kTimeoutMs);
      char buf[4096];
      for (;;) {
        const int n = ssh_channel_read_timeout(ch.get(), buf, sizeof buf, 0, kTimeoutMs);
        if (n < 0 || out.size() > kMaxListing || std::chrono::steady_clock::now() > deadline) break;
        if (n == 0 && ssh_channel_is_eof(ch.get())) {
          ok = true;
          break;
        }
        out.append(buf, static_cast<size_t>(n));
      }
    }
  }
  ssh_set_blocking(target(), 0);
  if (!ok) {
    spdlog::info("[{}] could not expand an scp pattern on the target", id());
    return paths;
  }
  for (size_t b = 0; b < out.size() && paths.size() < kMaxPaths;) {
    const size_t e = out.find('\0', b);
    if (e == std::string::npos) break;
    paths.push_back(out.substr(b, e - b));
    b = e + 1;
  }
  return paths;
}

void SshConnection::AuditTransfer(const FileTransferEvent& ev, const char* via) {
  // Raw: the audit log writes the display form and the raw bytes in hex.
  nlohmann::json d = {{"path", ev.raw_path},
                      {"direction", FileDirectionName(ev.direction)},
                      {"size", ev.size},
                      {"sha256", ev.sha256_hex},
                      {"via", via},
                      {"login", login_}};
  if (!ev.pattern.empty()) d["pattern"] = ev.pattern;
  if (!ev.complete) d["incomplete"] = ev.incomplete_reason;
  Audit("file.transfer", target_name_, ev.complete ? "success" : "incomplete", std::move(d));
}

absl::Status SshConnection::OpenRecorder(ChannelPair* p, const std::string& command) {
  if (ssh_.session.recorders == nullptr)
    return absl::FailedPreconditionError("sessions cannot be recorded on this broker; refused");
  session::RecordingInfo info;
  info.session_id = id();
  info.channel = recorded_channels_++;
  info.user = identity_.user;
  info.login = login_;
  info.target = target_name_;
  info.protocol = "ssh";
  info.source = source();
  info.command = command;
  info.term = p->term;
  info.cols = p->cols > 0 ? p->cols : 80;  // no pty, or a client that sent 0x0
  info.rows = p->rows > 0 ? p->rows : 24;
  info.record_input = decision_.record_input;
  info.started = clock().Now();
  info.target_address = target_address_;
  info.roles = identity_.roles;
  info.rule = decision_.reason;
  info.certificate_serial = cert_serial_;
  auto rec = ssh_.session.recorders->OpenTerminal(info);
  if (!rec.ok()) {
    Audit("session.refused", target_name_, "denied",
          {{"reason", fmt::format("recording cannot be written: {}", rec.status().message())}});
    return absl::UnavailableError("the session cannot be recorded, so it is refused");
  }
  p->recorder = std::move(*rec);
  if (!command.empty()) p->recorder->Marker(fmt::format("exec: {}", command));
  return absl::OkStatus();
}

}  // namespace portcullis::ssh
