#pragma once
// One relayed channel of an SshConnection: the user's channel and its twin
// on the target, with the request forwarding, the byte pump (backpressure
// both ways: a side is read only while the other side's window and backlog
// allow), EOF/close/exit-status propagation, the file-transfer auditors and
// the terminal recorder. Owned by the connection's thread.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "agentless/ssh/libssh_handles.h"
#include "agentless/ssh/menu_input.h"
#include "agentless/ssh/scp_parser.h"
#include "agentless/ssh/sftp_parser.h"
#include "broker/common/clock.h"
#include "broker/session/recorder.h"

namespace portcullis::ssh {

class SshConnection;

// The most bytes libssh may hold for one stream of one channel (the user's
// input, the target's stdout, the target's stderr) before the peer counts
// as having sent past the window it was granted. libssh 0.10 advertises a
// window of 1,280,000 bytes and grows it back to that when the window plus
// what it holds falls under half of it, so a peer that keeps to its window
// makes libssh hold under 1,920,000 bytes (the pump takes everything libssh
// holds whenever it reads, so reading never grants more). A peer making
// libssh hold more ignores the window: its channel is closed.
inline constexpr uint32_t kMaxHeldPerStream = 3u << 20;

struct ExitSignal {
  std::string signal, errmsg, lang;
  bool core = false;
};

struct ChannelPair {
  enum class Kind { kSession, kTunnel };
  enum class Mode {
    kIdle,     // opened, no shell/exec/subsystem yet
    kRelay,    // bytes flow
    kMenu,     // `ssh bob@broker`: choosing a target
    kRefused,  // a line for the user, then exit 1
    kDone,     // both sides closed; to be freed
  };
  // Which peer sent past its SSH window, if one did.
  enum class Overrun { kNone, kClient, kTarget };

  ChannelPair(SshConnection* conn, Kind kind) : conn(conn), kind(kind) {}
  ~ChannelPair();

  // Installs the libssh callbacks on `client` / `target`.
  void AttachClient(ssh_channel ch);
  void AttachTarget(ssh_channel ch);
  // Moves bytes and propagates EOF/close. Returns true if anything moved.
  bool Pump();
  // Forwards what the other side can take now of bytes just received;
  // returns how many were consumed (the rest stays with libssh).
  uint32_t ForwardFromClient(std::string_view bytes);
  uint32_t ForwardFromTarget(std::string_view bytes, int stream);
  // Records, audits and sends (or queues) all of `bytes`.
  void RelayFromClient(std::string_view bytes);
  void RelayFromTarget(std::string_view bytes, int stream);
  // A data callback saw libssh hold `held` bytes for one stream: past the
  // window (see kMaxHeldPerStream).
  void NoteOverrun(Overrun side, uint32_t held);
  // True while the target's output waits for the recording to catch up.
  bool WaitingOnRecorder() const;
  // True while Pump() runs (data callbacks then only note lengths).
  bool pumping = false;
  // Writes `line` + CRLF to the user (stderr unless a pty, then stdout).
  void TellUser(const std::string& line);
  // Ends the pair now: notice to the user, EOF and close both ways.
  void Close(const std::string& notice);
  // Refuses: one line to the user, exit status 1, close.
  void Refuse(std::string line);

  SshConnection* const conn;
  const Kind kind;
  Mode mode = Mode::kIdle;
  ssh_channel client = nullptr;
  ssh_channel target = nullptr;
  ssh_channel_callbacks_struct client_cb{};
  ssh_channel_callbacks_struct target_cb{};

  // Session channel requests seen so far.
  bool pty = false;
  std::string term = "xterm";
  int cols = 80, rows = 24;
  std::string command;    // exec
  std::string subsystem;  // "sftp"

  // Bytes libssh holds for us (from its data callbacks) and bytes we could
  // not write yet (the other side's window was full).
  uint32_t client_buffered = 0;
  uint32_t target_buffered[2] = {0, 0};
  // At most kMaxHeldPerStream (+ what a file-transfer auditor adds) each:
  // the pump moves bytes from libssh into a backlog only when it is empty.
  std::string to_target_backlog;
  std::string to_client_backlog[2];

  // A peer that sent past its window (libssh held more than
  // kMaxHeldPerStream for one stream). Set by a data callback; from then on
  // the callbacks drop what arrives and the pump audits and closes the pair.
  Overrun overrun = Overrun::kNone;
  uint32_t overrun_held = 0;  // bytes libssh held when it was seen
  bool overrun_handled = false;
  // True while a done pair must stay: the user (or a target that sent past
  // its window) is still connected and has not acknowledged the close yet.
  // Until it does, the data callbacks drop what it sends (libssh would
  // otherwise buffer it for a freed channel), so a peer that goes on
  // sending costs no memory; the pair still counts towards
  // ssh.max_channels_per_connection.
  bool Lingering() const;

  bool client_eof = false, client_closed = false;
  bool target_eof = false, target_closed = false;
  bool eof_sent_to_target = false, eof_sent_to_client = false, closed_client = false,
       closed_target = false;
  std::optional<int> exit_status;
  std::optional<ExitSignal> exit_signal;
  bool exit_sent_to_client = false;
  std::string pending_refusal;

  std::unique_ptr<SftpAuditor> sftp;
  std::unique_ptr<ScpAuditor> scp;
  std::unique_ptr<session::TerminalRecorder> recorder;

  // Menu state (the editor is made when the menu is first shown).
  std::optional<MenuLineEditor> menu_editor;
  std::vector<std::string> menu_targets;
  bool menu_shown = false;

  // Tunnel state.
  std::string tunnel_dest;
  uint64_t up = 0, down = 0;
  TimePoint opened{};

 private:
  void SendToTarget(std::string_view bytes);
  void SendToClient(std::string_view bytes, int stream);
  bool FlushBacklogs();
  bool PumpClientToTarget();
  bool PumpTargetToClient(int stream);
  void PropagateEnd();
  // Sends the target's exit-status / exit-signal (if any came) to the user, once.
  void SendExitToClient();
  void HandleOverrun();
  void DropClientInput();
  bool PumpOnce();
  void Deliver(const RelayOutput& out, bool from_client);
};

// Installs the session-channel request callbacks (pty, env, shell, exec,
// subsystem, window-change) on a user channel.
void InstallRequestCallbacks(ChannelPair* p);

}  // namespace portcullis::ssh
