#pragma once
// Parses the exec command an SCP client sends in legacy mode (`scp -O`):
// "scp [-v] [-r] [-p] [-d] -t [--] PATH" (upload to the target) or
// "scp ... -f [--] PATH" (download). The relay passes the command to the
// target unchanged; this only tells the SCP auditor what to expect and lets
// the relay decide (direction, shell syntax). Modern OpenSSH scp (9.x
// default) runs the "sftp" subsystem instead, audited by SftpAuditor.
// Pure function, thread-safe.

#include <string>
#include <vector>
#include <string_view>

#include "absl/status/statusor.h"
#include "agentless/ssh/file_transfer_event.h"

namespace portcullis::ssh {

struct ScpCommand {
  FileDirection direction = FileDirection::kUpload;  // -t: upload, -f: download
  std::string path;            // the one path operand, shell quotes removed
  bool recursive = false;      // -r: directories may be sent (D/E records)
  bool target_is_dir = false;  // -d: PATH must be a directory (several sources)
  bool preserve = false;       // -p: times (T records) are sent
  // The command has unquoted shell syntax (; & | < > ( ) $ ` newline, or a
  // '#' comment): the target's shell will run more than this scp.
  bool has_shell_syntax = false;
  // PATH holds shell pattern characters (* ? [ { or a leading ~): the
  // target's shell may expand it to other paths (see ScpAuditor).
  bool path_is_pattern = false;
  // Downloads: what PATH expanded to on the target, in order, if known
  // (ScpAuditor then names top-level files and directories from it).
  std::vector<std::string> expanded;
};

inline constexpr size_t kMaxScpCommandLength = 8192;

// Accepts POSIX shell quoting ('...', "...", backslash). Refuses (InvalidArgument):
// a program other than scp, options other than -d -f -p -q -r -t -T -v, both
// or neither of -t/-f, zero or several paths, unbalanced quotes, control
// characters, more than kMaxScpCommandLength bytes.
[[nodiscard]] absl::StatusOr<ScpCommand> ParseScpCommand(std::string_view exec_cmd);

// The same checks on words already split by a shell lexer: argv[0] is the
// program (scp or .../scp). `cmd` is used in error messages only.
// has_shell_syntax is left false (the caller's lexer knows).
[[nodiscard]] absl::StatusOr<ScpCommand> ParseScpArgs(const std::vector<std::string>& argv,
                                                      std::string_view cmd);

// True if `path` holds characters a shell may expand (* ? [ { or a leading ~).
bool IsShellPattern(std::string_view path);

}  // namespace portcullis::ssh
