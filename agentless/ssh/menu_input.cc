#include "agentless/ssh/menu_input.h"

namespace portcullis::ssh {

MenuLineEditor::Step MenuLineEditor::Feed(std::string_view bytes) {
  Step step;
  for (size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    step.consumed = i + 1;
    if (c == '\r' || c == '\n') {
      if (echo_) step.echo += "\r\n";
      if (line_.empty()) continue;
      step.event = Event::kLine;
      step.line.swap(line_);
      line_.clear();
      return step;
    }
    if (c == 0x03 || c == 0x04) {  // ^C, ^D
      step.event = Event::kAbort;
      line_.clear();
      return step;
    }
    if (c == 0x7f || c == 0x08) {
      if (!line_.empty()) {
        line_.pop_back();
        if (echo_) step.echo += "\b \b";
      }
    } else if (c >= 0x20 && c < 0x7f && line_.size() < kMaxMenuLine) {
      line_.push_back(c);
      if (echo_) step.echo.push_back(c);
    }
  }
  return step;
}

MenuChoice ParseMenuChoice(std::string_view line, size_t listed) {
  const size_t b = line.find_first_not_of(' ');
  line = b == std::string_view::npos ? std::string_view() : line.substr(b);
  const size_t e = line.find_last_not_of(' ');
  line = e == std::string_view::npos ? std::string_view() : line.substr(0, e + 1);
  MenuChoice out;
  if (line == "q" || line == "quit") {
    out.kind = MenuChoice::Kind::kQuit;
    return out;
  }
  // A number: at most 9 digits, so the value fits any size_t.
  constexpr size_t kMaxDigits = 9;
  if (!line.empty() && line.size() <= kMaxDigits &&
      line.find_first_not_of("0123456789") == std::string_view::npos) {
    size_t n = 0;
    for (char c : line) n = n * 10 + static_cast<size_t>(c - '0');
    if (n >= 1 && n <= listed) {
      out.kind = MenuChoice::Kind::kIndex;
      out.index = n - 1;
      return out;
    }
  }
  out.kind = MenuChoice::Kind::kName;
  out.name = std::string(line);
  return out;
}

}  // namespace portcullis::ssh
