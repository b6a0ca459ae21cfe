#include "agentless/ssh/ssh_channels.h"
#include "broker/common/absl_fmt.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "agentless/ssh/ssh_connection.h"
#include "broker/common/display_text.h"

namespace portcullis::ssh {
namespace {

constexpr uint32_t kChunk = 64 * 1024;
// Above this many unwritten recording bytes, the target's output waits: a
// slow disk slows the session, and nothing goes unrecorded.
constexpr size_t kRecorderHighWater = 4u << 20;

ChannelPair* Pair(void* userdata) { return static_cast<ChannelPair*>(userdata); }

// Data callbacks forward at once what the other side's window takes (one
// copy, straight from libssh's buffer) and leave the rest in libssh's
// buffer: libssh does not grow a channel's window while its buffer is
// full, so a slow side slows its peer (backpressure). The pump reads the
// rest later. While the pump itself runs (nested packet processing), the
// callbacks only note the length. `len` is everything libssh holds for the
// stream; more than kMaxHeldPerStream means the peer ignored its window.
int OnClientData(ssh_session, ssh_channel, void* data, uint32_t len, int is_stderr, void* u) {
  ChannelPair* p = Pair(u);
  if (is_stderr || p->overrun != ChannelPair::Overrun::kNone || p->mode == ChannelPair::Mode::kDone)
    return static_cast<int>(len);  // clients send no stderr; a closed pair drops
  if (len > kMaxHeldPerStream) {
    p->NoteOverrun(ChannelPair::Overrun::kClient, len);
    return static_cast<int>(len);
  }
  p->client_buffered = len;
  if (p->pumping || p->mode != ChannelPair::Mode::kRelay) return 0;
  uint32_t n = p->ForwardFromClient(std::string_view(static_cast<const char*>(data), len));
  p->client_buffered = len - n;
  return static_cast<int>(n);
}
int OnTargetData(ssh_session, ssh_channel, void* data, uint32_t len, int is_stderr, void* u) {
  ChannelPair* p = Pair(u);
  if (p->overrun != ChannelPair::Overrun::kNone || p->mode == ChannelPair::Mode::kDone)
    return static_cast<int>(len);  // a closed pair drops
  if (len > kMaxHeldPerStream) {
    p->NoteOverrun(ChannelPair::Overrun::kTarget, len);
    return static_cast<int>(len);
  }
  const int stream = is_stderr ? 1 : 0;
  p->target_buffered[stream] = len;
  if (p->pumping || p->mode != ChannelPair::Mode::kRelay) return 0;
  uint32_t n =
      p->ForwardFromTarget(std::string_view(static_cast<const char*>(data), len), stream);
  p->target_buffered[stream] = len - n;
  return static_cast<int>(n);
}
void OnClientEof(ssh_session, ssh_channel, void* u) { Pair(u)->client_eof = true; }
void OnClientClose(ssh_session, ssh_channel, void* u) {
  Pair(u)->client_eof = true;
  Pair(u)->client_closed = true;
}
void OnTargetEof(ssh_session, ssh_channel, void* u) { Pair(u)->target_eof = true; }
void OnTargetClose(ssh_session, ssh_channel, void* u) {
  Pair(u)->target_eof = true;
  Pair(u)->target_closed = true;
}
void OnClientSignal(ssh_session, ssh_channel, const char* signal, void* u) {
  ChannelPair* p = Pair(u);
  if (p->target != nullptr && p->mode == ChannelPair::Mode::kRelay && signal != nullptr)
    ssh_channel_request_send_signal(p->target, signal);
}
void OnTargetExitStatus(ssh_session, ssh_channel, int status, void* u) {
  Pair(u)->exit_status = status;
}
void OnTargetExitSignal(ssh_session, ssh_channel, const char* signal, int core,
                        const char* errmsg, const char* lang, void* u) {
  Pair(u)->exit_signal =
      ExitSignal{signal ? signal : "KILL", errmsg ? errmsg : "", lang ? lang : "", core != 0};
}

}  // namespace

ChannelPair::~ChannelPair() {
  if (sftp) sftp->Finish();
  if (scp) scp->Finish();
  // libssh keeps a freed channel until the peer's CLOSE arrives and would
  // still call its callbacks, whose userdata is this object: detach first.
  if (client != nullptr) {
    ssh_remove_channel_callbacks(client, &client_cb);
    ssh_channel_free(client);
  }
  if (target != nullptr) {
    ssh_remove_channel_callbacks(target, &target_cb);
    ssh_channel_free(target);
  }
}

bool ChannelPair::Lingering() const {
  if (mode != Mode::kDone) return false;
  const bool client_waits = client != nullptr && !client_closed && ssh_is_connected(conn->client());
  // sshd acknowledges a close only once the command exited: wait for the
  // target only if it ignored its window.
  const bool target_waits = overrun == Overrun::kTarget && target != nullptr && !target_closed &&
                            conn->target() != nullptr && ssh_is_connected(conn->target());
  return client_waits || target_waits;
}

void ChannelPair::AttachClient(ssh_channel ch) {
  client = ch;
  ssh_callbacks_init(&client_cb);
  client_cb.userdata = this;
  client_cb.channel_data_function = OnClientData;
  client_cb.channel_eof_function = OnClientEof;
  client_cb.channel_close_function = OnClientClose;
  client_cb.channel_signal_function = OnClientSignal;
  if (kind == Kind::kSession) InstallRequestCallbacks(this);
  ssh_set_channel_callbacks(ch, &client_cb);
}

void ChannelPair::AttachTarget(ssh_channel ch) {
  target = ch;
  ssh_callbacks_init(&target_cb);
  target_cb.userdata = this;
  target_cb.channel_data_function = OnTargetData;
  target_cb.channel_eof_function = OnTargetEof;
  target_cb.channel_close_function = OnTargetClose;
  target_cb.channel_exit_status_function = OnTargetExitStatus;
  target_cb.channel_exit_signal_function = OnTargetExitSignal;
  ssh_set_channel_callbacks(ch, &target_cb);
}

namespace {

// Writes as much of `bytes` as `ch`'s window takes now (stream 1 = stderr);
// returns how many were written. Never blocks.
size_t WriteSome(ssh_channel ch, std::string_view bytes, int stream) {
  uint32_t n = std::min<uint32_t>({ssh_channel_window_size(ch), kChunk,
                                   static_cast<uint32_t>(bytes.size())});
  if (n == 0) return 0;
  int w = stream ? ssh_channel_write_stderr(ch, bytes.data(), n)
                 : ssh_channel_write(ch, bytes.data(), n);
  return w > 0 ? static_cast<size_t>(w) : 0;
}

// Sends `bytes` in order after anything already waiting in `backlog`;
// what the window does not take now waits there.
void SendOrQueue(ssh_channel ch, std::string& backlog, std::string_view bytes, int stream) {
  while (backlog.empty() && !bytes.empty()) {
    size_t w = WriteSome(ch, bytes, stream);
    if (w == 0) break;
    bytes.remove_prefix(w);
  }
  backlog.append(bytes);
}

// Writes what the window takes of `backlog`; true if anything moved.
bool Flush(ssh_channel ch, std::string& backlog, int stream) {
  bool moved = false;
  while (ch != nullptr && !backlog.empty()) {
    size_t w = WriteSome(ch, backlog, stream);
    if (w == 0) break;
    backlog.erase(0, w);
    moved = true;
  }
  return moved;
}

}  // namespace

void ChannelPair::SendToTarget(std::string_view bytes) {
  if (bytes.empty() || target == nullptr || eof_sent_to_target) return;
  SendOrQueue(target, to_target_backlog, bytes, 0);
}

void ChannelPair::SendToClient(std::string_view bytes, int stream) {
  if (bytes.empty() || client == nullptr || eof_sent_to_client) return;
  SendOrQueue(client, to_client_backlog[stream], bytes, stream);
}

bool ChannelPair::FlushBacklogs() {
  bool moved = Flush(target, to_target_backlog, 0);
  moved |= Flush(client, to_client_backlog[0], 0);
  moved |= Flush(client, to_client_backlog[1], 1);
  return moved;
}

void ChannelPair::Deliver(const RelayOutput& out, bool from_client) {
  for (std::string_view v : out.to_server) SendToTarget(v);
  for (std::string_view v : out.to_client) SendToClient(v, 0);
  if (!out.ok()) {
    spdlog::warn("[{}] file transfer stream cannot be audited: {}", conn->id(),
                 out.status.message());
    conn->Audit("file.audit_error", conn->id(), "failure",
                {{"reason", std::string(out.status.message())},
                 {"from", from_client ? "client" : "target"}});
    Close("portcullis: the file transfer could not be audited; closing.");
  }
}

uint32_t ChannelPair::ForwardFromClient(std::string_view bytes) {
  if (!to_target_backlog.empty() || target == nullptr || eof_sent_to_target) return 0;
  uint32_t win = ssh_channel_window_size(target);
  uint32_t n = std::min<uint32_t>({win, kChunk, static_cast<uint32_t>(bytes.size())});
  if (n == 0) return 0;
  RelayFromClient(bytes.substr(0, n));
  return n;
}

void ChannelPair::RelayFromClient(std::string_view chunk) {
  conn->AddBytesUp(chunk.size());
  up += chunk.size();
  if (sftp) {
    Deliver(sftp->FeedClientToServer(chunk), true);
  } else if (scp) {
    Deliver(scp->FeedClientToServer(chunk), true);
  } else {
    SendToTarget(chunk);
    if (recorder) recorder->Input(chunk);
  }
}

uint32_t ChannelPair::ForwardFromTarget(std::string_view bytes, int stream) {
  if (!to_client_backlog[stream].empty() || eof_sent_to_client || client == nullptr) return 0;
  if (recorder && recorder->Backlog() > kRecorderHighWater) return 0;  // the recording catches up first
  uint32_t win = ssh_channel_window_size(client);
  uint32_t n = std::min<uint32_t>({win, kChunk, static_cast<uint32_t>(bytes.size())});
  if (n == 0) return 0;
  RelayFromTarget(bytes.substr(0, n), stream);
  return n;
}

void ChannelPair::RelayFromTarget(std::string_view chunk, int stream) {
  conn->AddBytesDown(chunk.size());
  down += chunk.size();
  if (stream == 0 && sftp) {
    Deliver(sftp->FeedServerToClient(chunk), false);
  } else if (stream == 0 && scp) {
    Deliver(scp->FeedServerToClient(chunk), false);
  } else {
    SendToClient(chunk, stream);
    if (recorder) recorder->Output(chunk);
  }
}

void ChannelPair::NoteOverrun(Overrun side, uint32_t held) {
  overrun = side;
  overrun_held = held;
  // libssh drops what the callback consumed; what it still holds for the
  // other streams goes with the channels.
  client_buffered = 0;
  target_buffered[0] = target_buffered[1] = 0;
}

void ChannelPair::HandleOverrun() {
  overrun_handled = true;
  const bool from_client = overrun == Overrun::kClient;
  spdlog::warn("[{}] {} sent past its SSH window on a {} channel ({} bytes held, limit {}): "
               "closing the channel",
               conn->id(), from_client ? "the client" : "the target",
               kind == Kind::kTunnel ? "tunnel" : "session", overrun_held, kMaxHeldPerStream);
  conn->Audit("ssh.window_overrun", conn->target_name().empty() ? "(none)" : conn->target_name(),
              "failure",
              {{"from", from_client ? "client" : "target"},
               {"channel", kind == Kind::kTunnel ? "tunnel" : "session"},
               {"held_bytes", overrun_held},
               {"limit_bytes", kMaxHeldPerStream}});
  to_target_backlog.clear();
  to_client_backlog[0].clear();
  to_client_backlog[1].clear();
  Close(from_client ? "portcullis: this channel sent more than the SSH window allows; closed."
                    : "portcullis: the target sent more than the SSH window allows; closed.");
}

bool ChannelPair::WaitingOnRecorder() const {
  return recorder && (target_buffered[0] > 0 || target_buffered[1] > 0) &&
         recorder->Backlog() > kRecorderHighWater;
}

// The pumps take everything libssh holds for a stream, not just what the
// other side's window takes now: libssh grows the window it advertises
// after every read without counting what it still holds, so partial reads
// would let a peer that keeps to its window make libssh hold more and
// more. What the window does not take waits in the backlog, which is only
// refilled once empty (bounded by kMaxHeldPerStream).
bool ChannelPair::PumpClientToTarget() {
  if (mode != Mode::kRelay || client_buffered == 0 || !to_target_backlog.empty() ||
      target == nullptr || eof_sent_to_target || ssh_channel_window_size(target) == 0)
    return false;
  bool moved = false;
  char buf[kChunk];
  while (mode == Mode::kRelay && client_buffered > 0) {
    int n = ssh_channel_read_nonblocking(client, buf, std::min<uint32_t>(kChunk, client_buffered),
                                         0);
    if (n <= 0) {
      client_buffered = 0;
      break;
    }
    client_buffered -= std::min<uint32_t>(client_buffered, static_cast<uint32_t>(n));
    RelayFromClient(std::string_view(buf, static_cast<size_t>(n)));
    moved = true;
  }
  return moved;
}

bool ChannelPair::PumpTargetToClient(int stream) {
  if (mode != Mode::kRelay || target_buffered[stream] == 0 || !to_client_backlog[stream].empty() ||
      eof_sent_to_client || client == nullptr || ssh_channel_window_size(client) == 0)
    return false;
  if (recorder && recorder->Backlog() > kRecorderHighWater) return false;
  bool moved = false;
  char buf[kChunk];
  while (mode == Mode::kRelay && target_buffered[stream] > 0) {
    int n = ssh_channel_read_nonblocking(
        target, buf, std::min<uint32_t>(kChunk, target_buffered[stream]), stream);
    if (n <= 0) {
      target_buffered[stream] = 0;
      break;
    }
    target_buffered[stream] -= std::min<uint32_t>(target_buffered[stream], static_cast<uint32_t>(n));
    RelayFromTarget(std::string_view(buf, static_cast<size_t>(n)), stream);
    moved = true;
  }
  return moved;
}

void ChannelPair::DropClientInput() {
  to_target_backlog.clear();
  char buf[kChunk];
  while (client_buffered > 0 && client != nullptr) {
    int n = ssh_channel_read_nonblocking(client, buf, std::min<uint32_t>(kChunk, client_buffered),
                                         0);
    if (n <= 0) break;
    client_buffered -= std::min<uint32_t>(client_buffered, static_cast<uint32_t>(n));
  }
  client_buffered = 0;
}

void ChannelPair::SendExitToClient() {
  if (exit_sent_to_client) return;
  exit_sent_to_client = true;
  if (exit_status) ssh_channel_request_send_exit_status(client, *exit_status);
  if (exit_signal)
    ssh_channel_request_send_exit_signal(client, exit_signal->signal.c_str(), exit_signal->core,
                                         exit_signal->errmsg.c_str(), exit_signal->lang.c_str());
}

void ChannelPair::PropagateEnd() {
  const bool client_drained = client_buffered == 0 && to_client_backlog[0].empty() &&
                              to_client_backlog[1].empty();
  const bool target_drained =
      target_buffered[0] == 0 && target_buffered[1] == 0 && to_target_backlog.empty();
  // user -> target EOF, once everything the user sent is delivered.
  if (client_eof && client_buffered == 0 && to_target_backlog.empty() && !eof_sent_to_target &&
      target != nullptr) {
    ssh_channel_send_eof(target);
    eof_sent_to_target = true;
  }
  // target -> user: data, then exit-status/exit-signal, EOF, close. sshd
  // often sends its EOF before the exit status. An OpenSSH client closes a
  // channel as soon as it has sent and received EOF, and once it has, the
  // pair is ended and the status would never reach it (a ControlMaster's
  // client then exits 255): on a session channel, the EOF waits for the
  // exit status (or the target's close) and goes right after it.
  const bool target_done = target_buffered[0] == 0 && target_buffered[1] == 0 && client_drained &&
                           client != nullptr && !client_closed;
  const bool ended = exit_status || exit_signal || target_closed || kind != Kind::kSession;
  if (target_done && (target_eof || target_closed) && ended && !eof_sent_to_client) {
    SendExitToClient();
    ssh_channel_send_eof(client);
    eof_sent_to_client = true;
  }
  if (target_closed && target_buffered[0] == 0 && target_buffered[1] == 0 && client_drained &&
      !closed_client && client != nullptr) {
    if (!client_closed) {
      SendExitToClient();
      if (!eof_sent_to_client) ssh_channel_send_eof(client);
      eof_sent_to_client = true;
      ssh_channel_close(client);
    }
    closed_client = true;
  }
  if (client_closed && !closed_target && target != nullptr && target_drained) {
    if (!target_closed) {
      if (!eof_sent_to_target) ssh_channel_send_eof(target);
      ssh_channel_close(target);
    }
    closed_target = true;
  }
  if (client_closed && !closed_client) {
    if (client != nullptr) ssh_channel_close(client);  // acknowledge the user's close
    closed_client = true;
  }
  if (target == nullptr) closed_target = true;
  if (closed_client && closed_target) mode = Mode::kDone;
}

bool ChannelPair::Pump() {
  if (mode == Mode::kDone) return false;
  pumping = true;
  bool moved = PumpOnce();
  pumping = false;
  return moved;
}

bool ChannelPair::PumpOnce() {
  if (overrun != Overrun::kNone && !overrun_handled) {
    HandleOverrun();
    return true;
  }
  bool moved = FlushBacklogs();
  if (mode == Mode::kRefused && !pending_refusal.empty()) {
    SendToClient(DisplayText(pending_refusal) + "\r\n", pty ? 0 : 1);
    pending_refusal.clear();
    ssh_channel_request_send_exit_status(client, 1);
    ssh_channel_send_eof(client);
    eof_sent_to_client = true;
    ssh_channel_close(client);
    closed_client = true;
    if (target != nullptr) {
      ssh_channel_close(target);
    }
    closed_target = true;
    mode = Mode::kDone;
    return true;
  }
  if (mode == Mode::kRelay) {
    moved |= PumpClientToTarget();
    moved |= PumpTargetToClient(0);
    moved |= PumpTargetToClient(1);
    if (recorder) {
      if (auto st = recorder->Health(); !st.ok()) {
        conn->RequestEnd(session::EndReason::kRecordingFailed,
                         "portcullis: the session cannot be recorded any more; closing.");
      }
    }
  }
  if (target_closed && (client_buffered > 0 || !to_target_backlog.empty())) {
    // The target closed the channel: what the user sent and it did not
    // read can no longer be delivered, and must not keep the user's end open.
    DropClientInput();
    moved = true;
  }
  if (mode == Mode::kRelay || mode == Mode::kIdle) PropagateEnd();
  if ((mode == Mode::kIdle || mode == Mode::kMenu) && client_closed) {
    if (!closed_client && client != nullptr) ssh_channel_close(client);
    if (target != nullptr && !closed_target) ssh_channel_close(target);
    closed_client = closed_target = true;
    mode = Mode::kDone;
  }
  return moved;
}

void ChannelPair::TellUser(const std::string& line) {
  if (client == nullptr || closed_client || eof_sent_to_client) return;
  const std::string shown = DisplayText(line);  // no control or bidi byte reaches the terminal
  SendToClient(shown + "\r\n", pty ? 0 : 1);
  if (recorder) recorder->Marker(shown);
}

void ChannelPair::Refuse(std::string line) {
  pending_refusal = std::move(line);
  mode = Mode::kRefused;
}

void ChannelPair::Close(const std::string& notice) {
  if (mode == Mode::kDone) return;
  if (!notice.empty() && kind == Kind::kSession) TellUser(notice);
  FlushBacklogs();
  if (client != nullptr && !closed_client) {
    if (!client_closed) {
      if (kind == Kind::kSession && !eof_sent_to_client) {
        // The target's own status if it came (its EOF waited for it), else 255.
        if (exit_status || exit_signal) {
          SendExitToClient();
        } else {
          ssh_channel_request_send_exit_status(client, 255);
        }
      }
      if (!eof_sent_to_client) ssh_channel_send_eof(client);
      ssh_channel_close(client);
    }
    eof_sent_to_client = true;
    closed_client = true;
  }
  if (target != nullptr && !closed_target) {
    if (!target_closed) ssh_channel_close(target);
    closed_target = true;
  }
  mode = Mode::kDone;
}

}  // namespace portcullis::ssh
