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
// Issue 4 (sealing) hooks in at the writer: it sees every chunk in file
// order right after write(2) and can hash it and emit checkpoints.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"

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
  void Enqueue(std::shared_ptr<FileState> file);
  void Run();
  void Drain(const std::shared_ptr<FileState>& file, std::string* batch);

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<FileState>> queue_;  // guarded by mu_
  bool stop_ = false;                             // guarded by mu_
  std::vector<std::thread> threads_;
};

class BufferedFile {
 public:
  static constexpr size_t kDefaultBufferCap = 8u << 20;

  // Takes ownership of `fd`, an open, writable file; `path` names it in
  // messages. At most `buffer_cap` bytes wait in memory at any time.
  BufferedFile(std::shared_ptr<WriterPool> pool, int fd, std::string path,
               size_t buffer_cap = kDefaultBufferCap);
  ~BufferedFile();  // Close()s if needed, ignoring its status
  BufferedFile(const BufferedFile&) = delete;
  BufferedFile& operator=(const BufferedFile&) = delete;

  // Queues `bytes` for writing. Returns false, and drops them, once the
  // file has failed or is closed.
  bool Append(std::string_view bytes);
  // Cheap check without the mutex.
  bool healthy() const;
  // OK while everything appended so far can still be written.
  absl::Status Health() const;
  // Bytes appended but not yet written. Lock-free.
  size_t Backlog() const;
  // Waits until everything appended is written, fdatasync()s and closes the
  // file. Returns the first failure, if any. Idempotent.
  [[nodiscard]] absl::Status Close();
  const std::string& path() const;

 private:
  std::shared_ptr<WriterPool> pool_;
  std::shared_ptr<FileState> state_;
  bool closed_ = false;
  absl::Status close_status_;
};

}  // namespace portcullis::recorder
