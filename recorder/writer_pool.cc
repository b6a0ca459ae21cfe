#include "recorder/writer_pool.h"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>

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
        sealer(std::move(opts.sealer)),
        encoder(std::move(opts.encoder)) {}

  const int fd;
  const std::string path;
  const size_t cap;
  const uint64_t max_bytes;  // 0 = no size cap
  // Used only by the thread that holds the file (with_pool) or by Close()
  // once the pool has let go.
  const std::unique_ptr<RecordingSealer> sealer;
  const std::unique_ptr<ChunkEncoder> encoder;  // as the sealer
  uint64_t encoded_bytes = 0;  // as the sealer: bytes the encoder produced (the file's size)

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

// A writer keeps its buffers between batches, but not huge ones. A busy
// session's batches stay below the relay's high-water mark (4 MiB), so
// under load these are reused, not reallocated (and refilled by page
// faults) for every batch.
constexpr size_t kMaxKeptBatchCapacity = 4u << 20;
constexpr size_t kMaxKeptEncodedCapacity = 8u << 20;
// What an idle file keeps of its buffer at the next tick.
constexpr size_t kIdleKeptCapacity = 64u << 10;

absl::Status SizeCapError(const std::string& path, uint64_t max_bytes) {
  return absl::ResourceExhaustedError(
      fmt::format("recording: {} reached the size cap of {} bytes", path, max_bytes));
}

}  // namespace

// ---------------------------------------------------------------- WriterPool

WriterPool::WriterPool(int threads) {
  if (threads < 1) threads = 1;
  // Named for top(1) and perf: pc-rec-write, pc-rec-sync.
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this] {
      pthread_setname_np(pthread_self(), "pc-rec-write");
      Run();
    });
  }
  for (int i = 0; i < std::max(threads, 2); ++i) {
    sync_threads_.emplace_back([this] {
      pthread_setname_np(pthread_self(), "pc-rec-sync");
      RunSync();
    });
  }
}

WriterPool::~WriterPool() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  {
    std::lock_guard<std::mutex> l(sync_mu_);
    sync_stop_ = true;
  }
  sync_cv_.notify_all();
  for (auto& t : sync_threads_) t.join();
}

void WriterPool::CutIfDue(const std::shared_ptr<FileState>& file) {
  if (!file->sealer->Due()) return;
  SyncJob job{file, file->sealer->Cut()};
  {
    std::lock_guard<std::mutex> l(sync_mu_);
    sync_queue_.push_back(std::move(job));
  }
  sync_cv_.notify_one();
}

void WriterPool::RunSync() {
  for (;;) {
    SyncJob job;
    {
      std::unique_lock<std::mutex> l(sync_mu_);
      sync_cv_.wait(l, [this] { return sync_stop_ || !sync_queue_.empty(); });
      if (sync_queue_.empty()) return;  // stopping, nothing left
      job = std::move(sync_queue_.front());
      sync_queue_.pop_front();
    }
    FileState& f = *job.file;
    absl::Status st = f.sealer->Complete(std::move(job.checkpoint), f.fd, f.path);
    if (!st.ok()) {
      // As a failed write: nothing more is written, the session must end.
      std::lock_guard<std::mutex> l(f.mu);
      f.write_error = true;
      f.Fail(std::move(st));
      f.pending.clear();
      f.backlog.store(f.in_flight, std::memory_order_relaxed);
    }
  }
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
  std::string encoded;
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
    if (file) Drain(file, &batch, &encoded);
    for (const auto& f : idle) Tick(f);
    idle.clear();
  }
}

// Writes what `file` has pending. A file is with one writer at a time (its
// with_pool flag), so its chunks reach the disk in order.
void WriterPool::Drain(const std::shared_ptr<FileState>& file, std::string* batch,
                       std::string* encoded) {
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
    std::string_view data = *batch;
    if (file->encoder) {
      encoded->clear();
      const uint64_t room = file->max_bytes == 0 ? UINT64_MAX : file->max_bytes - file->encoded_bytes;
      const size_t limit = static_cast<size_t>(std::min<uint64_t>(room, SIZE_MAX));
      if (!file->encoder->Encode(*batch, limit, encoded, &micros)) {
        st = SizeCapError(file->path, file->max_bytes);
      }
      file->encoded_bytes += encoded->size();
      data = *encoded;
    }
    size_t written = 0;
    absl::Status wst = WriteAll(file->fd, data, file->path, &written);
    if (st.ok()) st = std::move(wst);
    if (file->sealer) {
      // Exactly the bytes on disk are hashed, also after a short write.
      file->sealer->Wrote(data.substr(0, written), micros);
      if (st.ok()) CutIfDue(file);
    }
  }
  batch->clear();
  if (batch->capacity() > kMaxKeptBatchCapacity) std::string().swap(*batch);
  if (encoded->capacity() > kMaxKeptEncodedCapacity) std::string().swap(*encoded);
  Release(file, std::move(st));
}

void WriterPool::Tick(const std::shared_ptr<FileState>& file) {
  {
    std::lock_guard<std::mutex> l(file->mu);
    if (file->with_pool || file->closing || file->write_error) return;
    file->with_pool = true;  // claimed: no other thread touches its fd now
    // A session that was busy and is quiet now gives back its big buffer.
    if (file->pending.empty() && file->pending.capacity() > kIdleKeptCapacity) {
      std::string().swap(file->pending);
    }
  }
  CutIfDue(file);
  Release(file, absl::OkStatus());
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
  return Append(bytes, {}, media_micros);
}

bool BufferedFile::Append(std::string_view head, std::string_view body, int64_t media_micros) {
  FileState& s = *state_;
  const size_t size = head.size() + body.size();
  {
    std::lock_guard<std::mutex> l(s.mu);
    if (s.closing || !s.status.ok()) return false;
    if (s.pending.size() + s.in_flight + size > s.cap) {
      s.Fail(absl::ResourceExhaustedError(fmt::format(
          "recording: buffer of {} bytes full writing {} (disk too slow)", s.cap, s.path)));
      return false;
    }
    // With an encoder, the writer checks the cap against what it encodes.
    if (!s.encoder && s.max_bytes != 0 && size > s.max_bytes - s.appended) {
      s.Fail(SizeCapError(s.path, s.max_bytes));
      return false;
    }
    s.appended += size;
    s.pending_micros = media_micros;
    s.pending.append(head);
    s.pending.append(body);
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
    s.sealer->WaitForCheckpoint();  // the sync thread is done with fd
    {
      std::lock_guard<std::mutex> l(s.mu);
      st = s.status;  // it may have failed the file
    }
    if (st.ok()) st = s.sealer->status();  // ... or be about to
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
