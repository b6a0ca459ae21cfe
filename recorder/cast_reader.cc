// STUB: replaced by the reader/search work (issue 4). Do not ship.
#include "recorder/cast_reader.h"

#include <unistd.h>

namespace portcullis::recorder {
absl::StatusOr<CastHeader> ParseCastHeader(std::string_view) {
  return absl::UnimplementedError("not implemented yet");
}
absl::Status ParseCastEvent(std::string_view, CastEvent*) {
  return absl::UnimplementedError("not implemented yet");
}
absl::StatusOr<std::unique_ptr<CastReader>> CastReader::Open(const std::string&, CastLimits) {
  return absl::UnimplementedError("not implemented yet");
}
CastReader::~CastReader() { ::close(fd_); }
absl::StatusOr<bool> CastReader::Next(CastEvent*) {
  return absl::UnimplementedError("not implemented yet");
}
absl::Status CastReader::Seek(uint64_t) { return absl::UnimplementedError("not implemented yet"); }
absl::StatusOr<bool> CastReader::ReadLine(std::string_view*, uint64_t*) {
  return absl::UnimplementedError("not implemented yet");
}
}  // namespace portcullis::recorder
