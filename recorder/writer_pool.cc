#include "recorder/writer_pool.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "broker/common/absl_fmt.h"
#include "recorder/file_io.h"

namespace portcullis::recorder {

struct FileState {
  FileState(int fd_in, std::string path_in, BufferedFileOptions opts)
      : fd(fd_in),
        path(std::move(path_in)),
        cap(opts.buffer_cap),
        max_bytes(opts.max_bytes),
        sealer(std::move(opts.sealer)) {}

  const int fd;
  const std::string path;
  const size_t cap;
  const uint64_t max_bytes;  // 0 = no size cap
  // Used only by the thread that holds the file (with_pool) or by Close()
  // once the pool has let go.
  const std::unique_ptr<RecordingSealer> sealer;

  mutable std::mutex mu;
  std::condition_variable idle_cv;  // signalled when the pool lets go
  std::string pending;              // guarded by mu
  int64_t pending_micros = 0;       // guarded by mu: session time of the last appended event
  uint64_t appended = 0;            // guarded by mu: bytes accepted in total
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

void WriterPool::Track(std::shared_ptr<FileState> file) {
  std::lock_guard<std::mutex> l(mu_);
  sealed_.push_back(std::move(file));
}

void WriterPool::Forget(const std::shared_ptr<FileState>& file) {
  std::lock_guard<std::mutex> l(mu_);
  sealed_.erase(std::remove(sealed_.begin(), sealed_.end(), file), sealed_.end());
}

void WriterPool::Run() {
  std::string batch;
  std::vector<std::shared_ptr<FileState>> idle;
  for (;;) {
    std::shared_ptr<FileState> file;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait_for(l, kTick, [this] { return stop_ || !queue_.empty(); });
      if (!queue_.empty()) {
        file = std::move(queue_.front());
        queue_.pop_front();
      } else if (stop_) {
        return;  // stopping, nothing left
      }
      // One thread per tick looks at the sealed files, busy or not.
      const auto now = std::chrono::steady_clock::now();
      if (now >= next_tick_ && !sealed_.empty()) {
        next_tick_ = now + kTick;
        idle = sealed_;
      }
    }
    if (file) Drain(file, &batch);
    for (const auto& f : idle) Tick(f);
    idle.clear();
  }
}

// Writes what `file` has pending. A file is with one writer at a time (its
// with_pool flag), so its chunks reach the disk in order.
void WriterPool::Drain(const std::shared_ptr<FileState>& file, std::string* batch) {
  bool write_failed;
  int64_t micros;
  {
    std::lock_guard<std::mutex> l(file->mu);
    batch->swap(file->pending);  // `pending` gets the old, empty batch
    file->in_flight = batch->size();
    micros = file->pending_micros;
    write_failed = file->write_error;
  }
  absl::Status st;
  // After a write error nothing more is written (the file could have a hole);
  // after a buffer overflow the clean prefix still is.
  if (!write_failed) {
    size_t written = 0;
    st = WriteAll(file->fd, *batch, file->path, &written);
    if (file->sealer) {
      // Exactly the bytes on disk are hashed, also after a short write.
      file->sealer->Wrote(std::string_view(*batch).substr(0, written), micros);
      if (st.ok() && file->sealer->Due()) st = file->sealer->Seal(file->fd, file->path);
    }
  }
  batch->clear();
  if (batch->capacity() > kMaxKeptBatchCapacity) std::string().swap(*batch);
  Release(file, std::move(st));
}

void WriterPool::Tick(const std::shared_ptr<FileState>& file) {
  {
    std::lock_guard<std::mutex> l(file->mu);
    if (file->with_pool || file->closing || file->write_error) return;
    file->with_pool = true;  // claimed: no other thread touches its fd now
  }
  absl::Status st;
  if (file->sealer->Due()) st = file->sealer->Seal(file->fd, file->path);
  Release(file, std::move(st));
}

void WriterPool::Release(const std::shared_ptr<FileState>& file, absl::Status st) {
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

namespace {
BufferedFileOptions CapOnly(size_t buffer_cap) {
  BufferedFileOptions o;
  o.buffer_cap = buffer_cap;
  return o;
}
}  // namespace

BufferedFile::BufferedFile(std::shared_ptr<WriterPool> pool, int fd, std::string path,
                           size_t buffer_cap)
    : BufferedFile(std::move(pool), fd, std::move(path), CapOnly(buffer_cap)) {}

BufferedFile::BufferedFile(std::shared_ptr<WriterPool> pool, int fd, std::string path,
                           BufferedFileOptions options)
    : pool_(std::move(pool)),
      state_(std::make_shared<FileState>(fd, std::move(path), std::move(options))) {
  if (state_->sealer) pool_->Track(state_);
}

BufferedFile::~BufferedFile() { (void)Close(); }

const std::string& BufferedFile::path() const { return state_->path; }

size_t BufferedFile::Backlog() const { return state_->backlog.load(std::memory_order_relaxed); }

bool BufferedFile::healthy() const { return !state_->failed.load(std::memory_order_acquire); }

absl::Status BufferedFile::Health() const {
  if (healthy()) return absl::OkStatus();
  std::lock_guard<std::mutex> l(state_->mu);
  return state_->status;
}

bool BufferedFile::Append(std::string_view bytes, int64_t media_micros) {
  FileState& s = *state_;
  {
    std::lock_guard<std::mutex> l(s.mu);
    if (s.closing || !s.status.ok()) return false;
    if (s.pending.size() + s.in_flight + bytes.size() > s.cap) {
      s.Fail(absl::ResourceExhaustedError(fmt::format(
          "recording: buffer of {} bytes full writing {} (disk too slow)", s.cap, s.path)));
      return false;
    }
    if (s.max_bytes != 0 && bytes.size() > s.max_bytes - s.appended) {
      s.Fail(absl::ResourceExhaustedError(fmt::format(
          "recording: {} reached the size cap of {} bytes", s.path, s.max_bytes)));
      return false;
    }
    s.appended += bytes.size();
    s.pending_micros = media_micros;
    s.pending.append(bytes);
    s.backlog.store(s.pending.size() + s.in_flight, std::memory_order_relaxed);
    if (s.with_pool) return true;  // a writer will see it
    s.with_pool = true;
  }
  pool_->Enqueue(state_);
  return true;
}

absl::Status BufferedFile::Close(SealSummary* summary) {
  if (closed_) {
    if (summary != nullptr) *summary = summary_;
    return close_status_;
  }
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
  // Even after a failure the prefix on disk is worth syncing and sealing.
  absl::Status synced;
  if (s.sealer) {
    pool_->Forget(state_);
    if (s.sealer->failed()) {
      synced = DataSync(s.fd, s.path);
    } else if (s.sealer->NeedsFinal()) {
      synced = s.sealer->Seal(s.fd, s.path);  // syncs first
    } else {
      synced = DataSync(s.fd, s.path);
    }
    summary_ = s.sealer->Summary();
  } else {
    synced = DataSync(s.fd, s.path);
  }
  if (st.ok()) st = synced;
  if (::close(s.fd) != 0 && errno != EINTR && st.ok()) st = FileError(errno, s.path, "close");
  if (!st.ok()) {
    std::lock_guard<std::mutex> l(s.mu);
    s.Fail(st);
  }
  close_status_ = st;
  if (summary != nullptr) *summary = summary_;
  return st;
}

}  // namespace portcullis::recorder
