// `ssh -p 2222 bob@broker`: a numbered menu of the ssh targets bob may
// reach; the chosen one is decided, connected and relayed on the same
// channel. Only targets the user's roles can see are listed, and a choice
// of anything else gets the same answer as a forbidden target. A
// connection has one target: once a menu choice connected it, a choice on
// another channel of that connection is refused, and later channels relay
// to the chosen target.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agentless/ssh/menu_input.h"
#include "agentless/ssh/ssh_channels.h"
#include "agentless/ssh/ssh_connection.h"
#include "broker/common/absl_fmt.h"

namespace portcullis::ssh {

void SshConnection::ShowMenu(ChannelPair* p) {
  p->menu_targets.clear();
  auto visible = admitter().VisibleTargets(identity_.roles, policy::Protocol::kSsh);
  if (visible.ok()) p->menu_targets = std::move(*visible);
  const std::string title = fmt::format("Portcullis: targets {} may reach", identity_.user);
  if (p->menu_targets.empty()) {
    p->TellUser(title);
    p->TellUser("  (none)");
    p->Refuse("portcullis: no target is available to you");
    return;
  }
  std::string text = title + "\r\n";
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
  if (!p->menu_editor) p->menu_editor.emplace(p->pty);
  char buf[256];
  while (p->client_buffered > 0 && p->mode == ChannelPair::Mode::kMenu) {
    int n = ssh_channel_read_nonblocking(p->client, buf, sizeof buf, 0);
    if (n <= 0) {
      p->client_buffered = 0;
      break;
    }
    p->client_buffered -= static_cast<uint32_t>(std::min<int>(n, static_cast<int>(p->client_buffered)));
    std::string_view rest(buf, static_cast<size_t>(n));
    while (!rest.empty() && p->mode == ChannelPair::Mode::kMenu) {
      MenuLineEditor::Step step = p->menu_editor->Feed(rest);
      rest.remove_prefix(step.consumed);
      if (!step.echo.empty())
        ssh_channel_write(p->client, step.echo.data(), static_cast<uint32_t>(step.echo.size()));
      if (step.event == MenuLineEditor::Event::kAbort) {
        p->Close("");
        return;
      }
      if (step.event != MenuLineEditor::Event::kLine) continue;
      ChooseTarget(p, step.line);
      if (p->mode == ChannelPair::Mode::kRelay && !rest.empty()) {
        // Typed ahead after the choice: for the target's shell, not lost.
        rest.remove_prefix(p->ForwardFromClient(rest));
        // A new channel's window takes a menu read (<= 256 bytes); should
        // it not, the rest waits in the backlog, in order.
        if (!rest.empty()) p->to_target_backlog.append(rest);
        rest = {};
      }
    }
  }
  // The user's input ended without a choice: nothing more can be chosen.
  if (p->mode == ChannelPair::Mode::kMenu && p->client_eof && p->client_buffered == 0)
    p->Close("");
}

void SshConnection::ChooseTarget(ChannelPair* p, const std::string& line) {
  const MenuChoice choice = ParseMenuChoice(line, p->menu_targets.size());
  if (choice.kind == MenuChoice::Kind::kQuit) {
    p->Close("");
    return;
  }
  const std::string name =
      choice.kind == MenuChoice::Kind::kIndex ? p->menu_targets[choice.index] : choice.name;
  constexpr std::string_view kPrompt = "Choose a target (number or name; q to quit): ";
  if (name.empty()) {  // blanks only
    ssh_channel_write(p->client, kPrompt.data(), static_cast<uint32_t>(kPrompt.size()));
    return;
  }
  if (target_) {
    // One connection, one target: another menu on this connection (e.g. a
    // second channel of a multiplexing client) may not replace the target
    // that the other channels use.
    AuditDecision(session::RequestKind::kTarget, name,
                  Refusal({}, "one-target-per-connection",
                          fmt::format("the connection is already connected to {}", target_name_)),
                  {});
    p->Refuse(fmt::format(
        "portcullis: this connection is already connected to {}; open a new connection to "
        "reach another target",
        target_name_));
    return;
  }
  SshAddress addr = address_;
  addr.target = name;
  OpenTarget(addr);
  if (denial_ || !target_) {
    std::string denied = denial_.value_or("portcullis: cannot reach " + name);
    denial_.reset();
    p->TellUser(denied);
    ssh_channel_write(p->client, kPrompt.data(), static_cast<uint32_t>(kPrompt.size()));
    return;
  }
  address_ = addr;
  RegisterSession();
  ssh_event_add_session(event_.get(), target_.get());
  bool ok = OpenTargetChannel(p);
  if (ok) {
    if (auto st = OpenRecorder(p, ""); !st.ok()) {
      p->Refuse(fmt::format("portcullis: {}", st.message()));
      return;
    }
    ssh_set_blocking(target_.get(), 1);
    ok = ssh_channel_request_shell(p->target) == SSH_OK;
    ssh_set_blocking(target_.get(), 0);
  }
  if (!ok) {
    p->Refuse(fmt::format("portcullis: {} refused the shell", name));
    return;
  }
  p->mode = ChannelPair::Mode::kRelay;
}

}  // namespace portcullis::ssh
