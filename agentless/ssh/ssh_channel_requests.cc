// Session-channel requests from the user (pty-req, env, shell, exec,
// subsystem, window-change), forwarded to the target synchronously so the
// user gets the target's own answer. x11-req, auth-agent-req and unknown
// requests have no callback here, so libssh refuses them.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <array>

#include "agentless/ssh/exec_command.h"
#include "agentless/ssh/scp_command.h"
#include "agentless/ssh/sftp_policy.h"
#include "agentless/ssh/ssh_channels.h"
#include "agentless/ssh/ssh_connection.h"
#include "broker/common/absl_fmt.h"

namespace portcullis::ssh {
namespace {

ChannelPair* Pair(void* u) { return static_cast<ChannelPair*>(u); }

// Forwarded environment variables (sshd's AcceptEnv still decides).
bool EnvAllowed(std::string_view name) {
  static constexpr std::array<std::string_view, 4> kExact = {"LANG", "TZ", "COLORTERM", "LANGUAGE"};
  for (auto n : kExact)
    if (name == n) return true;
  return name.size() > 3 && name.substr(0, 3) == "LC_";
}

// Runs `fn` with the target session in blocking mode (requests wait for the
// target's answer), then back to non-blocking.
template <typename Fn>
int Blocking(ssh_session s, Fn fn) {
  ssh_set_blocking(s, 1);
  int rc = fn();
  ssh_set_blocking(s, 0);
  return rc;
}

int OnPty(ssh_session, ssh_channel, const char* term, int width, int height, int, int, void* u) {
  ChannelPair* p = Pair(u);
  if (p->mode != ChannelPair::Mode::kIdle) return -1;
  p->pty = true;
  p->term = term ? term : "xterm";
  p->cols = width;
  p->rows = height;
  if (p->target == nullptr) return 0;  // menu or refusal: the pty is ours
  return Blocking(p->conn->target(), [&] {
    return ssh_channel_request_pty_size(p->target, p->term.c_str(), p->cols, p->rows) == SSH_OK
               ? 0
               : -1;
  });
}

int OnEnv(ssh_session, ssh_channel, const char* name, const char* value, void* u) {
  ChannelPair* p = Pair(u);
  if (p->mode != ChannelPair::Mode::kIdle || p->target == nullptr || name == nullptr ||
      value == nullptr || !EnvAllowed(name))
    return -1;
  return Blocking(p->conn->target(), [&] {
    return ssh_channel_request_env(p->target, name, value) == SSH_OK ? 0 : -1;
  });
}

int OnWindowChange(ssh_session, ssh_channel, int width, int height, int, int, void* u) {
  ChannelPair* p = Pair(u);
  p->cols = width;
  p->rows = height;
  if (p->recorder) p->recorder->Resize(width, height);
  if (p->target != nullptr && p->mode == ChannelPair::Mode::kRelay)
    ssh_channel_change_pty_size(p->target, width, height);
  return 0;
}

int OnShell(ssh_session, ssh_channel, void* u) {
  return Pair(u)->conn->StartChannel(Pair(u), StartKind::kShell, "");
}
int OnExec(ssh_session, ssh_channel, const char* command, void* u) {
  return Pair(u)->conn->StartChannel(Pair(u), StartKind::kExec, command ? command : "");
}
int OnSubsystem(ssh_session, ssh_channel, const char* name, void* u) {
  return Pair(u)->conn->StartChannel(Pair(u), StartKind::kSubsystem, name ? name : "");
}

}  // namespace

void InstallRequestCallbacks(ChannelPair* p) {
  p->client_cb.channel_pty_request_function = OnPty;
  p->client_cb.channel_env_request_function = OnEnv;
  p->client_cb.channel_pty_window_change_function = OnWindowChange;
  p->client_cb.channel_shell_request_function = OnShell;
  p->client_cb.channel_exec_request_function = OnExec;
  p->client_cb.channel_subsystem_request_function = OnSubsystem;
}

int SshConnection::StartChannel(ChannelPair* p, StartKind kind, const std::string& arg) {
  if (p->mode != ChannelPair::Mode::kIdle) return -1;
  if (denial_) {
    p->Refuse(*denial_);
    return 0;
  }
  if (!target_) {
    if (kind == StartKind::kShell) {
      p->mode = ChannelPair::Mode::kMenu;
      return 0;
    }
    p->Refuse(
        "portcullis: no target given; use ssh -p PORT USER:TARGET@BROKER (or USER:LOGIN@TARGET)");
    return 0;
  }
  // A channel opened before a menu choice on another channel connected the
  // target gets its twin now, and relays to that target like any other.
  if (!OpenTargetChannel(p)) {
    p->Refuse(fmt::format("portcullis: {} refused the channel", target_name_));
    return 0;
  }
  std::string what = kind == StartKind::kShell ? "shell"
                     : kind == StartKind::kExec ? "exec"
                                                : "subsystem " + arg;
  int rc = -1;
  switch (kind) {
    case StartKind::kShell:
    case StartKind::kExec: {
      const ExecCommand ec =
          kind == StartKind::kExec ? ClassifyExecCommand(arg) : ExecCommand{};
      if (kind == StartKind::kExec && !ExecAllowed(p, arg, ec)) return 0;
      if (ec.kind == ExecKind::kSftpServer) {
        AttachSftpAuditor(p);
        rc = Blocking(target(), [&] {
          return ssh_channel_request_exec(p->target, arg.c_str()) == SSH_OK ? 0 : -1;
        });
        break;
      }
      if (ec.kind == ExecKind::kScp) {
        auto dir = ec.scp.direction == FileDirection::kUpload
                       ? policy::TransferDirection::kUpload
                       : policy::TransferDirection::kDownload;
        if (!TransferAllowed(dir, ec.scp.path)) {
          p->Refuse(fmt::format("portcullis: {} denied by policy (role file_transfer: {})",
                                ec.scp.direction == FileDirection::kUpload ? "upload" : "download",
                                policy::FileTransferName(decision_.file_transfer)));
          return 0;
        }
        ScpCommand scp = ec.scp;
        if (scp.direction == FileDirection::kDownload && scp.path_is_pattern) {
          scp.expanded = ExpandOnTarget(scp.path);
        }
        p->scp = std::make_unique<ScpAuditor>(
            std::move(scp), [this](const FileTransferEvent& ev) { AuditTransfer(ev, "scp"); });
      } else if (auto st = OpenRecorder(p, kind == StartKind::kExec ? arg : ""); !st.ok()) {
        p->Refuse(fmt::format("portcullis: {}", st.message()));
        return 0;
      }
      rc = Blocking(target(), [&] {
        return (kind == StartKind::kShell ? ssh_channel_request_shell(p->target)
                                          : ssh_channel_request_exec(p->target, arg.c_str())) ==
                       SSH_OK
                   ? 0
                   : -1;
      });
      break;
    }
    case StartKind::kSubsystem: {
      if (arg != "sftp") return -1;
      AttachSftpAuditor(p);
      rc = Blocking(target(), [&] {
        return ssh_channel_request_subsystem(p->target, "sftp") == SSH_OK ? 0 : -1;
      });
      break;
    }
  }
  if (rc != 0) {
    spdlog::info("[{}] target refused {}", id(), what);
    return -1;
  }
  p->mode = ChannelPair::Mode::kRelay;
  return 0;
}

bool SshConnection::ExecAllowed(ChannelPair* p, const std::string& cmd, const ExecCommand& ec) {
  // exec: false leaves only what `scp -O` itself sends, which file_transfer
  // governs; a disguised scp or an SFTP server run by exec is an exec.
  if (!decision_.exec && !(ec.kind == ExecKind::kScp && ec.plain)) {
    AuditDecision(session::RequestKind::kExec, target_name_,
                  Refusal(decision_, "exec", fmt::format("role {} exec: false", decision_.role)),
                  {{"command", std::string(std::string_view(cmd).substr(0, 256))}});
    p->Refuse(fmt::format(
        "portcullis: exec commands are not allowed (role {} exec: false); use an interactive "
        "shell, or sftp / scp for files",
        decision_.role));
    return false;
  }
  if (ec.kind == ExecKind::kUncertain && decision_.file_transfer != policy::FileTransfer::kBoth) {
    Audit("file.refused", target_name_, "denied",
          {{"command", std::string(std::string_view(cmd).substr(0, 256))},
           {"reason", ec.reason},
           {"role", decision_.role}});
    p->Refuse(fmt::format(
        "portcullis: this command may transfer files in a way the broker cannot audit; refused "
        "(role file_transfer: {})",
        policy::FileTransferName(decision_.file_transfer)));
    return false;
  }
  return true;
}

void SshConnection::AttachSftpAuditor(ChannelPair* p) {
  const bool down =
      policy::TransferPermitted(decision_.file_transfer, policy::TransferDirection::kDownload);
  const bool upl =
      policy::TransferPermitted(decision_.file_transfer, policy::TransferDirection::kUpload);
  auto base = SftpTransferPolicy(down, upl);
  SftpAuditor::Callbacks cb;
  cb.on_transfer = [this](const FileTransferEvent& ev) { AuditTransfer(ev, "sftp"); };
  cb.on_op = [this](const FileOpEvent& ev) {
    Audit("file.op", target_name_, "forwarded",
          {{"op", ev.op}, {"path", ev.raw_path}, {"path2", ev.raw_path2}, {"session", id()}});
  };
  cb.allow = [this, base](const SftpRequest& req) {
    if (base(req)) return true;
    AuditDecision(session::RequestKind::kSftp, target_name_,
                  Refusal(decision_, "file_transfer",
                          fmt::format("role {} file_transfer: {}", decision_.role,
                                      policy::FileTransferName(decision_.file_transfer))),
                  {{"path", AuditPath(req.path)}, {"writes", req.ModifiesTarget()}});
    return false;
  };
  p->sftp = std::make_unique<SftpAuditor>(std::move(cb));
}

}  // namespace portcullis::ssh
