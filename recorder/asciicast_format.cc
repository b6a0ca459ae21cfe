#include "recorder/asciicast_format.h"

#include <iterator>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "broker/common/time_format.h"

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
  h["portcullis"] = {
      {"session_id", info.session_id},
      {"channel", info.channel},
      {"user", info.user},
      {"login", info.login},
      {"target", info.target},
      {"protocol", info.protocol},
      {"source", info.source},
      {"command", info.command},
      {"record_input", info.record_input},
      {"started", FormatUtc(start, /*micros=*/true)},
  };
  // error_handler_t::replace: invalid UTF-8 becomes U+FFFD instead of
  // throwing type_error.316.
  std::string line = h.dump(-1, ' ', /*ensure_ascii=*/false,
                            nlohmann::ordered_json::error_handler_t::replace);
  line.push_back('\n');
  return line;
}

void AppendSeconds(int64_t micros, std::string* out) {
  if (micros < 0) micros = 0;
  fmt::format_to(std::back_inserter(*out), "{}.{:06}", micros / 1'000'000, micros % 1'000'000);
}

std::string EndMarkerLabel(std::string_view reason) { return fmt::format("end: {}", reason); }

}  // namespace portcullis::recorder
