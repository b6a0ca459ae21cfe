#pragma once
// The target menu's keyboard handling, apart from any socket: line editing
// of the bytes a user types (echo when the user has a terminal, backspace,
// ^C / ^D, a length cap) and the reading of a finished line as a choice
// ("q", a number from the list, or a target name). Pure; a MenuLineEditor
// is thread-compatible (one per channel), ParseMenuChoice is thread-safe.
// Nothing here throws.

#include <cstddef>
#include <string>
#include <string_view>

namespace portcullis::ssh {

// Longest line the menu keeps; further printable bytes are dropped.
inline constexpr size_t kMaxMenuLine = 128;

class MenuLineEditor {
 public:
  enum class Event {
    kNeedMore,  // every byte was consumed; no line yet
    kLine,      // a non-empty line ended (CR or LF); see Step::line
    kAbort,     // ^C or ^D: the user leaves the menu
  };
  struct Step {
    Event event = Event::kNeedMore;
    size_t consumed = 0;  // bytes of the input used, up to and including the event's byte
    std::string echo;     // what to write back to the user (empty without a terminal)
    std::string line;     // kLine only: printable ASCII, 1..kMaxMenuLine bytes
  };

  // `echo`: the user has a terminal, so typed characters are echoed.
  explicit MenuLineEditor(bool echo) : echo_(echo) {}

  // Consumes `bytes` up to the first event. The bytes after `consumed` are
  // not looked at: after a kLine they may belong to the chosen target's
  // shell (typed ahead). Empty lines are skipped; bytes other than
  // printable ASCII, CR, LF, ^C, ^D, DEL and BS are ignored.
  Step Feed(std::string_view bytes);

  // The line typed so far (not yet ended).
  const std::string& pending() const { return line_; }

 private:
  bool echo_;
  std::string line_;
};

struct MenuChoice {
  enum class Kind { kQuit, kIndex, kName };
  Kind kind = Kind::kName;
  size_t index = 0;  // kIndex: 0-based position in the list
  std::string name;  // kName: the line, without surrounding blanks
};

// Reads a finished menu line against a list of `listed` targets: "q" or
// "quit" -> kQuit; a decimal number 1..listed -> kIndex; anything else
// (including a number outside the list) -> kName, to be decided like any
// target name. Never overflows: numbers are read with a digit limit.
MenuChoice ParseMenuChoice(std::string_view line, size_t listed);

}  // namespace portcullis::ssh
