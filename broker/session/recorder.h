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

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker/common/clock.h"

namespace portcullis::session {

struct RecordingInfo {
  std::string session_id;
  int channel = 0;  // the n-th recorded channel of this session (0, 1, ...)
  std::string user, login, target, protocol, source;
  std::string target_address;  // HOST:PORT the broker connected to
  std::string command;  // exec command; "" for a shell
  std::string term = "xterm";
  int cols = 80, rows = 24;
  bool record_input = false;  // the role's record_input
  TimePoint started{};
  // Why the session was allowed (sealed into the manifest).
  std::vector<std::string> roles;      // the user's roles at the decision
  std::string rule;                    // the deciding rule, e.g. "role ops allow: ..."
  std::vector<std::string> approvals;  // approval ids (none until approvals exist)
  uint64_t certificate_serial = 0;     // serial of the target certificate; 0 = none

  // "<session_id>.<channel>": names the recording's files and its manifest.
  std::string RecordingId() const { return session_id + "." + std::to_string(channel); }
};

// Signs recording seals (checkpoint lines and manifests, see
// docs/recordings.md) with the broker's Ed25519 recording key. The key stays
// behind this seam (core::Authority implements it). Thread-safe.
class RecordingSigner {
 public:
  virtual ~RecordingSigner() = default;
  // The raw 64-byte Ed25519 signature of `payload`. Implementations refuse
  // (InvalidArgument) anything that is not a seal payload: a checkpoint line
  // starting "portcullis-checkpoint/1 " or a manifest starting
  // "{\n  \"format\": \"portcullis-recording-manifest/1\"".
  [[nodiscard]] virtual absl::StatusOr<std::string> SignRecordingSeal(std::string_view payload) = 0;
  // The raw 32-byte public key (for manifests' "key" and for verification).
  virtual std::string RecordingPublicKey() const = 0;
};

// What a catalogue (the broker's recordings table) learns about each
// recording. Thread-safe.
struct RecordingEnd {
  std::string recording_id;
  std::string state;  // "complete" (sealed) or "failed" (write failed; prefix sealed if possible)
  std::string end_reason;
  std::string failure;  // why it failed; "" when complete
  TimePoint ended{};
  uint64_t size = 0;
  std::string sha256_hex;  // of the file as sealed; "" if it could not be sealed
};

class RecordingObserver {
 public:
  virtual ~RecordingObserver() = default;
  // Called before the first byte is written. A failure refuses the
  // recording (and so the session): nothing unrecorded, nothing uncatalogued.
  [[nodiscard]] virtual absl::Status Opened(const RecordingInfo& info, const std::string& path) = 0;
  // Called once, after the recording is closed and its manifest written.
  virtual void Closed(const RecordingEnd& end) = 0;
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

// A graphical session's recorder (VNC and RDP, next): timestamped
// framebuffer updates and input events, lossless with respect to what the
// user saw, so that it can be replayed, exported to video and PNG, and
// sought. Same contract as TerminalRecorder: one session thread calls it,
// it never blocks that thread on the disk, times come from the recorder's
// injected clock, and Health() turning non-OK ends the session.
class GraphicalRecorder {
 public:
  virtual ~GraphicalRecorder() = default;
  // The framebuffer size (first call before any Frame(), then on a change).
  virtual void Resize(int width, int height) = 0;
  // A rectangle of the framebuffer as the user now sees it: `pixels` holds
  // `h` rows of `w` 32-bit pixels (B, G, R, unused), `stride` bytes apart.
  virtual void Frame(int x, int y, int w, int h, const uint8_t* pixels, size_t stride) = 0;
  virtual void Key(uint32_t keysym, bool down) = 0;            // X11 keysym
  virtual void Pointer(int x, int y, uint32_t button_mask) = 0;  // bit 0 = left
  // The pointer's shape: `w` x `h` pixels (B, G, R, A; A = 0 transparent,
  // 255 opaque), hot spot (hot_x, hot_y). w = h = 0: the cursor is hidden.
  virtual void Cursor(int hot_x, int hot_y, int w, int h, const uint8_t* bgra) = 0;
  // Clipboard text that crossed the broker (`to_target`: from the user).
  // Recorders keep its length and SHA-256, not the text.
  virtual void Clipboard(std::string_view text, bool to_target) = 0;
  virtual void Marker(std::string_view label) = 0;
  // Called by the session thread when it has nothing else to do: the
  // recorder hands over what has been waiting for its flush interval (the
  // last picture before the screen went still must not wait for the next
  // event). Returns how long until it wants the next call.
  virtual std::chrono::milliseconds Tick() { return std::chrono::hours(1); }
  virtual absl::Status Health() const = 0;
  virtual size_t Backlog() const { return 0; }
  [[nodiscard]] virtual absl::Status Close(std::string_view end_reason) = 0;
};

// Thread-safe.
class RecorderFactory {
 public:
  virtual ~RecorderFactory() = default;
  [[nodiscard]] virtual absl::StatusOr<std::unique_ptr<TerminalRecorder>> OpenTerminal(
      const RecordingInfo& info) = 0;
  // A recorder for a graphical session; Unimplemented until VNC/RDP land.
  [[nodiscard]] virtual absl::StatusOr<std::unique_ptr<GraphicalRecorder>> OpenGraphical(
      const RecordingInfo& /*info*/) {
    return absl::UnimplementedError("graphical recordings are not implemented yet");
  }
  // OK iff new recordings can be written now; listeners refuse new sessions
  // otherwise.
  [[nodiscard]] virtual absl::Status Ready() = 0;
};

}  // namespace portcullis::session
