#pragma once
// RecordingSealer: the writer's side of a recording's seal
// (docs/recordings.md, "Sealing"), independent of the recording's format.
// It keeps a running SHA-256 of the bytes written to the recording and
// appends signed checkpoint lines to <id>.seal. A checkpoint first
// fdatasync()s the recording, then signs, appends and fdatasync()s its
// line, so after a crash every complete line on disk describes a prefix
// that is on disk too.
//
// A checkpoint has two halves, so the slow one can run on another thread
// while the recording goes on being written: Cut() fixes the prefix (its
// length, hash and session time) at once; Complete() makes it durable,
// signs it and appends its line. At most one checkpoint is cut and not
// yet completed at any time.
//
// Threads: Wrote(), Due() and Cut() belong to the one thread writing the
// recording at a time (its BufferedFile's writer); Complete() may run on
// another thread, concurrently with them. The rest is for the owner once
// no checkpoint is in flight (after WaitForCheckpoint()). The signer and
// the clock must outlive it. Key material never passes through it: it
// only asks the signer to sign checkpoint payloads.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
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
  // True if no checkpoint is in flight, there are bytes no checkpoint
  // covers, and one is due: none was made yet, checkpoint_bytes are
  // uncovered, or the interval has passed since the last Cut().
  bool Due() const;
  // Fixes a checkpoint of everything written so far (no I/O, no signing)
  // and marks it in flight. It must be Complete()d before the next Cut().
  [[nodiscard]] Checkpoint Cut();
  // Makes `cp` durable and signed, for the recording on `recording_fd`
  // (named `path` in errors): fdatasync, sign, append, fdatasync. Clears
  // the in-flight mark. After a failure the sealer refuses further
  // checkpoints (the seal must not have holes).
  [[nodiscard]] absl::Status Complete(Checkpoint cp, int recording_fd, const std::string& path);
  // Blocks until no checkpoint is in flight.
  void WaitForCheckpoint();
  // True if bytes are unsealed or no checkpoint was made yet (Close()
  // makes a final checkpoint then). With no checkpoint in flight.
  bool NeedsFinal() const;
  // Cut() + Complete() on the calling thread. With no checkpoint in flight.
  [[nodiscard]] absl::Status Seal(int recording_fd, const std::string& path);
  bool failed() const;
  // Why a checkpoint failed (the first failure); OK if none did.
  absl::Status status() const;
  uint64_t checkpoint_count() const;  // completed checkpoints
  // The hash of everything written and the checkpoints so far. With no
  // checkpoint in flight.
  SealSummary Summary() const;

 private:
  RecordingSealer(SealOptions opts, int seal_fd, EvpMdCtxPtr ctx);
  absl::Status CompleteOnce(Checkpoint& cp, int recording_fd, const std::string& path);
  void Keep(Checkpoint cp);  // requires mu_

  const SealOptions opts_;
  const Clock* const clock_;
  const int seal_fd_;
  // The writer's side (Wrote, Due, Cut).
  EvpMdCtxPtr ctx_;  // running SHA-256 of the recording
  uint64_t written_ = 0;
  int64_t media_micros_ = 0;
  uint64_t cut_ = 0;       // offset of the last cut checkpoint
  uint64_t next_seq_ = 0;  // the next cut checkpoint's seq
  TimePoint last_cut_{};
  bool hash_failed_ = false;
  // The completing side (Complete) and what both read.
  mutable std::mutex mu_;
  std::condition_variable done_cv_;  // signalled when a checkpoint completes
  bool in_flight_ = false;           // guarded by mu_
  bool failed_ = false;              // guarded by mu_
  absl::Status failure_;             // guarded by mu_: the first failure
  uint64_t sealed_ = 0;              // guarded by mu_: offset of the last completed checkpoint
  uint64_t completed_ = 0;           // guarded by mu_: checkpoints completed
  std::vector<Checkpoint> kept_;     // guarded by mu_: for the manifest
  uint64_t keep_stride_ = 1;         // guarded by mu_: keep every n-th seq
  bool synced_dir_ = false;          // only Complete() (one at a time) uses it
};

}  // namespace portcullis::recorder
