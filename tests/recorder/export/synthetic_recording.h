#pragma once
// Writes a SyntheticSource as a real graphical recording: through the
// daemon's factory (AsciicastFactory::OpenGraphical, GraphicalWriter),
// sealed with a fresh test key, each picture at its time on a fake clock.
// Test-only code; not thread-safe.

#include <string>

#include "absl/status/statusor.h"
#include "tests/recorder/export/synthetic_source.h"

namespace portcullis::testing {

// Records `source` (from its current position to its end) under `dir`
// (as YYYY/MM/DD/<session>.0.pgr, started 2026-11-23T09:00:00Z) and
// returns the .pgr path.
[[nodiscard]] absl::StatusOr<std::string> RecordSynthetic(SyntheticSource& source,
                                                          const std::string& dir,
                                                          const std::string& session);

}  // namespace portcullis::testing
