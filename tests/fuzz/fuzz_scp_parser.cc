// Fuzzes the legacy SCP command parser, the exec command recogniser and the
// stream auditor. The first byte picks the target: bits 7 and 6 set =
// ClassifyExecCommand(rest); bit 7 alone = ParseScpCommand(rest); otherwise
// one of a few commands (bit 6: a download pattern with its expansion),
// then both directions of the session in random chunks.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agentless/ssh/exec_command.h"
#include "agentless/ssh/scp_parser.h"

namespace {

// Splits the input into chunks for the two directions of a session: a
// control byte then its bytes; bit 0 = direction (0 client->server),
// bits 1..6 = length, bit 7 = length counts in units of 64 bytes.
template <typename Fn>
void ForEachChunk(std::string_view in, Fn fn) {
  while (!in.empty()) {
    const auto ctl = static_cast<uint8_t>(in[0]);
    in.remove_prefix(1);
    size_t len = (ctl >> 1) & 0x3f;
    if (ctl & 0x80) len *= 64;
    if (len > in.size()) len = in.size();
    if (!fn((ctl & 1) == 0, in.substr(0, len))) return;
    in.remove_prefix(len);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace portcullis::ssh;
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((data[0] & 0xc0) == 0xc0) {
    ExecCommand e = ClassifyExecCommand(input);
    if (e.kind == ExecKind::kScp && e.scp.path.empty()) __builtin_trap();
    if (e.plain && e.kind != ExecKind::kScp) __builtin_trap();
    if ((e.kind == ExecKind::kUncertain) == e.reason.empty()) __builtin_trap();
    return 0;
  }
  if (data[0] & 0x80) {
    auto cmd = ParseScpCommand(input);
    if (cmd.ok() && cmd->path.empty()) __builtin_trap();
    return 0;
  }
  static const char* const kCommands[] = {"scp -t /d", "scp -r -p -t /d", "scp -r -f /srv/x", "scp -f x",
                                          "scp -d -t /d/"};
  auto cmd = ParseScpCommand((data[0] & 0x40) ? "scp -r -f /l/f*/x" : kCommands[data[0] % std::size(kCommands)]);
  if (!cmd.ok()) __builtin_trap();
  if (data[0] & 0x40) cmd->expanded = {"/l/f1/x", "/l/f2/x/", "x"};
  ScpAuditor auditor(*cmd, [](const FileTransferEvent& e) {
    if (e.complete != e.incomplete_reason.empty()) __builtin_trap();
    if (e.path.empty()) __builtin_trap();
  });
  size_t fed = 0, delivered = 0;
  ForEachChunk(input, [&](bool from_client, std::string_view chunk) {
    auto out = from_client ? auditor.FeedClientToServer(chunk) : auditor.FeedServerToClient(chunk);
    // Never more bytes out than came in (held bytes are released once).
    size_t n = 0;
    for (auto v : out.to_server) n += v.size();
    for (auto v : out.to_client) n += v.size();
    delivered += n;
    fed += chunk.size();
    if (delivered > fed) __builtin_trap();
    return out.ok();
  });
  auditor.Finish();
  return 0;
}
