#pragma once
// SshConnection: one user's SSH connection to the broker, for its whole
// life, on one thread: key exchange -> authentication -> policy decision ->
// target connection with an ephemeral certificate -> relay of every channel
// (shell, exec, sftp/scp with file audit, direct-tcpip tunnels) <-> recorder.
//
// Threading: Run() owns the client and the target libssh sessions and every
// channel; nothing else touches them. The LiveSession and ListenedConnection
// methods may be called from any thread: they post to the owning thread
// through the session's mailbox (ProxySession). The services must outlive
// the connection.

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agentless/common/connect_abort.h"
#include "agentless/common/proxy_listener.h"
#include "agentless/common/proxy_session.h"
#include "agentless/ssh/libssh_handles.h"
#include "agentless/ssh/ssh_address.h"
#include "agentless/ssh/ssh_auth.h"
#include "agentless/ssh/ssh_services.h"
#include "auth/policy/engine.h"
#include "broker/session/admission.h"
#include "broker/session/recorder.h"

namespace portcullis::ssh {

struct ChannelPair;
struct ExecCommand;
struct FileTransferEvent;

enum class StartKind { kShell, kExec, kSubsystem };

class SshConnection final : public agentless::ProxySession,
                            public agentless::ListenedConnection {
 public:
  // `client` has been accepted (ssh_bind_accept_fd) but not key-exchanged.
  SshConnection(const SshServices& services, SshSessionPtr client, std::string source);
  ~SshConnection() override;
  SshConnection(const SshConnection&) = delete;
  SshConnection& operator=(const SshConnection&) = delete;

  // agentless::ListenedConnection
  // The whole connection; returns when it is over. Call once.
  void Run() override;
  // Shuts the client socket down (pre-auth timeout, shutdown).
  void AbortUnauthenticated() override;
  // Ends the session with reason shutdown, also while it still connects to
  // its target.
  void Shutdown() override;
  // True once authentication succeeded (the listener's pre-auth reaper
  // stops watching then).
  bool authenticated() const { return authenticated_.load(); }
  // Called on the owning thread right after authentication succeeds.
  void SetAuthenticatedHook(std::function<void()> hook) { on_authenticated_ = std::move(hook); }
  // Any thread: cuts short a connection to the target in progress (and
  // any later one); the session then ends with reason shutdown.
  void AbortConnect() { connect_abort_.Abort(); }

  // --- used by the channel code (same thread) ---
  const session::Identity& identity() const { return identity_; }
  ssh_session client() const { return client_.get(); }
  ssh_session target() const { return target_.get(); }
  // The admitted target's name (empty in menu mode until chosen).
  const std::string& target_name() const { return target_name_; }
  using ProxySession::AddBytesDown;
  using ProxySession::AddBytesUp;
  // Writes one audit event (actor = the user, source = the client); a row
  // that cannot be stored ends the session.
  using ProxySession::Audit;
  // shell / exec / subsystem on a user channel: policy, auditors, recorder,
  // then the same request to the target. 0 = success (libssh replies).
  int StartChannel(ChannelPair* p, StartKind kind, const std::string& arg);

 private:
  friend struct ChannelPair;
  friend class ChannelHandler;

  bool Handshake();
  void ShowMenu(ChannelPair* p);
  void MenuInput(ChannelPair* p);
  void ChooseTarget(ChannelPair* p, const std::string& choice);
  absl::Status OpenRecorder(ChannelPair* p, const std::string& command);
  bool TransferAllowed(policy::TransferDirection dir, const std::string& path);
  // The role's exec option and, for a command that may transfer files but
  // cannot be audited, its file_transfer: false = refused (line + audit row).
  bool ExecAllowed(ChannelPair* p, const std::string& cmd, const ExecCommand& ec);
  // The SFTP auditor with the role's file_transfer policy, on `p`.
  void AttachSftpAuditor(ChannelPair* p);
  // What a download PATTERN expands to on the target (its shell, in order),
  // read through a separate exec channel (at most 4096 paths, 256 KiB,
  // 5 s); empty if unknown.
  std::vector<std::string> ExpandOnTarget(const std::string& pattern);
  void AuditTransfer(const FileTransferEvent& ev, const char* via);
  int OpenTunnel(ssh_message msg);
  // False (and the refusal logged, audited once per connection and told to
  // the user) when ssh.max_channels_per_connection channels are open.
  bool ChannelAllowed(const char* kind);
  // Lists the session in the registry (again after a menu choice).
  void RegisterSession();
  session::Admitter& admitter() { return *ssh_.session.admitter; }
  // A policy.decision row (the one schema, session::DecisionDetails) for a
  // request inside this connection; the login is the admitted one (or the
  // requested one before admission). A row that cannot be stored ends the
  // session, as Audit() does.
  void AuditDecision(session::RequestKind kind, const std::string& subject,
                     const policy::Decision& d, nlohmann::json extra);
  // A denial taken inside the session under the admitting decision `base`
  // (its role), by `rule` for `reason`.
  static policy::Decision Refusal(const policy::Decision& base, std::string rule,
                                  std::string reason);
  // The admission request for `target` as this connection's user.
  session::AdmissionRequest Request(const std::string& target, const std::string& login) const;
  // Decides and connects to `addr`'s target. Only when the connection
  // succeeds are target_ and the decision that admitted it (decision_,
  // login_, target_address_, cert_serial_, target_name_) set, together; on
  // any failure they keep their values and denial_ is set. Call only while
  // target_ is null: a connection has one target.
  void OpenTarget(const SshAddress& addr);
  // Opens `p`'s twin channel on the target (with the pty `p` asked for, if
  // any) unless it has one. False if the target refused.
  bool OpenTargetChannel(ChannelPair* p);
  void Relay();
  void Pump();
  void HandleWakeup();
  void EndAll(const std::string& notice);
  void Finish();

  static int OnWakeup(socket_t fd, int revents, void* userdata);
  static int OnMessage(ssh_session session, ssh_message msg, void* userdata);
  static ssh_channel OnSessionChannelOpen(ssh_session session, void* userdata);

  const SshServices& ssh_;
  SshSessionPtr client_;
  SshSessionPtr target_;
  session::Identity identity_;
  SshAddress address_;
  std::string auth_method_;

  // The admitted target and the decision that admitted it (empty in menu
  // mode until chosen; set once, by OpenTarget, never replaced).
  std::string target_name_;
  std::string login_;
  std::string target_address_;  // HOST:PORT of the admitted target
  policy::Decision decision_;
  std::optional<session::Admission> admission_;
  agentless::ConnectAbort connect_abort_;  // the admitted target, with decision_
  agentless::ConnectAbort client_abort_;   // the client socket, until authenticated
  std::optional<std::string> denial_;  // one line for the user's terminal
  uint64_t cert_serial_ = 0;
  int recorded_channels_ = 0;
  bool channel_cap_audited_ = false;

  SshEventPtr event_;
  std::vector<std::unique_ptr<ChannelPair>> channels_;
  struct ssh_server_callbacks_struct server_cb_{};

  std::atomic<bool> authenticated_{false};
  std::function<void()> on_authenticated_;
  bool ending_ = false;  // owner thread only
  session::EndReason end_reason_ = session::EndReason::kClientClosed;
};

}  // namespace portcullis::ssh
