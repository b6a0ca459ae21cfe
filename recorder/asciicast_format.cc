#include "recorder/asciicast_format.h"

#include <iterator>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "broker/common/time_format.h"
#include "recorder/recording_header.h"

namespace portcullis::recorder {

RecordingFormat AsciicastFormat() {
  return {std::string(kAsciicastMediaType), std::string(kAsciicastExtension)};
}

std::string HeaderLine(const session::RecordingInfo& info, TimePoint start) {
  // ordered_json keeps "version" first, as asciinema writes it.
  nlohmann::ordered_json h;
  h["version"] = 2;
  h["width"] = info.cols;
  h["height"] = info.rows;
  h["timestamp"] = ToUnix(start);
  if (!info.command.empty()) h["command"] = info.command;
  h["title"] = info.command.empty()
                   ? fmt::format("{}: {}@{}", info.user, info.login, info.target)
                   : fmt::format("{}: {}@{}: {}", info.user, info.login, info.target, info.command);
  h["env"] = {{"TERM", info.term}};
  h["portcullis"] = SessionHeaderFields(
      info, start, {{"command", info.command}, {"record_input", info.record_input}});
  return HeaderJsonLine(h);
}

void AppendSeconds(int64_t micros, std::string* out) {
  if (micros < 0) micros = 0;
  fmt::format_to(std::back_inserter(*out), "{}.{:06}", micros / 1'000'000, micros % 1'000'000);
}

std::string EndMarkerLabel(std::string_view reason) { return fmt::format("end: {}", reason); }

}  // namespace portcullis::recorder
