#include "recorder/writer_pool.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "broker/common/absl_fmt.h"

namespace portcullis::recorder {

struct FileState {
  FileState(int fd_in, std::string path_in, size_t cap_in)
      : fd(fd_in), path(std::move(path_in)), cap(cap_in) {}

  const int fd;
  const std::string path;
  const size_t cap;

  mutable std::mutex mu;
  std::condition_variable idle_cv;  // signalled when the pool lets go
  std::string pending;              // guarded by mu
  size_t in_flight = 0;             // guarded by mu: taken by a writer, not yet written
  bool with_pool = false;           // guarded by mu: queued or being written
  bool closing = false;             // guarded by mu
  bool write_error = false;         // guarded by mu: write(2) failed, stop writing
  absl::Status status;              // guarded by mu: the first failure
  std::atomic<bool> failed{false};
  std::atomic<size_t> backlog{0};   // pending + in_flight, for lock-free reads

  // Records the first failure. Requires mu.
  void Fail(absl::Status st) {
    if (!status.ok()) return;
    spdlog::error("{}", st.message());
    status = std::move(st);
    failed.store(true, std::memory_order_release);
  }
};

namespace {

// A writer keeps its batch buffer between files, but not a huge one.
constexpr size_t kMaxKeptBatchCapacity = 1u << 20;

absl::Status WriteError(int err, const std::string& path, std::string_view what) {
  if (err == ENOSPC || err == EDQUOT) {
    return absl::ResourceExhaustedError(fmt::format("recording: disk full writing {}", path));
  }
  return absl::InternalError(
      fmt::format("recording: cannot {} {}: {}", what, path, std::strerror(err)));
}

absl::Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return WriteError(errno, path, "write");
    }
    if (n == 0) return WriteError(EIO, path, "write");
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

}  // namespace

// ---------------------------------------------------------------- WriterPool

WriterPool::WriterPool(int threads) {
  if (threads < 1) threads = 1;
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
}

WriterPool::~WriterPool() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void WriterPool::Enqueue(std::shared_ptr<FileState> file) {
  {
    std::lock_guard<std::mutex> l(mu_);
    queue_.push_back(std::move(file));
  }
  cv_.notify_one();
}

void WriterPool::Run() {
  std::string batch;
  for (;;) {
    std::shared_ptr<FileState> file;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      file = std::move(queue_.front());
      queue_.pop_front();
    }
    Drain(file, &batch);
  }
}

// Writes what `file` has pending. A file is with one writer at a time (its
// with_pool flag), so its chunks reach the disk in order.
void WriterPool::Drain(const std::shared_ptr<FileState>& file, std::string* batch) {
  bool write_failed;
  {
    std::lock_guard<std::mutex> l(file->mu);
    batch->swap(file->pending);  // `pending` gets the old, empty batch
    file->in_flight = batch->size();
    write_failed = file->write_error;
  }
  absl::Status st;
  // After a write error nothing more is written (the file could have a hole);
  // after a buffer overflow the clean prefix still is.
  if (!write_failed) st = WriteAll(file->fd, *batch, file->path);
  batch->clear();
  if (batch->capacity() > kMaxKeptBatchCapacity) std::string().swap(*batch);

  bool requeue;
  {
    std::lock_guard<std::mutex> l(file->mu);
    file->in_flight = 0;
    if (!st.ok()) {
      file->write_error = true;
      file->Fail(std::move(st));
      file->pending.clear();
    }
    file->backlog.store(file->pending.size(), std::memory_order_relaxed);
    requeue = !file->pending.empty();
    if (!requeue) file->with_pool = false;
  }
  if (requeue) {
    Enqueue(file);  // to the back: files take turns
  } else {
    file->idle_cv.notify_all();
  }
}

// -------------------------------------------------------------- BufferedFile

BufferedFile::BufferedFile(std::shared_ptr<WriterPool> pool, int fd, std::string path,
                           size_t buffer_cap)
    : pool_(std::move(pool)),
      state_(std::make_shared<FileState>(fd, std::move(path), buffer_cap)) {}

BufferedFile::~BufferedFile() { (void)Close(); }

const std::string& BufferedFile::path() const { return state_->path; }

size_t BufferedFile::Backlog() const { return state_->backlog.load(std::memory_order_relaxed); }

bool BufferedFile::healthy() const { return !state_->failed.load(std::memory_order_acquire); }

absl::Status BufferedFile::Health() const {
  if (healthy()) return absl::OkStatus();
  std::lock_guard<std::mutex> l(state_->mu);
  return state_->status;
}

bool BufferedFile::Append(std::string_view bytes) {
  FileState& s = *state_;
  {
    std::lock_guard<std::mutex> l(s.mu);
    if (s.closing || !s.status.ok()) return false;
    if (s.pending.size() + s.in_flight + bytes.size() > s.cap) {
      s.Fail(absl::ResourceExhaustedError(fmt::format(
          "recording: buffer of {} bytes full writing {} (disk too slow)", s.cap, s.path)));
      return false;
    }
    s.pending.append(bytes);
    s.backlog.store(s.pending.size() + s.in_flight, std::memory_order_relaxed);
    if (s.with_pool) return true;  // a writer will see it
    s.with_pool = true;
  }
  pool_->Enqueue(state_);
  return true;
}

absl::Status BufferedFile::Close() {
  if (closed_) return close_status_;
  closed_ = true;
  FileState& s = *state_;
  absl::Status st;
  {
    std::unique_lock<std::mutex> l(s.mu);
    s.closing = true;
    s.idle_cv.wait(l, [&s] { return !s.with_pool; });
    st = s.status;
  }
  // The pool has let go and `closing` keeps it away: this thread owns fd.
  // Even after a failure the prefix on disk is worth syncing.
  int rc;
  do {
    rc = ::fdatasync(s.fd);
  } while (rc != 0 && errno == EINTR);
  // EINVAL/EROFS: a pipe or special file that cannot be synced.
  if (rc != 0 && errno != EINVAL && errno != EROFS && st.ok()) {
    st = WriteError(errno, s.path, "sync");
  }
  if (::close(s.fd) != 0 && errno != EINTR && st.ok()) st = WriteError(errno, s.path, "close");
  if (!st.ok()) {
    std::lock_guard<std::mutex> l(s.mu);
    s.Fail(st);
  }
  close_status_ = st;
  return st;
}

}  // namespace portcullis::recorder
