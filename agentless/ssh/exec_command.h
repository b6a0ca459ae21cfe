#pragma once
// Recognises, in the command of an SSH "exec" request, the file-transfer
// programs the relay must audit: scp in legacy mode (-t / -f) and an SFTP
// server (sftp-server, internal-sftp), however the command line spells
// them: shell quoting ('scp', s\cp), variable assignments (A=1 scp),
// wrappers (exec, command, env, nice, nohup, setsid, stdbuf, time,
// timeout, ionice, busybox), absolute paths (/usr/bin/scp) and `sh -c`
// nesting (any POSIX-like shell, any depth up to kMaxExecNesting).
//
// The command is read as a POSIX shell would read it, without expanding
// anything. Whatever cannot be read with confidence and may start a
// transfer is kUncertain: a program name computed by an expansion or a
// glob, a transfer program inside a command substitution, in a list or
// pipeline, with a redirection, with expanded arguments, or handed to a
// program that runs other programs (sudo, xargs, find, an interpreter)
// with an argument that names scp, sftp or rsync; rsync itself. A
// program that only takes the words as data (echo scp -t, grep scp) is
// kOther.
//
// This reads the command line only: a program can still receive data on
// its standard input (cat > file, a shell reading commands); the role's
// exec and record_input options govern that.
//
// Pure function, thread-safe.

#include <string>
#include <string_view>

#include "agentless/ssh/scp_command.h"

namespace portcullis::ssh {

enum class ExecKind {
  kOther,       // no file-transfer program recognised
  kScp,         // one scp -t / -f command (ExecCommand::scp)
  kSftpServer,  // an SFTP server speaking on the channel
  kUncertain,   // may start a transfer the relay cannot audit (reason)
};
const char* ExecKindName(ExecKind k);

struct ExecCommand {
  ExecKind kind = ExecKind::kOther;
  ScpCommand scp;  // kScp only
  // kScp: the command is the form `scp -O` itself sends: one simple
  // command whose program word is `scp` (looked up on the target's PATH),
  // with no assignment, wrapper or nesting.
  bool plain = false;
  std::string reason;  // kUncertain: why (displayable)
};

inline constexpr size_t kMaxExecCommandLength = 256 * 1024;
inline constexpr int kMaxExecNesting = 8;

ExecCommand ClassifyExecCommand(std::string_view command);

}  // namespace portcullis::ssh
