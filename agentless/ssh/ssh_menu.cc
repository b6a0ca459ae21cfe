// `ssh -p 2222 bob@broker`: a numbered menu of the ssh targets bob may
// reach; the chosen one is decided, connected and relayed on the same
// channel. Only targets the user's roles can see are listed, and a choice
// of anything else gets the same answer as a forbidden target.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agentless/ssh/ssh_channels.h"
#include "broker/common/absl_fmt.h"
#include "agentless/ssh/ssh_connection.h"

namespace portcullis::ssh {
namespace {
constexpr size_t kMaxMenuLine = 128;
}

void SshConnection::ShowMenu(ChannelPair* p) {
  p->menu_targets.clear();
  auto all = broker_->targets().List();
  if (all.ok()) {
    for (const auto& t : *all) {
      if (t.protocol != "ssh") continue;
      policy::TargetInfo ti{t.name, t.labels, policy::Protocol::kSsh};
      if (broker_->authority().CanSee(identity_.roles, ti)) p->menu_targets.push_back(t.name);
    }
  }
  std::string text = fmt::format("Portcullis: targets {} may reach\r\n", identity_.user);
  if (p->menu_targets.empty()) {
    text += "  (none)\r\n";
    p->TellUser(text.substr(0, text.size() - 2));
    p->Refuse("portcullis: no target is available to you");
    return;
  }
  for (size_t i = 0; i < p->menu_targets.size(); ++i)
    text += fmt::format("  {:>2}) {}\r\n", i + 1, p->menu_targets[i]);
  text += "Choose a target (number or name; q to quit): ";
  if (p->client != nullptr) ssh_channel_write(p->client, text.data(), static_cast<uint32_t>(text.size()));
  p->menu_shown = true;
}

void SshConnection::MenuInput(ChannelPair* p) {
  if (!p->menu_shown) {
    ShowMenu(p);
    if (p->mode != ChannelPair::Mode::kMenu) return;
  }
  char buf[256];
  while (p->client_buffered > 0 && p->mode == ChannelPair::Mode::kMenu) {
    int n = ssh_channel_read_nonblocking(p->client, buf, sizeof buf, 0);
    if (n <= 0) {
      p->client_buffered = 0;
      break;
    }
    p->client_buffered -= static_cast<uint32_t>(std::min<int>(n, static_cast<int>(p->client_buffered)));
    for (int i = 0; i < n && p->mode == ChannelPair::Mode::kMenu; ++i) {
      const char c = buf[i];
      std::string echo;
      if (c == '\r' || c == '\n') {
        if (p->pty) echo = "\r\n";
        if (!echo.empty()) ssh_channel_write(p->client, echo.data(), static_cast<uint32_t>(echo.size()));
        std::string line = std::move(p->menu_line);
        p->menu_line.clear();
        if (line.empty()) continue;
        ChooseTarget(p, line);
        if (p->mode == ChannelPair::Mode::kRelay && i + 1 < n) {
          // Typed ahead after the choice: for the target's shell, not lost.
          std::string_view rest(buf + i + 1, static_cast<size_t>(n - i - 1));
          rest.remove_prefix(p->ForwardFromClient(rest));
          // A new channel's window takes a menu read (<= 256 bytes); should
          // it not, the rest waits in the backlog, in order.
          if (!rest.empty()) p->to_target_backlog.append(rest);
        }
        continue;
      }
      if (c == 0x03 || c == 0x04) {  // ^C, ^D
        p->Close("");
        return;
      }
      if (c == 0x7f || c == 0x08) {
        if (!p->menu_line.empty()) {
          p->menu_line.pop_back();
          if (p->pty) echo = "\b \b";
        }
      } else if (c >= 0x20 && c < 0x7f && p->menu_line.size() < kMaxMenuLine) {
        p->menu_line.push_back(c);
        if (p->pty) echo = std::string(1, c);
      }
      if (!echo.empty()) ssh_channel_write(p->client, echo.data(), static_cast<uint32_t>(echo.size()));
    }
  }
}

void SshConnection::ChooseTarget(ChannelPair* p, const std::string& choice) {
  if (choice == "q" || choice == "quit") {
    p->Close("");
    return;
  }
  std::string name = choice;
  if (choice.find_first_not_of("0123456789") == std::string::npos && choice.size() < 4) {
    size_t idx = static_cast<size_t>(std::stoi(choice));
    if (idx >= 1 && idx <= p->menu_targets.size()) name = p->menu_targets[idx - 1];
  }
  SshAddress addr = address_;
  addr.target = name;
  OpenTarget(addr);
  if (denial_ || !target_) {
    std::string line = denial_.value_or("portcullis: cannot reach " + name);
    denial_.reset();
    p->TellUser(line);
    std::string prompt = "Choose a target (number or name; q to quit): ";
    ssh_channel_write(p->client, prompt.data(), static_cast<uint32_t>(prompt.size()));
    return;
  }
  address_ = addr;
  RegisterSession();
  ssh_event_add_session(event_.get(), target_.get());
  ssh_channel t = ssh_channel_new(target_.get());
  ssh_set_blocking(target_.get(), 1);
  bool ok = t != nullptr && ssh_channel_open_session(t) == SSH_OK &&
            (!p->pty || ssh_channel_request_pty_size(t, p->term.c_str(), p->cols, p->rows) == SSH_OK);
  if (ok) p->AttachTarget(t);
  if (ok) {
    if (auto st = OpenRecorder(p, ""); !st.ok()) {
      ssh_set_blocking(target_.get(), 0);
      p->Refuse(fmt::format("portcullis: {}", st.message()));
      return;
    }
    ok = ssh_channel_request_shell(t) == SSH_OK;
  }
  ssh_set_blocking(target_.get(), 0);
  if (!ok) {
    if (t != nullptr && p->target == nullptr) ssh_channel_free(t);
    p->Refuse(fmt::format("portcullis: {} refused the shell", name));
    return;
  }
  p->mode = ChannelPair::Mode::kRelay;
}

}  // namespace portcullis::ssh
