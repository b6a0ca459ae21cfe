#pragma once
// The recorder seam every session hands what it shows to. Terminal sessions
// (SSH shell and exec) use TerminalRecorder; graphical streams (VNC, RDP)
// will get a sibling interface with timestamped frames and input events.
//
// A recorder is owned and called by one session thread. It never blocks
// that thread on disk: implementations copy the bytes into a bounded buffer
// drained by their own writer. When a recording can no longer be written
// (disk full, I/O error, buffer bound exceeded) Health() turns non-OK and
// the session must end (fail closed).

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker/common/clock.h"

namespace portcullis::session {

struct RecordingInfo {
  std::string session_id;
  int channel = 0;  // the n-th recorded channel of this session (0, 1, ...)
  std::string user, login, target, protocol, source;
  std::string command;  // exec command; "" for a shell
  std::string term = "xterm";
  int cols = 80, rows = 24;
  bool record_input = false;  // the role's record_input
  TimePoint started{};
};

class TerminalRecorder {
 public:
  virtual ~TerminalRecorder() = default;
  virtual void Output(std::string_view bytes) = 0;  // what the user saw
  virtual void Input(std::string_view bytes) = 0;   // ignored unless record_input
  virtual void Resize(int cols, int rows) = 0;
  virtual void Marker(std::string_view label) = 0;  // file transfers, tunnels, notices
  // OK while everything handed over so far can still be written.
  virtual absl::Status Health() const = 0;
  // Bytes handed over but not yet on disk. A relay that stops reading the
  // target while this is high turns a slow disk into backpressure instead
  // of a recording failure when the bound is reached. Cheap (no lock).
  virtual size_t Backlog() const { return 0; }
  // Flushes and closes; returns the final status. Idempotent.
  [[nodiscard]] virtual absl::Status Close(std::string_view end_reason) = 0;
};

// Thread-safe.
class RecorderFactory {
 public:
  virtual ~RecorderFactory() = default;
  [[nodiscard]] virtual absl::StatusOr<std::unique_ptr<TerminalRecorder>> OpenTerminal(
      const RecordingInfo& info) = 0;
  // OK iff new recordings can be written now; listeners refuse new sessions
  // otherwise.
  [[nodiscard]] virtual absl::Status Ready() = 0;
};

}  // namespace portcullis::session
