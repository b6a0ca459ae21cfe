#include "recorder/sealed_stream.h"

#include <chrono>
#include <utility>

#include "recorder/manifest_writer.h"

namespace portcullis::recorder {

SealedStream::SealedStream(const session::RecordingInfo& info, RecordingFormat format,
                           TimePoint start, const Clock* clock, std::shared_ptr<WriterPool> pool,
                           int fd, std::string path, BufferedFileOptions file_options,
                           WriterSealing sealing)
    : info_(info),
      format_(std::move(format)),
      start_(start),
      clock_(clock),
      sealing_(sealing),
      file_(std::make_unique<BufferedFile>(std::move(pool), fd, std::move(path),
                                           std::move(file_options))) {}

SealedStream::~SealedStream() { (void)Close("aborted"); }

int64_t SealedStream::Stamp() {
  int64_t micros =
      std::chrono::duration_cast<std::chrono::microseconds>(clock_->Now() - start_).count();
  if (micros < last_micros_) micros = last_micros_;
  last_micros_ = micros;
  return micros;
}

absl::Status SealedStream::Close(std::string_view end_reason) {
  if (closed_) return close_status_;
  closed_ = true;
  ClosedRecording rec;
  rec.status = file_->Close(&rec.summary);
  rec.info = info_;
  rec.path = file_->path();
  rec.media_type = format_.media_type;
  rec.started = start_;
  rec.ended = clock_->Now();
  rec.end_reason = std::string(end_reason);
  session::RecordingEnd end;
  absl::Status st = rec.status;
  if (sealing_.signer != nullptr) {
    absl::Status sealed = WriteManifest(rec, sealing_.signer, &end);
    if (st.ok()) st = sealed;
  } else {
    end = UnsealedEnd(rec);
  }
  if (sealing_.observer != nullptr) sealing_.observer->Closed(end);
  close_status_ = st;
  return close_status_;
}

}  // namespace portcullis::recorder
