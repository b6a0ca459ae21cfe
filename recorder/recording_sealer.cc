#include "recorder/recording_sealer.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include <fmt/format.h>

#include "auth/ca/ed25519_key.h"
#include "broker/common/absl_fmt.h"
#include "broker/common/encoding.h"
#include "broker/common/status_macros.h"
#include "broker/common/time_format.h"
#include "recorder/file_io.h"

namespace portcullis::recorder {
namespace {

absl::StatusOr<std::string> FinalHex(const EVP_MD_CTX* running) {
  EvpMdCtxPtr copy(EVP_MD_CTX_new());
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!copy || EVP_MD_CTX_copy_ex(copy.get(), running) != 1 ||
      EVP_DigestFinal_ex(copy.get(), md, &len) != 1) {
    return absl::InternalError("recording: SHA-256 failed");
  }
  return HexEncode(std::string_view(reinterpret_cast<const char*>(md), len));
}

}  // namespace

absl::StatusOr<std::unique_ptr<RecordingSealer>> RecordingSealer::Create(SealOptions opts) {
  if (opts.signer == nullptr) {
    return absl::InvalidArgumentError("recording: no recording signer to seal with");
  }
  if (!ValidRecordingId(opts.recording_id)) {
    return absl::InvalidArgumentError("recording: invalid recording id");
  }
  if (opts.seal_path.empty()) return absl::InvalidArgumentError("recording: no seal path");
  if (opts.checkpoint_interval.count() <= 0 || opts.checkpoint_bytes == 0) {
    return absl::InvalidArgumentError("recording: checkpoint interval and bytes must be > 0");
  }
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return absl::InternalError("recording: SHA-256 unavailable");
  }
  // A stale seal without its recording (the recording was created with
  // O_EXCL) proves nothing: start it afresh.
  int fd = ::open(opts.seal_path.c_str(),
                  O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    absl::Status st = FileError(errno, opts.seal_path, "create");
    return absl::UnavailableError(st.message());
  }
  return std::unique_ptr<RecordingSealer>(new RecordingSealer(std::move(opts), fd, std::move(ctx)));
}

RecordingSealer::RecordingSealer(SealOptions opts, int seal_fd, EvpMdCtxPtr ctx)
    : opts_(std::move(opts)),
      clock_(opts_.clock != nullptr ? opts_.clock : SystemClock::Get()),
      seal_fd_(seal_fd),
      ctx_(std::move(ctx)) {}

RecordingSealer::~RecordingSealer() { ::close(seal_fd_); }

void RecordingSealer::Wrote(std::string_view bytes, int64_t media_micros) {
  if (!bytes.empty() && EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size()) != 1) {
    hash_failed_ = true;  // cannot happen with the default provider; never seal a wrong hash
  }
  written_ += bytes.size();
  if (media_micros > media_micros_) media_micros_ = media_micros;
}

bool RecordingSealer::Due() const {
  if (hash_failed_ || written_ == cut_) return false;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (failed_ || in_flight_) return false;
  }
  return next_seq_ == 0 || written_ - cut_ >= opts_.checkpoint_bytes ||
         clock_->Now() - last_cut_ >= opts_.checkpoint_interval;
}

Checkpoint RecordingSealer::Cut() {
  const TimePoint now = clock_->Now();
  Checkpoint cp;
  cp.recording_id = opts_.recording_id;
  cp.seq = next_seq_++;
  cp.offset = written_;
  cp.elapsed_micros = media_micros_;
  if (!hash_failed_) {
    auto hex = FinalHex(ctx_.get());
    if (hex.ok()) {
      cp.sha256_hex = std::move(*hex);
    } else {
      hash_failed_ = true;
    }
  }
  cp.utc = FormatUtc(now, /*micros=*/true);
  cut_ = written_;
  last_cut_ = now;
  std::lock_guard<std::mutex> l(mu_);
  in_flight_ = true;
  return cp;
}

absl::Status RecordingSealer::Complete(Checkpoint cp, int recording_fd, const std::string& path) {
  absl::Status st;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (failed_) {
      st = absl::FailedPreconditionError(
          fmt::format("recording: the seal of {} failed earlier", path));
    }
  }
  if (st.ok() && cp.sha256_hex.empty()) {
    st = absl::InternalError(fmt::format("recording: SHA-256 of {} failed", path));
  }
  if (st.ok()) st = CompleteOnce(cp, recording_fd, path);
  {
    std::lock_guard<std::mutex> l(mu_);
    in_flight_ = false;
    if (st.ok()) {
      sealed_ = cp.offset;
      ++completed_;
      cp.signature.clear();
      Keep(std::move(cp));
    } else {
      if (!failed_) failure_ = st;
      failed_ = true;
    }
  }
  done_cv_.notify_all();
  return st;
}

absl::Status RecordingSealer::CompleteOnce(Checkpoint& cp, int recording_fd,
                                           const std::string& path) {
  // The bytes a checkpoint vouches for are on disk before the checkpoint.
  PC_RETURN_IF_ERROR(DataSync(recording_fd, path));
  const std::string payload = CheckpointPayload(cp);
  auto sig = opts_.signer->SignRecordingSeal(payload);
  if (!sig.ok()) {
    return absl::InternalError(
        fmt::format("recording: cannot sign a checkpoint of {}: {}", path, sig.status().message()));
  }
  if (sig->size() != ca::kEd25519SignatureSize) {
    return absl::InternalError(
        fmt::format("recording: the signer returned a bad signature for {}", path));
  }
  cp.signature = std::move(*sig);
  const std::string line = CheckpointLine(cp);
  // A short write leaves a partial last line, which verifiers ignore.
  PC_RETURN_IF_ERROR(WriteAll(seal_fd_, line, opts_.seal_path));
  PC_RETURN_IF_ERROR(DataSync(seal_fd_, opts_.seal_path));
  if (!synced_dir_) {
    // Once: the entries of the recording and its seal survive a crash.
    PC_RETURN_IF_ERROR(SyncParentDirectory(opts_.seal_path));
    synced_dir_ = true;
  }
  return absl::OkStatus();
}

void RecordingSealer::WaitForCheckpoint() {
  std::unique_lock<std::mutex> l(mu_);
  done_cv_.wait(l, [this] { return !in_flight_; });
}

bool RecordingSealer::NeedsFinal() const {
  std::lock_guard<std::mutex> l(mu_);
  return written_ > sealed_ || completed_ == 0;
}

absl::Status RecordingSealer::Seal(int recording_fd, const std::string& path) {
  if (failed()) {
    return absl::FailedPreconditionError(
        fmt::format("recording: the seal of {} failed earlier", path));
  }
  return Complete(Cut(), recording_fd, path);
}

bool RecordingSealer::failed() const {
  std::lock_guard<std::mutex> l(mu_);
  return failed_ || hash_failed_;
}

absl::Status RecordingSealer::status() const {
  std::lock_guard<std::mutex> l(mu_);
  if (!failure_.ok()) return failure_;
  if (hash_failed_) return absl::InternalError("recording: SHA-256 failed");
  return absl::OkStatus();
}

uint64_t RecordingSealer::checkpoint_count() const {
  std::lock_guard<std::mutex> l(mu_);
  return completed_;
}

// Keeps every keep_stride_-th checkpoint; at the bound, drops every other
// kept one and doubles the stride. The newest is always kept.
void RecordingSealer::Keep(Checkpoint cp) {
  if (!kept_.empty() && kept_.back().seq % keep_stride_ != 0) kept_.pop_back();
  kept_.push_back(std::move(cp));
  if (kept_.size() < kMaxManifestCheckpoints) return;
  keep_stride_ *= 2;
  std::vector<Checkpoint> thinned;
  thinned.reserve(kMaxManifestCheckpoints / 2 + 1);
  for (size_t i = 0; i < kept_.size(); ++i) {
    if (kept_[i].seq % keep_stride_ == 0 || i + 1 == kept_.size()) {
      thinned.push_back(std::move(kept_[i]));
    }
  }
  kept_ = std::move(thinned);
}

SealSummary RecordingSealer::Summary() const {
  std::lock_guard<std::mutex> l(mu_);
  SealSummary s;
  s.size = written_;
  s.sha256_hex = FinalHex(ctx_.get()).value_or("");
  s.elapsed_micros = media_micros_;
  s.checkpoints = kept_;
  s.sealed = !failed_ && !hash_failed_ && completed_ > 0 && sealed_ == written_;
  return s;
}

}  // namespace portcullis::recorder
