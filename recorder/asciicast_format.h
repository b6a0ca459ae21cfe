#pragma once
// The pieces of an asciicast v2 file (https://docs.asciinema.org/manual/asciicast/v2/):
// a JSON header line, then one JSON array per event:
//   [TIME, "o", DATA]   output the user saw
//   [TIME, "i", DATA]   input (only where the role says record_input)
//   [TIME, "r", "COLSxROWS"]   terminal resize
//   [TIME, "m", LABEL]  marker (file transfers, tunnels, notices, the end)
// TIME is seconds since the start with exactly six decimals. Lines are
// written in json.dumps style (", " separators) so they look like the files
// asciinema itself writes. Stateless and thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

#include "broker/common/clock.h"
#include "broker/session/recorder.h"
#include "recorder/recording_format.h"

namespace portcullis::recorder {

// asciicast v2's media type (the manifest's "media_type") and extension.
inline constexpr std::string_view kAsciicastMediaType = "application/x-asciicast";
inline constexpr std::string_view kAsciicastExtension = "cast";
// What manifests written by Portcullis 0.1.0 name asciicast v2 with; the
// same format.
inline constexpr std::string_view kLegacyAsciicastMediaType = "asciicast/2";
RecordingFormat AsciicastFormat();

// The header line including its trailing '\n'. `start` is the instant event
// times count from. Besides the standard keys (version, width, height,
// timestamp, command, title, env) it carries a "portcullis" object with the
// session's metadata; asciinema ignores unknown keys. Never throws: invalid
// UTF-8 in the metadata becomes U+FFFD.
std::string HeaderLine(const session::RecordingInfo& info, TimePoint start);

// Appends "12.345678" for `micros` >= 0 microseconds.
void AppendSeconds(int64_t micros, std::string* out);

// The marker label written by Close(): "end: <reason>".
std::string EndMarkerLabel(std::string_view reason);

}  // namespace portcullis::recorder
