#include "recorder/recording_header.h"

#include "broker/common/time_format.h"

namespace portcullis::recorder {

nlohmann::ordered_json SessionHeaderFields(const session::RecordingInfo& info, TimePoint start,
                                           const nlohmann::ordered_json& extra) {
  nlohmann::ordered_json f = {
      {"session_id", info.session_id}, {"channel", info.channel}, {"user", info.user},
      {"login", info.login},           {"target", info.target},   {"protocol", info.protocol},
      {"source", info.source},
  };
  if (extra.is_object()) {
    for (const auto& item : extra.items()) f[item.key()] = item.value();
  }
  f["started"] = FormatUtc(start, /*micros=*/true);
  return f;
}

std::string HeaderJsonLine(const nlohmann::ordered_json& header) {
  // error_handler_t::replace: invalid UTF-8 becomes U+FFFD instead of
  // throwing type_error.316.
  std::string line = header.dump(-1, ' ', /*ensure_ascii=*/false,
                                 nlohmann::ordered_json::error_handler_t::replace);
  line.push_back('\n');
  return line;
}

}  // namespace portcullis::recorder
