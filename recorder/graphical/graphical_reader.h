#pragma once
// GraphicalReader: a bounded reader of graphical recordings
// (graphical_format.h) that trusts nothing in the file. Open() reads the
// header line and walks every record once: it checks each record's framing,
// type and size, keeps an in-memory index of the picture records (KEYFRAME,
// DELTA, RESIZE: offset, time), and collects the input events (keys,
// pointer button transitions with their position, clipboard hashes) and
// markers. Pictures are decoded only when pulled (Next, SeekTo), into a
// framebuffer of at most limits.max_width x max_height, each zstd frame
// into exactly the size its record announces.
//
// A file that ends inside a record (its writer was killed) opens, with
// truncated() true: everything before the torn record is read. Anything
// else malformed is DataLoss, naming the offset.
//
// Thread-compatible: one thread uses a reader. It owns its file.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "recorder/export/frame_source.h"
#include "recorder/graphical/graphical_format.h"

namespace portcullis::recorder {

struct GraphicalLimits {
  int max_width = kMaxGraphicalSide;
  int max_height = kMaxGraphicalSide;
  size_t max_header_bytes = 64u << 10;
  // A record's payload; a keyframe of a 8192x8192 screen of noise fits.
  size_t max_record_bytes = size_t{260} << 20;
  size_t max_marker_bytes = 64u << 10;
  // Input events and markers kept in memory.
  size_t max_events = 10'000'000;
};

struct GraphicalInputEvent {
  enum class Kind { kKey, kButton, kClipboard };
  Kind kind = Kind::kKey;
  int64_t micros = 0;
  // kKey
  uint32_t keysym = 0;
  bool down = false;  // also kButton: pressed
  // kButton: 1 left, 2 middle, 3 right, 4/5 wheel up/down, ...; where.
  int button = 0;
  int x = 0, y = 0;
  // kClipboard
  bool to_target = false;
  uint64_t length = 0;
  std::string sha256;  // raw 32 bytes
};

struct GraphicalMarker {
  int64_t micros = 0;
  std::string label;  // as recorded: may be any bytes
};

class GraphicalReader final : public FrameSource {
 public:
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<GraphicalReader>> Open(
      const std::string& path, GraphicalLimits limits = {});
  // Takes ownership of `fd` (open for reading); `name` names it in errors.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<GraphicalReader>> OpenFd(
      int fd, std::string name, GraphicalLimits limits = {});
  ~GraphicalReader() override;
  GraphicalReader(const GraphicalReader&) = delete;
  GraphicalReader& operator=(const GraphicalReader&) = delete;

  // FrameSource. Next() yields the picture after each picture record.
  int64_t DurationMicros() const override { return duration_; }
  int MaxWidth() const override { return max_width_; }
  int MaxHeight() const override { return max_height_; }
  [[nodiscard]] absl::StatusOr<bool> Next(VideoFrame* frame) override;
  // Before the first picture: the first picture. NotFound if there is none.
  [[nodiscard]] absl::StatusOr<VideoFrame> SeekTo(int64_t micros) override;

  const std::string& header_line() const { return header_; }  // without '\n'
  // Input events in time order (stable: file order within a time).
  const std::vector<GraphicalInputEvent>& input_events() const { return events_; }
  const std::vector<GraphicalMarker>& markers() const { return markers_; }
  bool truncated() const { return truncated_; }
  uint64_t valid_bytes() const { return valid_bytes_; }  // up to the end of the last whole record
  size_t picture_records() const { return pictures_.size(); }
  size_t keyframes() const { return seek_points_.size(); }

 private:
  struct Picture {
    uint64_t offset;  // of the payload
    uint32_t len;
    GraphicalRecord type;
    int64_t micros;
  };

  GraphicalReader(int fd, std::string name, GraphicalLimits limits);
  absl::Status Scan();
  absl::Status ReadAt(uint64_t offset, size_t n, std::string* out) const;
  absl::Status Apply(const Picture& p);
  absl::Status Bad(uint64_t offset, std::string_view what) const;
  VideoFrame Current(int64_t micros) const;

  int fd_;
  const std::string name_;
  const GraphicalLimits limits_;
  uint64_t file_size_ = 0;
  std::string header_;
  std::vector<Picture> pictures_;
  std::vector<size_t> seek_points_;  // indexes into pictures_ of KEYFRAME and RESIZE
  std::vector<GraphicalInputEvent> events_;
  std::vector<GraphicalMarker> markers_;
  int64_t duration_ = 0;
  int max_width_ = 0, max_height_ = 0;
  bool truncated_ = false;
  uint64_t valid_bytes_ = 0;

  // Decoding state.
  size_t next_ = 0;  // the next picture record Next() applies
  int width_ = 0, height_ = 0;
  std::vector<uint8_t> fb_;
  std::string payload_;
  std::vector<uint8_t> xor_;
  ZstdDecompressor zstd_;
};

}  // namespace portcullis::recorder
