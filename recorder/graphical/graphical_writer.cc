#include "recorder/graphical/graphical_writer.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "broker/common/encoding.h"
#include "recorder/asciicast_format.h"
#include "recorder/graphical/graphical_format.h"

namespace portcullis::recorder {
namespace {

// A record from the session thread to the encoder (native byte order, never
// on disk): kind, session time, two parameters, body length, body. Kinds:
//   'h' the header line          'p' ready-made file records
//   'r' resize to (a, b)         'b' band: rows [a, a + b), full width
//   'f' end of a flush           'c' cursor, hot spot (a, b), body u32 w, h, pixels
struct Internal {
  char kind;
  int64_t micros;
  uint32_t a, b, len;
};
constexpr size_t kInternalHead = 1 + 8 + 4 + 4 + 4;

void PutInternal(const Internal& r, std::string* out) {
  char head[kInternalHead];
  head[0] = r.kind;
  std::memcpy(head + 1, &r.micros, 8);
  std::memcpy(head + 9, &r.a, 4);
  std::memcpy(head + 13, &r.b, 4);
  std::memcpy(head + 17, &r.len, 4);
  out->assign(head, sizeof head);
}

Internal GetInternal(const char* p) {
  Internal r;
  r.kind = p[0];
  std::memcpy(&r.micros, p + 1, 8);
  std::memcpy(&r.a, p + 9, 4);
  std::memcpy(&r.b, p + 13, 4);
  std::memcpy(&r.len, p + 17, 4);
  return r;
}

// Runs on the writer thread: the session's bands -> DELTA / KEYFRAME records.
class GraphicalEncoder final : public ChunkEncoder {
 public:
  explicit GraphicalEncoder(GraphicalEncoderOptions options)
      : options_(options), zstd_(options.zstd_level) {}

  bool Encode(std::string_view batch, size_t limit, std::string* out,
              int64_t* media_micros) override {
    size_t pos = 0;
    while (batch.size() - pos >= kInternalHead) {
      const Internal r = GetInternal(batch.data() + pos);
      pos += kInternalHead;
      if (r.len > batch.size() - pos) break;  // cannot happen: appends are whole
      const std::string_view body = batch.substr(pos, r.len);
      pos += r.len;
      record_.clear();
      switch (r.kind) {
        case 'h':
        case 'p':
          record_.append(body);
          break;
        case 'r':
          Resize(r.a, r.b, r.micros);
          break;
        case 'b':
          Band(r.a, r.b, body);
          continue;
        case 'f':
          EndFlush(r.micros);
          break;
        case 'c':
          CursorRecord(r, body);
          break;
        default:
          continue;
      }
      if (record_.empty()) continue;
      if (record_.size() > limit - std::min(limit, out->size())) return false;
      out->append(record_);
      *media_micros = std::max(*media_micros, r.micros);
    }
    return true;
  }

 private:
  void Resize(uint32_t w, uint32_t h, int64_t micros) {
    width_ = w;
    height_ = h;
    picture_.assign(size_t{w} * h * 4, 0);
    rects_.clear();
    xor_.clear();
    keyframe_due_ = true;
    AppendGraphicalHead(GraphicalRecord::kResize, micros, 8, &record_);
    PutU32(w, &record_);
    PutU32(h, &record_);
  }

  // Finds the changed pixels of rows [y0, y0 + rows) and XORs their
  // bounding rectangle into xor_, updating the picture.
  void Band(uint32_t y0, uint32_t rows, std::string_view pixels) {
    const size_t stride = size_t{width_} * 4;
    if (width_ == 0 || y0 > height_ || rows > height_ - y0 || pixels.size() != stride * rows) return;
    const auto* src = reinterpret_cast<const uint8_t*>(pixels.data());
    uint32_t x0 = width_, x1 = 0, top = rows, bottom = 0;
    for (uint32_t r = 0; r < rows; ++r) {
      const uint8_t* now = src + r * stride;
      const uint8_t* was = picture_.data() + (y0 + r) * stride;
      if (std::memcmp(now, was, stride) == 0) continue;
      uint32_t l = 0, rr = width_;
      while (std::memcmp(now + l * 4, was + l * 4, 4) == 0) ++l;
      while (std::memcmp(now + (rr - 1) * 4, was + (rr - 1) * 4, 4) == 0) --rr;
      x0 = std::min(x0, l);
      x1 = std::max(x1, rr);
      top = std::min(top, r);
      bottom = r + 1;
    }
    if (top >= bottom) return;
    rects_.push_back({x0, y0 + top, x1 - x0, bottom - top});
    const size_t row_bytes = size_t{x1 - x0} * 4;
    for (uint32_t r = top; r < bottom; ++r) {
      const uint8_t* now = src + r * stride + size_t{x0} * 4;
      uint8_t* was = picture_.data() + (y0 + r) * stride + size_t{x0} * 4;
      const size_t at = xor_.size();
      xor_.resize(at + row_bytes);
      auto* x = reinterpret_cast<uint8_t*>(xor_.data() + at);
      for (size_t i = 0; i < row_bytes; ++i) x[i] = now[i] ^ was[i];
      std::memcpy(was, now, row_bytes);
    }
  }

  void EndFlush(int64_t micros) {
    if (rects_.empty()) return;  // nothing the user could see changed
    const bool due = keyframe_due_ ||
                     since_keyframe_ >= std::max(options_.keyframe_min_bytes, keyframe_size_) ||
                     micros - keyframe_micros_ >= options_.keyframe_interval.count();
    if (due) {
      payload_.clear();
      PutU32(width_, &payload_);
      PutU32(height_, &payload_);
      zstd_.Compress(std::string_view(reinterpret_cast<const char*>(picture_.data()),
                                      picture_.size()),
                     &payload_);
      AppendGraphicalHead(GraphicalRecord::kKeyframe, micros,
                          static_cast<uint32_t>(payload_.size()), &record_);
      record_.append(payload_);
      keyframe_due_ = false;
      keyframe_size_ = record_.size();
      keyframe_micros_ = micros;
      since_keyframe_ = 0;
    } else {
      payload_.clear();
      PutU32(static_cast<uint32_t>(rects_.size()), &payload_);
      for (const Rect& r : rects_) {
        PutU32(r.x, &payload_);
        PutU32(r.y, &payload_);
        PutU32(r.w, &payload_);
        PutU32(r.h, &payload_);
      }
      zstd_.Compress(xor_, &payload_);
      AppendGraphicalHead(GraphicalRecord::kDelta, micros, static_cast<uint32_t>(payload_.size()),
                          &record_);
      record_.append(payload_);
      since_keyframe_ += record_.size();
    }
    rects_.clear();
    xor_.clear();
    if (xor_.capacity() > (8u << 20)) std::string().swap(xor_);
  }

  void CursorRecord(const Internal& r, std::string_view body) {
    if (body.size() < 8) return;
    uint32_t w, h;
    std::memcpy(&w, body.data(), 4);
    std::memcpy(&h, body.data() + 4, 4);
    payload_.clear();
    PutU32(r.a, &payload_);
    PutU32(r.b, &payload_);
    PutU32(w, &payload_);
    PutU32(h, &payload_);
    if (size_t{w} * h > 0) zstd_.Compress(body.substr(8), &payload_);
    AppendGraphicalHead(GraphicalRecord::kCursor, r.micros, static_cast<uint32_t>(payload_.size()),
                        &record_);
    record_.append(payload_);
  }

  struct Rect {
    uint32_t x, y, w, h;
  };
  const GraphicalEncoderOptions options_;
  ZstdCompressor zstd_;
  uint32_t width_ = 0, height_ = 0;
  std::vector<uint8_t> picture_;  // what the file says the user sees
  std::vector<Rect> rects_;       // of the flush being encoded
  std::string xor_;
  bool keyframe_due_ = true;
  size_t keyframe_size_ = 0, since_keyframe_ = 0;
  int64_t keyframe_micros_ = 0;
  std::string record_, payload_;
};

}  // namespace

std::unique_ptr<ChunkEncoder> NewGraphicalEncoder(GraphicalEncoderOptions options) {
  return std::make_unique<GraphicalEncoder>(options);
}

GraphicalWriter::GraphicalWriter(std::unique_ptr<SealedStream> stream,
                                 GraphicalWriterOptions options)
    : stream_(std::move(stream)), options_(options) {
  const std::string header = GraphicalHeaderLine(stream_->info(), stream_->start());
  PutInternal({'h', 0, 0, 0, static_cast<uint32_t>(header.size())}, &scratch_);
  stream_->Append(scratch_, header, 0);
}

GraphicalWriter::~GraphicalWriter() { (void)Close("aborted"); }

absl::Status GraphicalWriter::Health() const {
  if (!failure_.ok()) return failure_;
  return stream_->Health();
}

void GraphicalWriter::QueueRecord(std::string_view record, int64_t micros) {
  PutInternal({'p', micros, 0, 0, static_cast<uint32_t>(record.size())}, &scratch_);
  stream_->Append(scratch_, record, micros);
}

void GraphicalWriter::Resize(int width, int height) {
  if (!Accepting() || (width == width_ && height == height_)) return;
  const int64_t now = stream_->Stamp();
  if (width <= 0 || height <= 0 || width > kMaxGraphicalSide || height > kMaxGraphicalSide ||
      size_t(width) * size_t(height) * 4 > options_.buffer_cap / 2) {
    failure_ = absl::ResourceExhaustedError(
        fmt::format("recording: {}: a {}x{} framebuffer is larger than graphical recordings allow",
                    stream_->path(), width, height));
    return;
  }
  if (dirty_) Flush(now, /*force=*/true);
  width_ = width;
  height_ = height;
  shadow_.assign(size_t(width) * size_t(height) * 4, 0);
  band_dirty_.assign((height + kBandRows - 1) / kBandRows, 0);
  dirty_ = false;
  deferred_since_ = -1;
  PutInternal({'r', now, uint32_t(width), uint32_t(height), 0}, &scratch_);
  stream_->Append(scratch_, {}, now);
}

void GraphicalWriter::Frame(int x, int y, int w, int h, const uint8_t* pixels, size_t stride) {
  if (!Accepting() || width_ == 0 || pixels == nullptr || w <= 0 || h <= 0) return;
  const int64_t now = stream_->Stamp();
  MaybeFlush(now);
  // Clip to the framebuffer.
  int x0 = std::max(x, 0), y0 = std::max(y, 0);
  int x1 = std::min<int64_t>(int64_t{x} + w, width_), y1 = std::min<int64_t>(int64_t{y} + h, height_);
  if (x0 >= x1 || y0 >= y1) return;
  const size_t fb_stride = size_t(width_) * 4;
  bool changed = false;
  for (int row = y0; row < y1; ++row) {
    const uint8_t* src = pixels + size_t(row - y) * stride + size_t(x0 - x) * 4;
    uint8_t* dst = shadow_.data() + size_t(row) * fb_stride + size_t(x0) * 4;
    uint32_t diff = 0;
    for (int i = 0; i < x1 - x0; ++i) {
      uint32_t px, was;
      std::memcpy(&px, src + size_t(i) * 4, 4);
      std::memcpy(&was, dst + size_t(i) * 4, 4);
      px &= 0x00ffffffu;  // B, G, R; the unused byte is not what anyone saw
      diff |= px ^ was;
      std::memcpy(dst + size_t(i) * 4, &px, 4);
    }
    if (diff != 0) {
      band_dirty_[row / kBandRows] = 1;
      changed = true;
    }
  }
  if (!changed) return;  // resent as it was: nothing to record
  if (!dirty_) first_dirty_ = now;
  dirty_ = true;
  last_dirty_ = now;
}

std::chrono::milliseconds GraphicalWriter::Tick() {
  if (!Accepting() || !dirty_) return std::chrono::hours(1);
  const int64_t now = stream_->Stamp();
  MaybeFlush(now);
  if (!dirty_) return std::chrono::hours(1);
  // Still dirty: not yet due, or deferred by backpressure (try again soon).
  const int64_t due = first_dirty_ + options_.flush_interval.count() - now;
  return std::chrono::milliseconds(std::clamp<int64_t>((due + 999) / 1000, 1, 1000));
}

void GraphicalWriter::MaybeFlush(int64_t now) {
  if (dirty_ && now - first_dirty_ >= options_.flush_interval.count()) Flush(now, false);
}

bool GraphicalWriter::Flush(int64_t now, bool force) {
  const size_t fb_stride = size_t(width_) * 4;
  size_t bytes = 0;
  for (uint8_t d : band_dirty_) bytes += d ? fb_stride * kBandRows + kInternalHead : 0;
  if (!force && stream_->Backlog() + bytes > options_.buffer_cap) {
    if (deferred_since_ < 0) deferred_since_ = now;
    if (now - deferred_since_ < options_.max_defer.count()) return false;
    // Waited long enough: hand it over; a full buffer fails the recording.
  }
  deferred_since_ = -1;
  const int bands = static_cast<int>(band_dirty_.size());
  for (int b = 0; b < bands;) {
    if (!band_dirty_[b]) {
      ++b;
      continue;
    }
    int e = b;
    while (e < bands && band_dirty_[e]) band_dirty_[e++] = 0;
    const int row0 = b * kBandRows;
    const int rows = std::min(e * kBandRows, height_) - row0;
    const std::string_view pixels(reinterpret_cast<const char*>(shadow_.data()) + row0 * fb_stride,
                                  size_t(rows) * fb_stride);
    PutInternal({'b', last_dirty_, uint32_t(row0), uint32_t(rows), uint32_t(pixels.size())},
                &scratch_);
    stream_->Append(scratch_, pixels, last_dirty_);
    b = e;
  }
  PutInternal({'f', last_dirty_, 0, 0, 0}, &scratch_);
  stream_->Append(scratch_, {}, last_dirty_);
  dirty_ = false;
  return true;
}

void GraphicalWriter::Key(uint32_t keysym, bool down) {
  if (!Accepting()) return;
  const int64_t now = stream_->Stamp();
  MaybeFlush(now);
  std::string rec;
  AppendGraphicalHead(GraphicalRecord::kKey, now, 5, &rec);
  PutU32(keysym, &rec);
  rec.push_back(down ? 1 : 0);
  QueueRecord(rec, now);
}

void GraphicalWriter::Pointer(int x, int y, uint32_t button_mask) {
  if (!Accepting()) return;
  if (have_pointer_ && x == pointer_x_ && y == pointer_y_ && button_mask == pointer_mask_) return;
  have_pointer_ = true;
  pointer_x_ = x;
  pointer_y_ = y;
  pointer_mask_ = button_mask;
  const int64_t now = stream_->Stamp();
  MaybeFlush(now);
  std::string rec;
  AppendGraphicalHead(GraphicalRecord::kPointer, now, 12, &rec);
  PutU32(uint32_t(std::max(x, 0)), &rec);
  PutU32(uint32_t(std::max(y, 0)), &rec);
  PutU32(button_mask, &rec);
  QueueRecord(rec, now);
}

void GraphicalWriter::Cursor(int hot_x, int hot_y, int w, int h, const uint8_t* bgra) {
  if (!Accepting()) return;
  if (w < 0 || h < 0 || w > kMaxCursorSide || h > kMaxCursorSide || (w * h > 0 && bgra == nullptr)) {
    w = h = 0;  // a shape nobody can replay: recorded as hidden
  }
  if (w == 0 || h == 0) w = h = 0;
  const int64_t now = stream_->Stamp();
  MaybeFlush(now);
  std::string body;
  const uint32_t uw = uint32_t(w), uh = uint32_t(h);
  body.append(reinterpret_cast<const char*>(&uw), 4);
  body.append(reinterpret_cast<const char*>(&uh), 4);
  if (w > 0) body.append(reinterpret_cast<const char*>(bgra), size_t(w) * size_t(h) * 4);
  PutInternal({'c', now, uint32_t(std::clamp(hot_x, 0, w)), uint32_t(std::clamp(hot_y, 0, h)),
               uint32_t(body.size())},
              &scratch_);
  stream_->Append(scratch_, body, now);
}

void GraphicalWriter::Clipboard(std::string_view text, bool to_target) {
  if (!Accepting()) return;
  const int64_t now = stream_->Stamp();
  MaybeFlush(now);
  std::string rec;
  AppendGraphicalHead(GraphicalRecord::kClipboard, now, 1 + 8 + 32, &rec);
  rec.push_back(to_target ? 1 : 0);
  PutU64(text.size(), &rec);
  rec.append(Sha256(text));
  QueueRecord(rec, now);
}

void GraphicalWriter::Marker(std::string_view label) {
  if (!Accepting()) return;
  const int64_t now = stream_->Stamp();
  MaybeFlush(now);
  if (label.size() > 4096) label = label.substr(0, 4096);
  std::string rec;
  AppendGraphicalHead(GraphicalRecord::kMarker, now, uint32_t(label.size()), &rec);
  rec.append(label);
  QueueRecord(rec, now);
}

absl::Status GraphicalWriter::Close(std::string_view end_reason) {
  if (Accepting()) {
    if (dirty_) {
      // Close may wait for the disk: give the last picture room, up to max_defer.
      const auto deadline = std::chrono::steady_clock::now() + options_.max_defer;
      while (stream_->healthy() && stream_->Backlog() > 0 &&
             std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      Flush(stream_->Stamp(), /*force=*/true);
    }
    Marker(EndMarkerLabel(end_reason));
  }
  absl::Status st = stream_->Close(end_reason);
  if (!failure_.ok()) return failure_;
  return st;
}

}  // namespace portcullis::recorder
