#include "recorder/asciicast_writer.h"

#include <chrono>
#include <cstring>

#include <fmt/format.h>

#include "recorder/asciicast_format.h"
#include "recorder/utf8_json.h"

namespace portcullis::recorder {
namespace {

// A record from the session thread to the encoder: kind, session time in
// microseconds, body length, body. Kinds: 'o'/'i' raw terminal bytes,
// 'l' a ready-made line, 'f' the end of the stream named by the body.
constexpr size_t kRecordHead = 1 + sizeof(int64_t) + sizeof(uint32_t);

void AppendRecordHead(char kind, int64_t micros, uint32_t len, std::string* out) {
  char head[kRecordHead];
  head[0] = kind;
  std::memcpy(head + 1, &micros, sizeof micros);
  std::memcpy(head + 1 + sizeof micros, &len, sizeof len);
  out->assign(head, sizeof head);
}

// `[SECONDS, "T", "` (the event's body follows).
void BeginEvent(int64_t micros, char type, std::string* out) {
  out->push_back('[');
  AppendSeconds(micros, out);
  const char mid[] = {',', ' ', '"', type, '"', ',', ' ', '"'};
  out->append(mid, sizeof mid);
}

constexpr std::string_view kEndEvent = "\"]\n";

// Runs on the writer thread: records -> asciicast lines.
class AsciicastEncoder final : public ChunkEncoder {
 public:
  bool Encode(std::string_view batch, size_t limit, std::string* out,
              int64_t* media_micros) override {
    size_t pos = 0;
    while (batch.size() - pos >= kRecordHead) {
      const char kind = batch[pos];
      int64_t micros;
      uint32_t len;
      std::memcpy(&micros, batch.data() + pos + 1, sizeof micros);
      std::memcpy(&len, batch.data() + pos + 1 + sizeof micros, sizeof len);
      pos += kRecordHead;
      if (len > batch.size() - pos) break;  // cannot happen: appends are whole
      const std::string_view body = batch.substr(pos, len);
      pos += len;
      const size_t mark = out->size();
      if (kind == 'l') {
        out->append(body);
      } else if (kind == 'o' || kind == 'i') {
        BeginEvent(micros, kind, out);
        const size_t start = out->size();
        (kind == 'o' ? output_ : input_).Append(body, out);
        if (out->size() == start) {
          // Only the start of a split character: it goes out with the next.
          out->resize(mark);
          continue;
        }
        out->append(kEndEvent);
      } else if (kind == 'f' && !body.empty()) {
        Utf8JsonEscaper& esc = body[0] == 'o' ? output_ : input_;
        if (esc.carried() == 0) continue;
        BeginEvent(micros, body[0], out);
        esc.Finish(out);
        out->append(kEndEvent);
      } else {
        continue;
      }
      if (out->size() > limit) {
        out->resize(mark);
        return false;
      }
      *media_micros = micros;
    }
    return true;
  }

 private:
  Utf8JsonEscaper output_;
  Utf8JsonEscaper input_;
};

BufferedFileOptions WithEncoder(BufferedFileOptions opts) {
  opts.encoder = NewAsciicastEncoder();
  return opts;
}

}  // namespace

std::unique_ptr<ChunkEncoder> NewAsciicastEncoder() { return std::make_unique<AsciicastEncoder>(); }

AsciicastWriter::AsciicastWriter(std::unique_ptr<SealedStream> stream)
    : stream_(std::move(stream)), record_input_(stream_->info().record_input) {
  Queue('l', 0, HeaderLine(stream_->info(), stream_->start()));
}

AsciicastWriter::AsciicastWriter(const session::RecordingInfo& info, TimePoint start,
                                 const Clock* clock, std::shared_ptr<WriterPool> pool, int fd,
                                 std::string path, BufferedFileOptions file_options,
                                 WriterSealing sealing)
    : AsciicastWriter(std::make_unique<SealedStream>(info, AsciicastFormat(), start, clock,
                                                     std::move(pool), fd, std::move(path),
                                                     WithEncoder(std::move(file_options)),
                                                     sealing)) {}

AsciicastWriter::~AsciicastWriter() { (void)Close("aborted"); }

void AsciicastWriter::Queue(char kind, int64_t micros, std::string_view body) {
  AppendRecordHead(kind, micros, static_cast<uint32_t>(body.size()), &scratch_);
  stream_->Append(scratch_, body, micros);
}

void AsciicastWriter::QueueLine(char type, std::string_view body) {
  const int64_t micros = stream_->Stamp();
  std::string line;
  BeginEvent(micros, type, &line);
  line.append(body);
  line.append(kEndEvent);
  Queue('l', micros, line);
}

void AsciicastWriter::Output(std::string_view bytes) {
  if (bytes.empty() || !Accepting()) return;
  Queue('o', stream_->Stamp(), bytes);
}

void AsciicastWriter::Input(std::string_view bytes) {
  if (!record_input_ || bytes.empty() || !Accepting()) return;
  Queue('i', stream_->Stamp(), bytes);
}

void AsciicastWriter::Resize(int cols, int rows) {
  if (!Accepting()) return;
  QueueLine('r', fmt::format("{}x{}", cols, rows));
}

void AsciicastWriter::Marker(std::string_view label) {
  if (!Accepting()) return;
  std::string body;
  AppendJsonEscaped(label, &body);
  QueueLine('m', body);
}

absl::Status AsciicastWriter::Close(std::string_view end_reason) {
  if (Accepting()) {
    // A character still split at the end becomes U+FFFD, in its stream.
    const int64_t micros = stream_->Stamp();
    Queue('f', micros, "o");
    Queue('f', micros, "i");
    Marker(EndMarkerLabel(end_reason));
  }
  return stream_->Close(end_reason);
}

}  // namespace portcullis::recorder
