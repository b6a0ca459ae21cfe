#pragma once
// RecordingSealer: the writer's side of a recording's seal
// (docs/recordings.md, "Sealing"), independent of the recording's format.
// It keeps a running SHA-256 of the bytes written to the recording and
// appends signed checkpoint lines to <id>.seal. A checkpoint first
// fdatasync()s the recording, then signs, appends and fdatasync()s its
// line, so after a crash every complete line on disk describes a prefix
// that is on disk too.
//
// Not thread-safe: its owner (a BufferedFile) lets one thread at a time use
// it. The signer and the clock must outlive it. Key material never passes
// through it: it only asks the signer to sign checkpoint payloads.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker/common/clock.h"
#include "broker/common/openssl_handles.h"
#include "broker/session/recorder.h"
#include "recorder/seal_format.h"

namespace portcullis::recorder {

struct SealOptions {
  session::RecordingSigner* signer = nullptr;  // required
  std::string recording_id;                    // ValidRecordingId()
  std::string seal_path;                       // <id>.seal: created 0600 (truncated if stale)
  const Clock* clock = nullptr;  // checkpoints' UTC time and interval; null = system clock
  std::chrono::microseconds checkpoint_interval = std::chrono::seconds(4);
  uint64_t checkpoint_bytes = uint64_t{16} << 20;  // also checkpoint after this many bytes
};

// What a sealed recording's manifest needs from its writer.
struct SealSummary {
  uint64_t size = 0;           // bytes written to the recording
  std::string sha256_hex;      // of exactly those bytes
  int64_t elapsed_micros = 0;  // session time of the last written event
  // The signed checkpoints (signatures cleared), thinned to at most
  // kMaxManifestCheckpoints; the last one is always kept.
  std::vector<Checkpoint> checkpoints;
  bool sealed = false;  // the last signed checkpoint covers all `size` bytes
};

class RecordingSealer {
 public:
  // Creates the seal file. InvalidArgument for missing options, Unavailable
  // if the file cannot be created.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<RecordingSealer>> Create(SealOptions opts);
  ~RecordingSealer();  // closes the seal file (it stays on disk)
  RecordingSealer(const RecordingSealer&) = delete;
  RecordingSealer& operator=(const RecordingSealer&) = delete;

  // `bytes` were just written to the end of the recording; the last event
  // in them is at `media_micros` into the session.
  void Wrote(std::string_view bytes, int64_t media_micros);
  // True if there are unsealed bytes and a checkpoint is due: none was made
  // yet, checkpoint_bytes are unsealed, or the interval has passed.
  bool Due() const;
  // True if bytes are unsealed or no checkpoint was made yet (Close()
  // makes a final checkpoint then).
  bool NeedsFinal() const { return written_ > sealed_ || seq_ == 0; }
  // Seals what was written so far to `recording_fd` (named `path` in
  // errors): fdatasync, sign, append, fdatasync. After a failure the sealer
  // refuses further checkpoints (the seal must not have holes).
  [[nodiscard]] absl::Status Seal(int recording_fd, const std::string& path);
  bool failed() const { return failed_; }
  uint64_t checkpoint_count() const { return seq_; }
  // The hash of everything written and the checkpoints so far.
  SealSummary Summary() const;

 private:
  RecordingSealer(SealOptions opts, int seal_fd, EvpMdCtxPtr ctx);
  absl::Status SealOnce(int recording_fd, const std::string& path);
  void Keep(Checkpoint cp);

  const SealOptions opts_;
  const Clock* const clock_;
  const int seal_fd_;
  EvpMdCtxPtr ctx_;  // running SHA-256 of the recording
  uint64_t written_ = 0;
  uint64_t sealed_ = 0;  // offset of the last checkpoint
  int64_t media_micros_ = 0;
  uint64_t seq_ = 0;  // the next checkpoint's seq
  TimePoint last_checkpoint_{};
  bool synced_dir_ = false;
  bool failed_ = false;
  std::vector<Checkpoint> kept_;  // for the manifest
  uint64_t keep_stride_ = 1;      // keep every n-th seq
};

}  // namespace portcullis::recorder
