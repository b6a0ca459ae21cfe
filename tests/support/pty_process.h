#pragma once
// PtyProcess: a program on its own pseudo-terminal (forkpty), driven
// expect-style from a test: ReadUntil(pattern), Write(bytes), WaitExit().
// Everything the program writes (stdout and stderr share the terminal) is
// kept in output(). The destructor SIGKILLs the program by PID if it still
// runs and reaps it. Not thread-safe. Test-only code.

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace portcullis::testing {

class PtyProcess {
 public:
  // Starts argv (argv[0] searched in PATH) on a new terminal of cols x rows
  // with `extra_env` ("NAME=value", overriding this process's environment).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<PtyProcess>> Start(
      const std::vector<std::string>& argv, const std::vector<std::string>& extra_env = {},
      int cols = 80, int rows = 24);
  ~PtyProcess();
  PtyProcess(const PtyProcess&) = delete;
  PtyProcess& operator=(const PtyProcess&) = delete;

  // Reads until `pattern` appears in the output after the end of the last
  // match (or the start). True if it did within `timeout`; false on timeout
  // or when the terminal closed first.
  bool ReadUntil(std::string_view pattern,
                 std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Writes all of `bytes` to the terminal (as if typed).
  [[nodiscard]] bool Write(std::string_view bytes);
  // Waits for the program to exit, reading its output meanwhile. Returns
  // the exit status (128+signal if killed), or nullopt on timeout.
  std::optional<int> WaitExit(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Sends `sig` to the program (by PID).
  void Signal(int sig);
  // Reads what arrives within `timeout` into output(): the number of bytes
  // (0 if none), or -1 once the terminal is closed (after the program exited).
  long ReadSome(std::chrono::milliseconds timeout);

  const std::string& output() const { return output_; }
  pid_t pid() const { return pid_; }
  // False once the program has exited (reaps it without blocking).
  bool running();

 private:
  PtyProcess(pid_t pid, int master) : pid_(pid), master_(master) {}
  void Reap(bool block);

  pid_t pid_ = -1;
  int master_ = -1;
  bool eof_ = false;
  std::optional<int> exit_code_;
  std::string output_;
  size_t cursor_ = 0;  // ReadUntil searches from here
};

}  // namespace portcullis::testing
