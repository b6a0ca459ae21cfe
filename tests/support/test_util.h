#pragma once
// Small helpers for integration tests: free loopback ports, temporary
// directories, and running a program with a timeout. Test-only code.
// Functions are thread-safe except where noted.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace portcullis::testing {

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read
// the port, close). Racy by nature: callers that bind later should retry.
// Returns 0 on failure.
int PickFreePort();

// A fresh directory under /tmp (mkdtemp, mode 0700), removed recursively when
// the object dies. Movable, not copyable.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "pc-test");
  ~TempDir();
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string Join(std::string_view name) const;

 private:
  std::string path_;
};

struct CommandResult {
  int exit_code = -1;  // exit status; 128+signal if killed; -1 if it never ran
  std::string out;     // everything written to stdout
  std::string err;     // everything written to stderr (or why it never ran)
  bool timed_out = false;
};

// Runs argv (argv[0] searched in PATH) with `stdin_data` on its stdin and
// `extra_env` ("NAME=value") added to this process's environment, collecting
// stdout and stderr. After `timeout` the child is killed by PID (SIGKILL).
// Sets SIGPIPE to ignored in this process (so a child that closes stdin early
// cannot kill the test).
CommandResult RunCommand(const std::vector<std::string>& argv, std::string_view stdin_data = "",
                         std::chrono::milliseconds timeout = std::chrono::seconds(30),
                         const std::vector<std::string>& extra_env = {});

// A TCP connection to 127.0.0.1:port; -1 on failure.
int ConnectLoopback(int port);

// Whole-file helpers for tests.
[[nodiscard]] absl::StatusOr<std::string> ReadWholeFile(const std::string& path);
[[nodiscard]] absl::Status WriteWholeFile(const std::string& path, std::string_view data,
                                          int mode = 0644);

// A "kB" field of /proc/PID/status (VmRSS, VmHWM, ...) in KiB; -1 if the
// process or the field cannot be read.
long ProcStatusKib(int pid, std::string_view field = "VmRSS");

// The login name of the current user (getpwuid(getuid())); "" if unknown.
std::string CurrentUserName();

}  // namespace portcullis::testing
