// Test helper standing in for the Portcullis SSH relay: it sits between a
// real OpenSSH client and the real server-side program, passes every byte
// through the SFTP or SCP auditor exactly as the relay will, and appends the
// auditor's events to a file as JSON lines. Test-only code.
//
//   ssh_audit_relay --sftp EVENTS [--deny-uploads] -- SERVER_CMD...   (sftp -D)
//   ssh_audit_relay [ssh options] [-s] -- HOST COMMAND                 (scp -S)
//     the second form reads the events file from $PC_AUDIT_EVENTS; COMMAND
//     "sftp" with -s runs $PC_SFTP_SERVER, anything else runs `sh -c COMMAND`
//     under the SCP auditor.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "agentless/ssh/scp_parser.h"
#include "agentless/ssh/sftp_parser.h"

namespace {

using portcullis::ssh::FileDirectionName;
using portcullis::ssh::FileOpEvent;
using portcullis::ssh::FileTransferEvent;

std::ofstream g_events;

void Log(const nlohmann::json& j) {
  g_events << j.dump() << "\n";
  g_events.flush();
}

void OnTransfer(const FileTransferEvent& e) {
  Log({{"type", "transfer"}, {"path", e.path}, {"direction", FileDirectionName(e.direction)},
       {"size", e.size}, {"sha256", e.sha256_hex}, {"complete", e.complete}, {"reason", e.incomplete_reason}});
}

void OnOp(const FileOpEvent& e) { Log({{"type", "op"}, {"op", e.op}, {"path", e.path}, {"path2", e.path2}}); }

pid_t Spawn(const std::vector<std::string>& argv, int* to_child, int* from_child) {
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  *to_child = in[1];
  *from_child = out[0];
  return pid;
}

// Feeds one chunk to the auditor: appends what may be forwarded to `forward`
// and what must go back to the sender to `back`. False = stop.
using Filter = std::function<bool(std::string_view chunk, std::string* forward, std::string* back)>;

// The relay's side of the contract in relay_output.h.
bool Deliver(const portcullis::ssh::RelayOutput& out, bool from_client, std::string* forward, std::string* back) {
  for (auto v : from_client ? out.to_server : out.to_client) forward->append(v);
  for (auto v : from_client ? out.to_client : out.to_server) back->append(v);
  if (!out.ok()) Log({{"type", "error"}, {"message", std::string(out.status.message())}});
  return out.ok();
}

bool WriteSome(int fd, std::string* buf) {
  ssize_t n = write(fd, buf->data(), buf->size());
  if (n < 0) return errno == EAGAIN || errno == EINTR;
  buf->erase(0, static_cast<size_t>(n));
  return true;
}

int Relay(pid_t child, int child_in, int child_out, const Filter& from_client, const Filter& from_child,
          const std::function<void()>& finish) {
  fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
  fcntl(1, F_SETFL, fcntl(1, F_GETFL) | O_NONBLOCK);
  fcntl(child_in, F_SETFL, fcntl(child_in, F_GETFL) | O_NONBLOCK);
  std::string to_child, to_client;
  bool client_eof = false, child_eof = false, failed = false;
  // Odd read sizes so packets and records are cut everywhere.
  const size_t kSizes[] = {65536, 4093, 31, 16384, 1, 777};
  size_t turn = 0;
  std::vector<char> buf(65536);
  constexpr size_t kHigh = 1 << 20;
  while (!failed && !(child_eof && to_client.empty())) {
    pollfd fds[4];
    int n = 0, i_client = -1, i_child = -1, o_child = -1, o_client = -1;
    if (!client_eof && to_child.size() < kHigh) fds[i_client = n++] = {0, POLLIN, 0};
    if (!child_eof && to_client.size() < kHigh) fds[i_child = n++] = {child_out, POLLIN, 0};
    if (!to_child.empty() && child_in >= 0) fds[o_child = n++] = {child_in, POLLOUT, 0};
    if (!to_client.empty()) fds[o_client = n++] = {1, POLLOUT, 0};
    if (poll(fds, n, 30000) <= 0) break;
    auto ready = [&](int i) { return i >= 0 && (fds[i].revents & (POLLIN | POLLOUT | POLLHUP | POLLERR)); };
    const size_t want = kSizes[turn++ % std::size(kSizes)];
    if (ready(i_client)) {
      ssize_t r = read(0, buf.data(), want);
      if (r == 0) {
        client_eof = true;
      } else if (r > 0) {
        failed = !from_client(std::string_view(buf.data(), r), &to_child, &to_client);
      }
    }
    if (ready(i_child)) {
      ssize_t r = read(child_out, buf.data(), want);
      if (r == 0) {
        child_eof = true;
      } else if (r > 0) {
        failed = failed || !from_child(std::string_view(buf.data(), r), &to_client, &to_child);
      }
    }
    if (ready(o_child) && !WriteSome(child_in, &to_child)) to_child.clear();
    if (ready(o_client) && !WriteSome(1, &to_client)) break;
    if (client_eof && to_child.empty() && child_in >= 0) {
      close(child_in);
      child_in = -1;
    }
  }
  if (failed) kill(child, SIGKILL);
  if (child_in >= 0) close(child_in);
  close(child_out);
  close(1);
  int status = 0;
  waitpid(child, &status, 0);
  finish();
  if (failed) return 1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int RunSftp(const std::vector<std::string>& server, bool deny_uploads) {
  portcullis::ssh::SftpAuditor::Callbacks cb{OnTransfer, OnOp, {}};
  if (deny_uploads) {
    auto policy = portcullis::ssh::SftpTransferPolicy(true, false);
    cb.allow = [policy](const portcullis::ssh::SftpRequest& r) {
      const bool ok = policy(r);
      if (!ok) Log({{"type", "denied"}, {"kind", SftpRequestKindName(r.kind)}, {"path", std::string(r.path)}});
      return ok;
    };
  }
  portcullis::ssh::SftpAuditor auditor(std::move(cb));
  int child_in, child_out;
  pid_t pid = Spawn(server, &child_in, &child_out);
  if (pid < 0) return 1;
  auto pass = [&](bool from_client) {
    return [&auditor, from_client](std::string_view chunk, std::string* forward, std::string* back) {
      return Deliver(from_client ? auditor.FeedClientToServer(chunk) : auditor.FeedServerToClient(chunk),
                     from_client, forward, back);
    };
  };
  return Relay(pid, child_in, child_out, pass(true), pass(false), [&] { auditor.Finish(); });
}

int RunScp(const std::string& command) {
  auto cmd = portcullis::ssh::ParseScpCommand(command);
  if (!cmd.ok()) {
    Log({{"type", "error"}, {"message", std::string(cmd.status().message())}});
    return 1;
  }
  Log({{"type", "scp"}, {"direction", FileDirectionName(cmd->direction)}, {"path", cmd->path}});
  portcullis::ssh::ScpAuditor auditor(*cmd, OnTransfer);
  int child_in, child_out;
  pid_t pid = Spawn({"/bin/sh", "-c", command}, &child_in, &child_out);
  if (pid < 0) return 1;
  auto pass = [&](bool from_client) {
    return [&auditor, from_client](std::string_view chunk, std::string* forward, std::string* back) {
      return Deliver(from_client ? auditor.FeedClientToServer(chunk) : auditor.FeedServerToClient(chunk),
                     from_client, forward, back);
    };
  };
  return Relay(pid, child_in, child_out, pass(true), pass(false), [&] { auditor.Finish(); });
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "--sftp") {
    if (args.size() < 4) return 2;
    g_events.open(args[1], std::ios::app);
    bool deny = false;
    size_t i = 2;
    if (args[i] == "--deny-uploads") {
      deny = true;
      ++i;
    }
    if (args[i++] != "--") return 2;
    return RunSftp(std::vector<std::string>(args.begin() + i, args.end()), deny);
  }
  const char* events = std::getenv("PC_AUDIT_EVENTS");
  if (events == nullptr || args.size() < 2) return 2;
  g_events.open(events, std::ios::app);
  const bool subsystem = std::find(args.begin(), args.end(), "-s") != args.end();
  const std::string& command = args.back();
  if (subsystem && command == "sftp") {
    const char* server = std::getenv("PC_SFTP_SERVER");
    return RunSftp({server != nullptr ? server : "/usr/lib/openssh/sftp-server"},
                   std::getenv("PC_AUDIT_DENY_UPLOADS") != nullptr);
  }
  return RunScp(command);
}
