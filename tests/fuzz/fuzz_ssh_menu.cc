// Fuzzes the target menu's keyboard handling: bytes a user types, through
// MenuLineEditor (with and without echo), each finished line read by
// ParseMenuChoice against a list of a size taken from the first byte.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agentless/ssh/menu_input.h"

namespace {

bool PrintableAscii(std::string_view s) {
  for (char c : s)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

void Run(std::string_view input, bool echo, size_t listed) {
  portcullis::ssh::MenuLineEditor ed(echo);
  while (!input.empty()) {
    auto step = ed.Feed(input);
    // Progress, and never past the input.
    if (step.consumed == 0 || step.consumed > input.size()) __builtin_trap();
    // Echo only with a terminal, and only what a line editor may write.
    if (!echo && !step.echo.empty()) __builtin_trap();
    for (char c : step.echo)
      if ((c < 0x20 || c > 0x7e) && c != '\r' && c != '\n' && c != '\b') __builtin_trap();
    if (ed.pending().size() > portcullis::ssh::kMaxMenuLine || !PrintableAscii(ed.pending()))
      __builtin_trap();
    input.remove_prefix(step.consumed);
    using Event = portcullis::ssh::MenuLineEditor::Event;
    if (step.event == Event::kNeedMore && !input.empty()) __builtin_trap();
    if (step.event == Event::kAbort && !ed.pending().empty()) __builtin_trap();
    if (step.event != Event::kLine) continue;
    if (step.line.empty() || step.line.size() > portcullis::ssh::kMaxMenuLine ||
        !PrintableAscii(step.line))
      __builtin_trap();
    auto choice = portcullis::ssh::ParseMenuChoice(step.line, listed);
    using Kind = portcullis::ssh::MenuChoice::Kind;
    if (choice.kind == Kind::kIndex && choice.index >= listed) __builtin_trap();
    if (choice.kind == Kind::kName && choice.name.size() > step.line.size()) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t listed = data[0] % 16;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  Run(input, true, listed);
  Run(input, false, listed);
  return 0;
}
