#pragma once
// Text from the outside (file names, commands, user names) made safe to
// show in a terminal, a log viewer or a SIEM: code points that can make
// one text display as another -- C0 and C1 controls, DEL, and the
// invisible and bidirectional formatting characters U+061C, U+200B-U+200F,
// U+202A-U+202E, U+2066-U+2069, U+FEFF -- are written as visible escapes.
// Every output of such text (audit details, CLI tables and JSON, lines to
// the user) goes through here. Pure functions, thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"

namespace portcullis {

// True for the code points listed above.
bool IsDisguisingCodePoint(uint32_t cp);

enum class DisplayMode {
  // For JSON and text: bytes that are not valid UTF-8 become U+FFFD; a
  // disguising code point below U+0100 becomes "\xNN", others "\uXXXX";
  // a backslash is kept. Not reversible on its own: keep the raw bytes
  // next to it (see MakeJsonDisplaySafe).
  kText,
  // Reversible: as kText, but a backslash becomes "\\" and a byte that is
  // not valid UTF-8 becomes "\xNN" (lowercase hex). RawFromDisplayText
  // gives the raw bytes back.
  kReversible,
};

// `raw` in its display form (valid UTF-8, no disguising code point).
std::string DisplayText(std::string_view raw, DisplayMode mode = DisplayMode::kText);
// True iff DisplayText(raw, kText) != raw.
bool NeedsDisplayEscape(std::string_view raw);
// The raw bytes of a kReversible display form; an error for text that no
// DisplayText(..., kReversible) could have produced.
[[nodiscard]] absl::StatusOr<std::string> RawFromDisplayText(std::string_view shown);

// Makes every string in `j` (recursively) display-safe in place. A string
// member K of an object that had to change gets a sibling K_hex with the
// raw bytes in lowercase hex (unless K_hex already exists), so nothing is
// lost. Object keys are made display-safe too (without a _hex sibling).
void MakeJsonDisplaySafe(nlohmann::json& j);

}  // namespace portcullis
