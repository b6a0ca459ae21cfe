#pragma once
// What the sealing layer knows of a recording's format: its media type
// (recorded in the manifest) and its file extension (names the file
// "<id>.<extension>"). The bytes themselves belong to the format: the
// writer, the checkpoints, the manifest and the verifier never look inside
// them (docs/recordings.md, "Formats"). Plain values, thread-safe.

#include <string>
#include <string_view>

namespace portcullis::recorder {

struct RecordingFormat {
  std::string media_type;  // ValidMediaType(), e.g. "application/x-asciicast"
  std::string extension;   // ValidExtension(), without the dot, e.g. "cast"
};

// "type/subtype": lowercase RFC 6838 restricted names (a letter or digit,
// then letters, digits and !#$&^_.+-), 1..63 characters each.
bool ValidMediaType(std::string_view media_type);
// [a-z][a-z0-9]{0,15}: never all digits, so "<id>.<extension>" cannot be
// mistaken for a recording id ("<session_id>.<channel>").
bool ValidExtension(std::string_view extension);
// True iff `format` has a valid media type and extension.
bool ValidFormat(const RecordingFormat& format);

}  // namespace portcullis::recorder
