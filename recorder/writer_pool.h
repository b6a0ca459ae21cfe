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
// Thread-safety: WriterPool is thread-safe. A BufferedFile belongs to one
// thread (its session's); only the pool touches it concurrently, through
// the shared state. Ownership: each BufferedFile holds a reference on its
// pool, so the pool's threads stop when the last file and the owner of the
// pool are gone.
//
// Sealing (optional, format-agnostic): a file given a RecordingSealer has
// every chunk hashed in file order right after write(2), and a signed
// checkpoint made when one is due: right after the first write (the
// header), after checkpoint_bytes, and once the interval has passed, also
// when no new data arrives (pool threads wake at least every second and
// seal idle files). Close() makes the final checkpoint and returns the
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

class WriterPool {
 public:
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
  void Drain(const std::shared_ptr<FileState>& file, std::string* batch);
  // Makes a due checkpoint of a file no writer holds.
  void Tick(const std::shared_ptr<FileState>& file);
  // Lets go of a file a writer held; `st` is the writer's result.
  void Release(const std::shared_ptr<FileState>& file, absl::Status st);

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<FileState>> queue_;  // guarded by mu_
  std::vector<std::shared_ptr<FileState>> sealed_;  // guarded by mu_: open sealed files
  std::chrono::steady_clock::time_point next_tick_{};  // guarded by mu_
  bool stop_ = false;                             // guarded by mu_
  std::vector<std::thread> threads_;
};

struct BufferedFileOptions {
  size_t buffer_cap = size_t{8} << 20;  // bytes waiting in memory at most
  uint64_t max_bytes = 0;  // size cap of the whole file; 0 = none
  std::unique_ptr<RecordingSealer> sealer;  // null = not sealed
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
