#include "recorder/graphical/input_log.h"

#include <fmt/format.h>

namespace portcullis::recorder {
namespace {

struct Named {
  uint32_t keysym;
  const char* name;
};

constexpr Named kNames[] = {
    {0xff08, "BackSpace"}, {0xff09, "Tab"},       {0xff0d, "Return"},    {0xff13, "Pause"},
    {0xff14, "Scroll_Lock"}, {0xff1b, "Escape"},  {0xff50, "Home"},      {0xff51, "Left"},
    {0xff52, "Up"},        {0xff53, "Right"},     {0xff54, "Down"},      {0xff55, "Page_Up"},
    {0xff56, "Page_Down"}, {0xff57, "End"},       {0xff61, "Print"},     {0xff63, "Insert"},
    {0xff67, "Menu"},      {0xff7f, "Num_Lock"},  {0xff8d, "KP_Enter"},  {0xffe1, "Shift_L"},
    {0xffe2, "Shift_R"},   {0xffe3, "Control_L"}, {0xffe4, "Control_R"}, {0xffe5, "Caps_Lock"},
    {0xffe7, "Meta_L"},    {0xffe8, "Meta_R"},    {0xffe9, "Alt_L"},     {0xffea, "Alt_R"},
    {0xffeb, "Super_L"},   {0xffec, "Super_R"},   {0xfe03, "ISO_Level3_Shift"},
    {0xffff, "Delete"},
};

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

// The Unicode code point a keysym types, or 0.
uint32_t CodePoint(uint32_t keysym) {
  if ((keysym >= 0x20 && keysym <= 0x7e) || (keysym >= 0xa0 && keysym <= 0xff)) return keysym;
  if (keysym >= 0x01000100 && keysym <= 0x0110ffff) {
    const uint32_t cp = keysym - 0x01000000;
    if ((cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x7f && cp < 0xa0)) return 0;
    return cp;
  }
  if (keysym >= 0xffb0 && keysym <= 0xffb9) return '0' + (keysym - 0xffb0);  // KP_0..KP_9
  switch (keysym) {
    case 0xff80: return ' ';  // KP_Space
    case 0xffaa: return '*';
    case 0xffab: return '+';
    case 0xffac: return ',';
    case 0xffad: return '-';
    case 0xffae: return '.';
    case 0xffaf: return '/';
    case 0xffbd: return '=';
    default: return 0;
  }
}

bool IsShortcutModifier(uint32_t keysym) {
  return keysym == 0xffe3 || keysym == 0xffe4 || (keysym >= 0xffe7 && keysym <= 0xffec);
}

}  // namespace

std::string KeysymName(uint32_t keysym) {
  if (keysym == 0x20) return "space";
  if (keysym > 0x20 && keysym <= 0x7e) return std::string(1, static_cast<char>(keysym));
  for (const Named& n : kNames) {
    if (n.keysym == keysym) return n.name;
  }
  if (keysym >= 0xffbe && keysym <= 0xffe0) return fmt::format("F{}", keysym - 0xffbe + 1);
  if (keysym >= 0xffb0 && keysym <= 0xffb9) return fmt::format("KP_{}", keysym - 0xffb0);
  if (const uint32_t cp = CodePoint(keysym); cp != 0) return fmt::format("U+{:04X}", cp);
  return fmt::format("0x{:x}", keysym);
}

std::string ButtonName(int button) {
  switch (button) {
    case 1: return "left";
    case 2: return "middle";
    case 3: return "right";
    case 4: return "wheel-up";
    case 5: return "wheel-down";
    case 6: return "wheel-left";
    case 7: return "wheel-right";
    default: return fmt::format("button-{}", button);
  }
}

std::string KeysymText(uint32_t keysym) {
  if (keysym == 0xff0d || keysym == 0xff8d) return "\n";
  if (keysym == 0xff09) return "\t";
  std::string out;
  if (const uint32_t cp = CodePoint(keysym); cp != 0) AppendUtf8(cp, &out);
  return out;
}

bool TypedTextBuilder::Add(const GraphicalInputEvent& ev) {
  if (ev.kind != GraphicalInputEvent::Kind::kKey) return false;
  if (IsShortcutModifier(ev.keysym)) {
    const uint32_t bit = 1u << (ev.keysym - 0xffe3);
    held_mask_ = ev.down ? (held_mask_ | bit) : (held_mask_ & ~bit);
    return false;
  }
  if (!ev.down || held_mask_ != 0) return false;
  if (ev.keysym == 0xff08) {  // BackSpace: one character, not past the line
    if (text_.empty() || text_.back() == '\n') return false;
    size_t at = text_.size() - 1;
    while (at > 0 && (static_cast<unsigned char>(text_[at]) & 0xc0) == 0x80) --at;
    text_.resize(at);
    return false;
  }
  const std::string typed = KeysymText(ev.keysym);
  text_ += typed;
  return !typed.empty();
}

void TypedTextBuilder::KeepLast(size_t keep) {
  if (text_.size() <= keep) return;
  size_t from = text_.size() - keep;
  while (from < text_.size() && (static_cast<unsigned char>(text_[from]) & 0xc0) == 0x80) ++from;
  text_.erase(0, from);
}

std::string TypedText(const std::vector<GraphicalInputEvent>& events) {
  TypedTextBuilder b;
  for (const GraphicalInputEvent& ev : events) b.Add(ev);
  return b.text();
}

}  // namespace portcullis::recorder
