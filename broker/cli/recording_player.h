#pragma once
// CastPlayer: replays an asciicast v2 recording in the terminal, paced by
// its event times (`portcullis recordings play`). Bytes are fed in any
// split (a file read in blocks, or the broker's stream); lines are parsed
// with recorder::ParseCastHeader / ParseCastEvent and only output ("o")
// events are written: input is already echoed in the output, resizes and
// markers are not terminal bytes. Writing and sleeping are injected, so
// tests replay without waiting. Single-threaded.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "recorder/cast_reader.h"

namespace portcullis::cli {

struct PlayOptions {
  double speed = 1.0;       // > 0; 2 = twice as fast
  bool skip_idle = false;   // no pause longer than 1 s
  int64_t from_micros = 0;  // what comes before is written at once
};

class CastPlayer {
 public:
  using Writer = std::function<void(std::string_view)>;
  using Sleeper = std::function<void(std::chrono::microseconds)>;
  static constexpr size_t kMaxLineBytes = 8u << 20;
  static constexpr std::chrono::microseconds kIdleCap{1'000'000};

  CastPlayer(PlayOptions options, Writer write, Sleeper sleep);

  // The header line comes first, then event lines.
  [[nodiscard]] absl::Status Feed(std::string_view bytes);
  // The end of the stream. A last line without '\n' (a recording cut by a
  // crash) is played if it parses and otherwise ignored.
  [[nodiscard]] absl::Status Finish();

  const recorder::CastHeader& header() const { return header_; }
  // Session time of the last event played.
  int64_t position_micros() const { return position_; }

 private:
  absl::Status Line(std::string_view line);

  const PlayOptions options_;
  Writer write_;
  Sleeper sleep_;
  std::string pending_;
  bool have_header_ = false;
  recorder::CastHeader header_;
  int64_t position_;
  uint64_t line_no_ = 0;
};

// "90", "90.5" (seconds), "59:00" (MM:SS) or "1:02:03" (HH:MM:SS) to
// microseconds.
[[nodiscard]] absl::StatusOr<int64_t> ParsePlayOffset(std::string_view text);
// "01:02:03" (hours may exceed 99).
std::string FormatSessionTime(int64_t micros);

}  // namespace portcullis::cli
