#pragma once
// Text search over terminal recordings: which recordings printed (or, where
// input was recorded, typed) a string, and at which second. Matching is on
// the decoded text with terminal escape sequences (CSI, OSC, charset) and
// carriage returns removed, across event boundaries (echoed keystrokes
// arrive one event each). Case-sensitive, exact. A graphical recording
// (".pgr") is searched in its typed text (graphical/input_log.h): a hit
// where a key press completes the text, stream 'i'. Thread-safe.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "recorder/cast_reader.h"

namespace portcullis::recorder {

struct SearchHit {
  int64_t micros = 0;  // time of the event where the match ends
  char stream = 'o';   // 'o' output or 'i' input
  std::string context; // up to ~80 characters of text around the match, printable
};

// Calls `on_hit` for each match in the recording at `path` (at most
// `max_hits`; 0 = no limit). A malformed recording is an error after the
// hits found before the bad line.
[[nodiscard]] absl::Status SearchRecording(const std::string& path, std::string_view needle,
                                           const std::function<void(const SearchHit&)>& on_hit,
                                           size_t max_hits = 0, CastLimits limits = {});

}  // namespace portcullis::recorder
