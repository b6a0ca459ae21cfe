#pragma once
// The graphical recording format (docs/recordings.md, "Graphical
// recordings"), media type application/x-portcullis-graphical, extension
// "pgr". A file is one JSON header line ending in '\n', then append-only
// binary records, all integers big-endian:
//
//   [u32 payload length][u8 type][u64 t_us][payload]
//
// t_us is microseconds since the start of the session. Record types:
//   KEYFRAME  u32 w, u32 h, zstd(h rows of w BGRX pixels)   (X = 0)
//   DELTA     u32 n, n x (u32 x, y, w, h), zstd(the rectangles' pixels
//             XOR-ed with the previous picture, row by row, in order)
//   RESIZE    u32 w, u32 h               (the picture turns black)
//   CURSOR    u32 hot_x, hot_y, w, h, then zstd(w x h BGRA) if w*h > 0
//   POINTER   u32 x, u32 y, u32 button mask (bit 0 = left)
//   KEY       u32 X11 keysym, u8 down (1) or up (0)
//   CLIPBOARD u8 to_target, u64 length, 32-byte SHA-256 (never the text)
//   MARKER    UTF-8 label (the rest of the payload)
// A seek decodes from the last KEYFRAME or RESIZE at or before the time.
// Picture records (KEYFRAME, DELTA, RESIZE) have non-decreasing times;
// input records may precede a picture record up to one flush interval
// older than they are. Stateless helpers, thread-safe.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "broker/common/clock.h"
#include "broker/session/recorder.h"
#include "recorder/recording_format.h"

namespace portcullis::recorder {

inline constexpr std::string_view kGraphicalMediaType = "application/x-portcullis-graphical";
inline constexpr std::string_view kGraphicalExtension = "pgr";
// The header line's "format".
inline constexpr std::string_view kGraphicalFormatName = "portcullis-graphical/1";
RecordingFormat GraphicalFormat();

enum class GraphicalRecord : uint8_t {
  kKeyframe = 1,
  kDelta = 2,
  kResize = 3,
  kCursor = 4,
  kPointer = 5,
  kKey = 6,
  kClipboard = 7,
  kMarker = 8,
};
inline constexpr size_t kGraphicalRecordHead = 4 + 1 + 8;
// The largest framebuffer a graphical recording may have.
inline constexpr int kMaxGraphicalSide = 8192;
inline constexpr int kMaxCursorSide = 512;

// The header line including its '\n': {"format": "portcullis-graphical/1",
// "timestamp": UNIX, "portcullis": {session metadata}}.
std::string GraphicalHeaderLine(const session::RecordingInfo& info, TimePoint start);

// Appends a record head.
void AppendGraphicalHead(GraphicalRecord type, int64_t micros, uint32_t payload_len,
                         std::string* out);
void PutU32(uint32_t v, std::string* out);
void PutU64(uint64_t v, std::string* out);
uint32_t GetU32(const uint8_t* p);
uint64_t GetU64(const uint8_t* p);

// zstd, with reusable contexts. Not thread-safe (one per thread/stream).
class ZstdCompressor {
 public:
  explicit ZstdCompressor(int level = 3);
  ~ZstdCompressor();
  ZstdCompressor(const ZstdCompressor&) = delete;
  ZstdCompressor& operator=(const ZstdCompressor&) = delete;
  // Appends one zstd frame of `data` (its size recorded in the frame).
  void Compress(std::string_view data, std::string* out);

 private:
  void* cctx_;
  int level_;
};

class ZstdDecompressor {
 public:
  ZstdDecompressor();
  ~ZstdDecompressor();
  ZstdDecompressor(const ZstdDecompressor&) = delete;
  ZstdDecompressor& operator=(const ZstdDecompressor&) = delete;
  // Decompresses one frame into exactly `size` bytes at `out`; anything
  // else (corrupt, shorter, longer, trailing bytes) is DataLoss.
  [[nodiscard]] absl::Status DecompressExactly(std::string_view frame, uint8_t* out, size_t size);

 private:
  void* dctx_;
};

}  // namespace portcullis::recorder
