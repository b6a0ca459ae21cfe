#include "recorder/asciicast_writer.h"

#include <chrono>

#include <fmt/format.h>

#include "recorder/asciicast_format.h"
#include "recorder/manifest_writer.h"

namespace portcullis::recorder {

AsciicastWriter::AsciicastWriter(const session::RecordingInfo& info, TimePoint start,
                                 const Clock* clock, std::unique_ptr<BufferedFile> file,
                                 WriterSealing sealing)
    : info_(info),
      sealing_(sealing),
      clock_(clock),
      start_(start),
      record_input_(info.record_input),
      file_(std::move(file)) {
  file_->Append(HeaderLine(info, start_), 0);
}

AsciicastWriter::~AsciicastWriter() { (void)Close("aborted"); }

void AsciicastWriter::BeginEvent(char type) {
  int64_t micros =
      std::chrono::duration_cast<std::chrono::microseconds>(clock_->Now() - start_).count();
  if (micros < last_micros_) micros = last_micros_;
  last_micros_ = micros;
  scratch_.clear();
  scratch_.push_back('[');
  AppendSeconds(micros, &scratch_);
  const char mid[] = {',', ' ', '"', type, '"', ',', ' ', '"'};
  scratch_.append(mid, sizeof mid);
}

void AsciicastWriter::EndEvent() {
  scratch_.append("\"]\n");
  file_->Append(scratch_, last_micros_);
}

void AsciicastWriter::StreamEvent(char type, Utf8JsonEscaper* escaper, std::string_view bytes) {
  if (bytes.empty() || !Accepting()) return;
  BeginEvent(type);
  const size_t body = scratch_.size();
  escaper->Append(bytes, &scratch_);
  // Only the start of a split character: it goes out with the next call.
  if (scratch_.size() == body) return;
  EndEvent();
}

void AsciicastWriter::Output(std::string_view bytes) {
  StreamEvent('o', &output_escaper_, bytes);
}

void AsciicastWriter::Input(std::string_view bytes) {
  if (!record_input_) return;
  StreamEvent('i', &input_escaper_, bytes);
}

void AsciicastWriter::Resize(int cols, int rows) {
  if (!Accepting()) return;
  BeginEvent('r');
  fmt::format_to(std::back_inserter(scratch_), "{}x{}", cols, rows);
  EndEvent();
}

void AsciicastWriter::Marker(std::string_view label) {
  if (!Accepting()) return;
  BeginEvent('m');
  AppendJsonEscaped(label, &scratch_);
  EndEvent();
}

void AsciicastWriter::FlushPartial(char type, Utf8JsonEscaper* escaper) {
  if (escaper->carried() == 0) return;
  BeginEvent(type);
  escaper->Finish(&scratch_);
  EndEvent();
}

absl::Status AsciicastWriter::Health() const { return file_->Health(); }

absl::Status AsciicastWriter::Close(std::string_view end_reason) {
  if (closed_) return close_status_;
  if (file_->healthy()) {
    FlushPartial('o', &output_escaper_);
    FlushPartial('i', &input_escaper_);
    Marker(EndMarkerLabel(end_reason));
  }
  closed_ = true;
  ClosedRecording rec;
  rec.status = file_->Close(&rec.summary);
  rec.info = info_;
  rec.path = file_->path();
  rec.media_type = std::string(kAsciicastMediaType);
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
