#include "agentless/ssh/scp_command.h"

#include <fmt/format.h>

#include <vector>

#include "absl/status/status.h"
#include "broker/common/printable.h"

namespace portcullis::ssh {
namespace {

absl::Status Bad(std::string_view cmd, std::string_view why) {
  return absl::InvalidArgumentError(fmt::format("unsupported scp command \"{}\": {}", Printable(cmd, 80), why));
}

bool IsShellSyntax(char c) {
  switch (c) {
    case ';': case '&': case '|': case '<': case '>': case '(': case ')': case '$': case '`': case '\n':
      return true;
    default:
      return false;
  }
}

// Splits `cmd` into words the way a POSIX shell would (quote removal only;
// no expansion). Sets *shell_syntax when unquoted shell syntax appears.
absl::StatusOr<std::vector<std::string>> SplitWords(std::string_view cmd, bool* shell_syntax) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  enum class Quote { kNone, kSingle, kDouble } quote = Quote::kNone;
  for (size_t i = 0; i < cmd.size(); ++i) {
    const char c = cmd[i];
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t' && c != '\n') || u == 0x7f) return Bad(cmd, "control character");
    switch (quote) {
      case Quote::kSingle:
        if (c == '\'') {
          quote = Quote::kNone;
        } else {
          word += c;
        }
        continue;
      case Quote::kDouble:
        if (c == '"') {
          quote = Quote::kNone;
        } else if (c == '\\' && i + 1 < cmd.size() &&
                   (cmd[i + 1] == '$' || cmd[i + 1] == '`' || cmd[i + 1] == '"' || cmd[i + 1] == '\\' ||
                    cmd[i + 1] == '\n')) {
          if (cmd[++i] != '\n') word += cmd[i];
        } else {
          if (c == '$' || c == '`') *shell_syntax = true;  // expanded inside "..."
          word += c;
        }
        continue;
      case Quote::kNone:
        break;
    }
    if (c == ' ' || c == '\t' || c == '\n') {
      if (c == '\n') *shell_syntax = true;
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else if (c == '\'') {
      quote = Quote::kSingle;
      in_word = true;
    } else if (c == '"') {
      quote = Quote::kDouble;
      in_word = true;
    } else if (c == '\\') {
      if (i + 1 == cmd.size()) return Bad(cmd, "trailing backslash");
      if (cmd[++i] != '\n') {
        word += cmd[i];
        in_word = true;
      }
    } else {
      if (IsShellSyntax(c) || (c == '#' && !in_word)) *shell_syntax = true;
      word += c;
      in_word = true;
    }
  }
  if (quote != Quote::kNone) return Bad(cmd, "unbalanced quote");
  if (in_word) words.push_back(std::move(word));
  return words;
}

}  // namespace

bool IsShellPattern(std::string_view path) {
  return (!path.empty() && path.front() == '~') || path.find_first_of("*?[{") != std::string_view::npos;
}

absl::StatusOr<ScpCommand> ParseScpArgs(const std::vector<std::string>& words, std::string_view cmd) {
  ScpCommand out;
  if (words.empty()) return Bad(cmd, "empty");
  const std::string& program = words[0];
  if (program != "scp" && !(program.size() > 4 && program.ends_with("/scp"))) {
    return Bad(cmd, "not an scp command");
  }
  bool to = false, from = false;
  size_t i = 1;
  for (; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w == "--") {
      ++i;
      break;
    }
    if (w.size() < 2 || w[0] != '-') break;
    for (size_t k = 1; k < w.size(); ++k) {
      switch (w[k]) {
        case 't': to = true; break;
        case 'f': from = true; break;
        case 'r': out.recursive = true; break;
        case 'd': out.target_is_dir = true; break;
        case 'p': out.preserve = true; break;
        case 'v': case 'q': case 'T': break;
        default:
          return Bad(cmd, fmt::format("option -{} is not supported", Printable(std::string_view(&w[k], 1))));
      }
    }
  }
  if (to == from) return Bad(cmd, "exactly one of -t and -f is required");
  out.direction = to ? FileDirection::kUpload : FileDirection::kDownload;
  if (words.size() - i != 1) return Bad(cmd, "exactly one path is required");
  out.path = words[i];
  if (out.path.empty()) return Bad(cmd, "empty path");
  out.path_is_pattern = IsShellPattern(out.path);
  return out;
}

absl::StatusOr<ScpCommand> ParseScpCommand(std::string_view cmd) {
  if (cmd.size() > kMaxScpCommandLength) return Bad(cmd, "too long");
  bool shell_syntax = false;
  auto words = SplitWords(cmd, &shell_syntax);
  if (!words.ok()) return words.status();
  auto out = ParseScpArgs(*words, cmd);
  if (out.ok()) out->has_shell_syntax = shell_syntax;
  return out;
}

}  // namespace portcullis::ssh
