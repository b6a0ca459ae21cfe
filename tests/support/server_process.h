#pragma once
// The process side of the test server fixtures (sshd, dropbear, python
// servers): spawn a server in the foreground with its output in a log file,
// wait until it is ready, stop it by PID. Test-only code; thread-compatible
// (each call works on the PID it is given).

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace portcullis::testing {

// Starts argv (argv[0] an absolute path) with stdin from /dev/null and
// stdout + stderr truncated into `log_path`, SIGPIPE at its default and no
// signal blocked. Returns the PID.
[[nodiscard]] absl::StatusOr<pid_t> SpawnServer(const std::vector<std::string>& argv,
                                                const std::string& log_path);

// Polls (every 20 ms, up to `timeout`) until `ready()` is true. If the
// process exits first, reaps it, sets `pid` to -1 and returns Internal with
// `what` and the log; `exited` (if given) is then true. On timeout stops it
// (StopServer) and returns DeadlineExceeded with the log.
[[nodiscard]] absl::Status WaitServerReady(pid_t& pid, const std::string& what,
                                           const std::function<bool()>& ready,
                                           const std::function<std::string()>& log,
                                           std::chrono::milliseconds timeout, bool* exited);

// SIGTERM, then SIGKILL after 5 s; reaps; sets `pid` to -1. No-op if pid <= 0.
void StopServer(pid_t& pid);

// Stops `pid` (SIGSTOP, so it forks no more), SIGKILLs every descendant and
// then it; reaps; sets `pid` to -1. No-op if pid <= 0.
void CrashServer(pid_t& pid);

// The PIDs of every live descendant of `root` (by the parent PID field of
// /proc/PID/stat).
std::vector<pid_t> Descendants(pid_t root);

// True if a TCP connection to 127.0.0.1:port succeeds (closed at once).
bool PortAccepts(int port);

}  // namespace portcullis::testing
