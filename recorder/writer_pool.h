#pragma once
// Recording files written off the session thread.
//
// A BufferedFile copies what it is handed into a bounded in-memory buffer
// and returns; a WriterPool thread drains the buffers of all its files to
// disk with write(2), a whole buffer per call. The session thread never
// waits for the disk: Append() takes one short mutex and copies once.
//
// Failure is sticky and fails closed: when the buffer would exceed its cap
// (the disk is too slow) or a write fails (ENOSPC, EIO, ...), Health()
// turns non-OK with a message naming the file, later Append()s are dropped,
// and the session owning the recording must end. What was buffered before
// a cap overflow is still written, so the file holds a clean prefix.
//
// Encoding (optional): a file given a ChunkEncoder is handed records by its
// owner (one copy on the session thread) and the encoder turns them into
// the file's bytes on the writer thread, off the session's hot path.
//
// Thread-safety: WriterPool is thread-safe. A BufferedFile belongs to one
// thread (its session's); only the pool touches it concurrently, through
// the shared state. Ownership: each BufferedFile holds a reference on its
// pool, so the pool's threads stop when the last file and the owner of the
// pool are gone.
//
// Sealing (optional, format-agnostic): a file given a RecordingSealer has
// every chunk hashed in file order right after write(2), and a checkpoint
// cut when one is due: right after the first write (the header), after
// checkpoint_bytes, and once the interval has passed, also when no new
// data arrives (pool threads wake at least every second and look at idle
// files). The pool's sync threads complete each cut checkpoint (fdatasync,
// sign, append, fdatasync) while the writer goes on writing, so a disk
// that is slow to sync slows the checkpoints, not the recording. Close()
// waits for the checkpoint in flight, makes the final one and returns the
// summary a manifest needs. A failed checkpoint (signing, sync) fails the
// file. A size cap fails the file once the recording would exceed it.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "recorder/recording_sealer.h"

namespace portcullis::recorder {

struct FileState;  // shared between a BufferedFile and the pool

// Turns what a BufferedFile's owner appended into the bytes written to
// disk. The pool calls it on a writer thread, for one batch at a time and
// in order; a batch is a run of whole appends. One encoder per file.
class ChunkEncoder {
 public:
  virtual ~ChunkEncoder() = default;
  // Appends to `out` the file bytes for `batch`, taking them to at most
  // `limit` bytes: an event that would go past it is left out, with all
  // that follows, and the result is false. `*media_micros` receives the
  // session time of the last event encoded (unchanged if none was).
  virtual bool Encode(std::string_view batch, size_t limit, std::string* out,
                      int64_t* media_micros) = 0;
};

class WriterPool {
 public:
  // `threads` write; as many (at least two) complete checkpoints.
  explicit WriterPool(int threads = 1);
  ~WriterPool();  // joins the threads; every BufferedFile must be closed
  WriterPool(const WriterPool&) = delete;
  WriterPool& operator=(const WriterPool&) = delete;

 private:
  friend class BufferedFile;
  // How often idle sealed files are looked at.
  static constexpr std::chrono::seconds kTick{1};

  void Enqueue(std::shared_ptr<FileState> file);
  void Track(std::shared_ptr<FileState> file);
  void Forget(const std::shared_ptr<FileState>& file);
  void Run();
  void Drain(const std::shared_ptr<FileState>& file, std::string* batch, std::string* encoded);
  // Makes a due checkpoint of a file no writer holds.
  void Tick(const std::shared_ptr<FileState>& file);
  // Lets go of a file a writer held; `st` is the writer's result.
  void Release(const std::shared_ptr<FileState>& file, absl::Status st);
  // Cuts a checkpoint of `file` (held by the caller) if one is due and
  // hands it to a sync thread.
  void CutIfDue(const std::shared_ptr<FileState>& file);
  void RunSync();

  struct SyncJob {
    std::shared_ptr<FileState> file;
    Checkpoint checkpoint;
  };

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<FileState>> queue_;  // guarded by mu_
  std::vector<std::shared_ptr<FileState>> sealed_;  // guarded by mu_: open sealed files
  std::chrono::steady_clock::time_point next_tick_{};  // guarded by mu_
  bool stop_ = false;                             // guarded by mu_
  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  std::deque<SyncJob> sync_queue_;  // guarded by sync_mu_
  bool sync_stop_ = false;          // guarded by sync_mu_
  std::vector<std::thread> threads_;
  std::vector<std::thread> sync_threads_;
};

struct BufferedFileOptions {
  size_t buffer_cap = size_t{8} << 20;  // bytes waiting in memory at most
  uint64_t max_bytes = 0;  // size cap of the whole file; 0 = none
  std::unique_ptr<RecordingSealer> sealer;  // null = not sealed
  std::unique_ptr<ChunkEncoder> encoder;    // null = bytes are written as appended
};

class BufferedFile {
 public:
  static constexpr size_t kDefaultBufferCap = 8u << 20;

  // Takes ownership of `fd`, an open, writable file; `path` names it in
  // messages. At most `buffer_cap` bytes wait in memory at any time.
  BufferedFile(std::shared_ptr<WriterPool> pool, int fd, std::string path,
               size_t buffer_cap = kDefaultBufferCap);
  BufferedFile(std::shared_ptr<WriterPool> pool, int fd, std::string path,
               BufferedFileOptions options);
  ~BufferedFile();  // Close()s if needed, ignoring its status
  BufferedFile(const BufferedFile&) = delete;
  BufferedFile& operator=(const BufferedFile&) = delete;

  // Queues `bytes` for writing; their last event is at `media_micros` into
  // the session (checkpoints record it). Returns false, and drops them,
  // once the file has failed or is closed, or if they would take it over
  // its size cap (which fails it).
  bool Append(std::string_view bytes, int64_t media_micros = 0);
  // As Append(), for a record in two parts (a small header and the bytes
  // it describes), copied once, together.
  bool Append(std::string_view head, std::string_view body, int64_t media_micros);
  // Cheap check without the mutex.
  bool healthy() const;
  // OK while everything appended so far can still be written.
  absl::Status Health() const;
  // Bytes appended but not yet written. Lock-free.
  size_t Backlog() const;
  // Waits until everything appended is written, makes the final checkpoint
  // of a sealed file (or fdatasync()s it) and closes it. Returns the first
  // failure, if any; `summary` (if given, sealed files only) receives the
  // seal summary of what is on disk, also after a failure. Idempotent: a
  // later call returns the same status and summary.
  [[nodiscard]] absl::Status Close(SealSummary* summary = nullptr);
  const std::string& path() const;

 private:
  std::shared_ptr<WriterPool> pool_;
  std::shared_ptr<FileState> state_;
  bool closed_ = false;
  absl::Status close_status_;
  SealSummary summary_;
};

}  // namespace portcullis::recorder
