#pragma once
// The part of a recording's first line that every format shares: who,
// where, from where and when, under the "portcullis" key of the format's
// JSON header (asciicast v2 and the graphical format). Pure functions,
// thread-safe.

#include <string>

#include <nlohmann/json.hpp>

#include "broker/common/clock.h"
#include "broker/session/recorder.h"

namespace portcullis::recorder {

// session_id, channel, user, login, target, protocol, source, in this
// order, then `extra`'s keys, then "started" (RFC 3339 UTC, microseconds).
nlohmann::ordered_json SessionHeaderFields(const session::RecordingInfo& info, TimePoint start,
                                           const nlohmann::ordered_json& extra = {});
// `header` as one line of JSON ending in '\n'; invalid UTF-8 becomes U+FFFD.
std::string HeaderJsonLine(const nlohmann::ordered_json& header);

}  // namespace portcullis::recorder
