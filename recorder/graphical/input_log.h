#pragma once
// What a graphical session's user did, from its recording's input events
// (GraphicalReader::input_events()): names for X11 keysyms and pointer
// buttons, and the "typed text" view. Pure functions, thread-safe.

#include <cstdint>
#include <string>
#include <vector>

#include "recorder/graphical/graphical_reader.h"

namespace portcullis::recorder {

// "a", "A", "space", "Return", "F5", "Control_L", "U+20AC" (for a Unicode
// keysym outside ASCII), else "0x...". Always printable ASCII.
std::string KeysymName(uint32_t keysym);
// "left", "middle", "right", "wheel-up", "wheel-down", "wheel-left",
// "wheel-right", else "button-N".
std::string ButtonName(int button);
// The UTF-8 text a key press types, or "" (modifiers, function keys,
// cursor keys). Return and KP_Enter type "\n", Tab "\t". Never a control
// character otherwise.
std::string KeysymText(uint32_t keysym);

// The text typed, from the key presses in order: printable keysyms are
// joined, BackSpace deletes the character before it (not past the start of
// the line), Return starts a new line, and presses while Control, Alt,
// Meta or Super is held (shortcuts) type nothing.
std::string TypedText(const std::vector<GraphicalInputEvent>& events);

// TypedText() one event at a time. Not thread-safe.
class TypedTextBuilder {
 public:
  // True iff the event typed a character (text() grew by it).
  bool Add(const GraphicalInputEvent& ev);
  const std::string& text() const { return text_; }
  // Forgets all but the last `keep` bytes (whole characters).
  void KeepLast(size_t keep);

 private:
  std::string text_;
  uint32_t held_mask_ = 0;  // shortcut modifiers down
};

}  // namespace portcullis::recorder
