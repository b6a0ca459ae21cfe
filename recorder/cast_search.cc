#include "recorder/cast_search.h"

#include <algorithm>
#include <functional>

#include "broker/common/bounded_reader.h"
#include "recorder/graphical/graphical_reader.h"
#include "recorder/graphical/input_log.h"

namespace portcullis::recorder {
namespace {

constexpr size_t kContextBytes = 40;

// Strips terminal control sequences from a byte stream, keeping state
// across calls (a sequence may be split between two events).
class EscapeStripper {
 public:
  void Append(std::string_view in, std::string* out) {
    size_t i = 0;
    while (i < in.size()) {
      if (state_ == State::kText) {
        // Copy the run of plain text at once.
        size_t run = i;
        while (run < in.size() && !IsSpecial(static_cast<unsigned char>(in[run]))) ++run;
        out->append(in.data() + i, run - i);
        i = run;
        if (i == in.size()) break;
      }
      Step(static_cast<unsigned char>(in[i++]), out);
    }
  }

 private:
  static bool IsSpecial(unsigned char c) {
    return c == 0x1b || c == '\r' || c == 0x07 || c == 0x00 || c == 0x08;
  }

  void Step(unsigned char c, std::string* out) {
    switch (state_) {
      case State::kText:
        if (c == 0x1b) {
          state_ = State::kEscape;
        } else if (c == 0x08) {
          if (!out->empty()) out->pop_back();  // backspace, as when a user corrects a typo
        }
        // '\r', BEL and NUL are dropped: they say nothing about the text.
        break;
      case State::kEscape:
        if (c == '[') state_ = State::kCsi;
        else if (c == ']' || c == 'P' || c == '_' || c == '^') state_ = State::kString;
        else if (c == '(' || c == ')' || c == '*' || c == '+' || c == '#' || c == '%')
          state_ = State::kCharset;
        else state_ = State::kText;  // a two-byte sequence
        break;
      case State::kCsi:
        if (c >= 0x40 && c <= 0x7e) state_ = State::kText;
        break;
      case State::kCharset:
        state_ = State::kText;
        break;
      case State::kString:  // OSC/DCS/APC/PM: ends with BEL or ESC backslash
        if (c == 0x07) state_ = State::kText;
        else if (c == 0x1b) state_ = State::kStringEscape;
        break;
      case State::kStringEscape:
        state_ = c == '\\' ? State::kText : State::kString;
        break;
    }
  }

  enum class State { kText, kEscape, kCsi, kCharset, kString, kStringEscape };
  State state_ = State::kText;
};

// Printable context: control characters become spaces, cut to whole UTF-8
// characters.
std::string Context(std::string_view text) {
  while (!text.empty() && (static_cast<unsigned char>(text.front()) & 0xC0) == 0x80) {
    text.remove_prefix(1);
  }
  std::string out(text);
  while (!out.empty() && !IsValidUtf8(out)) out.pop_back();
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

// One searched stream ('o' or 'i'): its stripped text since the last event
// that can still take part in a match or give context.
struct Stream {
  EscapeStripper stripper;
  std::string window;
};

bool EndsWith(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

// A graphical recording: its typed text (input_log.h), a hit where a key
// press completes the text.
absl::Status SearchTypedText(const std::string& path, std::string_view needle,
                             const std::function<void(const SearchHit&)>& on_hit,
                             size_t max_hits) {
  auto reader = GraphicalReader::Open(path);
  if (!reader.ok()) return reader.status();
  TypedTextBuilder typed;
  // What BackSpace may still delete and a match needs, with room to spare.
  const size_t keep = std::max<size_t>(4096, needle.size() + kContextBytes);
  size_t hits = 0;
  for (const GraphicalInputEvent& ev : (*reader)->input_events()) {
    if (typed.text().size() > 2 * keep) typed.KeepLast(keep);
    if (!typed.Add(ev) || !EndsWith(typed.text(), needle)) continue;
    const std::string_view t = typed.text();
    const size_t from = t.size() > needle.size() + kContextBytes ? t.size() - needle.size() - kContextBytes : 0;
    SearchHit hit;
    hit.micros = ev.micros;
    hit.stream = 'i';
    hit.context = Context(t.substr(from));
    on_hit(hit);
    if (max_hits != 0 && ++hits >= max_hits) break;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status SearchRecording(const std::string& path, std::string_view needle,
                             const std::function<void(const SearchHit&)>& on_hit,
                             size_t max_hits, CastLimits limits) {
  if (needle.empty()) return absl::InvalidArgumentError("search: empty text");
  if (needle.size() > 1024) return absl::InvalidArgumentError("search: text longer than 1024 bytes");
  if (EndsWith(path, ".pgr")) return SearchTypedText(path, needle, on_hit, max_hits);
  auto reader = CastReader::Open(path, limits);
  if (!reader.ok()) return reader.status();
  const size_t keep = needle.size() - 1 + kContextBytes;
  Stream streams[2];  // output, input
  size_t hits = 0;
  CastEvent ev;
  for (;;) {
    auto more = (*reader)->Next(&ev);
    if (!more.ok()) return more.status();
    if (!*more) return absl::OkStatus();
    if (ev.type != 'o' && ev.type != 'i') continue;
    Stream& s = streams[ev.type == 'o' ? 0 : 1];
    // Matches must end in this event's text; older ones were reported.
    const size_t old_len = s.window.size();
    s.stripper.Append(ev.data, &s.window);
    const size_t fresh_from = old_len >= needle.size() ? old_len - needle.size() + 1 : 0;
    for (size_t at = s.window.find(needle, fresh_from); at != std::string::npos;
         at = s.window.find(needle, at + 1)) {
      const size_t from = at > kContextBytes ? at - kContextBytes : 0;
      const size_t to = std::min(s.window.size(), at + needle.size() + kContextBytes);
      SearchHit hit;
      hit.micros = ev.micros;
      hit.stream = ev.type;
      hit.context = Context(std::string_view(s.window).substr(from, to - from));
      on_hit(hit);
      if (max_hits != 0 && ++hits >= max_hits) return absl::OkStatus();
    }
    if (s.window.size() > keep) s.window.erase(0, s.window.size() - keep);
  }
}

}  // namespace portcullis::recorder
